"""Rows of the payouts and disputes tables for tests of what is shown (status, /metrics, the console, alerts): the
payout job and the dispute topics write them in production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.db.models import Dispute, PayoutSync


def payout(
    payout_id: str,
    state: str = "deposited",
    *,
    variance: str = "0",
    issued_days_ago: float = 1,
    currency: str = "USD",
    net: str = "100.00",
    missing: int = 0,
    reason: str = "",
) -> PayoutSync:
    issued = datetime.now(UTC) - timedelta(days=issued_days_ago)
    return PayoutSync(
        payout_id=payout_id,
        shopify_status="FAILED" if state == "reversed" else "PAID",
        currency=currency,
        net=Decimal(net),
        issued_at=issued,
        state=state,
        reason=reason,
        transactions=3,
        missing=missing,
        variance=Decimal(variance),
        first_seen_at=issued,
        updated_at=issued,
    )


def dispute(
    dispute_id: int, status: str = "NEEDS_RESPONSE", *, due_in_days: float | None = 5, amount: str = "11.50"
) -> Dispute:
    now = datetime.now(UTC)
    return Dispute(
        dispute_id=dispute_id,
        order_id=dispute_id + 1000,
        status=status,
        type="CHARGEBACK",
        amount=Decimal(amount),
        currency="USD",
        reason="FRAUDULENT",
        initiated_at=now - timedelta(days=2),
        evidence_due_by=None if due_in_days is None else now + timedelta(days=due_in_days),
        updated_at=now - timedelta(days=1),
        source="webhook",
    )
