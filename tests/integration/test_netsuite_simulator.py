"""The NetSuite simulator over real HTTP on loopback, signed the way the project's client signs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from netsuite_client import NetSuiteClient, TokenAuth
from simulators.netsuite.server import (
    SimulatorConfig,
    TbaCredentials,
    check_tba,
    start_in_thread,
    tba_signature,
)

ACCOUNT = "1234567_SB1"
CONFIG = SimulatorConfig()
UNAUTHORIZED_BODY = {
    "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [
        {
            "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
            "Setup > Users/Roles > User Management > View Login Audit Trail.",
            "o:errorCode": "INVALID_LOGIN",
        }
    ],
}
CONCURRENCY_BODY = {
    "type": "https://www.rfc-editor.org/rfc/rfc6585.html#section-4",
    "title": "Too Many Requests",
    "status": 429,
    "o:errorDetails": [
        {
            "detail": "Concurrent request limit exceeded. Request blocked.",
            "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
        }
    ],
}


def oauth(**overrides: Any) -> OAuth1:
    params: dict[str, Any] = {
        "client_key": CONFIG.consumer_key,
        "client_secret": CONFIG.consumer_secret,
        "resource_owner_key": CONFIG.token_id,
        "resource_owner_secret": CONFIG.token_secret,
        "signature_method": "HMAC-SHA256",
        "realm": ACCOUNT,
    }
    params.update(overrides)
    return OAuth1(**params)


class Sim:
    def __init__(self, base: str) -> None:
        self.base = base
        self.root = base.removesuffix("/services/rest")
        self.http = requests.Session()
        self.http.auth = oauth()

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.root}/_sim/{path}", json=body, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def suiteql(self, query: str, **params: Any) -> requests.Response:
        return self.http.post(
            self.url("query/v1/suiteql"), params=params, json={"q": query}, headers={"Prefer": "transient"}
        )

    def sales_orders(self) -> list[dict[str, Any]]:
        return self.control("GET", "records/salesOrder")

    def item_ids(self, *itemids: str) -> list[str]:
        added = self.control("POST", "items", [{"itemid": i, "displayname": i.title()} for i in itemids])
        return [entry["id"] for entry in added]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd, base = start_in_thread(SimulatorConfig())
    yield base
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sim(server: str) -> Sim:
    sim = Sim(server)
    sim.control("POST", "reset", {"items": True})
    sim.control("POST", "config", {"latency_ms": 0, "latency_jitter_ms": 0, "concurrency_limit": 15})
    return sim


def fresh_sim(server: str, **config: Any) -> Sim:
    """The module's simulator reset (items included), without latency, with the customer `shopify-customer-1`."""
    sim = Sim(server)
    sim.control("POST", "reset", {"items": True})
    sim.control("POST", "config", {"latency_ms": 0, "latency_jitter_ms": 0, **config})
    make_customer(sim)
    return sim


def sim_client(sim: Sim, **options: Any) -> NetSuiteClient:
    """The project's client, signed with the simulator's TBA credentials."""
    auth = TokenAuth(
        account_id=ACCOUNT,
        consumer_key=CONFIG.consumer_key,
        consumer_secret=CONFIG.consumer_secret,
        token_id=CONFIG.token_id,
        token_secret=CONFIG.token_secret,
    )
    return NetSuiteClient(base_url=sim.base, auth=auth, **options)


def error_code(response: requests.Response) -> str:
    return response.json()["o:errorDetails"][0]["o:errorCode"]


def order_body(customer_eid: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"entity": {"externalId": customer_eid}, "tranDate": "2026-11-23", "item": {"items": lines}}


def make_customer(sim: Sim, eid: str = "shopify-customer-1") -> None:
    response = sim.http.put(sim.url(f"record/v1/customer/eid:{eid}"), json={"email": "a@example.com"})
    assert response.status_code == 204, response.text


def line_quantities(order: dict[str, Any]) -> list[tuple[int, Any]]:
    return [(line["line"], line["quantity"]) for line in order["item"]["items"]]


# Authentication


def test_oracle_check_vector_is_reproduced_and_verified() -> None:
    credentials = TbaCredentials(
        consumer_key="ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4",
        consumer_secret="d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5",
        token_id="2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc",
        token_secret="c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295",
    )
    url = "https://123456.suitetalk.api.netsuite.com/services/rest/record/v1/employee/40"
    oauth_params = {
        "oauth_consumer_key": credentials.consumer_key,
        "oauth_token": credentials.token_id,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": "1508242306",
        "oauth_nonce": "fjaLirsIcCGVZWzBX0pg",
        "oauth_version": "1.0",
    }
    published = "B5OIWznZ2YP0OB7VrJrGkYsTh+8H+5T9Hag+o92q0zY="
    computed = tba_signature("GET", url, oauth_params.items(), credentials.consumer_secret, credentials.token_secret)
    assert computed == published

    def header(signature: str) -> str:
        encoded = signature.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
        fields = [f'{k}="{v}"' for k, v in oauth_params.items()]
        return f'OAuth realm="123456", {", ".join(fields)}, oauth_signature="{encoded}"'

    verify = {"method": "GET", "url": url, "credentials": credentials, "realm": "123456", "now": 1508242306}
    assert check_tba(authorization=header(published), **verify) is None
    assert check_tba(authorization=header(published[:-2] + "A="), **verify) == "signature mismatch"
    stale = {**verify, "now": 1508242306 + 301}
    assert check_tba(authorization=header(published), **stale) is not None


def test_signed_request_is_accepted(sim: Sim) -> None:
    response = sim.http.get(sim.url("record/v1/customer/999"))
    assert response.status_code == 404
    assert error_code(response) == "NONEXISTENT_ID"


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param(oauth(client_secret="wrong-secret"), id="bad-signature"),
        pytest.param(oauth(realm="1234567-sb1"), id="wrong-realm"),
        pytest.param(oauth(signature_method="HMAC-SHA1"), id="hmac-sha1"),
        pytest.param(oauth(resource_owner_key="other-token"), id="unknown-token"),
        pytest.param(None, id="no-header"),
    ],
)
def test_bad_credentials_get_netsuites_401(sim: Sim, auth: OAuth1 | None) -> None:
    response = requests.get(sim.url("record/v1/customer/1"), auth=auth, timeout=5)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED_BODY
    assert response.headers["WWW-Authenticate"] == (
        f'OAuth realm="{ACCOUNT}", error="token_rejected", error_description="Invalid login attempt."'
    )
    assert sim.control("GET", "stats")["rejections"]["auth"] == 1


def test_replayed_nonce_is_rejected(sim: Sim) -> None:
    prepared = requests.Request("GET", sim.url("record/v1/customer/1"), auth=oauth()).prepare()
    with requests.Session() as session:
        assert session.send(prepared, timeout=5).status_code == 404
        assert session.send(prepared, timeout=5).status_code == 401


def test_query_parameters_are_signed(sim: Sim) -> None:
    make_customer(sim)
    response = sim.http.get(sim.url("record/v1/customer/eid:shopify-customer-1"), params={"fields": "email,x"})
    assert response.status_code == 200
    assert response.json()["email"] == "a@example.com"


# Records and sublists


def test_create_returns_location_and_external_ids_are_unique(sim: Sim) -> None:
    response = sim.http.post(sim.url("record/v1/customer"), json={"externalId": "c-1", "email": "x@y.z"})
    assert response.status_code == 204
    location = response.headers["Location"]
    assert location.startswith(sim.url("record/v1/customer/"))
    internal_id = location.rsplit("/", 1)[1]
    record = sim.http.get(location).json()
    assert record["id"] == internal_id
    assert record["externalId"] == "c-1"
    assert sim.http.get(sim.url("record/v1/customer/eid:c-1")).json()["id"] == internal_id
    duplicate = sim.http.post(sim.url("record/v1/customer"), json={"externalId": "c-1"})
    assert duplicate.status_code == 400
    assert error_code(duplicate) == "USER_ERROR"


def test_upsert_resending_unkeyed_lines_appends_a_second_copy(sim: Sim) -> None:
    make_customer(sim)
    green, red = sim.item_ids("GREEN", "RED")
    body = order_body(
        "shopify-customer-1",
        [{"item": {"id": green}, "quantity": 1, "rate": 10}, {"item": {"id": red}, "quantity": 2, "rate": 5}],
    )
    url = sim.url("record/v1/salesOrder/eid:shopify-order-1")
    first = sim.http.put(url, json=body)
    assert first.status_code == 204
    second = sim.http.put(url, json=body)
    assert second.status_code == 204
    assert second.headers["Location"] == first.headers["Location"]

    orders = sim.sales_orders()
    assert len(orders) == 1
    assert line_quantities(orders[0]) == [(1, 1), (2, 2), (3, 1), (4, 2)]
    lines = sim.http.get(url + "/item").json()
    assert lines["totalResults"] == 4


def test_replace_item_leaves_exactly_the_new_lines(sim: Sim) -> None:
    make_customer(sim)
    green, red = sim.item_ids("GREEN", "RED")
    url = sim.url("record/v1/salesOrder/eid:shopify-order-1")
    lines = [{"item": {"id": green}, "quantity": 1}, {"item": {"id": red}, "quantity": 2}]
    assert sim.http.put(url, json=order_body("shopify-customer-1", lines)).status_code == 204
    assert sim.http.put(url, params={"replace": "item"}, json=order_body("shopify-customer-1", lines)).ok
    # Unkeyed lines are new lines, so the old ones go and the new ones get fresh numbers.
    assert line_quantities(sim.sales_orders()[0]) == [(3, 1), (4, 2)]

    keyed = {"item": {"items": [{"line": 4, "quantity": 7}, {"item": {"id": green}, "quantity": 9}]}}
    assert sim.http.patch(url, params={"replace": "item"}, json=keyed).status_code == 204
    order = sim.sales_orders()[0]
    assert line_quantities(order) == [(4, 7), (5, 9)]
    assert order["item"]["items"][0]["item"] == {"id": red}


def test_keyed_line_updates_in_place(sim: Sim) -> None:
    make_customer(sim)
    (green,) = sim.item_ids("GREEN")
    url = sim.url("record/v1/salesOrder/eid:o-2")
    body = order_body("shopify-customer-1", [{"item": {"id": green}, "quantity": 1, "rate": 3}] * 2)
    assert sim.http.put(url, json=body).status_code == 204
    update = {"memo": "changed", "item": {"items": [{"line": 2, "quantity": 5}]}}
    assert sim.http.patch(url, json=update).status_code == 204
    order = sim.sales_orders()[0]
    assert line_quantities(order) == [(1, 1), (2, 5)]
    assert order["item"]["items"][1]["rate"] == 3
    assert order["memo"] == "changed"

    unknown = sim.http.patch(url, json={"item": {"items": [{"line": 42, "quantity": 1}]}})
    assert unknown.status_code == 400
    assert error_code(unknown) == "USER_ERROR"
    assert line_quantities(sim.sales_orders()[0]) == [(1, 1), (2, 5)]


def test_sublist_is_a_link_unless_expanded(sim: Sim) -> None:
    make_customer(sim)
    (green,) = sim.item_ids("GREEN")
    url = sim.url("record/v1/salesOrder/eid:o-3")
    sim.http.put(url, json=order_body("shopify-customer-1", [{"item": {"id": green}, "quantity": 2}]))
    plain = sim.http.get(url).json()
    assert "items" not in plain["item"]
    assert plain["item"]["links"][0]["href"].endswith("/item")
    expanded = sim.http.get(url, params={"expandSubResources": "true"}).json()
    assert expanded["item"]["totalResults"] == 1
    assert expanded["item"]["items"][0]["line"] == 1


def test_missing_references_are_invalid_key_or_ref(sim: Sim) -> None:
    make_customer(sim)
    (green,) = sim.item_ids("GREEN")
    url = sim.url("record/v1/salesOrder/eid:o-4")
    no_customer = sim.http.put(url, json=order_body("shopify-customer-404", [{"item": {"id": green}}]))
    assert no_customer.status_code == 400
    assert error_code(no_customer) == "INVALID_KEY_OR_REF"
    assert "entity" in no_customer.json()["o:errorDetails"][0]["detail"]
    no_item = sim.http.put(url, json=order_body("shopify-customer-1", [{"item": {"id": "999999"}}]))
    assert no_item.status_code == 400
    assert error_code(no_item) == "INVALID_KEY_OR_REF"
    assert "item" in no_item.json()["o:errorDetails"][0]["detail"]
    assert sim.sales_orders() == []


def test_upsert_rules(sim: Sim) -> None:
    with_id = sim.http.put(sim.url("record/v1/customer/eid:c-9"), json={"id": "5", "email": "a@b.c"})
    assert with_id.status_code == 400
    assert error_code(with_id) == "USER_ERROR"
    by_internal_id = sim.http.put(sim.url("record/v1/customer/5"), json={"email": "a@b.c"})
    assert by_internal_id.status_code == 400
    missing = sim.http.patch(sim.url("record/v1/customer/eid:nobody"), json={"email": "a@b.c"})
    assert missing.status_code == 404
    assert error_code(missing) == "NONEXISTENT_ID"
    unknown_type = sim.http.get(sim.url("record/v1/spaceship/1"))
    assert unknown_type.status_code == 404


def test_transform_to_fulfillment_ships_unmentioned_open_lines(sim: Sim) -> None:
    make_customer(sim)
    green, red = sim.item_ids("GREEN", "RED")
    lines = [{"item": {"id": green}, "quantity": 2}, {"item": {"id": red}, "quantity": 1}]
    order_url = sim.url("record/v1/salesOrder/eid:o-5")
    sim.http.put(order_url, json=order_body("shopify-customer-1", lines))
    body = {"externalId": "f-1", "item": {"items": [{"orderLine": 2, "itemReceive": False}]}}
    response = sim.http.post(order_url + "/!transform/itemFulfillment", json=body)
    assert response.status_code == 204
    assert "/record/v1/itemFulfillment/" in response.headers["Location"]
    (fulfillment,) = sim.control("GET", "records/itemFulfillment")
    order_id = sim.sales_orders()[0]["id"]
    assert fulfillment["createdFrom"] == {"id": order_id}
    assert [(ln["orderLine"], ln["quantity"]) for ln in fulfillment["item"]["items"]] == [(1, 2)]
    rest = sim.http.post(order_url + "/!transform/itemFulfillment", json={})
    assert rest.status_code == 204
    nothing_open = sim.http.post(order_url + "/!transform/itemFulfillment", json={})
    assert nothing_open.status_code == 400


def test_replace_item_never_drops_a_fulfilled_line(sim: Sim) -> None:
    """NetSuite keeps a sales order line that has shipped: a `replace=item` update that would remove it is refused
    (nothing changes); one that keys it, or removes only open lines, is taken."""
    make_customer(sim)
    green, red = sim.item_ids("GREEN", "RED")
    order_url = sim.url("record/v1/salesOrder/eid:o-6")
    lines = [{"item": {"id": green}, "quantity": 2}, {"item": {"id": red}, "quantity": 1}]
    assert sim.http.put(order_url, json=order_body("shopify-customer-1", lines)).status_code == 204
    ship_green = {"externalId": "f-6", "item": {"items": [{"orderLine": 2, "itemReceive": False}]}}
    assert sim.http.post(order_url + "/!transform/itemFulfillment", json=ship_green).status_code == 204

    unkeyed = sim.http.put(order_url, params={"replace": "item"}, json=order_body("shopify-customer-1", lines))
    assert unkeyed.status_code == 400 and error_code(unkeyed) == "USER_ERROR"
    assert "Line 1 has been fulfilled" in unkeyed.json()["o:errorDetails"][0]["detail"]
    assert line_quantities(sim.sales_orders()[0]) == [(1, 2), (2, 1)]

    keyed = {"item": {"items": [{"line": 1, "quantity": 2}, {"item": {"id": red}, "quantity": 3}]}}
    assert sim.http.put(order_url, params={"replace": "item"}, json=keyed).status_code == 204
    assert line_quantities(sim.sales_orders()[0]) == [(1, 2), (3, 3)]


# SuiteQL


def test_suiteql_item_lookup_and_paging(sim: Sim) -> None:
    ids = dict(zip(["A", "B", "C"], sim.item_ids("A", "B", "C"), strict=True))
    lookup = sim.suiteql("SELECT id, itemid FROM item WHERE itemid IN ('A','B') ORDER BY itemid")
    assert lookup.status_code == 200
    assert [(row["id"], row["itemid"]) for row in lookup.json()["items"]] == [(ids["A"], "A"), (ids["B"], "B")]

    query = "SELECT id, itemid FROM item WHERE itemid IN ('A', 'B', 'C') ORDER BY id"
    first = sim.suiteql(query, limit=2, offset=0).json()
    assert (first["count"], first["hasMore"], first["offset"], first["totalResults"]) == (2, True, 0, 3)
    assert first["items"][0] == {"links": [], "id": ids["A"], "itemid": "A"}
    assert any(link["rel"] == "next" for link in first["links"])
    second = sim.suiteql(query, limit=2, offset=2).json()
    assert (second["count"], second["hasMore"], second["offset"]) == (1, False, 2)
    assert second["items"][0]["itemid"] == "C"


def test_suiteql_finds_transactions_and_uses_fetch_first(sim: Sim) -> None:
    make_customer(sim)
    (green,) = sim.item_ids("GREEN")
    url = sim.url("record/v1/salesOrder/eid:shopify-order-7")
    sim.http.put(url, json=order_body("shopify-customer-1", [{"item": {"id": green}, "quantity": 3, "rate": 2.5}]))
    found = sim.suiteql(
        "SELECT id, foreigntotal FROM transaction "
        "WHERE externalid = 'shopify-order-7' AND recordtype = 'salesorder' FETCH FIRST 1 ROWS ONLY"
    )
    assert found.status_code == 200
    (row,) = found.json()["items"]
    assert row["id"] == sim.sales_orders()[0]["id"]
    assert row["foreigntotal"] == "7.5"


def test_suiteql_requires_prefer_transient(sim: Sim) -> None:
    response = sim.http.post(sim.url("query/v1/suiteql"), json={"q": "SELECT id FROM item"})
    assert response.status_code == 400
    assert error_code(response) == "USER_ERROR"
    assert "transient" in response.json()["o:errorDetails"][0]["detail"]


def test_suiteql_rejects_bad_queries_and_pages(sim: Sim) -> None:
    syntax = sim.suiteql("SELEC id FROM item")
    assert syntax.status_code == 400
    assert "syntax error" in syntax.json()["o:errorDetails"][0]["detail"]
    assert sim.suiteql("SELECT id FROM item", limit=1001).status_code == 400
    assert sim.suiteql("SELECT id FROM item", limit=1000, offset=99_001).status_code == 400
    assert sim.suiteql("DELETE FROM item").status_code == 400


# Concurrency, faults, stats


def test_connections_are_kept_alive_across_calls_as_netsuite_keeps_them(sim: Sim) -> None:
    url = sim.url("record/v1/customer/1")
    with requests.Session() as session:
        session.auth = oauth()
        answers = [session.get(url, timeout=5) for _ in range(3)]
        pools = session.get_adapter(url).poolmanager.pools
        opened = sum(pools[key].num_connections for key in pools.keys())
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert all(a.headers.get("Connection", "").lower() != "close" for a in answers)
    assert opened == 1  # three calls over one TCP connection


def test_a_latency_draw_is_the_whole_answer_and_the_work_is_done_at_its_start(sim: Sim) -> None:
    sim.control("POST", "config", {"latency_ms": 800, "latency_jitter_ms": 0})
    answered: list[tuple[int, float]] = []

    def put() -> None:
        started = time.monotonic()
        response = sim.http.put(sim.url("record/v1/customer/eid:latency-1"), json={"email": "l@example.com"})
        answered.append((response.status_code, time.monotonic() - started))

    writer = threading.Thread(target=put)
    writer.start()
    deadline = time.monotonic() + 0.6
    seen = False
    while not seen and time.monotonic() < deadline:
        seen = any(r.get("externalId") == "latency-1" for r in sim.control("GET", "records/customer"))
        time.sleep(0.02)
    still_waiting = writer.is_alive()
    writer.join(timeout=10)
    assert seen and still_waiting  # recorded while its answer was still on its way
    [(status, elapsed)] = answered
    assert status == 204 and elapsed >= 0.8


def test_concurrency_cap_rejects_the_excess_with_netsuites_429(sim: Sim) -> None:
    sim.control("POST", "config", {"latency_ms": 300, "concurrency_limit": 3})
    barrier = threading.Barrier(8)
    results: list[requests.Response] = []
    lock = threading.Lock()

    def call() -> None:
        request = requests.Request("GET", sim.url("record/v1/customer/1"), auth=oauth()).prepare()
        barrier.wait(timeout=5)
        with requests.Session() as session:
            response = session.send(request, timeout=5)
        with lock:
            results.append(response)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    rejected = [r for r in results if r.status_code == 429]
    accepted = [r for r in results if r.status_code != 429]
    assert len(results) == 8
    assert len(accepted) == 3
    assert all(r.status_code == 404 for r in accepted)
    assert all(r.json() == CONCURRENCY_BODY and "Retry-After" not in r.headers for r in rejected)
    stats = sim.control("GET", "stats")
    assert stats["peak_concurrency"] == 3
    assert stats["rejections"]["concurrency"] == 5
    assert stats["in_flight"] == 0


def test_faults_fail_matching_requests_before_touching_state(sim: Sim) -> None:
    make_customer(sim)
    (green,) = sim.item_ids("GREEN")
    sim.control("POST", "faults", {"status": 503, "count": 2, "match": "PUT salesOrder"})
    url = sim.url("record/v1/salesOrder/eid:o-8")
    body = order_body("shopify-customer-1", [{"item": {"id": green}}])
    for _ in range(2):
        failed = sim.http.put(url, json=body)
        assert failed.status_code == 503
        assert error_code(failed) == "UNEXPECTED_ERROR"
        assert sim.http.get(sim.url("record/v1/customer/eid:shopify-customer-1")).status_code == 200
    assert sim.sales_orders() == []
    assert sim.http.put(url, json=body).status_code == 204

    sim.control("POST", "faults", {"status": 429, "count": 1})
    throttled = sim.http.get(url)
    assert throttled.status_code == 429
    assert throttled.json() == CONCURRENCY_BODY

    sim.control("POST", "faults", {"status": 500, "count": 5})
    sim.control("DELETE", "faults")
    assert sim.http.get(url).status_code == 200
    assert sim.control("GET", "stats")["rejections"]["fault"] == 3


def test_drop_faults_close_the_connection(sim: Sim) -> None:
    make_customer(sim)
    sim.control("POST", "faults", {"mode": "drop", "match": "PATCH customer"})
    url = sim.url("record/v1/customer/eid:shopify-customer-1")
    with pytest.raises(requests.ConnectionError):
        requests.patch(url, json={"email": "dropped@example.com"}, auth=oauth(), timeout=5)
    sim.control("POST", "faults", {"mode": "drop_after", "match": "PATCH customer"})
    with pytest.raises(requests.ConnectionError):
        requests.patch(url, json={"email": "applied@example.com"}, auth=oauth(), timeout=5)
    assert sim.http.get(url).json()["email"] == "applied@example.com"


def test_stats_count_operations_and_reset_clears_them(sim: Sim) -> None:
    make_customer(sim)
    (green,) = sim.item_ids("GREEN")
    url = sim.url("record/v1/salesOrder/eid:o-9")
    sim.http.put(url, json=order_body("shopify-customer-1", [{"item": {"id": green}}]))
    sim.http.put(url, json=order_body("shopify-customer-1", [{"item": {"id": green}}]))
    sim.http.get(url)
    sim.suiteql("SELECT id FROM item")
    requests.get(url, timeout=5)  # unsigned: rejected before it counts as an operation
    stats = sim.control("GET", "stats")
    assert stats["calls_by_operation"] == {
        "PUT customer": 1,
        "PUT salesOrder": 2,
        "GET salesOrder": 1,
        "POST suiteql": 1,
    }
    assert stats["requests_total"] == 6
    assert stats["records_by_type"]["salesOrder"] == 1
    assert stats["records_by_type"]["customer"] == 1
    assert stats["rejections"] == {"concurrency": 0, "auth": 1, "fault": 0}

    sim.control("POST", "reset")
    after = sim.control("GET", "stats")
    assert after["records_by_type"]["salesOrder"] == 0
    assert after["records_by_type"]["inventoryItem"] == 1
    assert after["calls_by_operation"] == {}
    assert after["requests_total"] == 0
