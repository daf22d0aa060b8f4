"""Schema drift is counted without serializing the workers: a new Shopify field appears in every event of its
topic at once, and the count of it must not make one event's processing wait for another's."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from app.db.models import SchemaDrift, WebhookEvent
from app.db.session import session_scope
from app.services.drift import record_drift
from tests.conftest import load_fixture
from tests.integration.test_services import store_event


def _event_with_a_new_field(webhook_id: str) -> int:
    order = load_fixture("orders_create.json")
    order["brand_new_field_2027"] = {"shop_money": {"amount": "1.00"}}
    return store_event(json.dumps(order).encode(), webhook_id=webhook_id)


@pytest.mark.usefixtures("clean_db")
def test_drift_of_two_events_in_flight_at_once_is_counted_without_one_waiting_for_the_other():
    first, second = _event_with_a_new_field("wh-1"), _event_with_a_new_field("wh-2")
    with session_scope() as a, session_scope() as b:
        # Two workers, each inside its event's processing transaction (which lasts as long as its NetSuite calls).
        b.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert "brand_new_field_2027" in record_drift(a.get(WebhookEvent, first))
        # Before the fix this waited on a's row lock until a committed, and failed here on the lock timeout.
        assert "brand_new_field_2027" in record_drift(b.get(WebhookEvent, second))
        a.rollback()  # the first processing fails and is retried: what was seen stays counted
    with session_scope() as s:
        seen = s.scalar(select(SchemaDrift.seen).where(SchemaDrift.field_path == "brand_new_field_2027"))
    assert seen == 2
