"""The order lifecycle through real processes: webhooks signed and sent by the Shopify simulator's sender to
gunicorn, celery workers applying them, missing orders read back from the Shopify simulator's Admin API."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from app.db.models import DeadLetter, OrderState, OrderTransition, WebhookEvent
from app.db.session import session_scope
from simulators.shopify.webhooks import deliver_webhook
from tests import story
from tests.conftest import SECRET, SHOP
from tests.e2e.conftest import E2E, wait_until


def send(e2e: E2E, topic: str, payload: dict) -> None:
    status, _ = deliver_webhook(f"{e2e.web}/webhooks/shopify", topic, payload, secret=SECRET, shop=SHOP)
    assert status == 200


def settled(expected: int) -> bool:
    with session_scope() as s:
        statuses = list(s.scalars(select(WebhookEvent.status)))
    return len(statuses) == expected and all(st in ("done", "dead") for st in statuses)


def order_state() -> OrderState:
    with session_scope() as s:
        return s.get(OrderState, story.ORDER_ID)


@pytest.fixture
def shopify_has_the_story(fresh: E2E) -> E2E:
    requests.post(
        f"{fresh.shopify}/_sim/orders", json=story.order_as_shopify_has_it_now(), timeout=10
    ).raise_for_status()
    return fresh


@pytest.mark.parametrize("sequence", list(story.SEQUENCES), ids=list(story.SEQUENCES))
def test_split_shipment_story_in_every_delivery_order(shopify_has_the_story: E2E, sequence: str):
    e2e = shopify_has_the_story
    names = story.SEQUENCES[sequence]
    for n, name in enumerate(names):
        topic, payload = story.EVENTS[name]
        send(e2e, topic, payload)  # a fresh webhook id each time: a duplicate delivery Shopify retried
        if n == 0 and name != "create":
            # Delivered first is not processed first (another queue, another worker): the order must really be
            # unknown when this event runs for it to be the one that reads the order from Shopify.
            wait_until(lambda: settled(1), 30, what="the first event processed")
    wait_until(lambda: settled(len(names)), 45, what=f"{len(names)} events processed")
    story.assert_story_in_netsuite(e2e.sim)
    state = order_state()
    assert state.state == "partially_refunded" and state.refunded_amount == Decimal(story.REFUNDED)
    # The order was read from Shopify once when (and only when) another event came before orders/create.
    with session_scope() as s:
        synced_from_read = s.scalars(
            select(OrderTransition).where(
                OrderTransition.topic == "shopify/order-read", OrderTransition.note.like("salesOrder %")
            )
        ).all()
    assert len(synced_from_read) == (1 if names[0] != "create" else 0)
    shopify = requests.get(f"{e2e.shopify}/_sim/stats", timeout=10).json()
    assert shopify["auth_failures"] == 0 and shopify["throttled"] == 0


def test_an_order_whose_create_webhook_never_came_arrives_with_its_fulfillment(shopify_has_the_story: E2E):
    e2e = shopify_has_the_story
    send(e2e, "fulfillments/create", story.F1)
    wait_until(lambda: settled(1), 30, what="the fulfillment processed")
    story.assert_story_in_netsuite(e2e.sim)  # Shopify's copy already held both shipments and the refund


def test_refund_larger_than_the_order_ends_in_the_dlq_with_its_reason(fresh: E2E):
    send(fresh, "orders/create", story.ORDER)
    # The refund is judged against the synced order: let it land first. Sent at once, the refunds queue can win
    # the race, read the order from the Shopify simulator (which does not hold it here) and dead-letter
    # ORDER_NOT_FOUND instead, as it did once on a loaded machine.
    wait_until(lambda: settled(1), 30, what="the order processed")
    too_much = dict(story.R1, transactions=[{"amount": "500.00", "kind": "refund", "status": "success"}])
    send(fresh, "refunds/create", too_much)
    wait_until(lambda: settled(2), 30, what="both events processed")
    with session_scope() as s:
        [entry] = s.scalars(select(DeadLetter)).all()
    assert entry.category == "data" and entry.error_code == "INVALID_TRANSITION"
    assert entry.error_message == (
        f"InvalidTransition(created, refunds/create, refund {story.R1_ID} of 500.00 exceeds the 108.00 "
        f"still paid on order {story.ORDER_ID})"
    )
    assert requests.get(f"{fresh.sim}/_sim/records/creditMemo", timeout=10).json() == []


def test_cancellation_after_partial_fulfillment(fresh: E2E):
    send(fresh, "orders/create", story.ORDER)
    wait_until(lambda: settled(1), 30)
    send(fresh, "fulfillments/create", story.F1)
    wait_until(lambda: settled(2), 30)
    cancelled = dict(
        story.ORDER,
        cancelled_at="2026-11-22T10:00:00-05:00",
        cancel_reason="customer",
        updated_at="2026-11-22T10:00:00-05:00",
    )
    send(fresh, "orders/cancelled", cancelled)
    wait_until(lambda: settled(3), 30)
    [so] = requests.get(f"{fresh.sim}/_sim/records/salesOrder", timeout=10).json()
    closed = {sku: bool(line.get("isClosed")) for sku, line in story.lines_by_sku(fresh.sim, so).items()}
    assert closed == {"SKU-A": False, "SKU-B": False, "SKU-C": True}
    assert order_state().state == "cancelled"
    # and a late fulfillment of the cancelled rest is refused, with the reason
    send(fresh, "fulfillments/create", dict(story.F2))
    wait_until(lambda: settled(4), 30)
    with session_scope() as s:
        [entry] = s.scalars(select(DeadLetter)).all()
    assert "is cancelled" in entry.error_message


def test_drift_is_counted_per_topic_and_version(fresh: E2E):
    payload = json.loads(json.dumps(story.ORDER))
    payload["loyalty_tier"] = "gold"  # a field Shopify might add in a future version
    send(fresh, "orders/create", payload)
    wait_until(lambda: settled(1), 30)
    from app.db.models import SchemaDrift

    with session_scope() as s:
        rows = [(r.topic, r.api_version, r.field_path, r.seen) for r in s.scalars(select(SchemaDrift))]
    assert rows == [("orders/create", "2026-04", "loyalty_tier", 1)]


def test_the_real_fixtures_through_real_processes(fresh: E2E):
    from tests.conftest import load_fixture

    # Shopify holds the order its documents belong to: a fulfillment or refund that overtakes orders/create on a
    # busy machine reads it from there, as in production (without it the race dead-letters ORDER_NOT_FOUND).
    requests.post(
        f"{fresh.shopify}/_sim/orders", json=load_fixture("orders_create.json"), timeout=10
    ).raise_for_status()
    for topic, name in [
        ("orders/create", "orders_create.json"),
        ("fulfillments/create", "fulfillments_create.json"),
        ("refunds/create", "refunds_create.json"),
        ("inventory_levels/update", "inventory_levels_update.json"),
    ]:
        send(fresh, topic, load_fixture(name))
    wait_until(lambda: settled(4), 45, what="the four fixture events")
    with session_scope() as s:
        assert sorted(s.scalars(select(WebhookEvent.status))) == ["done"] * 4
        state = s.get(OrderState, 450789469)
    assert state.state == "partially_refunded" and state.refunded_amount == Decimal("209.00")
    ns = {
        t: requests.get(f"{fresh.sim}/_sim/records/{t}", timeout=10).json()
        for t in ("salesOrder", "customer", "itemFulfillment", "creditMemo", "customerRefund")
    }
    assert [r["externalId"] for r in ns["salesOrder"]] == ["shopify-order-450789469"]
    assert [r["externalId"] for r in ns["customer"]] == ["shopify-customer-207119551"]
    assert [r["externalId"] for r in ns["itemFulfillment"]] == ["shopify-fulfillment-255858046"]
    assert [r["externalId"] for r in ns["creditMemo"]] == ["shopify-refund-509562969"]
    assert [Decimal(str(r["total"])) for r in ns["customerRefund"]] == [Decimal("209.00")]


def test_conflicting_events_on_two_worker_processes_leave_one_history(fresh: E2E):
    """A fulfillment (fulfillment worker) and a cancellation (orders worker) of one order at the same moment."""
    send(fresh, "orders/create", story.ORDER)
    wait_until(lambda: settled(1), 30)
    fresh.sim_config(latency_ms=200)
    cancelled = dict(
        story.ORDER,
        cancelled_at="2026-11-22T10:00:00-05:00",
        cancel_reason="customer",
        updated_at="2026-11-22T10:00:00-05:00",
    )
    send(fresh, "fulfillments/create", story.F1)
    send(fresh, "orders/cancelled", cancelled)
    wait_until(lambda: settled(3), 45)
    fresh.sim_config(latency_ms=0)
    with session_scope() as s:
        chain = [
            (t.from_state, t.to_state)
            for t in s.scalars(
                select(OrderTransition)
                .where(OrderTransition.shopify_order_id == story.ORDER_ID)
                .order_by(OrderTransition.id)
            )
        ]
    assert all(prev[1] == cur[0] for prev, cur in zip(chain, chain[1:], strict=False)), chain
    assert chain[-1][1] == "cancelled" == order_state().state
