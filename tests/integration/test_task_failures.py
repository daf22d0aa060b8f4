"""NetSuite failures through the real task path (Celery's apply, the real client, the simulator over HTTP):
governance, server errors and dropped connections are retried; 4xx are not, and end in the DLQ with
NetSuite's error code and detail."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from app.db.models import DeadLetter, ItemMap, NetSuiteCallLog, WebhookEvent
from app.db.session import session_scope
from tasks.events import process_event
from tests.conftest import fixture_bytes
from tests.integration.test_services import records, store_event


def fault(sim: str, **spec) -> None:
    requests.post(
        f"{sim}/_sim/faults", json={"count": 1, "match": "POST salesOrder", **spec}, timeout=5
    ).raise_for_status()


def order_calls() -> list[tuple[int | None, str | None, str]]:
    with session_scope() as s:
        rows = s.scalars(
            select(NetSuiteCallLog).where(NetSuiteCallLog.record_type == "salesOrder").order_by(NetSuiteCallLog.id)
        ).all()
        return [(r.http_status, r.error_code, r.final_status) for r in rows]


@pytest.mark.parametrize(
    ("spec", "first_attempt"),
    [
        ({"status": 429}, (429, "CONCURRENCY_LIMIT_EXCEEDED", "retry")),
        ({"status": 503}, (503, "UNEXPECTED_ERROR", "retry")),
        ({"mode": "drop"}, (None, "CONNECTION_ERROR", "retry")),
    ],
    ids=["429", "503", "connection-reset"],
)
def test_transient_failures_are_retried_and_the_order_lands_once(sim, redis_db, spec, first_attempt):
    fault(sim, **spec)
    event_id = store_event(fixture_bytes("orders_create.json"))
    result = process_event.apply(args=[event_id], task_id=f"t-{event_id}")
    assert result.get() == "synced order 450789469"
    assert order_calls() == [first_attempt, (204, None, "ok")]
    [so] = records(sim, "salesOrder")
    # once: three iPods plus the fixture's tax variance and rounding lines, not twice that
    assert len(so["item"]["items"]) == 5


def dead_letters() -> list[DeadLetter]:
    with session_scope() as s:
        return list(s.scalars(select(DeadLetter)))


def test_invalid_key_or_ref_is_not_retried_and_dead_letters_with_code_and_detail(sim, redis_db):
    with session_scope() as s:  # a stale map entry: the item was deleted in NetSuite
        s.add(ItemMap(sku="IPOD2008GREEN", netsuite_item_id="999999"))
    event_id = store_event(fixture_bytes("orders_create.json"))
    process_event.apply(args=[event_id], task_id="t-400")
    assert order_calls() == [(400, "INVALID_KEY_OR_REF", "failed")]
    [entry] = dead_letters()
    assert (entry.category, entry.error_code, entry.attempts) == ("data", "INVALID_KEY_OR_REF", 1)
    assert entry.error_message.startswith("NetSuite 400 INVALID_KEY_OR_REF: ") and len(entry.error_message) > 40
    assert entry.error_class == "netsuite_client.errors.ValidationError"
    with session_scope() as s:
        assert s.get(WebhookEvent, event_id).status == "dead"


def test_forbidden_is_not_retried_and_dead_letters_as_auth(sim, redis_db):
    fault(sim, status=403)
    event_id = store_event(fixture_bytes("orders_create.json"))
    process_event.apply(args=[event_id], task_id="t-403")
    assert order_calls() == [(403, "INSUFFICIENT_PERMISSION", "failed")]
    [entry] = dead_letters()
    assert (entry.category, entry.error_code) == ("auth", "INSUFFICIENT_PERMISSION")
    assert entry.error_message.startswith("NetSuite 403 INSUFFICIENT_PERMISSION: ")
    assert records(sim, "salesOrder") == []


def test_shopify_unreachable_retries_then_dead_letters_with_the_reason(sim, redis_db, monkeypatch):
    """A refund for an order we never saw needs the order from Shopify; Shopify does not answer."""
    import json

    from app.config import get_settings
    from app.services import events
    from shopify_client.errors import ShopifyTransportError
    from tests import story

    attempts: list[int] = []

    def unreachable(order_id: int):
        attempts.append(order_id)
        raise ShopifyTransportError("connection refused by 127.0.0.1:9", code="CONNECTION_ERROR")

    monkeypatch.setattr(events, "fetch_order", unreachable)
    event_id = store_event(json.dumps(story.R1).encode(), topic="refunds/create", webhook_id="refund-no-shopify")
    process_event.apply(args=[event_id], task_id="t-no-shopify")  # eager: every retry runs at once
    assert len(attempts) == get_settings().task_max_retries + 1
    [entry] = dead_letters()
    assert (entry.category, entry.error_code, entry.attempts) == (
        "transient",
        "CONNECTION_ERROR",
        get_settings().task_max_retries + 1,
    )
    assert "connection refused" in entry.error_message
    with session_scope() as s:
        event = s.get(WebhookEvent, event_id)
        assert event.status == "dead" and "connection refused" in event.last_error
