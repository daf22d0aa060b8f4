"""A bundle order (BUNDLE_MAP: the sales order holds its components) through the lifecycle, process_event against
the NetSuite simulator over HTTP: shipped in two fulfillments, refunded, cancelled, each document on the
components NetSuite holds (learned once from the sales order, whatever BUNDLE_MAP says later); and a NetSuite kit
item, which is one line like any item."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from app.config import get_settings
from app.db.models import InventoryRestock, NetSuiteCallLog, OrderLine, OrderState
from app.db.session import session_scope
from app.services import events
from simulators.shopify import order_factory as of
from tests.integration.test_services import records, store_event

D = Decimal
ORDER_ID = 7_900_000_000_000_001
BOX, SOCKS, KIT = 7_910_000_000_000_001, 7_910_000_000_000_002, 7_910_000_000_000_003
BUNDLE_MAP = {"BX-BOX": {"BX-CUP": 2, "BX-TEA": 1}}
CUSTOMER = of.Customer(
    id=7_920_000_000_000_001,
    first_name="Bea",
    last_name="Bundle",
    email="bea.bundle@example.com",
    address=of.Address("Bea", "Bundle", "2 Box Rd", "Portland", "OR", "97205"),
)
EAST, WEST = 1001, 1002  # LOCATION_MAP: NetSuite locations 1 and 2


def build(lines: list[of.Line]) -> dict:
    return of.build_order(
        order_id=ORDER_ID,
        number=7901,
        customer=CUSTOMER,
        lines=lines,
        created_at="2026-11-20T10:00:00-05:00",
        tax_rate="0.08",
        tax_title="Sales tax",
        shipping=of.Shipping("Standard", "5.00"),
    )


ORDER = build(
    [
        of.Line("BX-BOX", "Gift box", "45.00", 2, variant_id=1, product_id=1, id=BOX),
        of.Line("BX-SOCKS", "Socks", "9.99", 1, variant_id=2, product_id=2, id=SOCKS),
    ]
)


@pytest.fixture
def bundles(sim, monkeypatch):
    """The service's settings with BUNDLE_MAP (changeable mid-test), and no order read from Shopify."""
    requests.post(
        f"{sim}/_sim/items",
        json=[
            {"itemid": "BX-CUP", "displayname": "Cup"},
            {"itemid": "BX-TEA", "displayname": "Tea"},
            {"itemid": "BX-SOCKS", "displayname": "Socks"},
            {"itemid": "BX-KIT", "displayname": "Kit", "type": "kitItem"},
        ],
        timeout=5,
    ).raise_for_status()
    current = {"settings": replace(get_settings(), bundles=BUNDLE_MAP)}
    monkeypatch.setattr(events, "get_settings", lambda: current["settings"])
    monkeypatch.setattr(events, "fetch_order", lambda order_id: None)

    def set_map(bundle_map: dict) -> None:
        current["settings"] = replace(get_settings(), bundles=bundle_map)

    return set_map


def deliver(topic: str, payload: dict, webhook_id: str) -> str:
    return events.process_event(store_event(json.dumps(payload).encode(), topic=topic, webhook_id=webhook_id))


def fulfillment(fulfillment_id: int, lines: dict[int, int], location: int) -> dict:
    return of.build_fulfillment(
        ORDER,
        fulfillment_id=fulfillment_id,
        lines=lines,
        location_id=location,
        created_at="2026-11-21T09:00:00-05:00",
        tracking_company="UPS",
        tracking_number=f"1Z{fulfillment_id}",
    )


def refund(refund_id: int, lines: dict[int, int], order: dict = ORDER) -> dict:
    return of.build_refund(
        order,
        refund_id=refund_id,
        lines=lines,
        location_id=EAST,
        created_at="2026-11-25T12:00:00-05:00",
        transaction_id=refund_id + 1,
    )


def skus(sim: str) -> dict[str, str]:
    return {str(i["id"]): i["itemid"] for i in requests.get(f"{sim}/_sim/items", timeout=5).json()}


def so_lines(sim: str) -> dict[str, dict]:
    """The sales order's product lines by custcol_shopify_line_id (not the shipping line)."""
    [so] = records(sim, "salesOrder")
    keyed = {li.get("custcol_shopify_line_id"): li for li in so["item"]["items"]}
    return {key: li for key, li in keyed.items() if key and not key.startswith("shipping:")}


def shipped(sim: str, external_id: str) -> dict[str, tuple[int, str]]:
    """An item fulfillment's lines: the order line's key -> (quantity, NetSuite location)."""
    by_number = {li["line"]: key for key, li in so_lines(sim).items()}
    [record] = [f for f in records(sim, "itemFulfillment") if f["externalId"] == external_id]
    return {by_number[li["orderLine"]]: (li["quantity"], str(li["location"]["id"])) for li in record["item"]["items"]}


def sublist_reads() -> int:
    with session_scope() as s:
        rows = s.scalars(select(NetSuiteCallLog.operation).where(NetSuiteCallLog.operation == "get_sublist")).all()
        return len(rows)


CUP, TEA = f"{BOX}:BX-CUP", f"{BOX}:BX-TEA"


def test_a_bundle_ships_in_two_fulfillments_and_is_credited_and_restocked_as_its_components(sim, bundles):
    deliver("orders/create", ORDER, "b-create")
    posted = {key: li["line"] for key, li in so_lines(sim).items()}
    assert sorted(posted) == sorted([CUP, TEA, str(SOCKS)])
    deliver("fulfillments/create", fulfillment(7_930_000_000_000_001, {BOX: 1, SOCKS: 1}, EAST), "b-f1")
    # BUNDLE_MAP changes after the order posted; Shopify then sends the order again (as after every fulfillment).
    bundles({"BX-BOX": {"BX-SOCKS": 3}})
    updated = dict(copy.deepcopy(ORDER), updated_at="2026-11-21T09:30:00-05:00")
    deliver("orders/updated", updated, "b-updated")
    deliver("fulfillments/create", fulfillment(7_930_000_000_000_002, {BOX: 1}, WEST), "b-f2")
    returned = refund(7_940_000_000_000_001, {BOX: 1})
    deliver("refunds/create", returned, "b-r1")

    lines = so_lines(sim)
    assert {key: li["line"] for key, li in lines.items()} == posted, "the components kept their NetSuite lines"
    assert {key: li["quantity"] for key, li in lines.items()} == {CUP: 4, TEA: 2, str(SOCKS): 1}
    assert shipped(sim, "shopify-fulfillment-7930000000000001") == {CUP: (2, "1"), TEA: (1, "1"), str(SOCKS): (1, "1")}
    assert shipped(sim, "shopify-fulfillment-7930000000000002") == {CUP: (2, "2"), TEA: (1, "2")}

    [memo] = records(sim, "creditMemo")
    names = skus(sim)
    credited = [
        (names[str(li["item"]["id"])], li["quantity"], D(str(li["amount"])), li.get("custcol_shopify_line_id"))
        for li in memo["item"]["items"]
    ]
    # One box of 45.00 on its components as the sales order allocated it (2 cups : 1 tea); no tax code is mapped
    # here, so the box's tax is on the tax variance line, as on the sales order.
    assert credited == [
        ("BX-CUP", 2, D("30.00"), CUP),
        ("BX-TEA", 1, D("15.00"), TEA),
        ("SHOPIFY-TAX-VARIANCE", 1, D("3.60"), None),
    ]
    assert D(str(memo["total"])) == D(returned["transactions"][0]["amount"]) == D("48.60")
    assert all(str(li["location"]["id"]) == "1" for li in memo["item"]["items"][:2])

    with session_scope() as s:
        restocks = [(r.sku, r.shopify_location_id, r.quantity) for r in s.scalars(select(InventoryRestock))]
        components = s.get(OrderLine, (ORDER_ID, BOX)).components
        assert s.get(OrderState, ORDER_ID).state == "partially_refunded"
    assert sorted(restocks) == [("BX-CUP", EAST, 2), ("BX-TEA", EAST, 1)]
    assert components == [
        {"sku": "BX-CUP", "line": posted[CUP], "units": 2},
        {"sku": "BX-TEA", "line": posted[TEA], "units": 1},
    ]
    assert sublist_reads() == 1, "the components are read once and kept"


def test_a_refund_before_shipping_then_a_cancellation_after_a_partial_shipment(sim, bundles):
    deliver("orders/create", ORDER, "c-create")
    deliver("refunds/create", refund(7_940_000_000_000_002, {BOX: 1}), "c-r1")
    [memo] = records(sim, "creditMemo")
    names = skus(sim)
    assert [names[str(li["item"]["id"])] for li in memo["item"]["items"]] == [
        "BX-CUP",
        "BX-TEA",
        "SHOPIFY-TAX-VARIANCE",
    ]
    deliver("fulfillments/create", fulfillment(7_930_000_000_000_003, {BOX: 1, SOCKS: 1}, EAST), "c-f1")
    assert shipped(sim, "shopify-fulfillment-7930000000000003") == {CUP: (2, "1"), TEA: (1, "1"), str(SOCKS): (1, "1")}
    cancelled = dict(
        copy.deepcopy(ORDER),
        cancelled_at="2026-11-26T10:00:00-05:00",
        cancel_reason="customer",
        updated_at="2026-11-26T10:00:00-05:00",
    )
    deliver("orders/cancelled", cancelled, "c-cancel")
    closed = {key: bool(li.get("isClosed")) for key, li in so_lines(sim).items()}
    assert closed == {CUP: True, TEA: True, str(SOCKS): False}  # the bundle's second box never shipped
    with session_scope() as s:
        assert s.get(OrderState, ORDER_ID).state == "cancelled"
    assert sublist_reads() == 1, "learned at the refund, used by the fulfillment and the close"


def test_a_netsuite_kit_item_is_one_line_shipped_and_credited_as_itself(sim, bundles):
    order = build([of.Line("BX-KIT", "Kit", "30.00", 2, variant_id=3, product_id=3, id=KIT)])
    deliver("orders/create", order, "k-create")
    assert list(so_lines(sim)) == [str(KIT)]
    shipment = of.build_fulfillment(
        order,
        fulfillment_id=7_930_000_000_000_004,
        lines={KIT: 2},
        location_id=EAST,
        created_at="2026-11-21T09:00:00-05:00",
        tracking_company="UPS",
        tracking_number="1ZKIT",
    )
    deliver("fulfillments/create", shipment, "k-f1")
    assert shipped(sim, "shopify-fulfillment-7930000000000004") == {str(KIT): (2, "1")}
    returned = refund(7_940_000_000_000_003, {KIT: 1}, order)
    deliver("refunds/create", returned, "k-r1")
    [memo] = records(sim, "creditMemo")
    kit = memo["item"]["items"][0]
    assert (skus(sim)[str(kit["item"]["id"])], kit["quantity"], kit["custcol_shopify_line_id"]) == (
        "BX-KIT",
        1,
        str(KIT),
    )
    assert D(str(memo["total"])) == D(returned["transactions"][0]["amount"])
    with session_scope() as s:
        restocks = [(r.sku, r.quantity) for r in s.scalars(select(InventoryRestock))]
        assert s.get(OrderLine, (ORDER_ID, KIT)).components is None
    assert restocks == [("BX-KIT", 1)]
