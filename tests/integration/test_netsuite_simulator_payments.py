"""The NetSuite simulator's money records (simulators/netsuite/payments.py) over real HTTP, signed: receipts in
Undeposited Funds, customer payments applied to invoices, refunds, and bank deposits with NetSuite's rules (a
payment line must be an undeposited receipt, a receipt is deposited once, total = payments + other - cash back)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.integration import test_netsuite_simulator as base
from tests.integration.test_netsuite_simulator import Sim, error_code, order_body

server = base.server
CUSTOMER = {"externalId": "shopify-customer-1"}
BANK = {"id": "101"}


@pytest.fixture
def sim(server: str) -> Sim:
    return base.fresh_sim(server, tax_mode="legacy")


def put(sim: Sim, record_type: str, eid: str, body: dict[str, Any], **params: str) -> requests.Response:
    return sim.http.put(sim.url(f"record/v1/{record_type}/eid:{eid}"), json=body, params=params)


def created(response: requests.Response) -> int:
    assert response.status_code == 204, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def get(sim: Sim, record_type: str, key: str | int, **params: str) -> dict[str, Any]:
    response = sim.http.get(sim.url(f"record/v1/{record_type}/{key}"), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def rows(sim: Sim, query: str) -> list[dict[str, Any]]:
    response = sim.suiteql(query)
    assert response.status_code == 200, response.text
    return [{k: v for k, v in row.items() if k != "links"} for row in response.json()["items"]]


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def error_detail(response: requests.Response) -> dict[str, Any]:
    body = response.json()
    assert body["status"] == response.status_code and body["title"] == "Bad Request"
    return body["o:errorDetails"][0]


def order(sim: Sim, eid: str = "so-1", **header: Any) -> int:
    """A sales order of 2 x 10.005 (20.01) and 1 x 3.333 (3.33) with 8.25% tax on the first line (1.65): 24.99."""
    items = {e["itemid"]: e["id"] for e in sim.control("POST", "items", [{"itemid": "A"}, {"itemid": "B"}])}
    sim.control("POST", "taxcodes", [{"itemid": "CA", "rate": 8.25}])
    tax = next(c["id"] for c in sim.control("GET", "taxcodes") if c["itemid"] == "CA")
    lines = [
        {"item": {"id": items["A"]}, "quantity": 2, "rate": 10.005, "taxCode": {"id": tax}},
        {"item": {"id": items["B"]}, "quantity": 1, "rate": 3.333},
    ]
    return created(put(sim, "salesOrder", eid, {**order_body("shopify-customer-1", lines), **header}))


def deposit_receipt(sim: Sim, eid: str, amount: Any, **fields: Any) -> int:
    return created(put(sim, "customerDeposit", eid, {"customer": CUSTOMER, "payment": amount, **fields}))


def count(sim: Sim, record_type: str) -> int:
    return len(sim.control("GET", f"records/{record_type}"))


def test_a_customer_deposit_lands_in_undeposited_funds_once_per_external_id(sim: Sim) -> None:
    so = order(sim, currency={"id": "2"}, exchangeRate=1.27)
    first = deposit_receipt(sim, "txn-1", "12.345", salesOrder={"id": so})
    again = deposit_receipt(sim, "txn-1", "12.345", salesOrder={"id": so})
    assert first == again and count(sim, "customerDeposit") == 1
    record = get(sim, "customerDeposit", "eid:txn-1")
    # The payment rounds half-up to the cent, the deposit takes its order's currency and stays Not Deposited.
    assert money(record["total"]) == Decimal("12.35") and money(record["payment"]) == Decimal("12.35")
    assert record["currency"] == {"id": "2"} and record["exchangeRate"] == 1.27
    assert record["status"] == {"id": "A", "refName": "Not Deposited"}
    assert rows(sim, f"SELECT type, status, foreigntotal, total, createdfrom FROM transaction WHERE id = {first}") == [
        {"type": "CustDep", "status": "A", "foreigntotal": "12.35", "total": "15.68", "createdfrom": str(so)}
    ]
    # Posted straight to a bank account it never waits in Undeposited Funds.
    banked = deposit_receipt(sim, "txn-2", 5, account=BANK)
    assert get(sim, "customerDeposit", banked)["status"]["refName"] == "Deposited"
    for body, code, path in (
        ({"payment": 5}, "USER_ERROR", "customer"),
        ({"customer": CUSTOMER}, "USER_ERROR", "payment"),
        ({"customer": CUSTOMER, "payment": 0}, "USER_ERROR", "payment"),
        ({"customer": CUSTOMER, "payment": 5, "salesOrder": {"id": "99999"}}, "INVALID_KEY_OR_REF", "salesOrder"),
        ({"customer": {"externalId": "nobody"}, "payment": 5}, "INVALID_KEY_OR_REF", "customer"),
        ({"customer": CUSTOMER, "payment": 5, "undepFunds": False}, "USER_ERROR", "account"),
    ):
        refused = put(sim, "customerDeposit", "txn-bad", body)
        assert refused.status_code == 400 and (error_code(refused), error_detail(refused).get("o:errorPath")) == (
            code,
            path,
        ), refused.text
    assert count(sim, "customerDeposit") == 2


def test_cash_sales_and_invoices_come_from_their_order_with_the_orders_totals(sim: Sim) -> None:
    so = order(sim, shippingCost=4.99)
    order_total = money(get(sim, "salesOrder", so)["total"])
    assert order_total == Decimal("29.98")
    cash_sale = created(put(sim, "cashSale", "cs-1", {"createdFrom": {"id": str(so)}}))
    assert created(put(sim, "cashSale", "cs-1", {"createdFrom": {"id": str(so)}})) == cash_sale
    assert count(sim, "cashSale") == 1
    sale = get(sim, "cashSale", cash_sale, expandSubResources="true")
    assert money(sale["total"]) == order_total and money(sale["taxTotal"]) == Decimal("1.65")
    assert [line["orderLine"] for line in sale["item"]["items"]] == [1, 2]
    assert sale["entity"] == CUSTOMER and sale["status"] == {"id": "B", "refName": "Not Deposited"}
    # A line naming its order line bills only that line, with the order line's item and rate.
    invoice = created(
        put(sim, "invoice", "inv-1", {"createdFrom": {"id": str(so)}, "item": {"items": [{"orderLine": 2}]}})
    )
    assert money(get(sim, "invoice", invoice)["total"]) == Decimal("3.33") + Decimal("4.99")
    transform = sim.http.post(sim.url(f"record/v1/salesOrder/{so}/!transform/invoice"), json={})
    assert money(get(sim, "invoice", created(transform))["total"]) == order_total
    assert rows(sim, f"SELECT type, createdfrom, status FROM transaction WHERE createdfrom = {so} ORDER BY id") == [
        {"type": "CashSale", "createdfrom": str(so), "status": "B"},
        {"type": "CustInvc", "createdfrom": str(so), "status": "A"},
        {"type": "CustInvc", "createdfrom": str(so), "status": "A"},
    ]
    refused = put(sim, "cashSale", "cs-2", {"createdFrom": {"id": "99999"}})
    assert refused.status_code == 400 and error_code(refused) == "INVALID_KEY_OR_REF"


def test_customer_payments_apply_to_invoices_until_they_are_paid(sim: Sim) -> None:
    so = order(sim)
    invoice = created(sim.http.post(sim.url(f"record/v1/salesOrder/{so}/!transform/invoice"), json={}))
    total = money(get(sim, "invoice", invoice)["total"])

    def pay(eid: str, amount: Any, payment: Any = None) -> requests.Response:
        line = {"doc": {"id": invoice}, "amount": str(amount)}
        body: dict[str, Any] = {"customer": CUSTOMER, "apply": {"items": [line]}}
        if payment is not None:
            body["payment"] = payment
        return put(sim, "customerPayment", eid, body)

    first = created(pay("pay-1", 10, payment=15))
    assert created(pay("pay-1", 10, payment=15)) == first and count(sim, "customerPayment") == 1
    assert money(get(sim, "customerPayment", first)["total"]) == Decimal(15)  # 5.00 stays unapplied
    assert get(sim, "invoice", invoice)["status"] == {"id": "A", "refName": "Open"}
    over = pay("pay-2", total - 10 + Decimal("0.01"))
    assert over.status_code == 400 and error_code(over) == "USER_ERROR"
    second = created(pay("pay-2", total - 10))
    assert get(sim, "invoice", invoice)["status"] == {"id": "B", "refName": "Paid In Full"}
    assert get(sim, "customerPayment", second)["status"] == {"id": "B", "refName": "Not Deposited"}
    links = rows(
        sim,
        "SELECT previousdoc, nextdoc, linktype, foreignamount FROM PreviousTransactionLineLink "
        f"WHERE previousdoc = {invoice} ORDER BY nextdoc",
    )
    assert [(r["nextdoc"], money(r["foreignamount"])) for r in links] == [
        (str(first), Decimal(10)),
        (str(second), total - 10),
    ]
    assert {r["linktype"] for r in links} == {"Payment"}
    over_payment = pay("pay-3", 20, payment=10)
    assert over_payment.status_code == 400 and error_code(over_payment) == "USER_ERROR"
    not_an_invoice = put(
        sim, "customerPayment", "pay-4", {"customer": CUSTOMER, "apply": {"items": [{"doc": {"id": so}}]}}
    )
    assert not_an_invoice.status_code == 400 and error_detail(not_an_invoice) == {
        "detail": f"Invalid Field Value {so} for the following field: doc",
        "o:errorPath": "apply.items[0].doc",
        "o:errorCode": "INVALID_KEY_OR_REF",
    }
    # An invoice with payments applied cannot be deleted.
    assert sim.http.delete(sim.url(f"record/v1/invoice/{invoice}")).status_code == 400


def receipts(sim: Sim) -> dict[str, int]:
    """One of each depositable type: cash sale 24.99, customer deposit 12.34, customer payment 7.77, cash refund of
    the cash sale's second line (3.33) and a customer refund of 1.05 out of the customer deposit."""
    so = order(sim)
    found = {"cashSale": created(put(sim, "cashSale", "cs-1", {"createdFrom": {"id": str(so)}}))}
    found["customerDeposit"] = deposit_receipt(sim, "dep-1", "12.34", salesOrder={"id": so})
    invoice = created(sim.http.post(sim.url(f"record/v1/salesOrder/{so}/!transform/invoice"), json={}))
    found["customerPayment"] = created(
        put(
            sim,
            "customerPayment",
            "pay-1",
            {"customer": CUSTOMER, "apply": {"items": [{"doc": {"id": invoice}, "amount": "7.77"}]}},
        )
    )
    refund = sim.http.post(
        sim.url(f"record/v1/cashSale/{found['cashSale']}/!transform/cashRefund"),
        json={"item": {"items": [{"orderLine": 2}]}},
    )
    found["cashRefund"] = created(refund)
    found["customerRefund"] = created(
        put(
            sim,
            "customerRefund",
            "crf-1",
            {"customer": CUSTOMER, "deposit": {"items": [{"doc": {"id": found["customerDeposit"]}, "amount": 1.05}]}},
        )
    )
    return found


def test_a_deposits_total_is_payments_plus_other_minus_cash_back_to_the_cent(sim: Sim) -> None:
    found = receipts(sim)
    signs = {"cashRefund": -1, "customerRefund": -1}
    amounts = {t: signs.get(t, 1) * money(get(sim, t, i)["total"]) for t, i in found.items()}
    assert amounts == {
        "cashSale": Decimal("24.99"),
        "customerDeposit": Decimal("12.34"),
        "customerPayment": Decimal("7.77"),
        "cashRefund": Decimal("-3.33"),
        "customerRefund": Decimal("-1.05"),
    }
    body = {
        "account": BANK,
        "tranDate": "2026-12-03",
        "payment": {"items": [{"id": i, "deposit": True} for i in found.values()]},
        "other": {"items": [{"account": {"id": "7"}, "amount": "0.10"}, {"account": {"id": "8"}, "amount": 1.115}]},
        # A negative cash-back line is saved as an other line of the opposite sign (Oracle).
        "cashback": {
            "items": [
                {"account": {"id": "9"}, "amount": 0.61},
                {"account": {"id": "9"}, "amount": "2.02"},
                {"account": {"id": "6"}, "amount": -0.5},
            ]
        },
        "total": 1,  # computed by NetSuite, never taken
    }
    replace = {"replace": "payment,other,cashback"}
    deposit = created(put(sim, "deposit", "payout-1", body, **replace))
    expected = (
        sum(amounts.values()) + Decimal("0.10") + Decimal("1.12") + Decimal("0.50") - Decimal("0.61") - Decimal("2.02")
    )
    record = get(sim, "deposit", deposit, expandSubResources="true")
    assert money(record["total"]) == expected == Decimal("39.81")
    assert {line["id"]: money(line["paymentAmount"]) for line in record["payment"]["items"]} == {
        found[t]: amounts[t] for t in found
    }
    assert [money(o["amount"]) for o in record["other"]["items"]] == [Decimal("0.10"), Decimal("1.12"), Decimal("0.50")]
    assert [money(c["amount"]) for c in record["cashback"]["items"]] == [Decimal("0.61"), Decimal("2.02")]
    # Without expandSubResources the sublists are links, as NetSuite answers.
    assert set(get(sim, "deposit", deposit)["payment"]) == {"links"}
    cash_back = get(sim, "deposit", f"{deposit}/cashback")
    assert cash_back["count"] == 2 and [c["amount"] for c in cash_back["items"]] == [0.61, 2.02]
    # SuiteQL: the deposit's own total, its lines summing to zero against the main line, and receipts Deposited.
    assert rows(sim, f"SELECT type, foreigntotal FROM transaction WHERE id = {deposit}") == [
        {"type": "Deposit", "foreigntotal": str(expected)}
    ]
    lines = rows(
        sim,
        f"SELECT mainline, foreignamount, createdfrom FROM transactionline WHERE transaction = {deposit} ORDER BY id",
    )
    assert money(lines[0]["foreignamount"]) == expected and sum(money(r["foreignamount"]) for r in lines) == 0
    assert sorted(int(r["createdfrom"]) for r in lines if "createdfrom" in r) == sorted(found.values())
    statuses = rows(
        sim, "SELECT type, status FROM transaction WHERE type IN ('CashSale', 'CustDep', 'CustPymt') ORDER BY id"
    )
    assert statuses == [
        {"type": "CashSale", "status": "C"},
        {"type": "CustDep", "status": "B"},
        {"type": "CustPymt", "status": "C"},
    ]
    # The same deposit again, every sublist replaced: one deposit, the same lines and total.
    assert created(put(sim, "deposit", "payout-1", body, **replace)) == deposit and count(sim, "deposit") == 1
    again = get(sim, "deposit", deposit, expandSubResources="true")
    assert money(again["total"]) == expected and len(again["other"]["items"]) == 3
    # Without ?replace NetSuite appends unkeyed lines: the other and cash-back lines are doubled.
    assert created(put(sim, "deposit", "payout-1", body)) == deposit
    doubled = get(sim, "deposit", deposit, expandSubResources="true")
    assert len(doubled["other"]["items"]) == 6 and len(doubled["payment"]["items"]) == 5
    assert money(doubled["total"]) == expected + Decimal("0.10") + Decimal("1.12") + Decimal("0.50") - Decimal("2.63")


def test_a_deposit_takes_only_undeposited_receipts_each_once(sim: Sim) -> None:
    so = order(sim)
    cash_sale = created(put(sim, "cashSale", "cs-1", {"createdFrom": {"id": str(so)}}))
    banked = deposit_receipt(sim, "dep-banked", 5, account=BANK)
    other_currency = deposit_receipt(sim, "dep-gbp", 5, currency={"id": "2"})
    first = created(
        put(sim, "deposit", "payout-1", {"account": BANK, "payment": {"items": [{"id": cash_sale, "deposit": True}]}})
    )

    def refused(eid: str, body: dict[str, Any]) -> dict[str, Any]:
        response = put(sim, "deposit", eid, {"account": BANK, **body})
        assert response.status_code == 400, response.text
        return error_detail(response)

    for receipt in (cash_sale, banked, 999999):  # already deposited, posted to a bank account, unknown
        assert refused("payout-2", {"payment": {"items": [{"id": receipt, "deposit": True}]}}) == {
            "detail": f"Invalid Field Value {receipt} for the following field: id",
            "o:errorPath": "payment.items[0].id",
            "o:errorCode": "INVALID_KEY_OR_REF",
        }
    assert refused("payout-2", {"payment": {"items": [{"id": other_currency}]}})["o:errorCode"] == "USER_ERROR"
    assert refused("payout-2", {"other": {"items": [{"account": {"id": "7"}, "amount": -1}]}})["o:errorPath"] == (
        "other.items[0].amount"
    )
    assert refused("payout-2", {"other": {"items": [{"amount": 1}]}})["o:errorPath"] == "other.items[0].account"
    assert refused("payout-2", {"cashback": {"items": [{"account": {"id": "9"}, "amount": 1}]}})["detail"] == (
        "The net sum of the deposit's lines must be positive."
    )
    assert refused("payout-2", {})["o:errorCode"] == "USER_ERROR"
    no_account = put(sim, "deposit", "payout-2", {"other": {"items": [{"account": {"id": "7"}, "amount": 1}]}})
    assert no_account.status_code == 400 and error_detail(no_account)["o:errorPath"] == "account"
    # Nothing refused was created, and the first deposit still holds its receipt.
    assert count(sim, "deposit") == 1
    assert [line["id"] for line in get(sim, "deposit", first, expandSubResources="true")["payment"]["items"]] == [
        cash_sale
    ]
    assert get(sim, "cashSale", cash_sale)["status"]["refName"] == "Deposited"


def test_deposit_updates_follow_netsuites_keyed_sublist_rules(sim: Sim) -> None:
    so = order(sim)
    cash_sale = created(put(sim, "cashSale", "cs-1", {"createdFrom": {"id": str(so)}}))
    first, second = deposit_receipt(sim, "dep-1", 10), deposit_receipt(sim, "dep-2", 20)
    payments = {"items": [{"id": cash_sale}, {"id": first}]}
    deposit = created(put(sim, "deposit", "payout-1", {"account": BANK, "payment": payments}))
    # PATCH: deposit false removes a line, a new id is added, the line not named stays.
    patch = {"payment": {"items": [{"id": first, "deposit": False}, {"id": second, "deposit": True}]}}
    assert sim.http.patch(sim.url(f"record/v1/deposit/{deposit}"), json=patch).status_code == 204
    record = get(sim, "deposit", deposit, expandSubResources="true")
    assert sorted(line["id"] for line in record["payment"]["items"]) == sorted([cash_sale, second])
    assert money(record["total"]) == Decimal("24.99") + 20
    assert get(sim, "customerDeposit", first)["status"]["refName"] == "Not Deposited"
    # ?replace=payment keeps only the lines named.
    replaced = sim.http.patch(
        sim.url(f"record/v1/deposit/{deposit}"),
        params={"replace": "payment"},
        json={"payment": {"items": [{"id": second}]}},
    )
    assert replaced.status_code == 204
    assert money(get(sim, "deposit", deposit)["total"]) == 20
    assert get(sim, "cashSale", cash_sale)["status"]["refName"] == "Not Deposited"
    # A deposited receipt cannot change its amount, leave Undeposited Funds or be deleted.
    assert put(sim, "customerDeposit", "dep-2", {"payment": 21}).status_code == 400
    assert put(sim, "customerDeposit", "dep-2", {"undepFunds": False, "account": BANK}).status_code == 400
    assert sim.http.delete(sim.url(f"record/v1/customerDeposit/{second}")).status_code == 400
    assert money(get(sim, "customerDeposit", second)["total"]) == 20
    # Deleting the deposit frees its receipts for another deposit.
    assert sim.http.delete(sim.url(f"record/v1/deposit/{deposit}")).status_code == 204
    assert rows(sim, f"SELECT status FROM transaction WHERE id = {second}") == [{"status": "A"}]
    assert created(put(sim, "deposit", "payout-2", {"account": BANK, "payment": {"items": [{"id": second}]}})) > deposit


def test_a_customer_refund_applies_customer_deposits(sim: Sim) -> None:
    deposit = deposit_receipt(sim, "dep-1", 30)
    body = {"customer": CUSTOMER, "deposit": {"items": [{"doc": {"id": deposit}, "amount": 12.5}]}}
    refund = created(put(sim, "customerRefund", "crf-1", body))
    assert money(get(sim, "customerRefund", refund)["total"]) == Decimal("12.5")
    assert rows(sim, f"SELECT type, foreigntotal FROM transaction WHERE id = {refund}") == [
        {"type": "CustRfnd", "foreigntotal": "12.5"}
    ]
    unknown = put(
        sim,
        "customerRefund",
        "crf-2",
        {"customer": CUSTOMER, "deposit": {"items": [{"doc": {"id": 99999}, "amount": 1}]}},
    )
    assert unknown.status_code == 400 and error_detail(unknown)["o:errorPath"] == "deposit.items[0].doc"
    no_memo = put(
        sim,
        "customerRefund",
        "crf-3",
        {"customer": CUSTOMER, "apply": {"items": [{"doc": {"externalId": "cm-x"}, "amount": 1}]}},
    )
    assert no_memo.status_code == 400 and error_detail(no_memo) == {
        "detail": "Invalid Field Value cm-x for the following field: doc",
        "o:errorPath": "apply.items[0].doc",
        "o:errorCode": "INVALID_KEY_OR_REF",
    }
