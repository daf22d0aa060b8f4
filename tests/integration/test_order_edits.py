"""orders/edited through process_event, against both simulators over HTTP: the edit's payload holds only deltas.
When the orders/updated Shopify sends with the edit was applied first, the edit is recorded with no Shopify read;
otherwise it waits (rescheduled, ORDER_EDIT_WAIT_SECONDS, longer while an order payload is queued, never past
ORDER_EDIT_MAX_WAIT_SECONDS), then reads the order from the Shopify simulator (its current quantities) and brings
the sales order in line; an edit below what has shipped is refused with its reason, NetSuite untouched."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from app.config import get_settings
from app.db.models import OrderLine, OrderTransition, WebhookEvent
from app.db.session import session_scope
from app.domain.errors import RunLater
from app.domain.order_edits import QUEUED_POLL_S
from app.domain.state_machine import InvalidTransition
from app.services import events
from tests import story
from tests.conftest import SHOPIFY_SIM_PORT
from tests.integration.test_services import records, store_event

ORDER_ID = 7_100_000_000_000_900
LINE_A, LINE_B, LINE_C = ORDER_ID * 10 + 1, ORDER_ID * 10 + 2, ORDER_ID * 10 + 3
SHOPIFY = f"http://127.0.0.1:{SHOPIFY_SIM_PORT}"  # the simulator the service's own client reads


def order() -> dict:
    """Three lines: three units of A, one of B, one of C."""
    body = copy.deepcopy(story.ORDER)
    body.update(id=ORDER_ID, name="#7900", admin_graphql_api_id=f"gid://shopify/Order/{ORDER_ID}")
    lines = body["line_items"]
    for line, line_id in zip(lines, (LINE_A, LINE_B, LINE_C), strict=True):
        line.update(id=line_id, admin_graphql_api_id=f"gid://shopify/LineItem/{line_id}")
    lines[0].update(quantity=3, current_quantity=3)
    return body


def deliver(topic: str, payload: dict, webhook_id: str) -> str:
    if topic == "orders/edited":
        return deliver_edit(payload, webhook_id)
    return events.process_event(store_event(json.dumps(payload).encode(), topic=topic, webhook_id=webhook_id))


def shopify_requests(shop: str) -> int:
    return requests.get(f"{shop}/_sim/stats", timeout=5).json()["requests_total"]


def receive(topic: str, payload: dict, webhook_id: str) -> int:
    """Stored as the intake stores it (its order id as resource id), not processed yet."""
    event_id = store_event(json.dumps(payload).encode(), topic=topic, webhook_id=webhook_id)
    with session_scope() as s:
        s.execute(update(WebhookEvent).where(WebhookEvent.id == event_id).values(resource_id=ORDER_ID))
    return event_id


def age(event_id: int, seconds: float) -> None:
    """As if the event had been received `seconds` earlier."""
    with session_scope() as s:
        event = s.get(WebhookEvent, event_id)
        event.received_at = event.received_at - timedelta(seconds=seconds)


def deliver_edit(payload: dict, webhook_id: str) -> str:
    """An edit the order we applied does not reflect: it first waits for Shopify's orders/updated (rescheduled, no
    Shopify read, the event still waiting), then, once ORDER_EDIT_WAIT_SECONDS have passed, it reads."""
    event_id = receive("orders/edited", payload, webhook_id)
    before = shopify_requests(SHOPIFY)
    with pytest.raises(RunLater) as deferred:
        events.process_event(event_id)
    wait = get_settings().order_edit_wait_seconds
    assert 0 < deferred.value.seconds <= wait + 1
    assert shopify_requests(SHOPIFY) == before
    with session_scope() as s:
        assert s.get(WebhookEvent, event_id).status == "received"
    age(event_id, wait)
    return events.process_event(event_id)


def edited(removals: dict[int, int]) -> dict:
    return {
        "order_edit": {
            "id": 90001,
            "order_id": ORDER_ID,
            "committed_at": "2026-11-21T09:00:00-05:00",
            "line_items": {"additions": [], "removals": [{"id": i, "delta": d} for i, d in removals.items()]},
        }
    }


@pytest.fixture
def shop(sim, shopify_server) -> str:
    requests.post(f"{shopify_server}/_sim/reset", json={}, timeout=5).raise_for_status()
    requests.post(f"{shopify_server}/_sim/orders", json=order(), timeout=5).raise_for_status()
    deliver("orders/create", order(), "edit-create")
    return shopify_server


def edit_in_shopify(shop: str, quantities: dict[int, int]) -> requests.Response:
    return requests.post(
        f"{shop}/_sim/orders/{ORDER_ID}/edit",
        json={"line_items": [{"id": i, "quantity": q} for i, q in quantities.items()]},
        timeout=5,
    )


def netsuite_quantities(sim: str) -> dict[str, int]:
    [so] = records(sim, "salesOrder")
    return {sku: line["quantity"] for sku, line in story.lines_by_sku(sim, so).items()}


def test_an_edit_removing_one_line_and_reducing_another_reaches_the_sales_order(sim, shop):
    assert netsuite_quantities(sim) == {"SKU-A": 3, "SKU-B": 1, "SKU-C": 1}
    edit_in_shopify(shop, {LINE_A: 2, LINE_C: 0}).raise_for_status()
    assert deliver("orders/edited", edited({LINE_A: 1, LINE_C: 1}), "edit-1") == f"edit 90001: synced order {ORDER_ID}"
    assert netsuite_quantities(sim) == {"SKU-A": 2, "SKU-B": 1}
    with session_scope() as s:
        ordered = {row.shopify_line_id: row.ordered for row in s.query(OrderLine).filter_by(shopify_order_id=ORDER_ID)}
    assert ordered == {LINE_A: 2, LINE_B: 1, LINE_C: 0}  # the removed line stays known, with nothing ordered


def test_an_edit_after_a_partial_fulfillment_keeps_the_shipped_line_intact(sim, shop):
    fulfillment = requests.post(
        f"{shop}/_sim/orders/{ORDER_ID}/fulfillments",
        json={"line_items": [{"id": LINE_B, "quantity": 1}], "location_id": story.WAREHOUSE_EAST, "status": "success"},
        timeout=5,
    ).json()["fulfillment"]
    deliver("fulfillments/create", fulfillment, "edit-f1")
    [so] = records(sim, "salesOrder")
    shipped_line = story.lines_by_sku(sim, so)["SKU-B"]["line"]
    edit_in_shopify(shop, {LINE_C: 0}).raise_for_status()
    deliver("orders/edited", edited({LINE_C: 1}), "edit-2")
    [so] = records(sim, "salesOrder")
    lines = story.lines_by_sku(sim, so)
    assert sorted(lines) == ["SKU-A", "SKU-B"]
    assert lines["SKU-B"]["line"] == shipped_line and lines["SKU-B"]["quantity"] == 1
    assert len(records(sim, "itemFulfillment")) == 1


def test_an_edit_below_what_has_shipped_is_refused_and_netsuite_keeps_the_order(sim, shop):
    fulfillment = requests.post(
        f"{shop}/_sim/orders/{ORDER_ID}/fulfillments",
        json={"line_items": [{"id": LINE_A, "quantity": 3}], "location_id": story.WAREHOUSE_EAST, "status": "success"},
        timeout=5,
    ).json()["fulfillment"]
    deliver("fulfillments/create", fulfillment, "edit-f-all-a")
    # Shopify itself refuses to edit shipped units ...
    assert edit_in_shopify(shop, {LINE_A: 1}).status_code == 422
    # ... so a payload that says otherwise is out of order or wrong: what Shopify now reports is replayed here.
    claimed = order()
    claimed["line_items"][0]["current_quantity"] = 1
    claimed["updated_at"] = "2026-11-21T09:00:00-05:00"
    requests.post(f"{shop}/_sim/orders", json=claimed, timeout=5).raise_for_status()
    with pytest.raises(InvalidTransition) as refused:
        deliver("orders/edited", edited({LINE_A: 2}), "edit-3")
    assert f"takes line {LINE_A} (SKU-A) of order {ORDER_ID} to 1, below the 3 already shipped" in str(refused.value)
    assert netsuite_quantities(sim) == {"SKU-A": 3, "SKU-B": 1, "SKU-C": 1}


# --- Shopify's orders/updated for the edit, and the wait for it ---


def test_an_edit_the_applied_orders_updated_already_carries_is_recorded_without_a_shopify_read(sim, shop):
    after = edit_in_shopify(shop, {LINE_A: 2, LINE_C: 0}).json()["order"]
    # Shopify's orders/updated for the same change lands first and brings the sales order in line by itself.
    assert deliver("orders/updated", after, "edit-update") == f"synced order {ORDER_ID}"
    assert netsuite_quantities(sim) == {"SKU-A": 2, "SKU-B": 1}
    payload = edited({LINE_A: 1, LINE_C: 1})
    payload["order_edit"]["committed_at"] = after["updated_at"]  # committing the edit stamped the order
    before = shopify_requests(shop)
    edit_id = receive("orders/edited", payload, "edit-after-update")
    assert events.process_event(edit_id) == f"edit 90001: already applied to order {ORDER_ID}"
    assert shopify_requests(shop) == before  # no read
    with session_scope() as s:
        [transition] = s.scalars(select(OrderTransition).where(OrderTransition.webhook_event_id == edit_id)).all()
        assert s.get(WebhookEvent, edit_id).status == "done"
    assert (transition.topic, transition.from_state, transition.to_state) == ("orders/edited", "created", "created")
    assert transition.note.startswith("edit 90001: edit committed ") and transition.note.endswith("no Shopify read")
    assert netsuite_quantities(sim) == {"SKU-A": 2, "SKU-B": 1}


def test_an_edit_newer_than_the_order_applied_waits_then_reads_the_order(sim, shop):
    earlier = order()
    earlier["updated_at"] = "2026-11-21T08:59:59-05:00"  # one second before the edit was committed
    assert deliver("orders/updated", earlier, "edit-earlier-update") == f"synced order {ORDER_ID}"
    edit_in_shopify(shop, {LINE_B: 0}).raise_for_status()
    before = shopify_requests(shop)
    assert deliver_edit(edited({LINE_B: 1}), "edit-late") == f"edit 90001: synced order {ORDER_ID}"
    assert shopify_requests(shop) == before + 1  # the one order read (GetOrder), after the wait
    assert netsuite_quantities(sim) == {"SKU-A": 3, "SKU-C": 1}


def test_an_edit_waits_while_an_order_payload_is_queued_but_never_past_the_maximum(sim, shop):
    settings = get_settings()
    assert settings.order_edit_max_wait_seconds > settings.order_edit_wait_seconds
    edit_in_shopify(shop, {LINE_C: 0}).raise_for_status()
    receive("orders/updated", order(), "edit-queued-update")  # in the queue (or failing), not applied
    edit_id = receive("orders/edited", edited({LINE_C: 1}), "edit-waiting")
    age(edit_id, settings.order_edit_wait_seconds)
    before = shopify_requests(shop)
    with pytest.raises(RunLater) as deferred:
        events.process_event(edit_id)
    assert 0 < deferred.value.seconds <= QUEUED_POLL_S + 1
    assert shopify_requests(shop) == before
    # The queued payload never gets applied: at the maximum wait the edit reads the order itself.
    age(edit_id, settings.order_edit_max_wait_seconds - settings.order_edit_wait_seconds)
    assert events.process_event(edit_id) == f"edit 90001: synced order {ORDER_ID}"
    assert shopify_requests(shop) == before + 1
    assert netsuite_quantities(sim) == {"SKU-A": 3, "SKU-B": 1}
