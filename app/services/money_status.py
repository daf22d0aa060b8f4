"""What `shopsync status`, the ops API and the console show of money: payouts not deposited yet (and how long they
have waited), payouts with a variance, reversed and failed ones; open disputes with their evidence deadline; the
orders whose NetSuite receipts differ from Shopify's payments at the last nightly payments check. Read from
PostgreSQL only (the payouts table the payout job keeps, the disputes table the dispute topics keep, the last
reconciliation run's report)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.db import money_repository as repo
from app.db.models import Dispute, PayoutSync


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _hours(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else round((now - since).total_seconds() / 3600, 1)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _payout(row: PayoutSync, now: datetime) -> dict[str, Any]:
    return {
        "payout_id": row.payout_id,
        "state": row.state,
        "shopify_status": row.shopify_status,
        "currency": row.currency,
        "net": _money(row.net),
        "variance": _money(row.variance),
        "missing": row.missing,
        "issued_at": _iso(row.issued_at),
        "age_hours": _hours(row.issued_at, now),
        "deposit": row.deposit_netsuite_id,
        "reason": row.reason,
    }


def payouts_report(session: Session, now: datetime) -> dict[str, Any]:
    figures = repo.payout_figures(session)
    by_state = figures.by_state

    def state(name: str) -> dict[str, Any]:
        found = by_state[name]
        oldest = found.oldest_issued_at
        return {"count": found.count, "oldest_issued_at": _iso(oldest), "oldest_age_hours": _hours(oldest, now)}

    return {
        "by_state": {name: found.count for name, found in by_state.items()},
        "waiting": state("waiting"),
        "failed": state("failed"),
        "reversed": {"count": by_state["reversed"].count},
        "variance": {
            "count": sum(v.count for v in figures.variance.values()),
            "by_currency": {
                currency: {"count": v.count, "sum": _money(v.total), "oldest_issued_at": _iso(v.oldest_issued_at)}
                for currency, v in figures.variance.items()
            },
        },
        "attention": [_payout(row, now) for row in repo.payouts_needing_attention(session)],
    }


def dispute_view(row: Dispute, now: datetime) -> dict[str, Any]:
    due = row.evidence_due_by
    return {
        "dispute_id": row.dispute_id,
        "order_id": row.order_id,
        "status": row.status,
        "type": row.type,
        "amount": _money(row.amount),
        "currency": row.currency,
        "reason": row.reason,
        "initiated_at": _iso(row.initiated_at),
        "evidence_due_by": _iso(due),
        "evidence_sent_on": _iso(row.evidence_sent_on),
        "due_in_hours": None if due is None else round((due - now).total_seconds() / 3600, 1),
        "finalized_on": _iso(row.finalized_on),
    }


def disputes_report(session: Session, now: datetime) -> dict[str, Any]:
    figures = repo.dispute_figures(session)
    return {
        "open": sum(figures.by_status.values()),
        "by_status": figures.by_status,
        "amount_open": {currency: _money(total) for currency, total in figures.amount_open.items()},
        "next_evidence_due_by": _iso(figures.next_evidence_due),
        "list": [dispute_view(row, now) for row in repo.list_disputes(session, open_only=True, limit=20)],
    }


def payments_report(session: Session, now: datetime) -> dict[str, Any]:
    """The last nightly payments ↔ receipts check (app/services/payments_check.py): orders with a gap, the gaps per
    gateway, and each gap's order age now."""
    checked_at, section = repo.last_payments_check(session)
    if section is None:
        return {"checked_at": _iso(checked_at), "skipped": "no reconciliation has checked payments yet", "gaps": []}
    since = _hours(checked_at, now) or 0.0
    gaps = [
        {**gap, "age_hours": None if gap.get("age_hours") is None else round(gap["age_hours"] + since, 1)}
        for gap in section.get("gaps") or ()
    ]
    by_gateway: dict[str, dict[str, Any]] = {}
    for gap in gaps:
        known = by_gateway.setdefault(gap["gateway"], {"count": 0, "sum": Decimal(0)})
        known["count"] += 1
        known["sum"] += Decimal(gap["difference"])
    ages = [g["age_hours"] for g in gaps if g["age_hours"] is not None]
    return {
        "checked_at": _iso(checked_at),
        "skipped": section.get("skipped"),
        "orders_checked": section.get("orders_checked", 0),
        "orders_with_gap": section.get("orders_with_gap", 0),
        "by_gateway": {name: {"count": v["count"], "sum": _money(v["sum"])} for name, v in by_gateway.items()},
        "oldest_age_hours": max(ages) if ages else None,
        "gaps": gaps[:20],
    }
