"""netsuite_client's receipts, refunds and deposits (netsuite_client/payments.py) end to end against the NetSuite
simulator over HTTP: idempotent upserts by external id, the deposit read back with NetSuite's total, the SuiteQL
reads of receipts, one call record per call, and NetSuite's refusal surfacing as a permanent error."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from netsuite_client import CallRecord, Deposit, NetSuiteClient, NotFoundError, ValidationError
from tests.integration import test_netsuite_simulator as base
from tests.integration.test_netsuite_simulator import Sim, order_body
from tests.integration.test_netsuite_simulator_payments import BANK, CUSTOMER

server = base.server


@pytest.fixture
def sim(server: str) -> Sim:
    return base.fresh_sim(server)


@pytest.fixture
def calls() -> list[CallRecord]:
    return []


@pytest.fixture
def client(sim: Sim, calls: list[CallRecord]) -> NetSuiteClient:
    made = base.sim_client(sim, on_call=calls.append, max_tries=2)
    yield made
    made.close()


def sales_order(client: NetSuiteClient, sim: Sim, eid: str) -> str:
    item = sim.item_ids(f"SKU-{eid}")[0]
    lines = [{"item": {"id": item}, "quantity": 3, "rate": 3.335}]  # 10.005 -> 10.01
    internal_id = client.upsert("salesOrder", eid, order_body("shopify-customer-1", lines), replace=("item",))
    assert internal_id is not None
    return internal_id


def test_receipts_are_upserted_once_and_read_back_by_external_id_and_by_order(
    client: NetSuiteClient, sim: Sim, calls: list[CallRecord]
) -> None:
    order = sales_order(client, sim, "shopify-order-1")
    other_order = sales_order(client, sim, "shopify-order-2")
    deposit_body = {"customer": CUSTOMER, "salesOrder": {"id": order}, "payment": "4.00"}
    first = client.upsert_receipt("customerDeposit", "shp-1-txn-1", deposit_body, lane="payments")
    assert client.upsert_receipt("customerDeposit", "shp-1-txn-1", deposit_body) == first
    cash_sale = {"createdFrom": {"id": order}, "item": {"items": [{"orderLine": 1}]}}
    sale = client.upsert_receipt("cashSale", "shp-1-txn-2", cash_sale)
    # Sent again with its lines: replaced, not appended (the client asks for ?replace=item).
    assert client.upsert_receipt("cashSale", "shp-1-txn-2", cash_sale) == sale
    assert len(client.get_sublist("cashSale", sale)) == 1
    invoice = client.transform("salesOrder", other_order, "invoice")
    payment_body = {"customer": CUSTOMER, "apply": {"items": [{"doc": {"id": invoice}, "amount": "6.01"}]}}
    payment = client.upsert_receipt("customerPayment", "shp-1-txn-3", payment_body)
    assert client.upsert_receipt("customerPayment", "shp-1-txn-3", payment_body) == payment
    assert len(sim.control("GET", "records/customerDeposit")) == 1
    assert len(sim.control("GET", "records/customerPayment")) == 1

    found = client.receipts_by_external_ids(["shp-1-txn-1", "shp-1-txn-2", "shp-1-txn-3", "shp-1-txn-404"])
    assert [(r.id, r.record_type, r.external_id, r.amount, r.undeposited) for r in found] == [
        (first, "customerDeposit", "shp-1-txn-1", Decimal("4.00"), True),
        (sale, "cashSale", "shp-1-txn-2", Decimal("10.01"), True),
        (payment, "customerPayment", "shp-1-txn-3", Decimal("6.01"), True),
    ]
    by_order = client.receipts_for_orders([order, other_order])
    assert sorted((r.id, r.created_from, r.applied_to) for r in by_order) == sorted(
        [(first, order, None), (sale, order, None), (payment, None, invoice)]
    )
    # Every call left a final call record on the lane it was given.
    deposits = [c for c in calls if c.external_id == "shp-1-txn-1"]
    assert [(c.operation, c.method, c.record_type, c.internal_id, c.final, c.outcome) for c in deposits] == [
        ("upsert", "PUT", "customerDeposit", first, True, "ok")
    ] * 2
    assert sum(c.operation == "suiteql" for c in calls) == 3  # one by external id, two by order


def test_a_deposit_is_upserted_once_read_back_with_netsuites_total_and_refused_for_a_deposited_receipt(
    client: NetSuiteClient, sim: Sim
) -> None:
    order = sales_order(client, sim, "shopify-order-1")
    sale = client.upsert_receipt("cashSale", "shp-1-txn-2", {"createdFrom": {"id": order}})
    deposit_receipt = client.upsert_receipt("customerDeposit", "shp-1-txn-1", {"customer": CUSTOMER, "payment": 25})
    refund = client.transform("cashSale", sale, "cashRefund", {"item": {"items": [{"orderLine": 1, "quantity": 1}]}})
    body: dict[str, Any] = {
        "account": BANK,
        "tranDate": "2026-12-03",
        "payment": {"items": [{"id": int(x), "deposit": True} for x in (sale, deposit_receipt, refund)]},
        "other": {"items": [{"account": {"id": "7"}, "amount": "0.33", "memo": "reserve released"}]},
        "cashback": {"items": [{"account": {"id": "9"}, "amount": "1.07", "memo": "fees"}]},
    }
    deposit_id = client.upsert_deposit("shp-1-payout-77", body)
    assert client.upsert_deposit("shp-1-payout-77", body) == deposit_id  # a re-run changes nothing
    deposit = client.get_deposit(external_id="shp-1-payout-77")
    assert isinstance(deposit, Deposit) and deposit.id == deposit_id
    # 10.01 + 25 - 3.34 (one unit at 3.335, half-up) + 0.33 - 1.07
    assert deposit.total == deposit.lines_total == Decimal("30.93")
    assert sorted((p.id, p.type, p.amount) for p in deposit.payments) == sorted(
        [
            (sale, "CashSale", Decimal("10.01")),
            (deposit_receipt, "CustDep", Decimal(25)),
            (refund, "CashRfnd", Decimal("-3.34")),
        ]
    )
    assert [(o.account, o.amount, o.memo) for o in deposit.other] == [("7", Decimal("0.33"), "reserve released")]
    assert [(c.account, c.amount) for c in deposit.cashback] == [("9", Decimal("1.07"))]
    assert deposit.currency == "1" and deposit.account == "101" and deposit.tran_date == "2026-12-03"
    assert [r.undeposited for r in client.receipts_by_external_ids(["shp-1-txn-1", "shp-1-txn-2"])] == [False, False]
    assert list(client.undeposited_receipts()) == []
    # NetSuite refuses a second deposit of the same receipt: a permanent error, not retried.
    with pytest.raises(ValidationError) as refused:
        client.upsert_deposit("shp-1-payout-78", {"account": BANK, "payment": {"items": [{"id": int(sale)}]}})
    assert refused.value.status == 400 and refused.value.code == "INVALID_KEY_OR_REF"
    assert sim.control("GET", "stats")["calls_by_operation"]["PUT deposit"] == 3
    with pytest.raises(NotFoundError):
        client.get_deposit(external_id="shp-1-payout-78")
    with pytest.raises(ValueError, match="bank account"):
        client.upsert_deposit("shp-1-payout-79", {"payment": {"items": []}})


def test_undeposited_receipts_page_by_id_and_filter_by_currency(client: NetSuiteClient, sim: Sim) -> None:
    made = [
        client.upsert_receipt("customerDeposit", f"shp-1-txn-{n}", {"customer": CUSTOMER, "payment": n, **extra})
        for n, extra in (
            (1, {}),
            (2, {"currency": {"id": "2"}}),
            (3, {"account": BANK}),  # straight to the bank: never undeposited
            (4, {}),
        )
    ]
    assert [r.id for r in client.undeposited_receipts()] == [made[0], made[1], made[3]]
    assert [r.id for r in client.undeposited_receipts(currency=2)] == [made[1]]
    assert [r.id for r in client.undeposited_receipts(after_id=int(made[1]))] == [made[3]]
    with pytest.raises(ValueError):
        client.upsert_receipt("salesOrder", "x", {})
    with pytest.raises(ValueError):
        client.receipts_by_external_ids(["not an id"])
