"""Shopify Payments over HTTP: the simulator's payouts, balance transactions, order transactions and disputes
(generated from its orders) read by shopify_client's payments reads, and the webhooks of the payment topics.

The arithmetic is checked from first principles, not from the simulator's own figures: each charge's fee is
2.9% + 0.30 of the captured amount (half up to the cent), a payout's net is the sum of its composition's net, and
its TRANSFER row is the negative of that net.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from schemas.shopify import PAYLOAD_SCHEMAS
from shopify_client import (
    ShopifyAdminClient,
    ShopifyAuthError,
    create_subscription,
    iter_disputes,
    iter_payouts,
    list_subscriptions,
    order_transactions,
    payout_balance_transactions,
    payouts_search_query,
    verify,
)
from shopify_client.payments_documents import (
    BALANCE_TRANSACTIONS_QUERY,
    DISPUTES_QUERY,
    ORDER_TRANSACTIONS_QUERY,
    PAYOUTS_QUERY,
    balance_transactions_page_cost,
    disputes_page_cost,
    order_transactions_cost,
    payouts_page_cost,
)
from simulators import wsgi
from simulators.shopify import order_factory as of
from simulators.shopify.access import DEFAULT_ACCESS_SCOPES
from simulators.shopify.server import SimulatorConfig, graphql_url, start_in_thread

TOKEN = "shpat_payments"
SECRET = "payments-webhook-secret"
CUSTOMER = of.Customer(
    7001, "Ada", "Byron", "ada@example.com", of.Address("Ada", "Byron", "1 Main St", "Austin", "TX", "73301")
)
# Three recent days (an authorization lasts 7 days, so the orders must be younger than that).
DAYS = tuple((dt.datetime.now(dt.UTC).date() - dt.timedelta(days=back)).isoformat() for back in (4, 3, 2))
ORDER_BASE = 6_900_000_000


def order(n: int, price: str, day: str, **extras: Any) -> dict[str, Any]:
    lines = [of.Line(f"SKU-{n}", "Widget", price, 1, 500 + n, 900 + n)]
    return of.build_order(
        order_id=ORDER_BASE + n,
        number=3000 + n,
        customer=CUSTOMER,
        lines=lines,
        created_at=f"{day}T1{n % 10}:00:00+00:00",
        extras=of.Extras(**extras) if extras else None,
    )


def fee_of(amount: Decimal) -> Decimal:
    return (amount * Decimal("0.029") + Decimal("0.30")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Sim:
    def __init__(self, base: str) -> None:
        self.base = base
        self.client = ShopifyAdminClient(url=graphql_url(base), access_token=TOKEN, max_tries=1)

    def sim(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = requests.request(method, f"{self.base}/_sim{path}", json=body, timeout=10)
        assert response.status_code == status, response.text
        return response.json()

    def requested_cost(self, query: str, variables: dict[str, Any]) -> int:
        response = requests.post(
            graphql_url(self.base),
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": TOKEN},
            timeout=10,
        ).json()
        assert "errors" not in response, response
        return response["extensions"]["cost"]["requestedQueryCost"]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv, base = start_in_thread(SimulatorConfig(access_token=TOKEN, bucket_size=100_000, restore_rate=100_000))
    yield base
    srv.shutdown()


@pytest.fixture
def sim(server: str) -> Sim:
    helper = Sim(server)
    helper.sim("POST", "/reset")
    return helper


def seed_store(sim: Sim) -> dict[str, int]:
    """Nine paid orders over three days (one paid by gift card), an authorized one captured in part, two refunds,
    a reserve hold, a dispute and a rare transaction type; ids of the notable orders."""
    orders = [order(n, f"{20 + 7 * n}.{n}9", DAYS[n % 3]) for n in range(1, 9)]
    orders.append(order(9, "60.00", DAYS[0], gateway="gift_card"))
    orders.append(order(10, "100.00", DAYS[1], financial_status="authorized"))
    sim.sim("POST", "/orders", orders)
    sim.sim("POST", f"/orders/{ORDER_BASE + 10}/transactions", {"kind": "capture", "amount": "40.00"})
    for n in (2, 5):
        line_id = orders[n - 1]["line_items"][0]["id"]
        sim.sim("POST", f"/orders/{ORDER_BASE + n}/refunds", {"refund_line_items": [{"line_item_id": line_id}]})
    sim.sim("POST", "/payments/reserve", {"amount": "25.00"})
    dispute = sim.sim("POST", "/payments/disputes", {"order_id": ORDER_BASE + 3, "amount": "30.00"})
    sim.sim("POST", "/payments/balance_transactions", {"type": "MARKETS_PRO_CREDIT", "amount": "4.10"})
    return {"gift_card": ORDER_BASE + 9, "captured": ORDER_BASE + 10, "dispute": dispute["id"]}


def test_payouts_page_across_pages_and_resume_from_a_stored_cursor(sim: Sim):
    seed_store(sim)
    made = sim.sim("POST", "/payments/payouts")["payouts"]
    assert len(made) >= 3  # the three order days, and today's reserve, dispute and rare row
    read = list(iter_payouts(sim.client, page_size=2))
    assert [p.id for p, _ in read] == sorted(p["id"] for p in made)
    assert all(p.status == "PAID" for p, _ in read)
    # Resume after the second: only the later ones.
    cursor = read[1][1]
    assert [p.id for p, _ in iter_payouts(sim.client, cursor, page_size=2)] == [p.id for p, _ in read[2:]]
    # A later payout run: from the last stored cursor, only the new payout is read.
    order_new = order(11, "15.00", (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat())
    sim.sim("POST", "/orders", order_new)
    newer = sim.sim("POST", "/payments/payouts")["payouts"]
    assert [p.id for p, _ in iter_payouts(sim.client, read[-1][1])] == [newer[0]["id"]]
    assert Decimal(newer[0]["net"]) == Decimal("15.00") - fee_of(Decimal("15.00"))


def test_a_payouts_transactions_exclude_its_transfer_and_add_up_to_its_net(sim: Sim):
    seed_store(sim)
    sim.sim("POST", "/payments/payouts")
    payouts = [p for p, _ in iter_payouts(sim.client)]
    for payout in payouts:
        rows = payout_balance_transactions(sim.client, payout.id, page_size=2)
        assert len(rows.transfers) == 1 and rows.transfers[0].amount == -payout.net
        assert all(r.type != "TRANSFER" for r in rows.transactions)
        assert rows.net == payout.net == sum((r.amount - r.fee for r in rows.transactions), Decimal(0))
        assert all(r.payout_id == payout.id and r.payout_status == "PAID" for r in rows.transactions)
        categories = ("adjustments", "advance", "charges", "refunds", "reservedFunds", "retriedPayouts")
        gross = {c: payout.summary[f"{c}Gross" if c != "refunds" else "refundsFeeGross"] for c in categories}
        fees = {c: payout.summary[f"{c}Fee" if c != "advance" else "advanceFees"] for c in categories}
        assert sum(gross.values(), Decimal(0)) - sum(fees.values(), Decimal(0)) == payout.net
    types = {r.type for p in payouts for r in payout_balance_transactions(sim.client, p.id).transactions}
    assert {"CHARGE", "REFUND", "RESERVED_FUNDS", "DISPUTE_WITHDRAWAL", "CHARGEBACK_FEE", "MARKETS_PRO_CREDIT"} <= types


def test_charges_and_refunds_match_the_orders_transactions_to_the_cent(sim: Sim):
    ids = seed_store(sim)
    sim.sim("POST", "/payments/payouts")
    rows = [r for p, _ in iter_payouts(sim.client) for r in payout_balance_transactions(sim.client, p.id).transactions]
    charges = [r for r in rows if r.type in ("CHARGE", "REFUND")]
    assert len([r for r in charges if r.type == "CHARGE"]) == 9  # 8 card orders and the partial capture
    assert len([r for r in charges if r.type == "REFUND"]) == 2
    assert ids["gift_card"] not in {r.order_id for r in charges}  # a gift card never reaches a payout
    for row in charges:
        txs = {t.id: t for t in order_transactions(sim.client, row.order_id) or []}
        tx = txs[row.source_order_transaction_id]
        assert tx.status == "SUCCESS" and tx.gateway == "shopify_payments"
        if row.type == "CHARGE":
            assert tx.kind in ("SALE", "CAPTURE")
            assert row.amount == tx.amount and row.fee == fee_of(tx.amount) and row.net == tx.amount - row.fee
        else:
            assert tx.kind == "REFUND" and row.amount == -tx.amount and row.fee == 0
            assert txs[tx.parent_id].kind == "SALE"
    capture = next(r for r in charges if r.order_id == ids["captured"])
    assert capture.amount == Decimal("40.00") and capture.fee == Decimal("1.46")


def test_captures_voids_and_expired_authorizations(sim: Sim):
    sim.sim("POST", "/orders", [order(n, "100.00", DAYS[0], financial_status="authorized") for n in (21, 22, 23)])
    first, second, third = ORDER_BASE + 21, ORDER_BASE + 22, ORDER_BASE + 23
    sim.sim("POST", f"/orders/{first}/transactions", {"kind": "capture", "amount": "30.00"})
    sim.sim("POST", f"/orders/{first}/transactions", {"kind": "capture", "amount": "50.00"})
    refused = sim.sim("POST", f"/orders/{first}/transactions", {"kind": "capture", "amount": "20.01"}, status=422)
    assert "at most 20.00" in refused["error"]
    txs = order_transactions(sim.client, first) or []
    auth = next(t for t in txs if t.kind == "AUTHORIZATION")
    assert [(t.kind, t.amount, t.parent_id) for t in txs if t.kind == "CAPTURE"] == [
        ("CAPTURE", Decimal("30.00"), auth.id),
        ("CAPTURE", Decimal("50.00"), auth.id),
    ]
    assert sim.sim("GET", f"/orders/{first}")["financial_status"] == "partially_paid"
    sim.sim("POST", f"/orders/{second}/transactions", {"kind": "void"})
    assert [t.kind for t in order_transactions(sim.client, second) or []] == ["AUTHORIZATION", "VOID"]
    assert sim.sim("GET", f"/orders/{second}")["financial_status"] == "voided"
    expired = sim.sim("POST", f"/orders/{third}/transactions/expire")["expired"]
    assert len(expired) == 1
    assert sim.sim("GET", f"/orders/{third}")["financial_status"] == "expired"
    sim.sim("POST", f"/orders/{third}/transactions", {"kind": "capture"}, status=422)
    [only] = order_transactions(sim.client, third) or []
    assert only.authorization_expires_at is not None and only.authorization_expires_at < dt.datetime.now(dt.UTC)
    assert order_transactions(sim.client, ORDER_BASE + 99) is None


def test_a_payout_that_fails_after_paid_shows_it_and_its_money_returns_in_the_next(sim: Sim):
    sim.sim("POST", "/orders", [order(31, "50.00", DAYS[0])])
    [made] = sim.sim("POST", "/payments/payouts")["payouts"]
    failed = sim.sim("POST", f"/payments/payouts/{made['id']}/status", {"status": "FAILED"})
    assert failed["status"] == "FAILED"
    [(payout, _)] = list(iter_payouts(sim.client, query=payouts_search_query(status="FAILED")))
    assert payout.id == made["id"] and payout.status == "FAILED"
    rows = payout_balance_transactions(sim.client, payout.id)
    assert {r.payout_status for r in rows.transactions} == {"FAILED"}
    [again] = sim.sim("POST", "/payments/payouts")["payouts"]
    retried = payout_balance_transactions(sim.client, again["id"]).transactions
    assert [(r.type, r.amount) for r in retried] == [("TRANSFER_FAILURE", payout.net)]
    assert Decimal(again["net"]) == payout.net
    sim.sim("POST", f"/payments/payouts/{made['id']}/status", {"status": "PAID"}, status=422)


def test_disputes_are_read_with_their_order_and_status_changes(sim: Sim):
    ids = seed_store(sim)
    [(dispute, cursor)] = list(iter_disputes(sim.client))
    assert (dispute.id, dispute.status, dispute.type, dispute.reason) == (
        ids["dispute"],
        "NEEDS_RESPONSE",
        "CHARGEBACK",
        "FRAUDULENT",
    )
    assert dispute.amount == Decimal("30.00") and dispute.order_id == ORDER_BASE + 3
    assert list(iter_disputes(sim.client, cursor)) == []
    sim.sim("POST", f"/payments/disputes/{dispute.id}", {"status": "WON"})
    [(won, _)] = list(iter_disputes(sim.client, query="status:won"))
    assert won.finalized_on is not None
    sim.sim("POST", "/payments/payouts")
    reversal = [
        r
        for p, _ in iter_payouts(sim.client)
        for r in payout_balance_transactions(sim.client, p.id).transactions
        if r.type == "DISPUTE_REVERSAL"
    ]
    assert [(r.amount, r.source_id) for r in reversal] == [(Decimal("30.00"), dispute.id)]


def test_rare_transaction_types_outside_the_schemas_enum_are_refused(sim: Sim):
    refused = sim.sim("POST", "/payments/balance_transactions", {"type": "NOT_A_TYPE", "amount": "1.00"}, status=400)
    assert "NOT_A_TYPE" in refused["error"]


def test_each_document_is_priced_as_the_simulator_prices_it(sim: Sim):
    seed_store(sim)
    sim.sim("POST", "/payments/payouts")
    assert sim.requested_cost(PAYOUTS_QUERY, {"first": 7}) == payouts_page_cost(7)
    assert sim.requested_cost(BALANCE_TRANSACTIONS_QUERY, {"first": 9, "query": "payments_transfer_id:1"}) == (
        balance_transactions_page_cost(9)
    )
    assert sim.requested_cost(DISPUTES_QUERY, {"first": 4}) == disputes_page_cost(4)
    variables = {"id": f"gid://shopify/Order/{ORDER_BASE + 1}", "first": 12}
    assert sim.requested_cost(ORDER_TRANSACTIONS_QUERY, variables) == order_transactions_cost(12)


# --- webhooks ---------------------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    lock = threading.Lock()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with lock:
            received.append((dict(request.headers), request.get_data()))
        return Response("ok")(environ, start_response)

    server = wsgi.start_in_thread(app, "127.0.0.1", 0, name="payments-webhook-receiver")
    yield f"http://127.0.0.1:{server.port}/webhooks", received
    server.shutdown()


def test_payment_webhooks_are_signed_and_load_with_the_topic_schemas(sim: Sim, receiver):
    url, received = receiver
    ids = seed_store(sim)
    capture = next(t for t in order_transactions(sim.client, ids["captured"]) or [] if t.kind == "CAPTURE")
    sim.sim("POST", f"/payments/disputes/{ids['dispute']}", {"status": "UNDER_REVIEW"})
    for topic, resource in (
        ("orders/paid", ORDER_BASE + 1),
        ("order_transactions/create", capture.id),
        ("disputes/create", ids["dispute"]),
        ("disputes/update", ids["dispute"]),
    ):
        sent = sim.sim(
            "POST", "/webhooks/deliver", {"url": url, "topic": topic, "secret": SECRET, "resource_id": resource}
        )
        assert sent["status"] == 200
    loaded = {}
    for headers, body in received:
        assert verify(body, headers["X-Shopify-Hmac-Sha256"], [SECRET])
        assert not verify(body, headers["X-Shopify-Hmac-Sha256"], ["another-secret"])
        topic = headers["X-Shopify-Topic"]
        loaded[topic] = PAYLOAD_SCHEMAS[topic]().loads(body)
    assert loaded["orders/paid"]["id"] == ORDER_BASE + 1
    transaction = loaded["order_transactions/create"]
    assert (transaction["id"], transaction["kind"], transaction["amount"]) == (capture.id, "capture", Decimal("40.00"))
    assert transaction["order_id"] == ids["captured"]
    assert loaded["disputes/update"]["status"] == "under_review"
    assert loaded["disputes/create"]["amount"] == Decimal("30.00")
    sim.sim("POST", "/webhooks/deliver", {"url": url, "topic": "orders/paid", "secret": SECRET}, status=400)


def test_the_payments_account_needs_its_access_scope(sim: Sim):
    sim.sim("POST", "/config", {"access_scopes": ["read_orders"]})
    try:
        with pytest.raises(ShopifyAuthError):
            list(iter_payouts(sim.client))
    finally:
        sim.sim("POST", "/config", {"access_scopes": list(DEFAULT_ACCESS_SCOPES)})
    assert list(iter_payouts(sim.client)) == []


def test_transactions_follow_a_status_set_on_the_order_and_later_refunds_reach_the_next_payout(sim: Sim):
    pending, authorized, cancelled = (order(n, "80.00", DAYS[2], financial_status=s) for n, s in (
        (41, "pending"), (42, "authorized"), (43, "authorized")))  # fmt: skip
    sim.sim("POST", "/orders", [pending, authorized, cancelled])
    assert order_transactions(sim.client, ORDER_BASE + 41) == []
    assert [t.kind for t in order_transactions(sim.client, ORDER_BASE + 42) or []] == ["AUTHORIZATION"]
    sim.sim("POST", "/orders", [{**pending, "financial_status": "paid"}, {**authorized, "financial_status": "paid"}])
    sim.sim("POST", f"/orders/{ORDER_BASE + 43}/cancel", {})
    assert [t.kind for t in order_transactions(sim.client, ORDER_BASE + 41) or []] == ["SALE"]
    captured = order_transactions(sim.client, ORDER_BASE + 42) or []
    assert [(t.kind, t.amount) for t in captured] == [
        ("AUTHORIZATION", Decimal("80.00")),
        ("CAPTURE", Decimal("80.00")),
    ]
    assert captured[1].parent_id == captured[0].id
    assert [t.kind for t in order_transactions(sim.client, ORDER_BASE + 43) or []] == ["AUTHORIZATION", "VOID"]
    [first] = sim.sim("POST", "/payments/payouts")["payouts"]
    assert [r["type"] for r in first["balance_transactions"]] == ["CHARGE", "CHARGE", "TRANSFER"]
    # A refund right after the run (the same second, even) is charged back in the next one.
    line_id = pending["line_items"][0]["id"]
    sim.sim("POST", f"/orders/{ORDER_BASE + 41}/refunds", {"refund_line_items": [{"line_item_id": line_id}]})
    [second] = sim.sim("POST", "/payments/payouts")["payouts"]
    assert [(r["type"], r["amount"]) for r in second["balance_transactions"]] == [
        ("REFUND", "-80.00"),
        ("TRANSFER", "80.00"),
    ]


def test_a_split_tender_order_pays_out_only_its_card_part(sim: Sim):
    tenders = [
        {"kind": "sale", "gateway": "gift_card", "amount": "20.00"},
        {"kind": "sale", "gateway": "shopify_payments", "amount": "49.99"},
    ]
    sim.sim("POST", "/orders", {**order(51, "69.99", DAYS[1]), "transactions": tenders})
    txs = order_transactions(sim.client, ORDER_BASE + 51) or []
    assert [(t.gateway, t.amount) for t in txs] == [
        ("gift_card", Decimal("20.00")),
        ("shopify_payments", Decimal("49.99")),
    ]
    [payout] = sim.sim("POST", "/payments/payouts")["payouts"]
    [charge] = payout_balance_transactions(sim.client, payout["id"]).transactions
    assert (charge.amount, charge.fee, charge.source_order_transaction_id) == (
        Decimal("49.99"),
        Decimal("1.75"),
        txs[1].id,
    )


def balance_page(sim: Sim, arguments: str) -> dict[str, Any]:
    query = f"""{{ shopifyPaymentsAccount {{ balanceTransactions({arguments}) {{
        edges {{ cursor node {{ type net {{ amount }} associatedPayout {{ status }} }} }}
        pageInfo {{ hasNextPage hasPreviousPage }} }} }} }}"""
    response = requests.post(
        graphql_url(sim.base), json={"query": query}, headers={"X-Shopify-Access-Token": TOKEN}, timeout=10
    ).json()
    assert "errors" not in response, response
    return response["data"]["shopifyPaymentsAccount"]["balanceTransactions"]


def test_the_simulators_balance_transactions_page_both_ways_and_hide_transfers_when_asked(sim: Sim):
    sim.sim("POST", "/orders", [order(n, "10.00", DAYS[0]) for n in range(61, 66)])
    [payout] = sim.sim("POST", "/payments/payouts")["payouts"]
    sim.sim("POST", "/payments/reserve", {"amount": "5.00"})  # pending: not in the payout
    scoped = f'query: "payments_transfer_id:{payout["id"]}", sortKey: ID'
    everything = balance_page(sim, f"first: 50, {scoped}")
    assert [e["node"]["type"] for e in everything["edges"]] == ["CHARGE"] * 5 + ["TRANSFER"]
    hidden = balance_page(sim, f"first: 50, {scoped}, hideTransfers: true")
    assert [e["node"]["type"] for e in hidden["edges"]] == ["CHARGE"] * 5
    last_cursor = everything["edges"][-1]["cursor"]
    backwards = balance_page(sim, f'last: 2, before: "{last_cursor}", {scoped}')
    assert [e["cursor"] for e in backwards["edges"]] == [e["cursor"] for e in everything["edges"][3:5]]
    assert backwards["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": True}
    newest = balance_page(sim, "first: 1, reverse: true, sortKey: ID")
    assert newest["edges"][0]["node"] == {
        "type": "RESERVED_FUNDS",
        "net": {"amount": "-5.00"},
        "associatedPayout": {"status": "PENDING"},
    }
    pending = balance_page(sim, 'first: 10, query: "payout_status:pending"')
    assert [e["node"]["type"] for e in pending["edges"]] == ["RESERVED_FUNDS"]


@pytest.mark.parametrize("topic", ["orders/paid", "order_transactions/create", "disputes/create", "disputes/update"])
def test_the_payment_topics_can_be_subscribed_to(sim: Sim, topic: str):
    made = create_subscription(sim.client, topic, "https://sync.example.com/webhooks/shopify")
    assert made.topic == topic
    assert [s.topic for s in list_subscriptions(sim.client)] == [topic]
