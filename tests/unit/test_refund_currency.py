"""A refund in the sales order's currency: Shopify's transactions are in the currency the buyer paid."""

from __future__ import annotations

from decimal import Decimal

from app.domain.shopify_events import refund_event
from app.domain.state_machine import view_from_order

REFUND = {
    "id": 1,
    "order_id": 9,
    "transactions": [{"kind": "refund", "status": "success", "amount": Decimal("27.00"), "currency": "EUR"}],
    "refund_line_items": [
        {
            "line_item_id": 5,
            "quantity": 1,
            "subtotal": Decimal("27.00"),
            "subtotal_set": {
                "shop_money": {"amount": "29.16", "currency_code": "USD"},
                "presentment_money": {"amount": "27.00", "currency_code": "EUR"},
            },
        }
    ],
}


def test_a_refund_is_read_on_the_side_the_sales_order_is_in():
    eur = refund_event(REFUND, side="presentment_money")
    assert eur.amount == Decimal("27.00") and eur.lines[0].subtotal == Decimal("27.00")
    usd = refund_event(REFUND, side="shop_money")
    # The transaction (EUR) at the refund's own rate, 29.16 / 27.00; the line from its shop side.
    assert usd.amount == Decimal("29.16") and usd.lines[0].subtotal == Decimal("29.16")
    assert refund_event(REFUND).amount == Decimal("27.00")  # no side: the payload's plain figures


def test_line_prices_follow_the_sales_orders_currency():
    order = {
        "id": 9,
        "total_price": Decimal("54.00"),
        "line_items": [
            {
                "id": 5,
                "sku": "MUG",
                "quantity": 2,
                "price": Decimal("27.00"),
                "price_set": {"shop_money": {"amount": "29.16"}, "presentment_money": {"amount": "27.00"}},
            }
        ],
    }
    assert view_from_order(order, side="shop_money").lines[0].price == Decimal("29.16")
    assert view_from_order(order, side="presentment_money").lines[0].price == Decimal("27.00")
    assert view_from_order(order).lines[0].price == Decimal("27.00")


def test_each_successful_refund_transaction_is_kept_with_its_id_and_gateway_in_the_orders_currency():
    refund = {
        **REFUND,
        "transactions": [
            {"id": 71, "kind": "refund", "status": "success", "amount": Decimal("20.00"), "gateway": "shopify_payments",
             "parent_id": 70, "currency": "EUR"},
            {"kind": "refund", "status": "success", "amount": Decimal("7.00"), "gateway": "gift_card",
             "currency": "EUR"},
            {"id": 73, "kind": "refund", "status": "failure", "amount": Decimal("5.00"), "gateway": "shopify_payments"},
        ],
    }  # fmt: skip
    eur = refund_event(refund, side="presentment_money")
    assert [(t.id, t.kind, t.gateway, t.amount, t.currency, t.parent_id) for t in eur.transactions] == [
        ("71", "REFUND", "shopify_payments", Decimal("20.00"), "EUR", "70"),
        # No id in the payload: the refund's id x 1000 + its position + 1, as the Admin API's refund view gives it.
        ("1002", "REFUND", "gift_card", Decimal("7.00"), "EUR", None),
    ]
    usd = refund_event(refund, side="shop_money")  # at the refund's own rate, 29.16 / 27.00; the sum is the amount
    assert [t.amount for t in usd.transactions] == [Decimal("21.60"), Decimal("7.56")]
    assert sum(t.amount for t in usd.transactions) == usd.amount and usd.transactions[0].currency == ""
