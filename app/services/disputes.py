"""Disputes recorded: disputes/create and disputes/update deliveries (and `shopsync disputes sync`, which reads every
dispute from Shopify) kept in the disputes table as Shopify last said them, so status, /metrics and the console can
show the open ones with their evidence deadline.

Nothing is written to NetSuite here: a dispute's money (the withdrawal, the chargeback fee, a reversal) reaches
NetSuite as lines of the payout deposit it lands in (app/domain/payouts.py). Which of two words about a dispute
wins is app/domain/disputes.py; a row lock per dispute makes two deliveries of one dispute apply one at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import money_repository as repo
from app.db.models import WebhookEvent
from app.domain.disputes import SYNC, DisputeState, from_webhook, same_word, supersedes
from app.services.payloads import load_payload, payload_of
from schemas.shopify_payments import DisputeSchema
from shopify_client.graphql import GraphQLExecutor
from shopify_client.payments import Dispute, iter_disputes

RECORDED, UPDATED, UNCHANGED, KEPT = "recorded", "updated", "unchanged", "kept"
# new row │ a newer, different word applied │ a newer copy of the same word (its time kept) │ an older word ignored


def record(session: Session, incoming: DisputeState) -> str:
    """Apply one word about a dispute: recorded, updated, unchanged, or kept (what is held is as new or newer)."""
    row = repo.lock_dispute(session, incoming.dispute_id)
    if row is None:
        if repo.insert_dispute(session, incoming):
            return RECORDED
        row = repo.lock_dispute(session, incoming.dispute_id)  # a concurrent delivery recorded it first
    held = repo.state_of(row)
    if not supersedes(incoming, held):
        return KEPT
    repo.overwrite_dispute(row, incoming)  # the same word too: its newer time keeps older deliveries out
    return UNCHANGED if same_word(incoming, held) else UPDATED


def handle_dispute(session: Session, event: WebhookEvent, settings: Settings) -> str:
    """disputes/create and disputes/update: the payload is the whole dispute; `X-Shopify-Triggered-At` dates it."""
    payload = load_payload(DisputeSchema(), payload_of(event), event.topic)
    incoming = from_webhook(payload, event.triggered_at)
    outcome = record(session, incoming)
    return f"{outcome} dispute {incoming.dispute_id} ({incoming.status})"


def from_shopify(dispute: Dispute, read_at: datetime) -> DisputeState:
    """A dispute as `shopify_client.payments.iter_disputes` reads it, dated by when it was read."""
    return DisputeState(
        dispute_id=dispute.id,
        status=dispute.status.upper(),
        type=dispute.type.upper(),
        amount=dispute.amount,
        currency=dispute.currency.upper(),
        order_id=dispute.order_id,
        reason=dispute.reason.upper() if dispute.reason else None,
        initiated_at=dispute.initiated_at,
        evidence_due_by=dispute.evidence_due_by,
        evidence_sent_on=dispute.evidence_sent_on,
        finalized_on=dispute.finalized_on,
        updated_at=read_at,
        source=SYNC,
    )


@dataclass
class SyncReport:
    read: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    open: list[int] = field(default_factory=list)  # ids of the disputes read that are open


def sync_disputes(
    session: Session, shopify: GraphQLExecutor, *, now: datetime | None = None, query: str | None = None
) -> SyncReport:
    """Read every dispute of the Shopify Payments account (or those `query` selects) and record each: a backfill
    for disputes from before the subscription, or deliveries Shopify gave up on. Safe to run any time."""
    return record_all(session, (d for d, _cursor in iter_disputes(shopify, query=query)), now or datetime.now(UTC))


def record_all(session: Session, disputes: Iterable[Dispute], read_at: datetime) -> SyncReport:
    report = SyncReport()
    for dispute in disputes:
        state = from_shopify(dispute, read_at)
        report.read += 1
        report.outcomes[record(session, state)] += 1
        if state.is_open:
            report.open.append(state.dispute_id)
    return report
