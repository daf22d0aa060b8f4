"""The order use case, the relay and the dead-letter store against real PostgreSQL, Redis and the NetSuite
simulator over HTTP (in-process calls, no Celery worker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select, text, update

from app.db.models import DeadLetter, EventStatus, NetSuiteCallLog, OrderState, OrderTransition, WebhookEvent
from app.db.session import get_engine, session_scope
from app.domain.errors import RetryLater, UnknownSku
from app.services import dlq, events, outbox
from tests.conftest import fixture_bytes, load_fixture
from tests.helpers import sales_order_writes, sim_calls


def store_event(body: bytes, topic: str = "orders/create", webhook_id: str = "wh") -> int:
    with session_scope() as s:
        event = WebhookEvent(
            webhook_id=webhook_id,
            topic=topic,
            shop="test-store.myshopify.com",
            api_version="2026-04",
            raw_body=body,
            status=EventStatus.RECEIVED,
            attempts=0,
        )
        s.add(event)
        s.flush()
        return event.id


def records(sim: str, record_type: str) -> list[dict]:
    return requests.get(f"{sim}/_sim/records/{record_type}", timeout=5).json()


def test_order_event_upserts_customer_and_sales_order_and_records_everything(sim):
    event_id = store_event(fixture_bytes("orders_create.json"))
    assert events.process_event(event_id) == "synced order 450789469"

    [so] = records(sim, "salesOrder")
    assert so["externalId"] == "shopify-order-450789469"
    # three iPods, the tax variance (no tax code configured: NetSuite computes none) and the rounding line that
    # makes the real fixture's inconsistent figures (three lines at 199.00, total 409.94) explicit
    assert [line.get("custcol_shopify_line_id") for line in so["item"]["items"]] == [
        "466157049",
        "518995019",
        "703073504",
        None,
        None,
    ]
    assert sum(Decimal(str(line["amount"])) for line in so["item"]["items"]) == Decimal("409.94")
    assert so["otherRefNum"] == "#1001"
    [customer] = records(sim, "customer")
    assert customer["externalId"] == "shopify-customer-207119551"
    with session_scope() as s:
        state = s.get(OrderState, 450789469)
        assert state.state == "created" and state.netsuite_internal_id == so["id"] and state.version == 1
        assert s.get(WebhookEvent, event_id).status == "done"
        calls = s.scalars(select(NetSuiteCallLog).order_by(NetSuiteCallLog.id)).all()
        # SKUs resolved, the new customer looked up by email (none in NetSuite), created, then the order
        assert [(c.operation, c.record_type, c.external_id, c.http_status, c.final_status) for c in calls] == [
            ("suiteql", None, None, 200, "ok"),
            ("suiteql", None, None, 200, "ok"),
            ("upsert", "customer", "shopify-customer-207119551", 204, "ok"),
            ("create", "salesOrder", "shopify-order-450789469", 204, "ok"),
        ]
        assert len(s.scalars(select(OrderTransition)).all()) == 1
    # a second order with the same SKUs and customer resolves both from PostgreSQL: no further SuiteQL call
    payload = load_fixture("orders_create.json")
    payload["id"] += 1
    events.process_event(store_event(json.dumps(payload).encode(), webhook_id="wh2"))
    assert requests.get(f"{sim}/_sim/stats", timeout=5).json()["calls_by_operation"]["POST suiteql"] == 2


def test_processed_event_is_a_no_op_and_stale_update_is_skipped(sim):
    first = store_event(fixture_bytes("orders_create.json"))
    events.process_event(first)
    assert events.process_event(first) == "already done"
    # the same order, same updated_at, under another webhook id: recorded and skipped, NetSuite untouched
    again = store_event(fixture_bytes("orders_create.json"), webhook_id="wh-again")
    assert events.process_event(again) == "skipped_stale order 450789469"
    stats = requests.get(f"{sim}/_sim/stats", timeout=5).json()
    assert stats["calls_by_operation"]["POST salesOrder"] == 1 and sales_order_writes(stats["calls_by_operation"]) == 1
    # a newer version is applied, and still leaves exactly three iPod lines and two service lines (replace=item)
    newer = load_fixture("orders_create.json")
    newer["updated_at"] = "2008-01-11T11:00:00-05:00"
    newer["line_items"][0]["quantity"] = 2
    events.process_event(store_event(json.dumps(newer).encode(), topic="orders/updated", webhook_id="wh-new"))
    [so] = records(sim, "salesOrder")
    assert [line["quantity"] for line in so["item"]["items"]] == [2, 1, 1, 1, 1]


def test_unknown_sku_is_permanent_and_leaves_nothing_in_netsuite(sim):
    payload = load_fixture("orders_create.json")
    payload["line_items"][1]["sku"] = "GHOST-SKU"
    event_id = store_event(json.dumps(payload).encode())
    with pytest.raises(UnknownSku, match="unknown SKU GHOST-SKU"):
        events.process_event(event_id)
    assert records(sim, "salesOrder") == [] and records(sim, "customer") == []


def test_locked_event_asks_for_a_retry_instead_of_dropping_the_work(sim):
    event_id = store_event(fixture_bytes("orders_create.json"))
    with get_engine().connect() as holder:
        holder.execute(text("SELECT id FROM webhook_events WHERE id = :id FOR UPDATE"), {"id": event_id})
        with pytest.raises(RetryLater):
            events.process_event(event_id)
        holder.rollback()
    assert events.process_event(event_id) == "synced order 450789469"


def test_relay_republishes_old_unpublished_events_once(clean_db, redis_db):
    event_id = store_event(fixture_bytes("orders_create.json"))
    young_id = store_event(fixture_bytes("orders_create.json"), webhook_id="young")
    with session_scope() as s:
        s.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id == event_id)
            .values(received_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    assert outbox.relay_pending(redis_client=redis_db) == 1
    [message] = [json.loads(m) for m in redis_db.lrange("orders", 0, -1)]
    assert message["headers"]["argsrepr"] == f"[{event_id}]"
    assert outbox.relay_pending(redis_client=redis_db) == 0  # not again until the republish age
    with session_scope() as s:
        assert s.get(WebhookEvent, event_id).published_at is not None
        assert s.get(WebhookEvent, young_id).published_at is None


def test_dead_letter_is_recorded_mirrored_and_requeued_once(clean_db, redis_db):
    event_id = store_event(fixture_bytes("orders_create.json"))
    task = dlq.FailedTask("shopsync.process_event", "tid-1", "orders", [event_id], {}, attempts=3)
    dead_id = dlq.record_dead_letter(task, UnknownSku(["X"]), category="data", code="UNKNOWN_SKU")
    assert dlq.redis_depth(redis_db) == 1
    with session_scope() as s:
        row = s.get(DeadLetter, dead_id)
        assert (row.topic, row.error_message, row.category, row.attempts) == (
            "orders/create",
            "unknown SKU X",
            "data",
            3,
        )
        assert s.get(WebhookEvent, event_id).status == "dead"
    [listed] = dlq.list_entries()
    assert listed["dead_letter_id"] == dead_id and listed["error_code"] == "UNKNOWN_SKU"

    assert "requeued dead letter" in dlq.requeue(dead_id)
    assert "already requeued" in dlq.requeue(dead_id)
    assert dlq.redis_depth(redis_db) == 0
    assert [json.loads(m)["headers"]["argsrepr"] for m in redis_db.lrange("orders", 0, -1)] == [f"[{event_id}]"]
    with session_scope() as s:
        assert s.get(WebhookEvent, event_id).status == "received"
        assert s.get(DeadLetter, dead_id).requeue_count == 1
    with pytest.raises(dlq.RequeueError):
        dlq.requeue(dead_id + 100)


def test_repeat_customer_is_not_sent_again_and_a_changed_one_is(sim):
    for n in range(3):
        payload = load_fixture("orders_create.json")
        payload["id"] += n
        events.process_event(store_event(json.dumps(payload).encode(), webhook_id=f"repeat-{n}"))
    calls = sim_calls(sim)
    assert calls["PUT customer"] == 1 and calls["POST salesOrder"] == 3 and sales_order_writes(calls) == 3
    changed = load_fixture("orders_create.json")
    changed["id"] += 10
    changed["customer"]["email"] = "bob.new@hostmail.com"
    events.process_event(store_event(json.dumps(changed).encode(), webhook_id="changed"))
    calls = sim_calls(sim)
    assert calls["PUT customer"] == 2
    [customer] = records(sim, "customer")
    assert customer["email"] == "bob.new@hostmail.com"


def test_customer_deleted_in_netsuite_behind_our_back_is_sent_again(sim):
    events.process_event(store_event(fixture_bytes("orders_create.json")))
    [customer] = records(sim, "customer")
    # Someone deletes the customer in NetSuite (its sales order goes with it in this test).
    requests.post(f"{sim}/_sim/reset", json={}, timeout=5).raise_for_status()
    payload = load_fixture("orders_create.json")
    payload["id"] += 1
    assert events.process_event(store_event(json.dumps(payload).encode(), webhook_id="after-delete")).startswith(
        "synced"
    )
    assert [c["externalId"] for c in records(sim, "customer")] == ["shopify-customer-207119551"]
    assert len(records(sim, "salesOrder")) == 1
