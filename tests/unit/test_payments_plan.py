"""Shopify order transactions → NetSuite receipts under each payment model (app/domain/payments.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.payments import Transaction, gateway_differences, net_by_gateway, receipts_for

D = Decimal
METHODS = {"shopify_payments": "11", "gift_card": "12", "paypal": "13"}


def txn(n, kind, amount, gateway="shopify_payments", status="SUCCESS", parent=None):
    return Transaction(str(n), kind, status, gateway, D(amount), "USD", parent_id=parent)


def plan(transactions, model, total="100.00"):
    return receipts_for(transactions, model=model, order_total=D(total), methods=METHODS, default_method="19")


def kinds(records):
    return [(r.record_type, r.external_id, r.amount) for r in records]


def test_authorizations_voids_failures_and_pending_move_no_money():
    transactions = [
        txn(1, "AUTHORIZATION", "100.00"),
        txn(2, "VOID", "100.00", parent="1"),
        txn(3, "CAPTURE", "100.00", status="FAILURE", parent="1"),
        txn(4, "SALE", "100.00", status="PENDING"),
    ]
    for model in ("deposit", "cash_sale", "invoice"):
        assert plan(transactions, model) == []


def test_each_model_gives_one_record_per_capture_and_refund_keyed_by_the_shopify_transaction():
    transactions = [
        txn(1, "AUTHORIZATION", "100.00"),
        txn(2, "CAPTURE", "100.00", parent="1"),
        txn(3, "REFUND", "30.00", parent="2"),
    ]
    assert kinds(plan(transactions, "deposit")) == [
        ("customerDeposit", "shopify-txn-2", D("100.00")),
        ("customerRefund", "shopify-txn-3", D("30.00")),
    ]
    assert kinds(plan(transactions, "cash_sale"))[0] == ("cashSale", "shopify-txn-2", D("100.00"))
    assert kinds(plan(transactions, "invoice"))[0] == ("customerPayment", "shopify-txn-2", D("100.00"))
    refund = plan(transactions, "invoice")[1]
    assert refund.parent_external_id == "shopify-txn-2" and refund.payment_method == "11"


def test_partial_and_several_captures_are_deposits_under_the_cash_sale_model():
    transactions = [txn(1, "AUTHORIZATION", "100.00"), txn(2, "CAPTURE", "60.00"), txn(3, "CAPTURE", "40.00")]
    assert [r.record_type for r in plan(transactions, "cash_sale")] == ["customerDeposit", "customerDeposit"]
    assert [r.record_type for r in plan(transactions, "invoice")] == ["customerPayment", "customerPayment"]


def test_a_gift_card_tender_is_its_own_method_and_never_a_cash_sale():
    transactions = [txn(1, "SALE", "25.00", gateway="gift_card"), txn(2, "SALE", "75.00")]
    records = plan(transactions, "cash_sale", total="25.00")
    assert [(r.record_type, r.payment_method, r.gift_card) for r in records] == [
        ("customerDeposit", "12", True),
        ("customerDeposit", "11", False),
    ]


def test_an_unmapped_gateway_takes_the_default_method_and_a_bad_model_is_named():
    assert plan([txn(1, "SALE", "5.00", gateway="manual")], "deposit")[0].payment_method == "19"
    with pytest.raises(ValueError, match="cheque"):
        plan([], "cheque")


def test_totals_per_gateway_and_their_differences_to_the_cent():
    transactions = [
        txn(1, "SALE", "80.00"),
        txn(2, "SALE", "20.00", gateway="gift_card"),
        txn(3, "REFUND", "15.50", parent="1"),
        txn(4, "REFUND", "99.00", status="FAILURE", parent="1"),
    ]
    shopify = net_by_gateway(transactions)
    assert shopify == {"shopify_payments": D("64.50"), "gift_card": D("20.00")}
    assert gateway_differences(shopify, {"shopify_payments": D("64.50"), "gift_card": D("20.00")}) == {}
    assert gateway_differences(shopify, {"shopify_payments": D("64.49"), "paypal": D("1.00")}) == {
        "gift_card": D("-20.00"),
        "paypal": D("1.00"),
        "shopify_payments": D("-0.01"),
    }
