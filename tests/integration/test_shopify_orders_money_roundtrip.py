"""An order read from Shopify's Admin GraphQL API carries every field the money mapping reads, with the same
names, shapes and values as the REST order a webhook delivers.

Orders built by the order factory with every money feature (line and order discounts, a discounted and taxed
shipping line, several tax rates, a gift card, a duty, a tip, a foreign presentment currency, taxes included)
are posted to the Shopify simulator as REST orders, read back with `get_order` and `iter_orders_updated_between`,
and compared with the simulator's REST copy field by field.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from shopify_client import ShopifyAdminClient, get_order, iter_orders_updated_between
from simulators.shopify import order_factory as of
from simulators.shopify.server import SimulatorConfig, graphql_url, start_in_thread

TOKEN = "shpat_money"  # noqa: S105 - the simulator's test token
WHEN = "2026-04-01T12:00:00-04:00"
CUSTOMER = of.Customer(
    7_100_000_000_001,
    "Ava",
    "Hart",
    "ava.hart@example.com",
    of.Address("Ava", "Hart", "12 Market Street", "Austin", "TX", "78701"),
)

# The money-relevant subset of a REST order (what the mapping reads); `[]` marks a list walked item by item.
ORDER_KEYS = (
    "currency",
    "presentment_currency",
    "taxes_included",
    "tax_exempt",
    "payment_gateway_names",
    "total_price",
    "total_price_set",
    "current_total_price",
    "current_total_price_set",
    "subtotal_price",
    "subtotal_price_set",
    "total_tax",
    "total_tax_set",
    "current_total_tax",
    "current_total_tax_set",
    "total_discounts",
    "total_discounts_set",
    "total_shipping_price_set",
    "total_tip_received",
    "current_total_duties_set",
    "current_total_additional_fees_set",
)
TAX_LINE_KEYS = ("title", "price", "price_set", "rate", "channel_liable")
ALLOCATION_KEYS = ("amount", "amount_set", "discount_application_index")
LINE_KEYS = ("id", "sku", "quantity", "current_quantity", "price", "price_set", "gift_card", "taxable")
DUTY_KEYS = ("id", "harmonized_system_code", "country_code_of_origin", "price_set")
SHIPPING_KEYS = ("id", "title", "code", "price", "price_set", "discounted_price", "discounted_price_set", "is_removed")
APPLICATION_KEYS = (
    "target_type",
    "type",
    "value",
    "value_type",
    "allocation_method",
    "target_selection",
    "code",
    "title",
)
CODE_KEYS = ("code", "amount", "type")
REFUND_LINE_KEYS = ("line_item_id", "quantity", "subtotal", "subtotal_set", "total_tax", "total_tax_set")
TRANSACTION_KEYS = ("amount", "currency", "kind", "status", "gateway")


def _pick(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: item.get(key) for key in keys}


def money_view(order: dict[str, Any]) -> dict[str, Any]:
    """The fields the money mapping reads, as nested plain values (a missing key reads as None)."""

    def taxes(item: dict[str, Any]) -> list[dict[str, Any]]:
        return [_pick(t, TAX_LINE_KEYS) for t in item.get("tax_lines") or []]

    def allocations(item: dict[str, Any]) -> list[dict[str, Any]]:
        return [_pick(a, ALLOCATION_KEYS) for a in item.get("discount_allocations") or []]

    return {
        **_pick(order, ORDER_KEYS),
        "tax_lines": taxes(order),
        "discount_applications": [_pick(a, APPLICATION_KEYS) for a in order.get("discount_applications") or []],
        "discount_codes": [_pick(c, CODE_KEYS) for c in order.get("discount_codes") or []],
        "line_items": [
            {
                **_pick(li, LINE_KEYS),
                "tax_lines": taxes(li),
                "discount_allocations": allocations(li),
                "duties": [{**_pick(d, DUTY_KEYS), "tax_lines": taxes(d)} for d in li.get("duties") or []],
            }
            for li in order.get("line_items") or []
        ],
        "shipping_lines": [
            {**_pick(sl, SHIPPING_KEYS), "tax_lines": taxes(sl), "discount_allocations": allocations(sl)}
            for sl in order.get("shipping_lines") or []
        ],
        "refunds": [
            {
                "id": r.get("id"),
                "refund_line_items": [_pick(rl, REFUND_LINE_KEYS) for rl in r.get("refund_line_items") or []],
                "transactions": [_pick(t, TRANSACTION_KEYS) for t in r.get("transactions") or []],
            }
            for r in order.get("refunds") or []
        ],
    }


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """`{"a.b[0].c": leaf}` for every leaf (an empty list or dict is a leaf, so a missing list still differs)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(flatten(child, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, child in enumerate(value):
            out.update(flatten(child, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def money_diff(rest: dict[str, Any], read: dict[str, Any]) -> list[str]:
    """Every money field where the order read over GraphQL differs from the REST order, one line each."""
    expected, got = flatten(money_view(rest)), flatten(money_view(read))
    return [
        f"{path}: REST {expected.get(path, '<absent>')!r} != read {got.get(path, '<absent>')!r}"
        for path in sorted(set(expected) | set(got))
        if expected.get(path, "<absent>") != got.get(path, "<absent>")
        or type(expected.get(path)) is not type(got.get(path))
    ]


# --- the orders -----------------------------------------------------------------------------------------


def line(n: int, price: str, quantity: int, **kw: Any) -> of.Line:
    return of.Line(f"SKU-{n}", f"Product {n}", price, quantity, 8_000_000_000 + n, 9_000_000_000 + n, **kw)


ZERO_SET = {
    "shop_money": {"amount": "0.00", "currency_code": "USD"},
    "presentment_money": {"amount": "0.00", "currency_code": "EUR"},
}


def everything_order() -> dict[str, Any]:
    """Six lines: four with a discount of their own, a gift card, one with a duty; a code over the order; a
    discounted, taxed shipping line; three tax rates; a tip; priced in EUR for a USD shop."""
    order = of.build_order(
        order_id=9_007_199_254_740_993,  # above 2**53: the id must survive as an int
        number=1201,
        customer=CUSTOMER,
        lines=[
            line(1, "28.00", 2, discount="3.00"),
            line(2, "74.00", 1, discount="10.00"),
            line(3, "24.50", 3, discount="1.50"),
            line(4, "29.95", 1, discount="0.95"),
            line(5, "50.00", 1, gift_card=True),
            line(6, "189.00", 1, duty="12.40"),
        ],
        created_at=WHEN,
        taxes=[("TX State Tax", "0.0625"), ("Travis County Tax", "0.01"), ("Austin City Tax", "0.005")],
        shipping=of.Shipping("Express", "15.00", discount="5.00", taxable=True),
        discount=of.Discount("SPRING", "20.00"),
        currency="USD",
        presentment_currency="EUR",
        exchange_rate="1.0850",
        tip="4.00",
    )
    first = order["shipping_lines"][0]
    # A shipping line removed by an edit (REST lists it with is_removed) and a free one: three shipping lines,
    # more than the first page of two.
    order["shipping_lines"] += [
        {**copy.deepcopy(first), "id": first["id"] + 1, "title": "Standard", "code": "Standard", "is_removed": True},
        {
            **copy.deepcopy(first),
            "id": first["id"] + 2,
            "title": "Pickup",
            "code": "Pickup",
            **{k: "0.00" for k in ("price", "discounted_price")},
            "price_set": ZERO_SET,
            "discounted_price_set": ZERO_SET,
            "tax_lines": [],
            "discount_allocations": [],
        },
    ]
    return order


def taxes_included_order() -> dict[str, Any]:
    """A EUR shop with VAT inside the prices, a gift card, a discounted taxed shipping line and a code."""
    return of.build_order(
        order_id=6_100_000_000_002,
        number=1202,
        customer=CUSTOMER,
        lines=[line(7, "119.00", 1), line(8, "23.80", 2, discount="2.00"), line(9, "25.00", 1, gift_card=True)],
        created_at=WHEN,
        taxes=[("MwSt", "0.19")],
        taxes_included=True,
        shipping=of.Shipping("DHL", "5.95", discount="1.00", taxable=True),
        discount=of.Discount("WELCOME", "10.00"),
        currency="EUR",
        tip="1.50",
    )


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv, base = start_in_thread(SimulatorConfig(access_token=TOKEN))
    yield base
    srv.shutdown()


@pytest.fixture(scope="module")
def posted(server: str) -> list[dict[str, Any]]:
    """The two orders as the simulator holds them in REST shape, the first refunded in part."""
    requests.post(f"{server}/_sim/reset", json={}, timeout=5).raise_for_status()
    orders = [everything_order(), taxes_included_order()]
    requests.post(f"{server}/_sim/orders", json=orders, timeout=5).raise_for_status()
    first = orders[0]
    refund = of.build_refund(
        first,
        refund_id=6_200_000_000_001,
        lines={first["line_items"][0]["id"]: 1, first["line_items"][5]["id"]: 1},
        location_id=1,
        created_at="2026-04-03T09:00:00-04:00",
        transaction_id=6_300_000_000_001,
    )
    requests.post(f"{server}/_sim/orders/{first['id']}/refunds", json=refund, timeout=5).raise_for_status()
    return [requests.get(f"{server}/_sim/orders/{o['id']}", timeout=5).json() for o in orders]


@pytest.fixture
def client(server: str) -> ShopifyAdminClient:
    return ShopifyAdminClient(url=graphql_url(server), access_token=TOKEN)


def test_the_factory_orders_carry_every_money_feature(posted: list[dict[str, Any]]) -> None:
    """What the round trip below compares is not trivially empty or single-currency."""
    everything, included = posted
    assert everything["presentment_currency"] == "EUR" and everything["currency"] == "USD"
    assert everything["total_price_set"]["shop_money"] != everything["total_price_set"]["presentment_money"]
    assert len(everything["discount_applications"]) == 6  # more than the first page of five
    assert [len(li["tax_lines"]) for li in everything["line_items"]] == [3, 3, 3, 3, 0, 3]
    assert [li["gift_card"] for li in everything["line_items"]].count(True) == 1
    assert everything["line_items"][5]["duties"] and everything["current_total_duties_set"]
    shipping = everything["shipping_lines"][0]
    assert shipping["discount_allocations"] and len(shipping["tax_lines"]) == 3
    assert everything["total_tip_received"] == "4.34"  # 4.00 EUR at 1.085
    assert everything["refunds"][0]["transactions"][0]["currency"] == "EUR"
    assert everything["line_items"][0]["current_quantity"] == 1  # 2 bought, 1 refunded
    assert included["taxes_included"] is True
    # Tax inside the price: the total is lines - discounts + shipping + tip, tax not added again.
    total = Decimal(included["subtotal_price"]) + Decimal("5.95") - Decimal("1.00") + Decimal("1.50")
    assert Decimal(included["total_price"]) == total


def test_get_order_reads_every_money_field_as_the_webhook_carries_it(
    client: ShopifyAdminClient, posted: list[dict[str, Any]]
) -> None:
    for rest in posted:
        read = get_order(client, rest["id"])
        assert read is not None
        assert money_diff(rest, read) == [], f"order {rest['id']}"
    assert type(read["id"]) is int


def test_the_orders_list_reads_every_money_field_as_the_webhook_carries_it(
    client: ShopifyAdminClient, posted: list[dict[str, Any]]
) -> None:
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    read = {o["id"]: o for o in iter_orders_updated_between(client, since)}
    assert sorted(read) == sorted(o["id"] for o in posted)
    for rest in posted:
        assert money_diff(rest, read[rest["id"]]) == [], f"order {rest['id']}"


def test_the_comparison_names_each_field_that_differs(client: ShopifyAdminClient, posted) -> None:
    """The check above can fail: a changed amount, a missing allocation and a shop-only money set are named."""
    rest = posted[0]
    read = get_order(client, rest["id"])
    assert read is not None
    read["line_items"][1]["discount_allocations"].pop()
    read["shipping_lines"][0]["tax_lines"][0]["price_set"]["presentment_money"]["amount"] = "0.01"
    del read["current_total_price_set"]["presentment_money"]
    diff = money_diff(rest, read)
    assert any(d.startswith("line_items[1].discount_allocations[1].amount:") for d in diff)
    assert any(d.startswith("shipping_lines[0].tax_lines[0].price_set.presentment_money.amount:") for d in diff)
    assert any(d.startswith("current_total_price_set.presentment_money.amount:") for d in diff)
