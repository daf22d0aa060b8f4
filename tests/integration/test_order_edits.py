"""orders/edited through process_event, against both simulators over HTTP: the edit's payload holds only deltas,
so the service reads the order from the Shopify simulator (its current quantities) and brings the sales order in
line; an edit below what has shipped is refused with its reason, NetSuite untouched."""

from __future__ import annotations

import copy
import json

import pytest
import requests

from app.db.models import OrderLine
from app.db.session import session_scope
from app.domain.state_machine import InvalidTransition
from app.services import events
from tests import story
from tests.integration.test_services import records, store_event

ORDER_ID = 7_100_000_000_000_900
LINE_A, LINE_B, LINE_C = ORDER_ID * 10 + 1, ORDER_ID * 10 + 2, ORDER_ID * 10 + 3


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
    return events.process_event(store_event(json.dumps(payload).encode(), topic=topic, webhook_id=webhook_id))


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
