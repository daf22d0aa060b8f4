"""Shopify Payments disputes: their state as Shopify last said it, and which of two words about one dispute wins.

Shopify sends disputes/create and disputes/update out of order (and again, on retry), so a delivery is applied only
if it is newer than what is held: the later `updated_at` (when Shopify said it: the delivery's
X-Shopify-Triggered-At, or the time a sync read the dispute) wins. When the two are as old as each other, or one has
no time, the one further along wins (a response needed < under review < decided; evidence sent, then finalized,
count as further within a status), and a copy of what is held changes nothing. Pure: plain values in and out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

NEEDS_RESPONSE, UNDER_REVIEW = "NEEDS_RESPONSE", "UNDER_REVIEW"
OPEN_STATUSES = (NEEDS_RESPONSE, UNDER_REVIEW)  # a person still has something to do, or to wait for
# Shopify's ShopifyPaymentsDisputeStatus: everything else is decided (WON, LOST, ACCEPTED, PREVENTED,
# CHARGE_REFUNDED, and any value Shopify adds later).
_STAGE = {NEEDS_RESPONSE: 0, UNDER_REVIEW: 1}
_DECIDED = 2

WEBHOOK, SYNC = "webhook", "sync"


@dataclass(frozen=True)
class DisputeState:
    dispute_id: int
    status: str  # upper case, as the GraphQL enum spells it (webhooks say "needs_response")
    type: str  # CHARGEBACK | INQUIRY
    amount: Decimal
    currency: str
    order_id: int | None = None
    reason: str | None = None
    initiated_at: datetime | None = None
    evidence_due_by: datetime | None = None
    evidence_sent_on: datetime | None = None
    finalized_on: datetime | None = None
    updated_at: datetime | None = None  # when Shopify said it
    source: str = WEBHOOK

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def _word(value: str | None) -> str | None:
    return value.upper() if value else value


def from_webhook(payload: Mapping[str, Any], triggered_at: datetime | None) -> DisputeState:
    """A disputes/create|update payload as loaded by `schemas.shopify_payments.DisputeSchema`."""
    return DisputeState(
        dispute_id=payload["id"],
        status=_word(payload["status"]) or "",
        type=_word(payload["type"]) or "",
        amount=payload["amount"],
        currency=payload["currency"].upper(),
        order_id=payload.get("order_id"),
        reason=_word(payload.get("reason")),
        initiated_at=payload.get("initiated_at"),
        evidence_due_by=payload.get("evidence_due_by"),
        evidence_sent_on=payload.get("evidence_sent_on"),
        finalized_on=payload.get("finalized_on"),
        updated_at=triggered_at,
        source=WEBHOOK,
    )


def _progress(state: DisputeState) -> tuple[int, bool, bool]:
    stage = _STAGE.get(state.status, _DECIDED)
    return stage, state.evidence_sent_on is not None, state.finalized_on is not None


def supersedes(incoming: DisputeState, held: DisputeState | None) -> bool:
    """Whether `incoming` replaces `held` (None: nothing held yet)."""
    if held is None:
        return True
    if incoming.updated_at is not None and held.updated_at is not None and incoming.updated_at != held.updated_at:
        return incoming.updated_at > held.updated_at
    return _progress(incoming) > _progress(held)


def same_word(a: DisputeState, b: DisputeState) -> bool:
    """The same dispute state, whenever and however it was said."""
    return replace(a, updated_at=None, source="") == replace(b, updated_at=None, source="")
