"""The orders check's decisions with plain values: what NetSuite must hold, and how its own figures differ."""

from __future__ import annotations

from decimal import Decimal

from app.domain.orders_check import NetSuiteOrder, differences, expected, missing_refunds

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
        {"id": 7, "transactions": [{"kind": "refund", "status": "success", "amount": "30.00"}]},
        {"id": 8, "transactions": [{"kind": "refund", "status": "failure", "amount": "5.00"}]},  # nothing moved
        {"id": 9, "transactions": [], "refund_line_items": [{"line_item_id": 1, "quantity": 1}]},  # restock only
    ],
}


def agreeing() -> NetSuiteOrder:
    return NetSuiteOrder(
        "77", Decimal("99.50"), 1, {"shopify-refund-7": Decimal("30.00"), "shopify-refund-9": Decimal("0.00")}
    )


def test_the_sales_order_total_is_in_the_documents_currency_and_refunds_are_credit_memos():
    want = expected(ORDER)
    assert want.total == Decimal("99.50") and expected(ORDER, "shop_money").total == Decimal("108.00")
    assert [f["id"] for f in want.fulfillments] == [1]
    assert want.refunds == {"shopify-refund-7": Decimal("30.00"), "shopify-refund-9": Decimal("0.00")}
    # An order read without money bags (an old payload) falls back to the plain total.
    assert expected({**ORDER, "total_price_set": None}).total == Decimal("108.00")


def test_agreeing_figures_give_no_difference():
    assert differences(expected(ORDER), agreeing()) == []
    assert missing_refunds(expected(ORDER), agreeing()) == []


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
    found = {d.kind: d for d in differences(expected(ORDER), have)}
    assert (found["total"].shopify, found["total"].netsuite) == ("99.50", "100.50")
    assert "line 1: item 12 x 2 = 100.50 (Shopify line 11)" in found["total"].detail
    assert (found["fulfillments"].shopify, found["fulfillments"].netsuite) == ("1", "0")
    assert (found["refund"].shopify, found["refund"].netsuite, found["refund"].detail) == (
        "30.00",
        "25.00",
        "shopify-refund-7",
    )
    # The restock-only refund has no credit memo at all: healed, not reported as an amount difference.
    assert missing_refunds(expected(ORDER), have) == ["shopify-refund-9"]
