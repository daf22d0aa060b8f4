"""ShopifyAdminClient against a scripted GraphQL endpoint on 127.0.0.1: throttling, retries, typed errors."""

import json
import logging
import pickle
import random
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from shopify_client import (
    ShopifyAdminClient,
    ShopifyAuthError,
    ShopifyCallRecord,
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyServerError,
    ShopifyThrottled,
    ShopifyTransportError,
    ShopifyUserError,
    error_from_response,
    is_retryable,
    user_error_from_payload,
)

TOKEN = "shpat_0123456789abcdef_very_secret"
QUERY = "query ShopName { shop { name } }"


# --- a scripted GraphQL endpoint ------------------------------------------------------------------------


class Reply:
    def __init__(self, status: int = 200, body: Any = None, headers: dict[str, str] | None = None, raw: bytes = b""):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.raw = raw


Responder = Callable[[dict[str, Any]], Reply]


class FakeShopify:
    """Answers POSTs from a script: a list of Replies (in order) or a function of the request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[Reply] | Responder = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                request = {"path": self.path, "headers": dict(self.headers.items()), "json": json.loads(raw)}
                with fake._lock:
                    fake.requests.append(request)
                    if callable(fake.script):
                        reply = fake.script(request)
                    elif fake.script:
                        reply = fake.script.pop(0)
                    else:
                        reply = Reply(500, {"errors": "unscripted request"})
                payload = reply.raw or json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/admin/api/2026-04/graphql.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeClock:
    """The client's clock and sleep: sleeping moves time on, instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def cost(requested: float = 10, actual: float | None = 10, available: float = 990, maximum: float = 1000, rate=50):
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": rate},
        }
    }


def ok(data: Any = None, **cost_kwargs: Any) -> Reply:
    return Reply(
        200, {"data": data if data is not None else {"shop": {"name": "Test"}}, "extensions": cost(**cost_kwargs)}
    )


def throttled(requested: float, available: float, rate: float = 50) -> Reply:
    return Reply(
        200,
        {
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": cost(requested=requested, actual=None, available=available, rate=rate),
        },
    )


@pytest.fixture
def shopify():
    fake = FakeShopify()
    yield fake
    fake.close()


@pytest.fixture
def clock():
    return FakeClock()


def make_client(shopify: FakeShopify, clock: FakeClock, records: list | None = None, **kwargs: Any):
    kwargs.setdefault("timeout", (1.0, 5.0))
    kwargs.setdefault("rng", random.Random(7))
    return ShopifyAdminClient(
        url=shopify.url,
        access_token=TOKEN,
        on_call=records.append if records is not None else None,
        clock=clock,
        sleep=clock.sleep,
        **kwargs,
    )


# --- the happy path -------------------------------------------------------------------------------------


def test_execute_sends_token_json_and_returns_data(shopify, clock):
    records: list[ShopifyCallRecord] = []
    shopify.script = [ok({"shop": {"name": "Snowdevil"}}, requested=2, actual=1, available=999)]
    client = make_client(shopify, clock, records)

    data = client.execute(QUERY, {"id": "gid://shopify/Order/1"}, operation_name="ShopName")

    assert data == {"shop": {"name": "Snowdevil"}}
    sent = shopify.requests[0]
    assert sent["headers"]["X-Shopify-Access-Token"] == TOKEN
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["json"] == {"query": QUERY, "variables": {"id": "gid://shopify/Order/1"}, "operationName": "ShopName"}
    [record] = records
    assert (record.operation, record.outcome, record.final, record.http_status) == ("ShopName", "ok", True, 200)
    assert (record.cost_requested, record.cost_actual, record.available) == (2, 1, 999)
    assert record.ids == ("gid://shopify/Order/1",)
    status = client.throttle_status
    assert (status.maximum_available, status.currently_available, status.restore_rate) == (1000, 999, 50)
    assert clock.sleeps == []


def test_operation_name_is_read_from_the_document_when_not_given(shopify, clock):
    records: list[ShopifyCallRecord] = []
    shopify.script = [ok()]
    make_client(shopify, clock, records).execute("# a comment\nquery  Named($a: ID) { shop { name } }")
    assert records[0].operation == "Named"
    assert "operationName" not in shopify.requests[0]["json"]


# --- throttling -----------------------------------------------------------------------------------------


def test_throttled_waits_until_the_bucket_holds_the_requested_cost_then_succeeds(shopify, clock):
    records: list[ShopifyCallRecord] = []
    shopify.script = [throttled(requested=752, available=4, rate=50), ok(requested=752, actual=120, available=880)]
    client = make_client(shopify, clock, records, throttle_jitter=0.25)

    assert client.execute(QUERY) == {"shop": {"name": "Test"}}

    expected = (752 - 4) / 50
    assert len(clock.sleeps) == 1, clock.sleeps  # no second wait in the gate: the bucket refilled meanwhile
    assert expected <= clock.sleeps[0] <= expected + 0.25
    assert len(shopify.requests) == 2
    assert [r.outcome for r in records] == ["retry", "ok"]
    assert records[0].error_code == "THROTTLED" and records[0].wait == clock.sleeps[0]


def test_clients_refused_together_come_back_spread_over_the_querys_restore_time(shopify, clock):
    """Processes sharing the bucket but not their estimates (each has its own client) get the same report when
    refused together: with throttle_spread their retries spread over the query's restore time (500 points at
    100/s: 5 s) past the wait the bucket needs (4 s), instead of all landing at one instant."""

    def retry_waits(**kwargs: Any) -> list[float]:
        waits = []
        for seed in range(12):
            shopify.script = [throttled(requested=500, available=100, rate=100), ok(requested=500, rate=100)]
            client = make_client(shopify, clock, throttle_jitter=0, rng=random.Random(seed), **kwargs)
            before = len(clock.sleeps)
            assert client.execute(QUERY) == {"shop": {"name": "Test"}}
            [wait] = clock.sleeps[before:]  # the bucket holds the cost by then: no second wait in the gate
            waits.append(wait)
        return waits

    assert retry_waits() == [pytest.approx(4.0)] * 12  # the same instant for all
    spread = retry_waits(throttle_spread=1.0)
    assert all(4.0 <= w <= 9.0 for w in spread)
    assert max(spread) - min(spread) > 2.5


def test_throttled_retries_do_not_use_up_the_normal_tries_but_have_their_own_cap(shopify, clock):
    shopify.script = lambda request: throttled(requested=100, available=0, rate=100)
    client = make_client(shopify, clock, max_tries=1, max_throttle_retries=3, throttle_jitter=0)

    with pytest.raises(ShopifyThrottled) as caught:
        client.execute(QUERY)

    assert len(shopify.requests) == 4  # 1 + 3 throttled retries, although max_tries=1
    assert caught.value.retryable and caught.value.retry_after == pytest.approx(1.0)
    assert (caught.value.requested, caught.value.available, caught.value.restore_rate) == (100, 0, 100)


def test_a_throttle_wait_longer_than_max_throttle_wait_is_handed_to_the_caller(shopify, clock):
    shopify.script = [throttled(requested=1000, available=0, rate=10)]  # 100 s
    client = make_client(shopify, clock, max_throttle_wait=30)
    with pytest.raises(ShopifyThrottled) as caught:
        client.execute(QUERY)
    assert caught.value.retry_after == pytest.approx(100.0)
    assert clock.sleeps == [] and len(shopify.requests) == 1


def test_waits_before_sending_when_the_last_known_bucket_is_low(shopify, clock):
    records: list[ShopifyCallRecord] = []
    shopify.script = [ok(requested=5, actual=5, available=10, rate=50), ok(requested=5, actual=5, available=45)]
    client = make_client(shopify, clock, records, min_available=50)

    client.execute(QUERY)
    assert clock.sleeps == []
    client.execute(QUERY)

    # 10 points left, 50 wanted, 50 restored a second: 0.8 s, slept before the request went out.
    assert clock.sleeps == [pytest.approx(0.8)]
    assert records[1].throttle_wait == pytest.approx(0.8)
    assert len(shopify.requests) == 2


def test_expected_cost_above_the_floor_is_waited_for(shopify, clock):
    shopify.script = [ok(requested=5, available=100, rate=50), ok()]
    client = make_client(shopify, clock, min_available=50)
    client.execute(QUERY)
    client.execute("query Big { shop { name } }", expected_cost=300)
    assert clock.sleeps == [pytest.approx((300 - 100) / 50)]


def test_restored_points_count_so_no_wait_after_time_has_passed(shopify, clock):
    shopify.script = [ok(available=10, rate=50), ok()]
    client = make_client(shopify, clock, min_available=50)
    client.execute(QUERY)
    clock.now += 1.0  # 10 + 50 restored
    client.execute(QUERY)
    assert clock.sleeps == []


def test_learned_cost_is_reserved_so_back_to_back_calls_queue(shopify, clock):
    client = make_client(shopify, clock, min_available=0)
    client._observe("Page", {"extensions": cost(requested=400, available=500, rate=100)})

    assert client._await_capacity("Page", None) == 0.0  # 500 >= 400: goes, leaving 100 reserved-for
    assert client._await_capacity("Page", None) == pytest.approx(3.0)  # 100 left: 300 more at 100/s
    assert clock.sleeps == [pytest.approx(3.0)]


# --- retries and typed errors ---------------------------------------------------------------------------


def test_503_is_retried_with_jittered_backoff_then_succeeds(shopify, clock):
    records: list[ShopifyCallRecord] = []
    shopify.script = [Reply(503, raw=b"<html>Service Unavailable</html>", headers={"X-Request-Id": "req-1"}), ok()]
    client = make_client(shopify, clock, records, backoff_base=0.5)

    assert client.execute(QUERY) == {"shop": {"name": "Test"}}

    assert len(shopify.requests) == 2
    assert len(clock.sleeps) == 1 and 0 <= clock.sleeps[0] <= 0.5
    assert [(r.outcome, r.http_status, r.error_code) for r in records] == [
        ("retry", 503, "SERVICE_UNAVAILABLE"),
        ("ok", 200, None),
    ]
    assert records[0].request_id == "req-1"


def test_5xx_gives_up_after_max_tries(shopify, clock):
    shopify.script = lambda request: Reply(502, raw=b"bad gateway")
    client = make_client(shopify, clock, max_tries=3, backoff_base=0.5, backoff_max=0.75)
    with pytest.raises(ShopifyServerError) as caught:
        client.execute(QUERY)
    assert len(shopify.requests) == 3
    assert caught.value.retryable and caught.value.status == 502
    assert len(clock.sleeps) == 2 and all(0 <= s <= 0.75 for s in clock.sleeps)


def test_internal_server_error_code_with_http_200_is_retried(shopify, clock):
    error = {"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    shopify.script = [Reply(200, error), ok()]
    assert make_client(shopify, clock).execute(QUERY) == {"shop": {"name": "Test"}}
    assert len(shopify.requests) == 2


def test_mutation_without_idempotent_key_is_not_repeated_after_a_5xx(shopify, clock):
    shopify.script = lambda request: Reply(503, raw=b"unavailable")
    client = make_client(shopify, clock)
    with pytest.raises(ShopifyServerError) as caught:
        client.execute('mutation Tag($id: ID!) { tagsAdd(id: $id, tags: ["x"]) { node { id } } }', {"id": "1"})
    assert len(shopify.requests) == 1 and caught.value.ambiguous


def test_mutation_with_idempotent_key_is_repeated_after_a_5xx(shopify, clock):
    shopify.script = [Reply(503, raw=b"unavailable"), ok({"inventorySetQuantities": {"userErrors": []}})]
    mutation = (
        "mutation Set($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) "
        '@idempotent(key: "4a1c7b0e-8d5f-4b8e-9a53-0c2f8a6d1e7b") { userErrors { code field message } } }'
    )
    data = make_client(shopify, clock).execute(mutation, {"input": {}})
    assert data == {"inventorySetQuantities": {"userErrors": []}}
    assert len(shopify.requests) == 2


def test_401_is_an_auth_error_and_not_retried(shopify, clock):
    records: list[ShopifyCallRecord] = []
    body = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    shopify.script = lambda request: Reply(401, body, headers={"X-Request-Id": "req-401"})
    client = make_client(shopify, clock, records)

    with pytest.raises(ShopifyAuthError) as caught:
        client.execute(QUERY)

    err = caught.value
    assert (err.status, err.code, err.request_id, err.retryable) == (401, "UNAUTHORIZED", "req-401", False)
    assert "Invalid API key" in err.message
    assert len(shopify.requests) == 1 and clock.sleeps == []
    assert [(r.outcome, r.final) for r in records] == [("failed", True)]


def test_access_denied_in_a_200_is_an_auth_error(shopify, clock):
    body = {
        "data": {"order": None},
        "errors": [{"message": "Access denied for order field.", "extensions": {"code": "ACCESS_DENIED"}}],
    }
    shopify.script = lambda request: Reply(200, body)
    with pytest.raises(ShopifyAuthError) as caught:
        make_client(shopify, clock).execute(QUERY)
    assert caught.value.code == "ACCESS_DENIED" and caught.value.status == 200
    assert len(shopify.requests) == 1


def test_graphql_validation_errors_are_listed_and_not_retried(shopify, clock):
    body = {
        "errors": [
            {
                "message": "Field 'nope' doesn't exist on type 'Shop'",
                "locations": [{"line": 1, "column": 20}],
                "path": ["query ShopName", "shop", "nope"],
                "extensions": {"code": "undefinedField", "typeName": "Shop", "fieldName": "nope"},
            },
            {"message": "Variable $x is declared by ShopName but not used", "extensions": {"code": "variableNotUsed"}},
        ]
    }
    shopify.script = lambda request: Reply(200, body)
    with pytest.raises(ShopifyGraphQLError) as caught:
        make_client(shopify, clock).execute(QUERY)
    err = caught.value
    assert not err.retryable and err.code == "undefinedField"
    assert "Field 'nope' doesn't exist" in str(err) and "Variable $x is declared" in str(err)
    assert "shop.nope" in str(err)
    assert len(err.errors) == 2
    assert len(shopify.requests) == 1


def test_max_cost_exceeded_is_not_retried(shopify, clock):
    body = {
        "errors": [
            {
                "message": "Query cost is 2093, which exceeds the single query max cost limit (1000).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 2093, "maxCost": 1000},
            }
        ]
    }
    shopify.script = lambda request: Reply(200, body)
    with pytest.raises(ShopifyGraphQLError) as caught:
        make_client(shopify, clock).execute(QUERY)
    assert caught.value.code == "MAX_COST_EXCEEDED" and not caught.value.retryable
    assert len(shopify.requests) == 1


def test_redirect_is_not_followed(shopify, clock):
    shopify.script = lambda request: Reply(302, raw=b"", headers={"Location": "http://127.0.0.1:9/elsewhere"})
    with pytest.raises(ShopifyError) as caught:
        make_client(shopify, clock).execute(QUERY)
    assert not caught.value.retryable and "elsewhere" in caught.value.message
    assert len(shopify.requests) == 1


def test_connection_refused_is_a_retryable_transport_error(clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    records: list[ShopifyCallRecord] = []
    client = ShopifyAdminClient(
        url=f"http://127.0.0.1:{port}/admin/api/2026-04/graphql.json",
        access_token=TOKEN,
        max_tries=2,
        timeout=(0.5, 1.0),
        on_call=records.append,
        clock=clock,
        sleep=clock.sleep,
    )
    with pytest.raises(ShopifyTransportError) as caught:
        client.execute(QUERY)
    err = caught.value
    assert err.retryable and is_retryable(err) and err.code == "CONNECTION_ERROR"
    assert not err.ambiguous  # never reached a server: safe to repeat even a mutation
    # The requests exception (which holds the prepared request and its token header) is not chained.
    assert err.__cause__ is None and err.__context__ is None
    assert str(port) in err.message
    assert [r.outcome for r in records] == ["retry", "failed"]
    assert len(clock.sleeps) == 1


# --- secrets --------------------------------------------------------------------------------------------


def test_token_never_appears_in_reprs_logs_records_or_errors(shopify, clock, caplog):
    caplog.set_level(logging.DEBUG)
    records: list[ShopifyCallRecord] = []
    shopify.script = [
        ok(available=5),
        Reply(503, raw=b"oops"),
        ok(),
        # A server that echoes the token back must not get it into our errors.
        Reply(400, {"errors": f"bad header X-Shopify-Access-Token: {TOKEN}"}),
    ]
    client = make_client(shopify, clock, records)
    variables = {"id": "gid://shopify/Order/450789469", "email": "bob.norman@hostmail.com"}
    client.execute(QUERY, variables)
    client.execute(QUERY, variables)
    with pytest.raises(ShopifyError) as caught:
        client.execute(QUERY, variables)

    texts = [caplog.text, repr(client), str(vars(client)), repr(caught.value), str(caught.value), repr(records)]
    texts.append(repr(pickle.loads(pickle.dumps(caught.value))))
    for text in texts:
        assert TOKEN not in text
    assert "[redacted]" in caught.value.message
    # Operation names and ids are logged; other variables (personal data) are not.
    assert "ShopName" in caplog.text and "gid://shopify/Order/450789469" in caplog.text
    assert "bob.norman" not in caplog.text
    with pytest.raises(TypeError):
        pickle.dumps(client)


# --- sessions -------------------------------------------------------------------------------------------


def test_one_pooled_session_per_thread(shopify, clock):
    made: list[requests.Session] = []

    def factory() -> requests.Session:
        session = requests.Session()
        made.append(session)
        return session

    shopify.script = lambda request: ok()
    client = make_client(shopify, clock, session_factory=factory)
    client.execute(QUERY)
    client.execute(QUERY)
    worker = threading.Thread(target=client.execute, args=(QUERY,))
    worker.start()
    worker.join(5)
    assert len(made) == 2
    client.close()


# --- error_from_response and friends --------------------------------------------------------------------


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.headers.update(headers or {})
    return response


def test_error_from_response_maps_status_and_body():
    assert error_from_response(_response(200, {"data": {"shop": None}})) is None

    throttle = error_from_response(_response(200, throttled(752, 4).body, {"X-Request-Id": "abc"}))
    assert isinstance(throttle, ShopifyThrottled)
    assert throttle.retry_after == pytest.approx((752 - 4) / 50) and throttle.request_id == "abc"

    rest_style = error_from_response(_response(429, {"errors": "Exceeded"}, {"Retry-After": "2.0"}))
    assert isinstance(rest_style, ShopifyThrottled) and rest_style.retry_after == 2.0

    assert isinstance(error_from_response(_response(403, {"errors": "scope"})), ShopifyAuthError)
    server = error_from_response(_response(500, b"<html>"))
    assert isinstance(server, ShopifyServerError) and server.code == "INTERNAL_SERVER_ERROR" and server.retryable
    not_json = error_from_response(_response(200, b"<html>hello</html>"))
    assert not_json.code == "INVALID_RESPONSE" and not not_json.retryable
    assert error_from_response(_response(200, {"extensions": {}})).code == "INVALID_RESPONSE"
    lost = error_from_response(_response(404, {"errors": "Not Found"}))
    assert lost.code == "NOT_FOUND" and not lost.retryable


def test_errors_survive_pickling_with_their_attributes():
    err = ShopifyThrottled("Throttled", status=200, retry_after=1.5, requested=10, available=1, restore_rate=50)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is ShopifyThrottled
    assert (copy.retry_after, copy.requested, copy.code, copy.retryable) == (1.5, 10, "THROTTLED", True)


def test_user_errors():
    assert user_error_from_payload({"userErrors": []}) is None
    stale = user_error_from_payload(
        {
            "userErrors": [
                {"code": "CHANGE_FROM_QUANTITY_STALE", "field": ["input", "quantities", "0"], "message": "stale"}
            ]
        },
        operation="inventorySetQuantities",
    )
    assert isinstance(stale, ShopifyUserError) and not stale.retryable
    assert stale.code == "CHANGE_FROM_QUANTITY_STALE" and stale.field == ("input", "quantities", "0")
    assert "input.quantities.0" in str(stale)
    busy = user_error_from_payload({"userErrors": [{"code": "IDEMPOTENCY_CONCURRENT_REQUEST", "message": "busy"}]})
    assert busy.retryable


def test_constructor_validates_and_repr_hides_the_token():
    with pytest.raises(ValueError):
        ShopifyAdminClient(url="ftp://x", access_token=TOKEN)
    with pytest.raises(ValueError):
        ShopifyAdminClient(url="https://shop.myshopify.com/admin/api/2026-04/graphql.json", access_token="")
    client = ShopifyAdminClient(url="https://shop.myshopify.com/admin/api/2026-04/graphql.json", access_token=TOKEN)
    assert repr(client) == "ShopifyAdminClient(url='https://shop.myshopify.com/admin/api/2026-04/graphql.json')"
