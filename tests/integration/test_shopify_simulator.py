"""The Shopify Admin GraphQL simulator over real HTTP on loopback: data translation, paging, throttle, control
API and the webhook sender."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from simulators.shared import shared_dir
from simulators.shopify.cost import requested_cost
from simulators.shopify.graphql_api import load_schema
from simulators.shopify.search import parse_search
from simulators.shopify.server import SimulatorConfig, graphql_url, start_in_thread
from simulators.shopify.store import OrderEntry
from simulators.shopify.webhooks import deliver_webhook, payload_bytes, sign

FIXTURES = shared_dir() / "fixtures" / "shopify"
TOKEN = "shpat_sim_token"
ORDER_GID = "gid://shopify/Order/450789469"
INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}

ORDER_QUERY = """
query Order($id: ID!) {
  order(id: $id) {
    id legacyResourceId name updatedAt displayFinancialStatus displayFulfillmentStatus cancelledAt cancelReason
    totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
    customer { id legacyResourceId email }
    lineItems(first: 10) { nodes { id sku quantity currentQuantity } }
    fulfillments(first: 5) {
      id status location { id }
      fulfillmentLineItems(first: 10) { nodes { quantity lineItem { id sku } } }
    }
    refunds(first: 5) {
      id note
      totalRefundedSet { shopMoney { amount } }
      refundLineItems(first: 10) { nodes { quantity restockType restocked location { id } lineItem { sku } } }
      transactions(first: 5) { nodes { kind status amountSet { shopMoney { amount } } } }
    }
  }
}
"""

PAGE_QUERY = """
query Page($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node { legacyResourceId updatedAt } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def order_variant(order_id: int, updated_at: str, created_at: str = "2026-10-01T00:00:00-04:00") -> dict[str, Any]:
    order = load("orders_create.json")
    order.update(id=order_id, name=f"#{order_id}", updated_at=updated_at, created_at=created_at)
    return order


class Sim:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.url = graphql_url(base_url)
        self.http = requests.Session()

    def gql(self, query: str, variables: dict[str, Any] | None = None, token: str = TOKEN, url: str | None = None):
        response = self.http.post(
            url or self.url,
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token},
            timeout=10,
        )
        return response

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.gql(query, variables).json()
        assert "errors" not in body, body
        assert "cost" in body["extensions"]
        return body["data"]

    def sim(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.base_url}/_sim{path}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv, base_url = start_in_thread(SimulatorConfig())
    yield base_url
    srv.shutdown()


@pytest.fixture
def sim(server: str) -> Sim:
    client = Sim(server)
    client.sim("POST", "/reset")
    client.sim("POST", "/orders", load("orders_create.json"))
    return client


def test_order_by_id_translates_the_rest_payload(sim: Sim) -> None:
    response = sim.gql(ORDER_QUERY, {"id": ORDER_GID})
    assert response.status_code == 200
    body = response.json()
    order = body["data"]["order"]
    assert order["id"] == ORDER_GID
    assert order["legacyResourceId"] == "450789469"
    assert order["name"] == "#1001"
    assert order["updatedAt"] == "2008-01-10T16:00:00Z"
    assert [li["sku"] for li in order["lineItems"]["nodes"]] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert order["lineItems"]["nodes"][0]["id"] == "gid://shopify/LineItem/466157049"
    assert order["totalPriceSet"]["shopMoney"] == {"amount": "409.94", "currencyCode": "USD"}
    assert order["customer"]["legacyResourceId"] == "207119551"
    assert order["customer"]["id"] == "gid://shopify/Customer/207119551"
    assert order["displayFinancialStatus"] == "AUTHORIZED"
    assert order["displayFulfillmentStatus"] == "UNFULFILLED"
    # The fixture's failed fulfillment is shown but ships nothing.
    assert order["fulfillments"][0]["status"] == "FAILURE"
    cost = body["extensions"]["cost"]
    assert 0 < cost["actualQueryCost"] <= cost["requestedQueryCost"]
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}


def test_unknown_order_is_null(sim: Sim) -> None:
    body = sim.gql(ORDER_QUERY, {"id": "gid://shopify/Order/1"}).json()
    assert body["data"] == {"order": None}
    assert "errors" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] > 0


def test_bad_or_missing_token_is_401(sim: Sim) -> None:
    response = sim.gql(ORDER_QUERY, {"id": ORDER_GID}, token="shpat_wrong")
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN
    missing = sim.http.post(sim.url, json={"query": "{ shop { name } }"}, timeout=10)
    assert missing.status_code == 401
    assert sim.sim("GET", "/stats")["auth_failures"] == 2


def test_orders_page_through_an_updated_at_window_once_in_order(sim: Sim) -> None:
    stamps = ["2026-11-03T10:00:00Z", "2026-11-01T09:00:00-05:00", "2026-11-05T00:00:00Z", "2026-11-02T00:00:00Z"]
    orders = [order_variant(100 + i, stamp) for i, stamp in enumerate(stamps)]
    orders.append(order_variant(200, "2026-11-01T00:00:00Z"))  # exactly on the bound: >= keeps it
    orders.append(order_variant(300, "2026-10-31T23:59:59Z"))  # before the window
    sim.sim("POST", "/orders", orders)
    query = "updated_at:>='2026-11-01T00:00:00Z'"
    seen: list[tuple[str, str]] = []
    pages = 0
    after = None
    while True:
        connection = sim.data(PAGE_QUERY, {"first": 2, "after": after, "query": query})["orders"]
        pages += 1
        edges = connection["edges"]
        assert len(edges) <= 2
        for edge in edges:
            seen.append((edge["node"]["legacyResourceId"], edge["node"]["updatedAt"]))
            assert json.loads(base64.b64decode(edge["cursor"]))  # opaque, but base64 like Shopify's
        assert connection["pageInfo"]["hasPreviousPage"] == (pages > 1)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert pages == 3
    assert [s[0] for s in seen] == ["200", "101", "103", "100", "102"]
    assert [s[1] for s in seen] == sorted(s[1] for s in seen)

    backwards = sim.data(
        "query($before: String) { orders(last: 2, before: $before, sortKey: UPDATED_AT, query: "
        "\"updated_at:>='2026-11-01T00:00:00Z'\") { nodes { legacyResourceId } pageInfo { hasPreviousPage } } }",
        {"before": after},
    )["orders"]
    assert [n["legacyResourceId"] for n in backwards["nodes"]] == ["101", "103"]
    assert backwards["pageInfo"]["hasPreviousPage"] is True


def test_search_by_id_and_created_at_with_and(sim: Sim) -> None:
    sim.sim(
        "POST",
        "/orders",
        [
            order_variant(11, "2026-11-02T00:00:00Z", created_at="2026-11-01T12:00:00Z"),
            order_variant(12, "2026-11-02T00:00:00Z", created_at="2026-10-30T12:00:00Z"),
            order_variant(13, "2026-11-02T00:00:00Z", created_at="2026-11-03T12:00:00Z"),
        ],
    )
    query = (
        "{ orders(first: 10, query: \"created_at:>'2026-10-31T00:00:00Z' AND id:<13\") { nodes { legacyResourceId } } }"
    )
    assert [n["legacyResourceId"] for n in sim.data(query)["orders"]["nodes"]] == ["11"]
    newest_first = sim.data("{ orders(first: 2, sortKey: CREATED_AT, reverse: true) { nodes { legacyResourceId } } }")
    assert [n["legacyResourceId"] for n in newest_first["orders"]["nodes"]] == ["13", "11"]
    by_id = sim.data('{ orders(first: 5, query: "id:450789469") { nodes { name } } }')
    assert by_id["orders"]["nodes"] == [{"name": "#1001"}]


def test_page_size_over_250_is_a_graphql_error(sim: Sim) -> None:
    response = sim.gql("{ orders(first: 300) { nodes { id } } }")
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["path"] == ["orders"]
    assert "250" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"]
    assert "cost" in body["extensions"]


def test_syntax_and_validation_errors_are_200_with_errors(sim: Sim) -> None:
    for query in ("{ order(id: ", '{ order(id: "gid://shopify/Order/1") { nope } }'):
        response = sim.gql(query)
        assert response.status_code == 200
        error = response.json()["errors"][0]
        assert error["message"] and error["locations"] and error["extensions"]["code"]


def test_nested_line_items_page(sim: Sim) -> None:
    query = """query($after: String) { order(id: "gid://shopify/Order/450789469") {
        lineItems(first: 2, after: $after) { nodes { sku } pageInfo { hasNextPage endCursor } } } }"""
    first = sim.data(query)["order"]["lineItems"]
    assert [n["sku"] for n in first["nodes"]] == ["IPOD2008GREEN", "IPOD2008RED"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = sim.data(query, {"after": first["pageInfo"]["endCursor"]})["order"]["lineItems"]
    assert [n["sku"] for n in rest["nodes"]] == ["IPOD2008BLACK"]
    assert rest["pageInfo"]["hasNextPage"] is False


def test_fulfillment_refund_and_cancel_through_the_control_api(sim: Sim) -> None:
    fulfillment = sim.sim(
        "POST",
        "/orders/450789469/fulfillments",
        {"location_id": 487838322, "tracking_number": "1Z999", "line_items": [{"id": 518995019, "quantity": 1}]},
    )["fulfillment"]
    assert fulfillment["line_items"][0]["sku"] == "IPOD2008RED"

    refund = load("refunds_create.json")
    refund["refund_line_items"][0].update(restock_type="return", location_id=487838322)
    sim.sim("POST", "/orders/450789469/refunds", refund)

    order = sim.data(ORDER_QUERY, {"id": ORDER_GID})["order"]
    assert order["updatedAt"] > "2026-01-01T00:00:00Z"  # bumped to now
    assert order["displayFulfillmentStatus"] == "FULFILLED"  # RED shipped, GREEN and BLACK refunded
    assert order["displayFinancialStatus"] == "PARTIALLY_REFUNDED"  # 209.00 of 409.94
    quantities = {li["sku"]: li["currentQuantity"] for li in order["lineItems"]["nodes"]}
    assert quantities == {"IPOD2008GREEN": 0, "IPOD2008RED": 1, "IPOD2008BLACK": 0}
    shipped = order["fulfillments"][-1]
    assert shipped["status"] == "SUCCESS"
    assert shipped["location"] == {"id": "gid://shopify/Location/487838322"}
    assert shipped["fulfillmentLineItems"]["nodes"] == [
        {"quantity": 1, "lineItem": {"id": "gid://shopify/LineItem/518995019", "sku": "IPOD2008RED"}}
    ]
    (refunded,) = order["refunds"]
    assert refunded["id"] == "gid://shopify/Refund/509562969"
    assert refunded["note"] == "it broke during shipping"
    assert refunded["totalRefundedSet"]["shopMoney"]["amount"] == "209.00"
    lines = refunded["refundLineItems"]["nodes"]
    assert lines[0] == {
        "quantity": 1,
        "restockType": "RETURN",
        "restocked": True,
        "location": {"id": "gid://shopify/Location/487838322"},
        "lineItem": {"sku": "IPOD2008BLACK"},
    }
    # No restock_type in the old payload: the refund-wide `restock: true` reads as LEGACY_RESTOCK.
    assert lines[1]["restockType"] == "LEGACY_RESTOCK"
    assert refunded["transactions"]["nodes"] == [
        {"kind": "REFUND", "status": "SUCCESS", "amountSet": {"shopMoney": {"amount": "209.00"}}}
    ]

    rest = sim.sim("GET", "/orders/450789469")
    assert rest["financial_status"] == "partially_refunded"
    assert rest["fulfillment_status"] == "fulfilled"
    assert len(rest["refunds"]) == 1 and len(rest["fulfillments"]) == 2

    sim.sim("POST", "/orders/450789469/cancel", {"reason": "customer"})
    cancelled = sim.data(ORDER_QUERY, {"id": ORDER_GID})["order"]
    assert cancelled["cancelReason"] == "CUSTOMER"
    assert cancelled["cancelledAt"] is not None
    assert [o["id"] for o in sim.sim("GET", "/orders")] == [450789469]


def test_refund_without_transactions_refunds_price_and_tax(sim: Sim) -> None:
    sim.sim("POST", "/orders/450789469/refunds", {"refund_line_items": [{"line_item_id": 466157049, "quantity": 1}]})
    order = sim.sim("GET", "/orders/450789469")
    (transaction,) = order["refunds"][0]["transactions"]
    assert transaction["amount"] == "199.00"  # the fixture line carries no tax lines of its own
    assert order["financial_status"] == "partially_refunded"
    refund = order["refunds"][0]
    sim.sim(
        "POST",
        "/orders/450789469/refunds",
        {"transactions": [{"amount": "210.94", "kind": "refund", "status": "success"}], "refund_line_items": []},
    )
    assert sim.sim("GET", "/orders/450789469")["financial_status"] == "refunded"
    assert refund["refund_line_items"][0]["line_item"]["sku"] == "IPOD2008GREEN"


def test_throttle_by_query_cost_then_recovery() -> None:
    srv, base_url = start_in_thread(SimulatorConfig(bucket_size=50, restore_rate=10))
    try:
        sim = Sim(base_url)
        sim.sim("POST", "/orders", [order_variant(1000 + i, "2026-11-01T00:00:00Z") for i in range(30)])
        query = "{ orders(first: 28) { nodes { id } } }"  # 2 + 28 x 1 = 30 points, and 28 orders come back
        first = sim.gql(query).json()
        assert first["extensions"]["cost"]["requestedQueryCost"] == 30
        assert first["extensions"]["cost"]["actualQueryCost"] == 30
        assert len(first["data"]["orders"]["nodes"]) == 28

        second = sim.gql(query)
        assert second.status_code == 200
        body = second.json()
        assert "data" not in body
        assert body["errors"][0]["message"] == "Throttled"
        assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
        cost = body["extensions"]["cost"]
        assert cost["requestedQueryCost"] == 30
        status = cost["throttleStatus"]
        assert status["maximumAvailable"] == 50.0 and status["restoreRate"] == 10.0
        assert status["currentlyAvailable"] < 30

        time.sleep((30 - status["currentlyAvailable"]) / 10 + 0.15)
        third = sim.gql(query).json()
        assert "errors" not in third, third
        assert len(third["data"]["orders"]["nodes"]) == 28

        too_big = sim.gql("{ orders(first: 60) { nodes { id } } }").json()
        assert too_big["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
        stats = sim.sim("GET", "/stats")
        assert stats["throttled"] == 1
        assert stats["points_spent"] == 60
        assert stats["queries_by_root_field"] == {"orders": 4}
    finally:
        srv.shutdown()


def test_faults_status_throttle_and_drop(sim: Sim) -> None:
    query = "{ shop { name } }"
    sim.sim("POST", "/faults", {"status": 503, "count": 1})
    assert sim.gql(query).status_code == 503
    assert sim.gql(query).status_code == 200
    sim.sim("POST", "/faults", {"throttle_next": 1})
    assert sim.gql(query).json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    sim.sim("POST", "/faults", {"mode": "drop", "count": 1})
    with pytest.raises(requests.ConnectionError):
        requests.post(sim.url, json={"query": query}, headers={"X-Shopify-Access-Token": TOKEN}, timeout=5)
    sim.sim("POST", "/faults", {"status": 500, "count": 3})
    assert sim.sim("DELETE", "/faults") == {"faults": []}
    assert sim.data(query) == {"shop": {"name": "Demo Store"}}


def test_stats_count_versions_root_fields_and_config(sim: Sim) -> None:
    sim.data('{ order(id: "gid://shopify/Order/1") { id } }')
    sim.gql("{ orders(first: 1) { nodes { id } } }", url=graphql_url(sim.base_url, "2025-10"))
    stats = sim.sim("GET", "/stats")
    assert stats["requests_total"] == 2
    assert stats["api_versions"] == {"2026-04": 1, "2025-10": 1}
    assert stats["queries_by_root_field"] == {"order": 1, "orders": 1}
    assert stats["bucket"]["maximumAvailable"] == 1000.0
    config = sim.sim("POST", "/config", {"access_token": "shpat_other"})
    try:
        assert config["access_token"] == "shpat_other"
        assert sim.gql("{ shop { name } }").status_code == 401
        assert sim.gql("{ shop { name } }", token="shpat_other").status_code == 200
    finally:
        sim.sim("POST", "/config", {"access_token": TOKEN})


def test_requested_cost_follows_the_connection_rule() -> None:
    from graphql import get_operation_ast, parse

    schema = load_schema()
    document = parse(
        "query($n: Int) { orders(first: $n) { edges { node { id customer { id } "
        "lineItems(first: 5) { nodes { sku } } } } pageInfo { hasNextPage } } }"
    )
    operation = get_operation_ast(document)
    # 2 + 10 x (node 1 + customer 1 + lineItems (2 + 5 x 1))
    assert requested_cost(schema, document, operation, {"n": 10}).requested == 2 + 10 * (1 + 1 + 7)


def test_search_syntax() -> None:
    def entry(order_id: int, updated: str, **fields: Any) -> OrderEntry:
        return OrderEntry.of({"id": order_id, "created_at": updated, "updated_at": updated, **fields})

    entries = [
        entry(1, "2026-11-01T00:00:00Z", name="#1001", financial_status="paid"),
        entry(2, "2026-11-02T00:00:00+02:00", name="#1002", financial_status="refunded"),
        entry(3, "2026-11-03T00:00:00Z", name="#1003", financial_status="paid", cancelled_at="2026-11-03T01:00:00Z"),
    ]

    def ids(text: str) -> list[int]:
        predicate = parse_search(text).predicate
        return [e.id for e in entries if predicate(e)]

    assert ids("updated_at:>'2026-11-01T00:00:00Z'") == [2, 3]
    assert ids('updated_at:<"2026-11-02"') == [1, 2]  # 2026-11-02T00:00+02:00 is 11-01 22:00 UTC
    assert ids("updated_at:2026-11-01") == [1, 2]
    assert ids("financial_status:paid -status:cancelled") == [1]
    assert ids("id:1 OR id:3") == [1, 3]
    assert ids("NOT (id:>=2 AND id:<=3)") == [1]
    assert ids("name:1002") == [2]
    assert parse_search("colour:red").warnings[0]["field"] == "colour"


class _Recorder(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Recorder", (_Recorder,), {"received": [], "status": 200})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/webhooks/shopify", handler
    httpd.shutdown()
    httpd.server_close()


def test_deliver_webhook_signs_the_exact_bytes(receiver: tuple[str, type[_Recorder]]) -> None:
    url, handler = receiver
    payload = load("orders_create.json")
    status, webhook_id = deliver_webhook(
        url, "orders/create", payload, secret="hush", shop="x.myshopify.com", event_id="evt-1"
    )
    assert status == 200
    ((headers, body),) = handler.received
    assert body == payload_bytes(payload)
    expected = base64.b64encode(hmac.new(b"hush", body, hashlib.sha256).digest()).decode()
    assert headers["X-Shopify-Hmac-Sha256"] == expected
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == "x.myshopify.com"
    assert headers["X-Shopify-API-Version"] == "2026-04"
    assert headers["X-Shopify-Webhook-Id"] == webhook_id and len(webhook_id) == 36
    assert headers["X-Shopify-Event-Id"] == "evt-1"
    assert headers["X-Shopify-Triggered-At"].endswith("Z")
    assert headers["Content-Type"] == "application/json"
    # API_FACTS' check vector.
    assert sign(payload_bytes({"id": 1}), "hush") == "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="


def test_deliver_through_the_control_api_reports_failures(sim: Sim, receiver: tuple[str, type[_Recorder]]) -> None:
    url, handler = receiver
    handler.status = 401
    payload = copy.deepcopy(load("refunds_create.json"))
    result = sim.sim(
        "POST",
        "/webhooks/deliver",
        {"url": url, "topic": "refunds/create", "payload": payload, "secret": "s", "webhook_id": "wh-1"},
    )
    assert result["status"] == 401 and result["webhook_id"] == "wh-1" and result["error"] == "HTTP 401"
    headers, body = handler.received[0]
    assert headers["X-Shopify-Shop-Domain"] == "demo-store.myshopify.com"
    assert headers["X-Shopify-Hmac-Sha256"] == sign(body, "s")
    status, _ = deliver_webhook("http://127.0.0.1:9/none", "orders/create", {}, secret="s", shop="x.myshopify.com")
    assert status is None
    assert sim.sim("GET", "/stats")["webhooks"] == {"sent": 1, "succeeded": 0, "failed": 1}


def test_module_help_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "simulators.shopify", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    assert "--bucket-size" in result.stdout and "--orders-file" in result.stdout


def test_a_refund_lowers_the_current_total_by_what_it_refunded_not_by_the_money(sim: Sim) -> None:
    """Shopify's current total is the order after returns: refunded line items (subtotal and tax) and refunded
    shipping are off it; money returned for nothing in particular (a discrepancy) does not move it."""
    query = (
        "query($id: ID!) { order(id: $id) { totalPriceSet { shopMoney { amount } } "
        "currentTotalPriceSet { shopMoney { amount } } } }"
    )
    before = sim.gql(query, {"id": ORDER_GID}).json()["data"]["order"]
    assert before["currentTotalPriceSet"]["shopMoney"]["amount"] == "409.94"  # posted without current_*: no edit
    goodwill = {"refund_line_items": [], "transactions": [{"kind": "refund", "status": "success", "amount": "5.00"}]}
    sim.sim("POST", "/orders/450789469/refunds", goodwill)
    after = sim.gql(query, {"id": ORDER_GID}).json()["data"]["order"]
    assert after["currentTotalPriceSet"]["shopMoney"]["amount"] == "409.94"
    refund = {
        "refund_line_items": [{"line_item_id": 466157049, "quantity": 1, "subtotal": "199.00", "total_tax": "11.94"}],
        "refund_shipping_lines": [{"subtotal_amount": "4.00", "tax_amount": "0.24"}],
    }
    sim.sim("POST", "/orders/450789469/refunds", refund)
    after = sim.gql(query, {"id": ORDER_GID}).json()["data"]["order"]
    # Shopify's total is before returns, its current total after them.
    assert after["totalPriceSet"]["shopMoney"]["amount"] == "409.94"
    assert after["currentTotalPriceSet"]["shopMoney"]["amount"] == "194.76"  # 409.94 - 199.00 - 11.94 - 4.24
