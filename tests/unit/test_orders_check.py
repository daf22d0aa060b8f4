"""The orders check's decisions with plain values: what NetSuite must hold, and how its own figures differ."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.domain.orders_check import Expected, NetSuiteOrder, differences, expected, missing_refunds
from app.domain.shopify_events import refund_event
from schemas.shopify import RefundSchema

ORDER = {
    "id": 5001,
    "name": "#5001",
    "total_price": "108.00",
    "total_price_set": {
        "shop_money": {"amount": "108.00", "currency_code": "USD"},
        "presentment_money": {"amount": "99.50", "currency_code": "EUR"},
    },
    "fulfillments": [
        {"id": 1, "status": "success"},
        {"id": 2, "status": "cancelled"},  # voided: no item fulfillment in NetSuite
    ],
    "refunds": [
        {"id": 7, "order_id": 5001, "transactions": [{"kind": "refund", "status": "success", "amount": "30.00"}]},
        # nothing moved
        {"id": 8, "order_id": 5001, "transactions": [{"kind": "refund", "status": "failure", "amount": "5.00"}]},
        # restock only
        {
            "id": 9,
            "order_id": 5001,
            "transactions": [],
            "refund_line_items": [{"id": 90, "line_item_id": 1, "quantity": 1}],
        },
    ],
}


def want(order: dict[str, Any], side: str = "presentment_money") -> Expected:
    """The check's expectation, the order's refunds loaded as the service loads them (the refunds/create schema)."""
    return expected(order, side, refunds=[RefundSchema().load(r) for r in order["refunds"]])


def agreeing() -> NetSuiteOrder:
    return NetSuiteOrder(
        "77", Decimal("99.50"), 1, {"shopify-refund-7": Decimal("30.00"), "shopify-refund-9": Decimal("0.00")}
    )


def test_the_sales_order_total_is_in_the_documents_currency_and_refunds_are_credit_memos():
    wanted = want(ORDER)
    assert wanted.total == Decimal("99.50") and want(ORDER, "shop_money").total == Decimal("108.00")
    assert [f["id"] for f in wanted.fulfillments] == [1]
    assert wanted.refunds == {"shopify-refund-7": Decimal("30.00"), "shopify-refund-9": Decimal("0.00")}
    assert wanted.refund_payloads["shopify-refund-7"] is ORDER["refunds"][0]  # healed with Shopify's own payload
    # An order read without money bags (an old payload) falls back to the plain total.
    assert want({**ORDER, "total_price_set": None}).total == Decimal("108.00")


def test_agreeing_figures_give_no_difference():
    assert differences(want(ORDER), agreeing()) == []
    assert missing_refunds(want(ORDER), agreeing()) == []


def test_each_kind_of_difference_is_named_with_both_figures():
    have = NetSuiteOrder(
        "77",
        Decimal("100.50"),
        0,
        {"shopify-refund-7": Decimal("25.00")},
        lines=(
            {
                "linesequencenumber": 1,
                "item": 12,
                "quantity": 2,
                "foreignamount": "100.50",
                "custcol_shopify_line_id": "11",
            },
        ),
    )
    found = {d.kind: d for d in differences(want(ORDER), have)}
    assert (found["total"].shopify, found["total"].netsuite) == ("99.50", "100.50")
    assert "line 1: item 12 x 2 = 100.50 (Shopify line 11)" in found["total"].detail
    assert (found["fulfillments"].shopify, found["fulfillments"].netsuite) == ("1", "0")
    assert (found["refund"].shopify, found["refund"].netsuite, found["refund"].detail) == (
        "30.00",
        "25.00",
        "shopify-refund-7",
    )
    # The restock-only refund has no credit memo at all: healed, not reported as an amount difference.
    assert missing_refunds(want(ORDER), have) == ["shopify-refund-9"]


def test_a_foreign_buyers_refund_is_expected_in_the_shops_money_when_the_book_is():
    """ORDER_CURRENCY=shop with a EUR buyer: the credit memo carries the refund converted to USD (what the lifecycle
    books), so NetSuite's memo at that amount is no difference, and one at the EUR figure is."""
    refund = {
        "id": 7,
        "order_id": 5001,
        "transactions": [{"kind": "refund", "status": "success", "amount": "27.00", "currency": "EUR"}],
        "refund_line_items": [
            {
                "id": 70,
                "line_item_id": 1,
                "quantity": 1,
                "subtotal_set": {
                    "shop_money": {"amount": "29.16", "currency_code": "USD"},
                    "presentment_money": {"amount": "27.00", "currency_code": "EUR"},
                },
            }
        ],
    }
    order = {**ORDER, "refunds": [refund]}
    booked = refund_event(RefundSchema().load(refund), side="shop_money").amount
    assert want(order, "shop_money").refunds == {"shopify-refund-7": booked} and booked == Decimal("29.16")
    assert want(order).refunds == {"shopify-refund-7": Decimal("27.00")}  # a EUR book: the EUR transaction
    usd = NetSuiteOrder("77", Decimal("108.00"), 1, {"shopify-refund-7": booked})
    assert differences(want(order, "shop_money"), usd) == []
    [found] = differences(
        want(order, "shop_money"), NetSuiteOrder("77", Decimal("108.00"), 1, {"shopify-refund-7": Decimal("27.00")})
    )
    assert (found.kind, found.shopify, found.netsuite) == ("refund", "29.16", "27.00")
