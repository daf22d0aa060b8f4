"""Payments → NetSuite receipts through process_event, against both simulators over HTTP, under each payment model.

The Shopify simulator holds the orders and their transactions (captures, voids, gift card tenders made with its
control calls); the service reads them from it (Order.transactions) and posts receipts to the NetSuite simulator.
What NetSuite holds is read back from NetSuite (SuiteQL, the simulator's records), never from our tables.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from app.adapters.netsuite import get_netsuite
from app.adapters.shopify import fetch_order_transactions, get_shopify
from app.config import load_settings
from app.config_payments import PaymentSettings
from app.db.models import OrderDocument, OrderTransition
from app.db.session import session_scope
from app.domain.keys import invoice_external_id, order_external_id, transaction_external_id
from app.domain.payments import Transaction, net_by_gateway
from app.services import events
from app.services.payments import payment_gaps
from app.services.payouts import sync_payouts
from simulators.shopify import order_factory as of
from simulators.shopify.payments_control import transaction_payload
from tests.conftest import TEST_ENV
from tests.integration.test_order_totals import catalog, settings_for  # noqa: F401 (catalog: a fixture)
from tests.integration.test_payouts_sync import PAYOUT_ENV
from tests.integration.test_refund_totals import _order as refund_totals_order
from tests.integration.test_services import records, store_event

D = Decimal
METHODS = {"shopify_payments": "11", "gift_card": "12"}
DEFAULT_METHOD = "19"
MODELS = ("deposit", "cash_sale", "invoice")
RECEIPT_TYPE = {"deposit": "customerDeposit", "cash_sale": "cashSale", "invoice": "customerPayment"}
# One order of 2 mugs and a tea (35.43) with 8.875 % tax (3.15) and 7.50 shipping.
TOTAL = D("46.08")


@pytest.fixture
def stores(sim, shopify_server, catalog, monkeypatch):  # noqa: F811
    """Both simulators empty, and the settings process_event uses set per test through `use(model)`."""
    requests.post(f"{sim}/_sim/config", json={"tax_mode": "legacy"}, timeout=5).raise_for_status()
    requests.post(f"{shopify_server}/_sim/reset", json={}, timeout=5).raise_for_status()
    base = settings_for("legacy", catalog)

    def use(model: str, **payment_settings):
        payments = PaymentSettings(model=model, methods=METHODS, default_method=DEFAULT_METHOD, **payment_settings)
        settings = replace(base, payments=payments)
        monkeypatch.setattr(events, "get_settings", lambda: settings)
        return settings

    return sim, shopify_server, use


def make_order(shopify: str, order_id: int, status: str = "paid") -> dict:
    order = refund_totals_order(
        order_id,
        lines=[
            of.Line("MUG", "Mug", "12.99", 2, variant_id=1, product_id=1),
            of.Line("TEA", "Tea", "9.45", 1, variant_id=2, product_id=2),
        ],
        discount=None,
        extras=of.Extras(financial_status=status),
    )
    assert D(order["total_price"]) == TOTAL
    requests.post(f"{shopify}/_sim/orders", json=[order], timeout=5).raise_for_status()
    return order


def shopify_order(shopify: str, order_id: int) -> dict:
    return requests.get(f"{shopify}/_sim/orders/{order_id}", timeout=5).json()


def transactions(shopify: str, order_id: int) -> list[dict]:
    answer = requests.get(f"{shopify}/_sim/orders/{order_id}/transactions", timeout=5)
    answer.raise_for_status()
    return answer.json()


def add_transaction(shopify: str, order_id: int, **body) -> dict:
    answer = requests.post(f"{shopify}/_sim/orders/{order_id}/transactions", json=body, timeout=5)
    answer.raise_for_status()
    return answer.json()["transaction"]


def deliver(topic: str, payload: dict, webhook_id: str) -> str:
    body = json.dumps(payload, default=str).encode()
    return events.process_event(store_event(body, topic=topic, webhook_id=webhook_id))


def paid(shopify: str, order_id: int, webhook_id: str) -> str:
    return deliver("orders/paid", shopify_order(shopify, order_id), webhook_id)


def txn_event(tx: dict, webhook_id: str) -> str:
    return deliver("order_transactions/create", transaction_payload(tx), webhook_id)


def paid_by_gift_card_and_card(shopify: str, order_id: int) -> tuple[dict, dict, dict]:
    """An authorized order paid 15.00 by gift card (a SALE) and the rest by capture, each delivered."""
    order = make_order(shopify, order_id, status="authorized")
    deliver("orders/create", order, "create")
    card = add_transaction(shopify, order_id, kind="sale", gateway="gift_card", amount="15.00")
    rest = add_transaction(shopify, order_id, kind="capture", amount=str(TOTAL - D("15.00")))
    txn_event(card, "gift")
    txn_event(rest, "rest")
    return order, card, rest


def receipt_rows(sim: str) -> list[tuple[str, str, D, str]]:
    """(type, external id, amount, payment method) of every receipt NetSuite holds."""
    found = []
    for record_type in ("customerDeposit", "cashSale", "customerPayment"):
        for r in records(sim, record_type):
            found.append((record_type, r["externalId"], D(str(r["total"])), str(r["paymentMethod"]["id"])))
    return sorted(found, key=lambda row: row[1])


def netsuite_net_by_gateway(order_id: int, shopify_txns: list[dict]) -> dict[str, D]:
    """Σ receipts − Σ refunds per gateway as NetSuite reports them (SuiteQL): the receipts of the sales order and
    the records named by the order's Shopify transactions must be the same set, nothing extra."""
    client = get_netsuite()
    [so] = client.suiteql(f"SELECT id FROM transaction WHERE externalid = '{order_external_id(order_id)}'")
    of_order = {r.external_id for r in client.receipts_for_orders([so["id"]])}
    gateway_of = {transaction_external_id(t["id"]): t["gateway"] for t in shopify_txns}
    found = client.receipts_by_external_ids(gateway_of)
    assert of_order == {r.external_id for r in found if r.type != "CustRfnd"}
    totals: dict[str, D] = {}
    for r in found:
        sign = -1 if r.type == "CustRfnd" else 1
        totals[gateway_of[r.external_id]] = totals.get(gateway_of[r.external_id], D(0)) + sign * r.amount
    return totals


def shopify_net_by_gateway(shopify_txns: list[dict]) -> dict[str, D]:
    return net_by_gateway(
        Transaction(str(t["id"]), t["kind"].upper(), t["status"].upper(), t["gateway"], D(t["amount"]), "USD")
        for t in shopify_txns
    )


def gaps(settings, order_id: int) -> dict:
    """The service's nightly balance check of one order (Shopify's transactions against NetSuite's records)."""
    return payment_gaps(get_netsuite(), fetch_order_transactions, [order_id], settings)


def documents(kind: str) -> list[tuple[int, str]]:
    with session_scope() as s:
        rows = s.execute(select(OrderDocument.shopify_id, OrderDocument.external_id).where(OrderDocument.kind == kind))
        return sorted((int(a), b) for a, b in rows)


# --- tests ---


@pytest.mark.parametrize("model", MODELS)
def test_a_paid_order_becomes_one_receipt_whatever_is_delivered_how_often(stores, model):
    sim, shopify, use = stores
    use(model)
    order = make_order(shopify, 9_101)
    deliver("orders/create", order, "create")
    paid(shopify, order["id"], "paid-1")
    paid(shopify, order["id"], "paid-2")  # the same news again (another delivery id)
    [sale] = transactions(shopify, order["id"])
    txn_event(sale, "txn-1")

    assert receipt_rows(sim) == [(RECEIPT_TYPE[model], f"shopify-txn-{sale['id']}", TOTAL, "11")]
    [receipt] = records(sim, RECEIPT_TYPE[model])
    assert receipt["undepFunds"] is True
    if model == "invoice":
        [invoice] = records(sim, "invoice")
        assert invoice["externalId"] == invoice_external_id(order["id"])
        assert D(str(invoice["total"])) == TOTAL
        assert [str(a["doc"]["id"]) for a in receipt["apply"]["items"]] == [str(invoice["id"])]
    assert netsuite_net_by_gateway(order["id"], transactions(shopify, order["id"])) == {"shopify_payments": TOTAL}


@pytest.mark.parametrize("model", MODELS)
def test_a_partial_capture_then_the_rest_are_two_receipts(stores, model):
    sim, shopify, use = stores
    settings = use(model)
    order = make_order(shopify, 9_102, status="authorized")
    deliver("orders/create", order, "create")
    [auth] = transactions(shopify, order["id"])
    txn_event(auth, "auth")  # an authorization moves no money
    assert receipt_rows(sim) == []

    first = add_transaction(shopify, order["id"], kind="capture", amount="20.00")
    txn_event(first, "cap-1")
    second = add_transaction(shopify, order["id"], kind="capture")  # what the authorization has left
    # Its webhook not delivered yet: the nightly check sees the gap on that gateway, NetSuite short.
    assert gaps(settings, order["id"]) == {order["id"]: {"shopify_payments": D("20.00") - TOTAL}}
    paid(shopify, order["id"], "paid")
    txn_event(second, "cap-2")
    txn_event(first, "cap-1-again")

    partial_type = "customerPayment" if model == "invoice" else "customerDeposit"
    assert receipt_rows(sim) == sorted(
        [
            (partial_type, f"shopify-txn-{first['id']}", D("20.00"), "11"),
            (partial_type, f"shopify-txn-{second['id']}", TOTAL - D("20.00"), "11"),
        ],
        key=lambda row: row[1],
    )
    assert len(records(sim, "invoice")) == (1 if model == "invoice" else 0)
    txns = transactions(shopify, order["id"])
    assert netsuite_net_by_gateway(order["id"], txns) == shopify_net_by_gateway(txns) == {"shopify_payments": TOTAL}
    assert gaps(settings, order["id"]) == {}


@pytest.mark.parametrize("model", MODELS)
def test_a_gift_card_tender_is_its_own_receipt_with_the_gift_card_method(stores, model):
    """With a gift card liability account named, the gift card's receipt posts there (no payout deposits it); the
    card's stays in Undeposited Funds."""
    sim, shopify, use = stores
    use(model, gift_card_account="250")
    order, card, rest = paid_by_gift_card_and_card(shopify, 9_103)

    methods = {row[1]: (row[0], row[2], row[3]) for row in receipt_rows(sim)}
    other_type = "customerPayment" if model == "invoice" else "customerDeposit"
    assert methods == {
        f"shopify-txn-{card['id']}": (other_type, D("15.00"), "12"),
        f"shopify-txn-{rest['id']}": (other_type, TOTAL - D("15.00"), "11"),
    }
    funds = {r["externalId"]: (r["undepFunds"], (r.get("account") or {}).get("id")) for r in records(sim, other_type)}
    assert funds == {f"shopify-txn-{card['id']}": (False, "250"), f"shopify-txn-{rest['id']}": (True, None)}
    assert netsuite_net_by_gateway(order["id"], transactions(shopify, order["id"])) == {
        "gift_card": D("15.00"),
        "shopify_payments": TOTAL - D("15.00"),
    }


@pytest.mark.parametrize("model", MODELS)
def test_a_voided_or_expired_authorization_posts_nothing(stores, model):
    sim, shopify, use = stores
    use(model)
    voided = make_order(shopify, 9_104, status="authorized")
    expired = make_order(shopify, 9_105, status="authorized")
    void = add_transaction(shopify, voided["id"], kind="void")
    requests.post(f"{shopify}/_sim/orders/{expired['id']}/transactions/expire", timeout=5).raise_for_status()
    txn_event(void, "void")  # before its order: the order is brought in, and still nothing is received
    [auth] = transactions(shopify, expired["id"])
    txn_event(auth, "expired-auth")
    paid(shopify, expired["id"], "expired-paid")

    assert receipt_rows(sim) == []
    assert len(records(sim, "salesOrder")) == 2 and records(sim, "invoice") == []
    assert documents("receipt") == []


@pytest.mark.parametrize("model", MODELS)
def test_a_transaction_before_its_order_brings_the_order_in_and_lands_once(stores, model):
    sim, shopify, use = stores
    use(model)
    order = make_order(shopify, 9_106)
    [sale] = transactions(shopify, order["id"])
    txn_event(sale, "txn-first")
    paid(shopify, order["id"], "paid")
    deliver("orders/create", order, "create-late")
    txn_event(sale, "txn-again")

    [so] = records(sim, "salesOrder")
    assert so["externalId"] == order_external_id(order["id"])
    assert receipt_rows(sim) == [(RECEIPT_TYPE[model], f"shopify-txn-{sale['id']}", TOTAL, "11")]
    assert documents("receipt") == [(sale["id"], f"shopify-txn-{sale['id']}")]
    with session_scope() as session:  # the order's history names each payment event and what it posted
        notes = session.execute(
            select(OrderTransition.topic, OrderTransition.note)
            .where(OrderTransition.topic.in_(("orders/paid", "order_transactions/create")))
            .order_by(OrderTransition.id)
        ).all()
    assert [topic for topic, _ in notes] == ["order_transactions/create", "orders/paid", "order_transactions/create"]
    assert (
        f"shopify-txn-{sale['id']}" in notes[0][1] and [note for _, note in notes[1:]] == ["receipts: nothing new"] * 2
    )


@pytest.mark.parametrize("model", MODELS)
def test_refund_transactions_are_one_customer_refund_each_and_the_gateways_balance(stores, model):
    """A refund paid back through two gateways (card and gift card): a customerRefund per Shopify refund
    transaction, each with its gateway's method and applying its amount to the refund's credit memo; no single
    "-payment" refund. Per gateway, NetSuite's receipts − refunds equal Shopify's sales + captures − refunds."""
    sim, shopify, use = stores
    settings = use(model)
    order, card, rest = paid_by_gift_card_and_card(shopify, 9_107)

    tea = order["line_items"][1]
    refund = of.build_refund(
        order, refund_id=order["id"] * 10 + 1, lines={tea["id"]: 1}, location_id=1001,
        created_at=order["created_at"], transaction_id=order["id"] * 10 + 2,
    )  # fmt: skip
    value = D(refund["transactions"][0]["amount"])
    to_card = dict(refund["transactions"][0], amount=str(value - D("4.00")), parent_id=rest["id"])
    to_gift = dict(refund["transactions"][0], id=order["id"] * 10 + 3, amount="4.00", gateway="gift_card")
    refund["transactions"] = [to_card, to_gift]
    requests.post(f"{shopify}/_sim/orders/{order['id']}/refunds", json=refund, timeout=5).raise_for_status()
    deliver("refunds/create", refund, "refund")
    deliver("refunds/create", refund, "refund-again")

    [memo] = records(sim, "creditMemo")
    assert D(str(memo["total"])) == value
    refunds = {r["externalId"]: r for r in records(sim, "customerRefund")}
    assert set(refunds) == {f"shopify-txn-{to_card['id']}", f"shopify-txn-{to_gift['id']}"}
    card_refund, gift_refund = refunds[f"shopify-txn-{to_card['id']}"], refunds[f"shopify-txn-{to_gift['id']}"]
    assert (D(str(card_refund["total"])), str(card_refund["paymentMethod"]["id"])) == (value - D("4.00"), "11")
    assert (D(str(gift_refund["total"])), str(gift_refund["paymentMethod"]["id"])) == (D("4.00"), "12")
    for r in refunds.values():  # each applies its own amount to the refund's credit memo (the simulator resolved it)
        [applied] = r["apply"]["items"]
        assert applied["doc"] in ({"id": str(memo["id"])}, {"externalId": memo["externalId"]})
        assert D(str(applied["amount"])) == D(str(r["total"]))
    assert documents("refund_txn") == sorted(
        [(to_card["id"], f"shopify-txn-{to_card['id']}"), (to_gift["id"], f"shopify-txn-{to_gift['id']}")]
    )
    txns = transactions(shopify, order["id"])
    expected = {"shopify_payments": TOTAL - D("15.00") - value + D("4.00"), "gift_card": D("11.00")}
    assert shopify_net_by_gateway(txns) == expected
    assert netsuite_net_by_gateway(order["id"], txns) == expected
    assert gaps(settings, order["id"]) == {}


def test_payment_model_none_posts_no_receipt_and_keeps_the_one_refund_payment(stores):
    sim, shopify, use = stores
    use("none")
    order = make_order(shopify, 9_108)
    deliver("orders/create", order, "create")
    assert "PAYMENT_MODEL=none" in paid(shopify, order["id"], "paid")
    [sale] = transactions(shopify, order["id"])
    txn_event(sale, "txn")
    mug = order["line_items"][0]
    refund = of.build_refund(
        order, refund_id=order["id"] * 10 + 1, lines={mug["id"]: 1}, location_id=1001,
        created_at=order["created_at"], transaction_id=order["id"] * 10 + 2,
    )  # fmt: skip
    requests.post(f"{shopify}/_sim/orders/{order['id']}/refunds", json=refund, timeout=5).raise_for_status()
    deliver("refunds/create", refund, "refund")

    assert receipt_rows(sim) == [] and records(sim, "invoice") == []
    [payment] = records(sim, "customerRefund")
    assert payment["externalId"] == f"shopify-refund-{refund['id']}-payment"
    assert D(str(payment["total"])) == D(refund["transactions"][0]["amount"])


@pytest.mark.parametrize("model", MODELS)
def test_the_receipts_and_refunds_this_flow_writes_are_what_a_payout_deposit_takes(stores, model):
    """Two orders (one paid partly by gift card, which never reaches a payout) and a refund, posted by this flow;
    Shopify's payout run; the payout job (app/services/payouts.py) finds every receipt and refund by the Shopify
    transaction id and posts one deposit equal to the payout's net, with no variance."""
    sim, shopify, use = stores
    settings = use(model)
    accounts = load_settings({**TEST_ENV, **PAYOUT_ENV}).payments.payout_accounts
    settings = replace(settings, payments=replace(settings.payments, payout_accounts=accounts))
    whole = make_order(shopify, 9_111)
    deliver("orders/create", whole, "create-whole")
    paid(shopify, whole["id"], "paid-whole")
    split, _, _ = paid_by_gift_card_and_card(shopify, 9_112)
    refund = of.build_refund(
        whole, refund_id=whole["id"] * 10 + 1, lines={whole["line_items"][1]["id"]: 1}, location_id=1001,
        created_at=whole["created_at"], transaction_id=whole["id"] * 10 + 2,
    )  # fmt: skip
    requests.post(f"{shopify}/_sim/orders/{whole['id']}/refunds", json=refund, timeout=5).raise_for_status()
    deliver("refunds/create", refund, "refund")

    payouts = requests.post(f"{shopify}/_sim/payments/payouts", json={}, timeout=5).json()["payouts"]
    with session_scope() as session:
        report = sync_payouts(session, get_shopify(), get_netsuite(), settings)
    assert (report.posted, report.waiting, report.errors) == (len(payouts), 0, 0), report
    client = get_netsuite()
    deposits = [client.get_deposit(external_id=f"shopify-payout-{p['id']}") for p in payouts]
    assert [d.total for d in deposits] == [D(p["net"]) for p in payouts]
    assert [D(o.variance) for o in report.payouts] == [D(0)] * len(payouts)
    # The whole order's sale, the split order's card capture, and the refund: each its own payment line.
    assert sum(len(d.payments) for d in deposits) == 3
