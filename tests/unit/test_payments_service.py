"""A Shopify order transaction as the receipts domain sees it: in the sales order's currency (ORDER_CURRENCY)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.services.payments import as_transaction, receipt_external_id
from shopify_client.payments import OrderTransaction

CAPTURE = OrderTransaction(
    id=501,
    kind="CAPTURE",
    status="SUCCESS",
    gateway=None,
    amount=Decimal("108.54"),  # the shop's USD
    currency="USD",
    presentment_amount=Decimal("100.00"),  # the buyer paid EUR
    presentment_currency="EUR",
    parent_id=500,
    created_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
    processed_at=None,
    authorization_expires_at=None,
    test=False,
)


def test_the_receipt_amount_is_on_the_side_the_sales_order_is_in():
    buyer = as_transaction(CAPTURE, "presentment")
    shop = as_transaction(CAPTURE, "shop")
    assert (buyer.amount, buyer.currency) == (Decimal("100.00"), "EUR")
    assert (shop.amount, shop.currency) == (Decimal("108.54"), "USD")
    assert (shop.id, shop.kind, shop.parent_id, shop.gateway) == ("501", "CAPTURE", "500", "manual")


def test_the_receipt_of_a_transaction_is_named_by_its_id_alone():
    assert receipt_external_id(501) == receipt_external_id("501") == "shopify-txn-501"
