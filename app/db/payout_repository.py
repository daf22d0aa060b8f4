"""The payouts table and the payout job's cursor: what the job remembers between runs (never what NetSuite holds:
the checks read that from NetSuite)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.models import PayoutSync, SyncWatermark
from app.domain.alerts import PayoutNeedingAPerson

CURSOR = "shopify_payouts"  # the sync_watermarks row holding the last payout cursor read
FINAL_STATES = frozenset({"deposited", "reversed", "skipped"})


def read_cursor(session: Session) -> str | None:
    row = session.get(SyncWatermark, CURSOR)
    return row.value if row else None


def save_cursor(session: Session, cursor: str) -> None:
    stmt = insert(SyncWatermark).values(name=CURSOR, value=cursor)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SyncWatermark.name], set_={"value": cursor, "updated_at": func.now()}
        )
    )


def payouts_by_id(session: Session, payout_ids: Iterable[str]) -> dict[str, PayoutSync]:
    ids = list(payout_ids)
    if not ids:
        return {}
    return {row.payout_id: row for row in session.scalars(select(PayoutSync).where(PayoutSync.payout_id.in_(ids)))}


def open_payout_ids(session: Session) -> list[str]:
    """Payouts the job has not finished with (waiting for receipts, or failed to post): looked at every run."""
    return list(session.scalars(select(PayoutSync.payout_id).where(PayoutSync.state.not_in(FINAL_STATES))))


def record_payout(
    session: Session,
    *,
    payout_id: str,
    shopify_status: str,
    currency: str,
    net: Decimal,
    issued_at: datetime,
    state: str,
    reason: str,
    **outcome: Any,
) -> None:
    """Insert or update the payout's row with what this run found (`outcome`: transactions, missing, variance,
    suspense_types, deposit_external_id, deposit_netsuite_id, reversal_netsuite_id)."""
    values = {
        "payout_id": payout_id,
        "shopify_status": shopify_status,
        "currency": currency,
        "net": net,
        "issued_at": issued_at,
        "state": state,
        "reason": reason[:2000],
        **outcome,
    }
    stmt = insert(PayoutSync).values(**values)
    update = {k: v for k, v in values.items() if k != "payout_id"} | {"updated_at": func.now()}
    session.execute(stmt.on_conflict_do_update(index_elements=[PayoutSync.payout_id], set_=update))


def list_payouts(session: Session, limit: int = 50) -> list[PayoutSync]:
    return list(session.scalars(select(PayoutSync).order_by(PayoutSync.issued_at.desc()).limit(limit)))


REVERSAL_ALERT_DAYS = 7  # a reversed payout is alerted for a week: Shopify retries its money in a later payout


def payouts_needing_a_person(session: Session) -> list[PayoutNeedingAPerson]:
    """Payouts with suspense lines on their deposit, payouts the job cannot post, and recent reversals."""
    recent = func.now() - timedelta(days=REVERSAL_ALERT_DAYS)
    rows = session.execute(
        select(PayoutSync.payout_id, PayoutSync.state, PayoutSync.suspense_types).where(
            or_(
                and_(PayoutSync.suspense_types.is_not(None), PayoutSync.state == "deposited"),
                PayoutSync.state == "failed",
                and_(PayoutSync.state == "reversed", PayoutSync.updated_at >= recent),
            )
        )
    ).all()
    return [PayoutNeedingAPerson(pid, state, tuple(types or ())) for pid, state, types in rows]
