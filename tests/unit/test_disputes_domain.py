"""Which of two words about one dispute wins (app/domain/disputes.py): the later time Shopify said it; at the same
time (or without one) the one further along; a copy of what is held never replaces it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.domain.disputes import DisputeState, from_webhook, same_word, supersedes

T = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NEEDS = DisputeState(598735659, "NEEDS_RESPONSE", "CHARGEBACK", Decimal("11.50"), "USD", updated_at=T)


def test_nothing_held_is_always_replaced():
    assert supersedes(NEEDS, None)


def test_the_later_time_wins_whatever_the_stage():
    review = replace(NEEDS, status="UNDER_REVIEW", updated_at=T + timedelta(hours=1))
    assert supersedes(review, NEEDS) and not supersedes(NEEDS, review)
    # Shopify's newer word wins even if it looks like a step back (a decided dispute reopened)
    reopened = replace(NEEDS, updated_at=T + timedelta(days=3))
    won = replace(NEEDS, status="WON", updated_at=T + timedelta(days=2))
    assert supersedes(reopened, won) and not supersedes(won, reopened)


def test_at_the_same_time_or_without_one_the_further_stage_wins():
    for at in (T, None):
        needs = replace(NEEDS, updated_at=at)
        review = replace(NEEDS, status="UNDER_REVIEW", updated_at=at)
        sent = replace(review, evidence_sent_on=T)
        lost = replace(NEEDS, status="LOST", finalized_on=T, updated_at=at)
        assert supersedes(review, needs) and not supersedes(needs, review)
        assert supersedes(sent, review) and not supersedes(review, sent)
        assert supersedes(lost, sent) and not supersedes(sent, lost)
    untimed = replace(NEEDS, status="UNDER_REVIEW", updated_at=None)
    assert supersedes(untimed, NEEDS) and not supersedes(NEEDS, untimed)


def test_a_copy_of_what_is_held_changes_nothing_and_is_the_same_word():
    assert not supersedes(NEEDS, replace(NEEDS))
    later = replace(NEEDS, updated_at=T + timedelta(minutes=5), source="sync")
    assert same_word(later, NEEDS) and not same_word(replace(later, status="WON"), NEEDS)


def test_a_webhook_payload_becomes_a_state_in_the_graphql_enums_words():
    payload = {
        "id": 1,
        "order_id": 2,
        "type": "chargeback",
        "amount": Decimal("11.50"),
        "currency": "usd",
        "reason": "fraudulent",
        "status": "needs_response",
        "evidence_due_by": T,
        "initiated_at": T - timedelta(days=1),
    }
    state = from_webhook(payload, T)
    assert (state.status, state.type, state.reason, state.currency) == (
        "NEEDS_RESPONSE",
        "CHARGEBACK",
        "FRAUDULENT",
        "USD",
    )
    assert state.is_open and state.updated_at == T and state.evidence_sent_on is None and state.source == "webhook"
    assert not from_webhook({**payload, "status": "won"}, None).is_open
