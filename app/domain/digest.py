"""The daily digest: yesterday's figures in the words a person reads over coffee. Pure: the figures come in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class LastRun:
    id: int
    kind: str
    finished_at: datetime | None
    diffs_found: int
    corrections_applied: int
    mismatches: int
    orders_healed: int
    alert: str | None


@dataclass(frozen=True)
class Digest:
    day: date
    webhooks_by_topic: Mapping[str, int] = field(default_factory=dict)
    orders_new: int = 0
    orders_in_netsuite: int = 0
    failures_by_category: Mapping[str, int] = field(default_factory=dict)
    dlq_open: int = 0
    dlq_oldest_hours: float | None = None
    reconciliation: LastRun | None = None
    netsuite_calls: int = 0
    netsuite_governance_errors: int = 0
    netsuite_peak: int = 0
    netsuite_peak_at: datetime | None = None
    netsuite_budget: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def digest_lines(d: Digest) -> list[str]:
    webhooks = sum(d.webhooks_by_topic.values())
    failures = sum(d.failures_by_category.values())
    lines = [
        f"shopsync daily digest for {d.day.isoformat()} (UTC)",
        f"Webhooks: {webhooks} stored ({_counts(d.webhooks_by_topic)})",
        f"Orders: {d.orders_new} new, {d.orders_in_netsuite} of them in NetSuite",
        f"Failures (dead-lettered): {failures} ({_counts(d.failures_by_category)})",
        "DLQ: {} open{}".format(
            d.dlq_open, "" if d.dlq_oldest_hours is None else f", oldest {d.dlq_oldest_hours:.1f} h"
        ),
    ]
    run = d.reconciliation
    if run is None:
        lines.append("Reconciliation: no finished run yesterday")
    else:
        lines.append(
            f"Reconciliation: run #{run.id} ({run.kind}) {run.diffs_found} diffs, {run.corrections_applied} corrected, "
            f"{run.mismatches} order mismatches, {run.orders_healed} healed"
            + (f"; ALERT: {run.alert}" if run.alert else "; no alert")
        )
    share = (
        f" ({100 * d.netsuite_peak / d.netsuite_budget:.0f}% of the budget {d.netsuite_budget})"
        if d.netsuite_budget
        else ""
    )
    at = f" at {d.netsuite_peak_at:%H:%M} UTC" if d.netsuite_peak_at else ""
    lines.append(
        f"NetSuite: {d.netsuite_calls} calls, {d.netsuite_governance_errors} governance refusals, "
        f"peak {d.netsuite_peak} concurrent{share}{at}"
    )
    return lines
