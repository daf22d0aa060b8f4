"""The order lifecycle through process_event against the NetSuite simulator over HTTP: the split-shipment
story in every delivery order, cancellations, and the illegal moves ending in the DLQ."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from app.db.models import OrderState
from app.db.session import session_scope
from app.domain.state_machine import InvalidTransition
from app.services import events
from tests import story
from tests.conftest import fixture_bytes, load_fixture
from tests.helpers import sim_calls
from tests.integration.test_services import records, store_event


@pytest.fixture
def shopify_reads(monkeypatch):
    """A fake Admin API: what Shopify holds now, and a count of how often the service asked."""
    calls: list[int] = []

    def fetch(order_id: int):
        calls.append(order_id)
        return story.order_as_shopify_has_it_now() if order_id == story.ORDER_ID else None

    monkeypatch.setattr(events, "fetch_order", fetch)
    return calls


def deliver(topic: str, payload: dict, webhook_id: str) -> str:
    return events.process_event(store_event(json.dumps(payload).encode(), topic=topic, webhook_id=webhook_id))


lines_by_sku = story.lines_by_sku


@pytest.mark.parametrize("sequence", list(story.SEQUENCES), ids=list(story.SEQUENCES))
def test_split_shipment_story_lands_the_same_whatever_the_delivery_order(sim, shopify_reads, sequence):
    for n, name in enumerate(story.SEQUENCES[sequence]):
        topic, payload = story.EVENTS[name]
        deliver(topic, payload, f"{sequence}-{n}")

    story.assert_story_in_netsuite(sim)
    with session_scope() as s:
        state = s.get(OrderState, story.ORDER_ID)
        assert state.state == "partially_refunded"
        assert state.refunded_amount == Decimal(story.REFUNDED) and state.total_price == Decimal("108.00")
        assert state.money_mismatch is None
    if sequence in ("reversed", "refund-first"):
        assert shopify_reads == [story.ORDER_ID]  # read once, when the first event found no order
    else:
        assert shopify_reads == []


def test_fulfillment_alone_brings_the_order_into_netsuite(sim, shopify_reads):
    deliver("fulfillments/create", story.F2, "only-f2")
    [so] = records(sim, "salesOrder")
    assert so["externalId"] == f"shopify-order-{story.ORDER_ID}"
    assert len(records(sim, "itemFulfillment")) == 2  # Shopify already had both shipments
    assert len(records(sim, "creditMemo")) == 1


def test_cancellation_after_a_partial_fulfillment_closes_the_rest(sim, shopify_reads):
    deliver("orders/create", story.ORDER, "c-create")
    deliver("fulfillments/create", story.F1, "c-f1")
    cancelled = dict(
        story.ORDER,
        cancelled_at="2026-11-22T10:00:00-05:00",
        cancel_reason="customer",
        updated_at="2026-11-22T10:00:00-05:00",
    )
    deliver("orders/cancelled", cancelled, "c-cancel")
    [so] = records(sim, "salesOrder")
    closed = {sku: bool(line.get("isClosed")) for sku, line in lines_by_sku(sim, so).items()}
    assert closed == {"SKU-A": False, "SKU-B": False, "SKU-C": True}
    with session_scope() as s:
        assert s.get(OrderState, story.ORDER_ID).state == "cancelled"


def test_cancellation_before_any_shipment_closes_every_line_service_lines_too(sim, shopify_reads):
    """Nothing shipped: the whole sales order closes, its tax variance line (a SHOPIFY-* service line) too, so
    NetSuite does not keep it pending billing for what is not a product."""
    deliver("orders/create", story.ORDER, "w-create")
    cancelled = dict(
        story.ORDER,
        cancelled_at="2026-11-22T10:00:00-05:00",
        cancel_reason="customer",
        updated_at="2026-11-22T10:00:00-05:00",
    )
    deliver("orders/cancelled", cancelled, "w-cancel")
    [so] = records(sim, "salesOrder")
    closed = {sku: bool(line.get("isClosed")) for sku, line in lines_by_sku(sim, so, products_only=False).items()}
    assert any(sku.startswith("SHOPIFY-") for sku in closed)  # the order has a service line to close
    assert set(closed.values()) == {True}


def test_refund_larger_than_the_order_is_an_invalid_transition(sim, shopify_reads):
    deliver("orders/create", story.ORDER, "big-create")
    too_much = dict(
        story.R1, id=story.R1_ID + 1, transactions=[{"amount": "500.00", "kind": "refund", "status": "success"}]
    )
    with pytest.raises(InvalidTransition) as err:
        deliver("refunds/create", too_much, "big-refund")
    assert "exceeds the 108.00 still paid" in str(err.value)
    assert records(sim, "creditMemo") == []


def test_the_real_fixtures_produce_the_records_a_person_expects(sim):
    events.process_event(store_event(fixture_bytes("orders_create.json"), webhook_id="fx-order"))
    events.process_event(
        store_event(fixture_bytes("fulfillments_create.json"), topic="fulfillments/create", webhook_id="fx-fulfillment")
    )
    events.process_event(
        store_event(fixture_bytes("refunds_create.json"), topic="refunds/create", webhook_id="fx-refund")
    )
    [so] = records(sim, "salesOrder")
    assert so["externalId"] == "shopify-order-450789469"
    [fulfillment] = records(sim, "itemFulfillment")
    assert fulfillment["externalId"] == "shopify-fulfillment-255858046"
    assert [(line["quantity"], str(line["location"]["id"])) for line in fulfillment["item"]["items"]] == [(1, "1")]
    [credit] = records(sim, "creditMemo")
    assert credit["externalId"] == "shopify-refund-509562969"
    # Two returned iPods at 199.00 and the money Shopify actually refunded (209.00): the adjustment line books
    # the difference, so the credit equals Shopify's refund to the cent.
    assert sum(Decimal(str(line["amount"])) for line in credit["item"]["items"]) == Decimal("209.00")
    with session_scope() as s:
        state = s.get(OrderState, 450789469)
        assert state.state == "partially_refunded" and state.refunded_amount == Decimal("209.00")
        restocked = s.execute(select(OrderState)).scalars().all()
        assert len(restocked) == 1
    payload = load_fixture("inventory_levels_update.json")
    assert (
        events.process_event(
            store_event(json.dumps(payload).encode(), topic="inventory_levels/update", webhook_id="fx-inv")
        )
        == "recorded inventory_levels/update"
    )


def test_two_workers_with_conflicting_events_leave_one_serialized_history(sim, shopify_reads):
    """A fulfillment and a cancellation of the same order processed at the same moment by two workers."""
    import threading

    from app.db.models import OrderTransition

    deliver("orders/create", story.ORDER, "race-create")
    requests.post(f"{sim}/_sim/config", json={"latency_ms": 150}, timeout=5).raise_for_status()
    cancelled = dict(
        story.ORDER,
        cancelled_at="2026-11-22T10:00:00-05:00",
        cancel_reason="customer",
        updated_at="2026-11-22T10:00:00-05:00",
    )
    ids = [
        store_event(json.dumps(story.F1).encode(), topic="fulfillments/create", webhook_id="race-f1"),
        store_event(json.dumps(cancelled).encode(), topic="orders/cancelled", webhook_id="race-cancel"),
    ]
    outcomes: dict[int, str] = {}
    start = threading.Barrier(2)

    def work(event_id: int) -> None:
        start.wait()
        try:
            outcomes[event_id] = events.process_event(event_id)
        except InvalidTransition as exc:
            outcomes[event_id] = f"invalid: {exc.reason}"

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    requests.post(f"{sim}/_sim/config", json={"latency_ms": 0}, timeout=5)

    with session_scope() as s:
        history = s.scalars(
            select(OrderTransition)
            .where(OrderTransition.shopify_order_id == story.ORDER_ID)
            .order_by(OrderTransition.id)
        ).all()
        final = s.get(OrderState, story.ORDER_ID).state
    chain = [(t.from_state, t.to_state) for t in history]
    # One history: each transition starts where the previous one ended.
    assert all(prev[1] == cur[0] for prev, cur in zip(chain, chain[1:], strict=False)), chain
    assert final == "cancelled" == chain[-1][1]
    fulfilled = len(records(sim, "itemFulfillment"))
    if outcomes[ids[0]].startswith("invalid"):  # the cancellation won: nothing may ship
        assert "is cancelled" in outcomes[ids[0]] and fulfilled == 0
    else:  # the fulfillment won: it shipped, the cancellation closed only what was left
        assert fulfilled == 1
        [so] = records(sim, "salesOrder")
        assert {sku: bool(line.get("isClosed")) for sku, line in lines_by_sku(sim, so).items()} == {
            "SKU-A": False,
            "SKU-B": False,
            "SKU-C": True,
        }


def _second_shipment_lost_its_commit(sim: str, monkeypatch) -> int:
    """The second shipment's transform lands in NetSuite, then its commit fails (PostgreSQL restarting): our view
    still counts SKU-C as open. Returns that event, to be retried."""
    from sqlalchemy.exc import OperationalError

    from app.db import repositories

    deliver("orders/create", story.ORDER, "lost-create")
    record_document = repositories.record_document

    def commit_lost(*args, **kwargs):
        raise OperationalError("INSERT INTO order_documents", {}, Exception("terminating connection"))

    monkeypatch.setattr(repositories, "record_document", commit_lost)
    second = store_event(json.dumps(story.F2).encode(), topic="fulfillments/create", webhook_id="lost-f2")
    with pytest.raises(OperationalError):
        events.process_event(second)
    monkeypatch.setattr(repositories, "record_document", record_document)
    assert [f["externalId"] for f in records(sim, "itemFulfillment")] == [f"shopify-fulfillment-{story.F2_ID}"]
    return second


def _assert_both_shipments_once(sim: str) -> None:
    fulfillments = {f["externalId"]: f for f in records(sim, "itemFulfillment")}
    assert sorted(fulfillments) == [f"shopify-fulfillment-{story.F1_ID}", f"shopify-fulfillment-{story.F2_ID}"]
    units = {eid: sum(li["quantity"] for li in f["item"]["items"]) for eid, f in fulfillments.items()}
    assert units == {f"shopify-fulfillment-{story.F1_ID}": 2, f"shopify-fulfillment-{story.F2_ID}": 1}
    with session_scope() as s:
        assert s.get(OrderState, story.ORDER_ID).state == "fulfilled"


def test_a_fulfillment_netsuite_holds_but_our_database_lost_is_recorded_from_shopify_by_the_other_shipment(
    sim, shopify_reads, monkeypatch
):
    """The first shipment's transform then holds back a line NetSuite has already shipped and NetSuite refuses it.
    NetSuite's fulfillments of the order name the one we lost; Shopify's order has it: it is recorded from there
    (its transform found, not made again), and the first shipment lands at once, whether or not the lost one's own
    webhook ever comes again (found by the chaos soak, bench/soak: a sibling whose webhook was never delivered)."""
    second = _second_shipment_lost_its_commit(sim, monkeypatch)

    first = store_event(json.dumps(story.F1).encode(), topic="fulfillments/create", webhook_id="lost-f1")
    assert events.process_event(first).startswith(f"fulfillment {story.F1_ID}")
    assert shopify_reads == [story.ORDER_ID]
    _assert_both_shipments_once(sim)
    assert "already applied" in events.process_event(second)  # its own retry finds it recorded


def test_a_fulfillment_netsuite_holds_that_shopify_does_not_show_yet_makes_the_other_shipment_wait(sim, monkeypatch):
    """The same, but Shopify's copy of the order does not show the lost shipment (yet): the first shipment is not
    dead-lettered for it, it is retried, and lands once the lost one's retry has recorded it."""
    from app.domain.errors import RetryLater

    monkeypatch.setattr(events, "fetch_order", lambda order_id: story.ORDER)  # no fulfillment in Shopify's copy
    second = _second_shipment_lost_its_commit(sim, monkeypatch)

    first = store_event(json.dumps(story.F1).encode(), topic="fulfillments/create", webhook_id="lost-f1")
    with pytest.raises(RetryLater, match=f"shopify-fulfillment-{story.F2_ID}"):
        events.process_event(first)
    events.process_event(second)  # its retry finds its fulfillment in NetSuite and records it
    events.process_event(first)  # and this one's retry now ships only what is open
    _assert_both_shipments_once(sim)


def test_an_order_netsuite_has_shipped_from_but_our_database_forgot_keeps_its_lines_when_synced_again(
    sim, shopify_reads
):
    """NetSuite holds the sales order and the first shipment, our database nothing of them (the sync that wrote
    them was rolled back: a later document of the same sync failed). The next event reads the order from Shopify
    and upserts the sales order again: its lines must be keyed to NetSuite's, or `replace=item` would drop the
    shipped lines and add them as new open ones, and the second shipment would ship them again (found by the chaos
    soak, bench/soak: a fulfillment of 4 units where Shopify shipped 1)."""
    from sqlalchemy import delete

    from app.db.models import OrderDocument, OrderLine, OrderTransition

    deliver("orders/create", story.ORDER, "forgot-create")
    deliver("fulfillments/create", story.F1, "forgot-f1")
    [so] = records(sim, "salesOrder")
    lines_before = sorted((line["line"], line.get("custcol_shopify_line_id")) for line in so["item"]["items"])
    with session_scope() as s:  # what a rolled-back sync leaves: nothing of the order on our side
        for model in (OrderDocument, OrderLine, OrderTransition, OrderState):
            s.execute(delete(model).where(model.shopify_order_id == story.ORDER_ID))

    deliver("fulfillments/create", story.F2, "forgot-f2")  # reads the order (both shipments, the refund) again

    story.assert_story_in_netsuite(sim)  # F2 ships SKU-C alone; F1 still ships A and B
    [so] = records(sim, "salesOrder")
    product_lines = [(line["line"], line.get("custcol_shopify_line_id")) for line in so["item"]["items"]]
    assert [x for x in sorted(product_lines) if x[1]] == [x for x in lines_before if x[1]], "lines kept, not re-added"


def _product_lines(sim: str) -> list[tuple[int, str]]:
    [so] = records(sim, "salesOrder")
    return sorted(
        (line["line"], line["custcol_shopify_line_id"])
        for line in so["item"]["items"]
        if line.get("custcol_shopify_line_id")
    )


def _forget_order() -> None:
    """What a rolled-back transaction leaves of the order on our side: nothing."""
    from sqlalchemy import delete

    from app.db.models import OrderDocument, OrderLine, OrderTransition

    with session_scope() as s:
        for model in (OrderDocument, OrderLine, OrderTransition, OrderState):
            s.execute(delete(model).where(model.shopify_order_id == story.ORDER_ID))


def test_the_order_webhook_after_a_rolled_back_sync_that_shipped_keeps_netsuite_lines(sim, shopify_reads):
    """NetSuite holds the sales order and the first shipment; our database nothing (the attempt that wrote them was
    rolled back: PostgreSQL restarting). Then orders/create comes: its payload says nothing has shipped, but the
    sales order must not be written with unkeyed lines, or `replace=item` drops the shipped lines and adds them again
    open, and the second shipment ships them twice (the chaos soak: `fulfillment ships 2 units, Shopify 1`)."""
    deliver("orders/create", story.ORDER, "rolled-create")
    deliver("fulfillments/create", story.F1, "rolled-f1")
    lines_before = _product_lines(sim)
    _forget_order()

    deliver("orders/create", story.ORDER, "rolled-create-again")
    for name in ("F1", "F2", "R1"):
        topic, payload = story.EVENTS[name]
        deliver(topic, payload, f"rolled-{name}-again")

    story.assert_story_in_netsuite(sim)
    assert _product_lines(sim) == lines_before, "the shipped lines kept, not dropped and added again"


def test_an_older_order_update_after_a_lost_shipment_commit_keeps_netsuite_lines(sim, shopify_reads, monkeypatch):
    """Our view of the order holds no NetSuite line numbers (the sync sent unkeyed lines) and NetSuite holds a
    shipment our database lost (its commit failed). An orders/updated newer than what we applied, but older than
    the shipment, says nothing has shipped: its upsert must key the lines NetSuite has, not replace them."""
    from sqlalchemy.exc import OperationalError

    from app.db import repositories

    deliver("orders/create", story.ORDER, "older-create")
    lines_before = _product_lines(sim)
    record_document = repositories.record_document

    def commit_lost(*args, **kwargs):
        raise OperationalError("INSERT INTO order_documents", {}, Exception("terminating connection"))

    monkeypatch.setattr(repositories, "record_document", commit_lost)
    with pytest.raises(OperationalError):
        deliver("fulfillments/create", story.F1, "older-f1")
    monkeypatch.setattr(repositories, "record_document", record_document)
    assert len(records(sim, "itemFulfillment")) == 1

    tagged = {**story.ORDER, "updated_at": "2026-11-20T12:00:00-05:00", "tags": "vip"}
    deliver("orders/updated", tagged, "older-updated")
    for name in ("F1", "F2", "R1"):
        topic, payload = story.EVENTS[name]
        deliver(topic, payload, f"older-{name}-again")

    story.assert_story_in_netsuite(sim)
    assert _product_lines(sim) == lines_before, "the shipped lines kept, not dropped and added again"


def test_a_shipment_costs_one_call_and_one_whose_answer_was_lost_is_found_not_made_twice(sim, shopify_reads):
    """A fulfillment is one transform (its external id in the body, no look first). When the connection drops after
    NetSuite made it, the retry's transform is refused (NetSuite holds that external id, and its lines are shipped),
    and the fulfillment is found by its external id and recorded: one record in NetSuite."""
    from netsuite_client.errors import NetSuiteError

    transform = "POST salesOrder/!transform/itemFulfillment"
    deliver("orders/create", story.ORDER, "answer-create")
    before = sim_calls(sim)
    deliver("fulfillments/create", story.F1, "answer-f1")
    after = sim_calls(sim)
    spent = {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}
    assert spent == {transform: 1, "GET salesOrder": 1}  # the transform, and the lines' numbers read once

    requests.post(
        f"{sim}/_sim/faults", json={"count": 1, "mode": "drop_after", "match": transform}, timeout=5
    ).raise_for_status()
    second = store_event(json.dumps(story.F2).encode(), topic="fulfillments/create", webhook_id="answer-f2")
    with pytest.raises(NetSuiteError):  # the answer lost: a transform is not repeated by the client
        events.process_event(second)
    assert len(records(sim, "itemFulfillment")) == 2
    assert events.process_event(second).startswith(f"fulfillment {story.F2_ID}")  # the task's retry
    fulfillments = {f["externalId"]: f for f in records(sim, "itemFulfillment")}
    assert sorted(fulfillments) == [f"shopify-fulfillment-{story.F1_ID}", f"shopify-fulfillment-{story.F2_ID}"]
    with session_scope() as s:
        assert s.get(OrderState, story.ORDER_ID).state == "fulfilled"
