"""Alerts that reach a person: which conditions fire, which notifications that makes due, and their words.

Pure: no I/O. A *source* (app/services/alert_sources.py) looks at one part of the service and returns an
`Observation`: the conditions firing now within its `scope` (a key prefix). Every condition is one notification
episode, keyed by a stable key (`dlq:depth`, `schema_drift:orders/create`) that is also PagerDuty's dedup key:

    (no row) --fires--> open --clears--> clearing --every resolve delivered--> closed
                          ^------fires again------'

An open episode is due a `trigger` on each configured receiver that has not had it; a clearing one is due a
`resolve` on each receiver that had the trigger. What was delivered is kept with the episode (PostgreSQL), so a
re-evaluation, a restart or a retried send never pages twice. A source that could not look returns no observation
for its scope, and the episodes in it stay as they are: "could not tell" is never "cleared".

Text holds counts, queue and topic names, categories, ages and record ids only: never a customer's email, name or
address (none of the inputs below carries one), never a credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

OPEN, CLEARING, CLOSED = "open", "clearing", "closed"
TRIGGER, RESOLVE = "trigger", "resolve"
SEVERITIES = ("critical", "error", "warning", "info")


@dataclass(frozen=True)
class Condition:
    key: str  # stable across evaluations and restarts: the episode's identity and PagerDuty's dedup key
    severity: str
    summary: str  # one line for a person
    details: Mapping[str, Any] = field(default_factory=dict)  # counts, ids, ages

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


def in_scope(key: str, scope: str) -> bool:
    return key == scope or key.startswith(scope + ":")


@dataclass(frozen=True)
class Observation:
    """What one source saw: it vouches for every key in `scope`; those not firing are clear."""

    scope: str
    firing: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        for condition in self.firing:
            if not in_scope(condition.key, self.scope):
                raise ValueError(f"condition {condition.key!r} is outside its source's scope {self.scope!r}")


@dataclass(frozen=True)
class Episode:
    """A notification episode as stored: its status and what each receiver has had (channel -> actions)."""

    key: str
    status: str
    sent: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def had(self, channel: str, action: str) -> bool:
        return action in self.sent.get(channel, frozenset())


@dataclass(frozen=True)
class Changes:
    opened: tuple[Condition, ...] = ()  # firing, no live episode: a new one
    reopened: tuple[Condition, ...] = ()  # a clearing episode fires again before its resolve went out
    refreshed: tuple[Condition, ...] = ()  # still firing: the figures are updated, nothing is sent again
    cleared: tuple[str, ...] = ()  # open, and its source says it no longer fires


def changes(episodes: Iterable[Episode], observations: Iterable[Observation]) -> Changes:
    """How the live episodes move given this evaluation's observations."""
    live = {e.key: e for e in episodes if e.status != CLOSED}
    observed = list(observations)
    firing: dict[str, Condition] = {}
    for observation in observed:
        for condition in observation.firing:
            if condition.key in firing:
                raise ValueError(f"condition {condition.key!r} observed twice")
            firing[condition.key] = condition
    opened, reopened, refreshed = [], [], []
    for key, condition in sorted(firing.items()):
        episode = live.get(key)
        if episode is None:
            opened.append(condition)
        elif episode.status == CLEARING:
            reopened.append(condition)
        else:
            refreshed.append(condition)
    cleared = sorted(
        key
        for key, episode in live.items()
        if episode.status == OPEN
        and key not in firing
        and any(in_scope(key, observation.scope) for observation in observed)
    )
    return Changes(tuple(opened), tuple(reopened), tuple(refreshed), tuple(cleared))


def due(episode: Episode, channels: Sequence[str]) -> list[tuple[str, str]]:
    """(channel, action) still owed for this episode on the configured receivers."""
    if episode.status == OPEN:
        return [(channel, TRIGGER) for channel in channels if not episode.had(channel, TRIGGER)]
    if episode.status == CLEARING:
        return [
            (channel, RESOLVE)
            for channel in channels
            if episode.had(channel, TRIGGER) and not episode.had(channel, RESOLVE)
        ]
    return []


def finished(episode: Episode, channels: Sequence[str]) -> bool:
    """A clearing episode is over once every receiver that was paged has been told it resolved."""
    return episode.status == CLEARING and not due(episode, channels)


def headline(action: str, key: str, summary: str) -> str:
    """The line a person reads; a resolve quotes the figures the condition last fired with."""
    if action == RESOLVE:
        return f"[shopsync] RESOLVED {key} (last seen: {summary})"
    return f"[shopsync] FIRING {key}: {summary}"


# ---- the conditions the service watches (each source's pure half) -------------------------------------------


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.1f} h"


def dlq_observation(
    open_count: int,
    oldest: datetime | None,
    by_queue: Mapping[str, int],
    now: datetime,
    *,
    depth_threshold: int,
    max_age: timedelta,
) -> Observation:
    """`dlq:depth` above the threshold, `dlq:age` when the oldest open entry waited longer than `max_age`."""
    queues = ", ".join(f"{q} {n}" for q, n in sorted(by_queue.items()))
    details = {"open": open_count, "by_queue": dict(sorted(by_queue.items()))}
    firing = []
    if open_count > depth_threshold:
        firing.append(
            Condition(
                "dlq:depth",
                "error",
                f"{open_count} open dead letter(s), above {depth_threshold} ({queues})",
                {**details, "threshold": depth_threshold},
            )
        )
    if oldest is not None and now - oldest > max_age:
        firing.append(
            Condition(
                "dlq:age",
                "error",
                f"oldest open dead letter waited {_age(now - oldest)}, over {_age(max_age)} ({open_count} open)",
                {**details, "oldest_age_hours": round((now - oldest).total_seconds() / 3600, 1)},
            )
        )
    return Observation("dlq", tuple(firing))


def reconciliation_observation(run_id: int | None, kind: str | None, run_date: date | None, alert: str | None):
    """`reconciliation:spike` while the last finished run alerted a diff spike (the next quiet run clears it)."""
    if run_id is None or not alert:
        return Observation("reconciliation")
    summary = f"{kind} reconciliation run #{run_id} of {run_date}: {alert}"
    return Observation("reconciliation", (Condition("reconciliation:spike", "warning", summary, {"run_id": run_id}),))


_CODE = re.compile(r"^red: ([A-Z][A-Z0-9_]*(?: \(\d+\))?)")


def credentials_observation(system: str, result: str | None, missing: Sequence[str]) -> Observation | None:
    """`credentials:<system>` while the last check was red; None (could not tell) when it was unknown or absent."""
    scope = f"credentials:{system}"
    if not result or result.startswith("unknown"):
        return None
    if result == "green":
        return Observation(scope)
    if missing:
        why = "missing: " + ", ".join(missing[:10])
    else:
        # "red: INVALID_LOGIN (401): <NetSuite's detail>": the code only, the detail is not for a pager.
        code = _CODE.match(result)
        why = code.group(1) if code else "authentication refused"
    summary = f"{system} credentials check is red ({why})"
    return Observation(scope, (Condition(scope, "critical", summary, {"missing": list(missing)}),))


def stuck_orders_observation(count: int, stuck_after: timedelta) -> Observation:
    if not count:
        return Observation("stuck_orders")
    summary = f"{count} order(s) over {stuck_after.days} days in created/partially_fulfilled"
    return Observation("stuck_orders", (Condition("stuck_orders", "warning", summary, {"count": count}),))


def governance_observation(external_ids: Sequence[str]) -> Observation:
    """NetSuite concurrency-governance give-ups: records whose calls failed for good on governance in 24 h."""
    if not external_ids:
        return Observation("governance_give_ups")
    shown = ", ".join(external_ids[:5]) + (f" and {len(external_ids) - 5} more" if len(external_ids) > 5 else "")
    summary = f"{len(external_ids)} record(s) gave up on NetSuite governance in 24 h and never succeeded: {shown}"
    condition = Condition("governance_give_ups", "error", summary, {"count": len(external_ids)})
    return Observation("governance_give_ups", (condition,))


def schema_drift_observation(fields_by_topic: Mapping[str, Sequence[str]], window: timedelta) -> Observation:
    """`schema_drift:<topic>` while Shopify sent payload fields no schema knows on that topic within `window`."""
    firing = []
    for topic, paths in sorted(fields_by_topic.items()):
        if not paths:
            continue
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        summary = f"{len(paths)} unknown payload field(s) on {topic} in the last {_age(window)}: {shown}"
        firing.append(Condition(f"schema_drift:{topic}", "warning", summary, {"fields": len(paths)}))
    return Observation("schema_drift", tuple(firing))


@dataclass(frozen=True)
class PayoutVariance:
    """A payout whose deposit does not add up (docs: FLOWS.md §1 rule 5, "residual → variance account + alert")."""

    payout_id: str
    variance: Decimal
    currency: str


def payout_variance_observation(variances: Iterable[PayoutVariance]) -> Observation:
    """`payout_variance:<payout id>` for each payout with a non-zero residual; the payout flow supplies them."""
    firing = tuple(
        Condition(
            f"payout_variance:{v.payout_id}",
            "error",
            f"payout {v.payout_id} does not reconcile: variance {v.variance} {v.currency}",
            {"payout_id": v.payout_id, "variance": str(v.variance), "currency": v.currency},
        )
        for v in sorted(variances, key=lambda v: v.payout_id)
        if v.variance
    )
    return Observation("payout_variance", firing)


def listing(head: str, items: Sequence[str], *, limit: int = 20) -> str:
    """An alert row's message: `head`, the first `limit` items, and how many more were left out."""
    more = len(items) - limit
    return head + "; ".join(items[:limit]) + (f"; and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class PayoutNeedingAPerson:
    """A payout the job could not settle by itself: a transaction type nobody mapped (posted to suspense), a deposit
    NetSuite refused or a withdrawal (failed), or a deposit reversed after Shopify's payout failed."""

    payout_id: str
    state: str  # deposited (with suspense lines) | failed | reversed
    suspense_types: tuple[str, ...] = ()


def payout_attention_observation(payouts: Iterable[PayoutNeedingAPerson]) -> Observation:
    """`payout:suspense:<id>` while a deposit holds lines of unmapped types (map them: PAYOUT_TYPE_ACCOUNTS);
    `payout:failed:<id>` while the job cannot post it; `payout:reversed:<id>` for a reversed deposit."""
    firing = []
    for p in sorted(payouts, key=lambda p: p.payout_id):
        if p.suspense_types:
            types = ", ".join(p.suspense_types)
            summary = f"payout {p.payout_id}: unmapped balance transaction type(s) {types} posted to suspense"
            firing.append(Condition(f"payout:suspense:{p.payout_id}", "warning", summary, {"types": types}))
        if p.state in ("failed", "reversed"):
            what = "could not be deposited" if p.state == "failed" else "failed after PAID: its deposit was reversed"
            firing.append(Condition(f"payout:{p.state}:{p.payout_id}", "error", f"payout {p.payout_id} {what}", {}))
    return Observation("payout", tuple(firing))
