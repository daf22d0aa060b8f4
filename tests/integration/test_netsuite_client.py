import contextlib
import json
import logging
import pickle
import socket
import struct
import threading
import time
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

import netsuite_client.suiteql as suiteql_module
from netsuite_client import (
    AuthError,
    CallRecord,
    ConcurrencyLimitError,
    NetSuiteClient,
    NetSuiteError,
    NotFoundError,
    ServerError,
    SuiteQLLimitError,
    TokenAuth,
    TransportError,
    ValidationError,
    encode_json,
    error_from_response,
    is_retryable,
    suiteql_in,
    suiteql_literal,
)

CONSUMER_SECRET = "consumer-secret-7f3a9c"
TOKEN_SECRET = "token-secret-41be07"


# --- a scripted NetSuite on 127.0.0.1 -------------------------------------------------------------------


class Reply:
    """A scripted answer; `drop=True` resets the connection after reading the request, answering nothing."""

    def __init__(self, status=204, body=None, headers=None, delay=0.0, drop=False):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.delay = delay
        self.drop = drop


def ns_error(status, code, detail, **extra):
    return Reply(
        status,
        {
            "type": "x",
            "title": "t",
            "status": status,
            "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
        },
        **extra,
    )


class FakeNetSuite:
    """Scripted replies in order; `routes` (path -> callable(request) -> Reply) answer their paths instead."""

    def __init__(self):
        self.replies: list[Reply] = []
        self.requests: list[dict] = []
        self.routes: dict = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urllib.parse.urlsplit(self.path)
                request = {
                    "method": self.command,
                    "path": url.path,
                    "query": dict(urllib.parse.parse_qsl(url.query)),
                    "raw_path": self.path,
                    "headers": dict(self.headers),
                    "body": raw,
                }
                route = fake.routes.get(url.path)
                if route is not None:
                    reply = route(request)
                else:
                    with fake.lock:
                        fake.requests.append(request)
                        reply = fake.replies.pop(0) if fake.replies else Reply(500, {"title": "unscripted"})
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    # SO_LINGER 0 makes close() send RST: the client sees a reset, with no response at all.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                payload = (
                    b""
                    if reply.body is None
                    else (reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode())
                )
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    if payload and "Content-Type" not in reply.headers:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/rest"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    server = FakeNetSuite()
    yield server
    server.close()


def make_auth() -> TokenAuth:
    return TokenAuth(
        account_id="tstdrv1",
        consumer_key="ck-123456789",
        consumer_secret=CONSUMER_SECRET,
        token_id="tk-987654321",
        token_secret=TOKEN_SECRET,
    )


def local_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # an environment proxy must never see loopback test traffic
    return session


@pytest.fixture
def records():
    return []


@pytest.fixture
def make_client(fake, records):
    made = []

    def factory(**overrides):
        options = {
            "base_url": fake.url,
            "auth": make_auth(),
            "session_factory": local_session,
            "timeout": (1.0, 2.0),
            "max_tries": 4,
            "backoff_base": 0.001,
            "backoff_max": 0.005,
            "on_call": records.append,
        }
        options.update(overrides)
        client = NetSuiteClient(**options)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def outcomes(records):
    return [(r.attempt, r.outcome, r.final) for r in records]


# --- upsert ---------------------------------------------------------------------------------------------


def test_upsert_puts_by_external_id_with_replace_signed_and_exact_decimals(fake, make_client, records):
    fake.script(Reply(204, headers={"Location": f"{fake.url}/record/v1/salesOrder/1504"}))
    client = make_client()
    body = {
        "externalId": "shopify-order-1",
        "entity": {"externalId": "shopify-customer-9"},
        "item": {"items": [{"item": {"id": "12"}, "quantity": 2, "rate": Decimal("409.94")}]},
        "discountRate": Decimal("-0.10"),
    }

    internal_id = client.upsert("salesOrder", "shopify-order-1", body, replace=("item",), correlation_id="c-1")

    assert internal_id == "1504"
    (sent,) = fake.requests
    assert sent["method"] == "PUT"
    assert sent["path"] == "/services/rest/record/v1/salesOrder/eid:shopify-order-1"
    assert sent["query"] == {"replace": "item"}
    assert sent["headers"]["Authorization"].startswith('OAuth realm="TSTDRV1"')
    assert 'oauth_signature_method="HMAC-SHA256"' in sent["headers"]["Authorization"]
    assert sent["headers"]["Content-Type"] == "application/json"
    assert sent["headers"]["User-Agent"] == "shopsync/0.1"
    assert b'"rate":409.94' in sent["body"]
    assert b'"discountRate":-0.10' in sent["body"]
    assert json.loads(sent["body"], parse_float=Decimal)["item"]["items"][0]["rate"] == Decimal("409.94")
    assert records == [
        CallRecord(
            operation="upsert",
            method="PUT",
            record_type="salesOrder",
            external_id="shopify-order-1",
            internal_id="1504",
            http_status=204,
            error_code=None,
            attempt=1,
            duration_ms=records[0].duration_ms,
            final=True,
            outcome="ok",
            correlation_id="c-1",
        )
    ]


def test_upsert_without_location_returns_none_and_base_url_slash_is_optional(fake, make_client):
    fake.script(Reply(204), Reply(204))
    assert make_client(base_url=fake.url + "/").upsert("customer", "shopify-customer-1", {"x": 1}) is None
    assert make_client().upsert("customer", "shopify-customer-2", {"x": 1}) is None
    assert [r["path"] for r in fake.requests] == [
        "/services/rest/record/v1/customer/eid:shopify-customer-1",
        "/services/rest/record/v1/customer/eid:shopify-customer-2",
    ]
    assert fake.requests[0]["query"] == {}


@pytest.mark.parametrize("external_id", ["shopify order", "a/b", "../x", "x?y=1", "é", ""])
def test_upsert_refuses_external_ids_netsuite_does_not_allow(fake, make_client, external_id):
    with pytest.raises(ValueError):
        make_client().upsert("salesOrder", external_id, {})
    assert fake.requests == []


def test_upsert_refuses_internal_id_in_body(fake, make_client):
    client = make_client()
    with pytest.raises(ValueError, match="id"):
        client.upsert("salesOrder", "shopify-order-1", {"id": "1504"})
    with pytest.raises(ValueError):
        client.upsert("salesOrder", "shopify-order-1", {"externalId": "shopify-order-2"})
    assert fake.requests == []


# --- retries --------------------------------------------------------------------------------------------


def test_concurrency_limit_is_retried_then_succeeds_with_a_fresh_signature(fake, make_client, records):
    fake.script(
        ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked."),
        Reply(204, headers={"Location": "/services/rest/record/v1/salesOrder/7"}),
    )

    assert make_client().upsert("salesOrder", "shopify-order-1", {"memo": "x"}) == "7"

    assert len(fake.requests) == 2
    assert outcomes(records) == [(1, "retry", False), (2, "ok", True)]
    assert records[0].http_status == 429
    assert records[0].error_code == "CONCURRENCY_LIMIT_EXCEEDED"
    assert records[0].correlation_id == records[1].correlation_id
    nonces = [r["headers"]["Authorization"].split("oauth_nonce=")[1][:20] for r in fake.requests]
    assert nonces[0] != nonces[1]


def test_server_errors_are_retried_until_max_tries_then_raised(fake, make_client, records):
    fake.script(*[ns_error(503, "UNEXPECTED_ERROR", "try later") for _ in range(5)])

    with pytest.raises(ServerError) as caught:
        make_client(max_tries=4).get("salesOrder", 1504)

    assert caught.value.retryable
    assert caught.value.status == 503
    assert len(fake.requests) == 4
    assert outcomes(records) == [
        (1, "retry", False),
        (2, "retry", False),
        (3, "retry", False),
        (4, "failed", True),
    ]


def test_validation_error_is_raised_after_one_attempt(fake, make_client, records):
    fake.script(ns_error(400, "INVALID_KEY_OR_REF", "Invalid item reference key 99."))

    with pytest.raises(ValidationError) as caught:
        make_client().upsert("salesOrder", "shopify-order-1", {"memo": "x"})

    err = caught.value
    assert str(err) == "NetSuite 400 INVALID_KEY_OR_REF: Invalid item reference key 99."
    assert not err.retryable
    assert len(fake.requests) == 1
    assert outcomes(records) == [(1, "failed", True)]
    assert records[0].error_code == "INVALID_KEY_OR_REF"


def test_auth_error_is_not_retried(fake, make_client, records):
    fake.script(
        Reply(
            401,
            {
                "title": "Unauthorized",
                "status": 401,
                "o:errorDetails": [{"detail": "Invalid login attempt.", "o:errorCode": "INVALID_LOGIN"}],
            },
            headers={"WWW-Authenticate": 'OAuth realm="TSTDRV1", error="token_rejected"'},
        )
    )

    with pytest.raises(AuthError) as caught:
        make_client().get("customer", "647")

    assert not caught.value.retryable
    assert caught.value.code == "INVALID_LOGIN"
    assert "token_rejected" in caught.value.detail
    assert len(fake.requests) == 1
    assert outcomes(records) == [(1, "failed", True)]


def test_connection_refused_is_a_retryable_transport_error(make_client, records):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/services/rest", max_tries=2)

    with pytest.raises(TransportError) as caught:
        client.get("customer", 1)

    err = caught.value
    assert err.retryable
    assert err.status is None
    assert err.code == "CONNECTION_ERROR"
    assert not err.ambiguous
    assert outcomes(records) == [(1, "retry", False), (2, "failed", True)]
    assert records[-1].http_status is None


LINES = {"externalId": "shopify-order-1", "item": {"items": [{"item": {"id": "12"}, "quantity": 1}]}}


def test_connection_reset_during_an_upsert_that_replaces_its_lines_is_retried(fake, make_client, records):
    fake.script(Reply(drop=True), Reply(204, headers={"Location": f"{fake.url}/record/v1/salesOrder/1504"}))

    assert make_client().upsert("salesOrder", "shopify-order-1", LINES, replace=("item",)) == "1504"

    assert [(r["method"], r["query"]) for r in fake.requests] == [("PUT", {"replace": "item"})] * 2
    assert fake.requests[0]["body"] == fake.requests[1]["body"]
    assert [(r.outcome, r.error_code, r.http_status) for r in records] == [
        ("retry", "CONNECTION_ERROR", None),
        ("ok", None, 204),
    ]


def test_connection_reset_during_an_upsert_that_would_append_lines_is_not_repeated(fake, make_client):
    fake.script(Reply(drop=True), Reply(204))

    with pytest.raises(TransportError) as caught:
        make_client().upsert("salesOrder", "shopify-order-1", LINES)

    assert caught.value.ambiguous and caught.value.retryable
    assert len(fake.requests) == 1


def test_read_timeout_is_retried_for_reads(fake, make_client, records):
    fake.script(Reply(200, {"id": "5"}, delay=0.5), Reply(200, {"id": "5", "companyName": "Acme"}))

    record = make_client(timeout=(1.0, 0.15)).get("customer", 5)

    assert record["companyName"] == "Acme"
    assert [(r.outcome, r.error_code) for r in records] == [("retry", "TIMEOUT"), ("ok", None)]


def test_delete_whose_first_attempt_may_have_landed_accepts_404(fake, make_client):
    fake.script(Reply(204, delay=0.5), ns_error(404, "NONEXISTENT_ID", "gone"))
    make_client(timeout=(1.0, 0.15)).delete("customer", 5)

    fake.script(ns_error(404, "NONEXISTENT_ID", "never existed"))
    with pytest.raises(NotFoundError):
        make_client().delete("customer", 6)


def test_transform_is_not_repeated_after_a_failure_that_may_have_created_the_record(fake, make_client, records):
    fake.script(ns_error(503, "UNEXPECTED_ERROR", "boom"))
    with pytest.raises(ServerError) as caught:
        make_client().transform("salesOrder", 1504, "itemFulfillment", {"item": {"items": []}})
    assert caught.value.ambiguous
    assert len(fake.requests) == 1

    fake.script(
        ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED", "blocked"),
        Reply(204, headers={"Location": f"{fake.url}/record/v1/itemFulfillment/88"}),
    )
    assert make_client().transform("salesOrder", 1504, "itemFulfillment", {"item": {"items": []}}) == "88"
    assert fake.requests[-1]["path"] == "/services/rest/record/v1/salesOrder/1504/!transform/itemFulfillment"
    assert len(fake.requests) == 3


def test_upsert_with_unkeyed_lines_and_no_replace_is_not_repeated_after_a_5xx(fake, make_client):
    fake.script(ns_error(500, "UNEXPECTED_ERROR", "boom"))
    with pytest.raises(ServerError):
        make_client().upsert("salesOrder", "shopify-order-1", {"item": {"items": [{"quantity": 1}]}})
    assert len(fake.requests) == 1


def test_retry_after_is_a_floor_on_the_wait(fake, make_client, records):
    fake.script(Reply(503, {"title": "busy"}, headers={"Retry-After": "0.3"}), Reply(200, {"id": "1"}))

    started = time.monotonic()
    make_client().get("customer", 1)

    assert time.monotonic() - started >= 0.3
    assert outcomes(records) == [(1, "retry", False), (2, "ok", True)]


def test_retry_after_longer_than_a_worker_should_block_is_surfaced(fake, make_client):
    fake.script(ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED", "blocked", headers={"Retry-After": "120"}))

    with pytest.raises(ConcurrencyLimitError) as caught:
        make_client(retry_after_max=30).get("customer", 1)

    assert caught.value.retry_after == 120
    assert caught.value.retryable
    assert len(fake.requests) == 1


# --- limiter, hooks, sessions ---------------------------------------------------------------------------


class CountingLimiter:
    def __init__(self):
        self.lanes = []
        self.active = 0

    @contextlib.contextmanager
    def slot(self, lane="live"):
        self.lanes.append(lane)
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1


def test_every_attempt_runs_inside_a_limiter_slot_of_the_callers_lane(fake, make_client):
    limiter = CountingLimiter()
    fake.script(ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED", "x"), Reply(200, {"id": "1"}))

    make_client(limiter=limiter).get("customer", 1, lane="bulk")

    assert limiter.lanes == ["bulk", "bulk"]
    assert limiter.active == 0


class SlotUnavailable(Exception):  # stands in for netsuite_client.limiter.SlotUnavailable
    retryable = True


class ReportingLimiter:
    """The shared limiter's protocol: slot() yields a handle whose report() must come before the slot ends."""

    def __init__(self, unavailable=None):
        self.reports: list[str] = []
        self.inside = False
        self.unavailable = unavailable

    def slot(self, lane="live"):
        if self.unavailable is not None:
            raise self.unavailable
        return self._slot()

    @contextlib.contextmanager
    def _slot(self):
        self.inside = True
        try:
            yield self
        finally:
            self.inside = False

    def report(self, outcome):
        assert self.inside, "report() came after the slot was released"
        self.reports.append(outcome)


@pytest.mark.parametrize(
    ("replies", "reports", "raises"),
    [
        ([Reply(204)], ["ok"], None),
        ([ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED", "blocked"), Reply(204)], ["governance", "ok"], None),
        ([ns_error(400, "SSS_REQUEST_LIMIT_EXCEEDED", "busy"), Reply(204)], ["governance", "ok"], None),
        ([ns_error(403, "WS_REQUEST_BLOCKED", "blocked"), Reply(204)], ["governance", "ok"], None),
        ([ns_error(500, "UNEXPECTED_ERROR", "boom"), Reply(204)], ["error", "ok"], None),
        ([ns_error(400, "USER_ERROR", "bad")], ["error"], ValidationError),
    ],
)
def test_each_attempt_reports_its_outcome_to_the_limiter_inside_the_slot(fake, make_client, replies, reports, raises):
    limiter = ReportingLimiter()
    fake.script(*replies)
    client = make_client(limiter=limiter)

    if raises is None:
        client.upsert("customer", "shopify-customer-1", {"companyName": "Acme"})
    else:
        with pytest.raises(raises):
            client.upsert("customer", "shopify-customer-1", {"companyName": "Acme"})

    assert limiter.reports == reports
    assert not limiter.inside


def test_a_transport_error_is_reported_then_raised(make_client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limiter = ReportingLimiter()
    client = make_client(base_url=f"http://127.0.0.1:{port}/services/rest", limiter=limiter, max_tries=2)

    with pytest.raises(TransportError):
        client.get("customer", 1)

    assert limiter.reports == ["error", "error"]


def test_slot_unavailable_propagates_untouched_without_any_request(fake, make_client, records):
    refused = SlotUnavailable("no slot within 5s")
    client = make_client(limiter=ReportingLimiter(unavailable=refused))

    with pytest.raises(SlotUnavailable) as caught:
        client.upsert("customer", "shopify-customer-1", {"companyName": "Acme"})

    assert caught.value is refused
    assert not isinstance(caught.value, NetSuiteError)
    assert fake.requests == []
    assert records == []


def test_a_broken_limiter_report_does_not_fail_an_answered_call(fake, make_client, caplog):
    class Broken(ReportingLimiter):
        def report(self, outcome):
            raise RuntimeError("redis down")

    fake.script(Reply(200, {"id": "1"}))
    assert make_client(limiter=Broken()).get("customer", 1) == {"id": "1"}
    assert "limiter report" in caplog.text


def test_a_failing_on_call_hook_does_not_fail_the_call(fake, make_client, caplog):
    def broken(record):
        raise RuntimeError("call log down")

    fake.script(Reply(200, {"id": "1"}))
    assert make_client(on_call=broken).get("customer", 1) == {"id": "1"}
    assert "on_call hook failed" in caplog.text


def test_each_thread_gets_its_own_session(fake, make_client):
    made = []

    def factory():
        made.append(local_session())
        return made[-1]

    client = make_client(session_factory=factory)
    fake.script(*[Reply(200, {"id": "1"}) for _ in range(3)])
    client.get("customer", 1)
    client.get("customer", 1)
    worker = threading.Thread(target=client.get, args=("customer", 1))
    worker.start()
    worker.join()

    assert len(made) == 2


# --- reads ----------------------------------------------------------------------------------------------


def test_get_by_external_id_with_fields_and_sublist_lines(fake, make_client):
    fake.script(
        Reply(200, {"id": "1504", "tranId": "SO1", "links": []}),
        Reply(
            200,
            {
                "links": [],
                "items": [
                    {
                        "links": [{"rel": "self", "href": f"{fake.url}/record/v1/salesOrder/1504/item/3"}],
                        "quantity": 1,
                    },
                    {"links": [], "line": 7, "quantity": 2},
                ],
            },
        ),
    )
    client = make_client()

    record = client.get(
        "salesOrder", external_id="shopify-order-1", fields=["tranId", "total"], expand_sub_resources=True
    )
    lines = client.get_sublist("salesOrder", "1504")

    assert record["tranId"] == "SO1"
    assert fake.requests[0]["path"] == "/services/rest/record/v1/salesOrder/eid:shopify-order-1"
    assert fake.requests[0]["query"] == {"fields": "tranId,total", "expandSubResources": "true"}
    assert fake.requests[1]["path"] == "/services/rest/record/v1/salesOrder/1504/item"
    assert lines == [{"quantity": 1, "line": 3}, {"line": 7, "quantity": 2}]


def test_patch_sends_replace_and_create_parses_location(fake, make_client):
    fake.script(Reply(204), Reply(204, headers={"Location": f"{fake.url}/record/v1/customer/647"}))
    client = make_client()

    client.patch("salesOrder", 1504, {"item": {"items": [{"line": 1, "quantity": 3}]}}, replace=["item"])
    assert client.create("customer", {"companyName": "Acme"}) == "647"

    assert fake.requests[0]["method"] == "PATCH"
    assert fake.requests[0]["query"] == {"replace": "item"}
    assert fake.requests[1]["method"] == "POST"
    assert fake.requests[1]["path"] == "/services/rest/record/v1/customer"


def test_record_type_and_ids_cannot_steer_the_url(make_client):
    client = make_client()
    with pytest.raises(ValueError):
        client.get("salesOrder/../customer", 1)
    with pytest.raises(ValueError):
        client.get("salesOrder", "1?x=1")
    with pytest.raises(ValueError):
        client.patch("salesOrder", 1, {}, replace=["item&x=1"])


# --- SuiteQL --------------------------------------------------------------------------------------------


def suiteql_page(rows, has_more, offset):
    return Reply(
        200,
        {
            "links": [],
            "count": len(rows),
            "hasMore": has_more,
            "offset": offset,
            "totalResults": 5,
            "items": [{"links": [], **row} for row in rows],
        },
    )


def test_suiteql_follows_has_more_across_three_pages(fake, make_client, records):
    fake.script(
        suiteql_page([{"id": "1"}, {"id": "2"}], True, 0),
        suiteql_page([{"id": "3"}, {"id": "4"}], True, 2),
        suiteql_page([{"id": "5"}], False, 4),
    )
    query = "SELECT id FROM transaction WHERE externalid = " + suiteql_literal("O'Brien") + " ORDER BY id"

    rows = list(make_client().suiteql(query, page_size=2))

    assert rows == [{"id": "1"}, {"id": "2"}, {"id": "3"}, {"id": "4"}, {"id": "5"}]
    assert [r["query"] for r in fake.requests] == [
        {"limit": "2", "offset": "0"},
        {"limit": "2", "offset": "2"},
        {"limit": "2", "offset": "4"},
    ]
    for sent in fake.requests:
        assert sent["method"] == "POST"
        assert sent["path"] == "/services/rest/query/v1/suiteql"
        assert sent["headers"]["Prefer"] == "transient"
        assert json.loads(sent["body"]) == {"q": query}
    assert "'O''Brien'" in query
    assert {r.operation for r in records} == {"suiteql"}
    assert len({r.correlation_id for r in records}) == 1


def test_suiteql_refuses_to_offset_past_the_row_ceiling(fake, make_client, monkeypatch):
    monkeypatch.setattr(suiteql_module, "SUITEQL_MAX_ROWS", 4)
    fake.script(suiteql_page([{"id": "1"}, {"id": "2"}], True, 0), suiteql_page([{"id": "3"}, {"id": "4"}], True, 2))

    seen = []
    with pytest.raises(SuiteQLLimitError, match="keyset"):
        for row in make_client().suiteql("SELECT id FROM item ORDER BY id", page_size=2):
            seen.append(row["id"])

    assert seen == ["1", "2", "3", "4"]
    assert len(fake.requests) == 2


def test_suiteql_page_size_is_validated_before_any_request(fake, make_client):
    with pytest.raises(ValueError):
        make_client().suiteql("SELECT 1 FROM dual", page_size=5000)
    assert fake.requests == []


def test_suiteql_literals_cannot_inject():
    assert suiteql_literal("O'Brien") == "'O''Brien'"
    assert suiteql_literal("x' OR '1'='1") == "'x'' OR ''1''=''1'"
    assert suiteql_literal("") == "''"
    assert suiteql_in(["SKU-1", "O'Brien", "SKU-1"]) == "('SKU-1','O''Brien')"
    for bad in ["a\x00b", "line\nbreak", "tab\t", "\x7f"]:
        with pytest.raises(ValueError):
            suiteql_literal(bad)
    with pytest.raises(TypeError):
        suiteql_literal(5)
    with pytest.raises(ValueError):
        suiteql_in([])
    with pytest.raises(TypeError):
        suiteql_in("abc")


# --- errors, JSON, secrets ------------------------------------------------------------------------------


def response(status, body, headers=None):
    resp = requests.Response()
    resp.status_code = status
    resp._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    resp.headers.update(headers or {})
    resp.reason = "Reason"
    return resp


def test_error_mapping_covers_governance_codes_and_junk_bodies():
    blocked = error_from_response(
        response(400, {"o:errorDetails": [{"detail": "d", "o:errorCode": "WS_REQUEST_BLOCKED"}]})
    )
    assert isinstance(blocked, ConcurrencyLimitError) and blocked.retryable

    html = error_from_response(response(502, b"<html><body>Bad   gateway</body></html>"))
    assert isinstance(html, ServerError) and html.retryable
    assert html.code is None and "Bad gateway" in html.detail

    empty = error_from_response(response(404, b""))
    assert isinstance(empty, NotFoundError) and not empty.retryable

    conflict = error_from_response(response(409, {"title": "Conflict"}, {"X-N-OperationId": "op-1"}))
    assert isinstance(conflict, ValidationError) and not conflict.retryable
    assert conflict.request_id == "op-1"
    assert str(conflict) == "NetSuite 409: Conflict"

    assert isinstance(error_from_response(response(403, {})), AuthError)
    throttled = error_from_response(response(429, b"slow down", {"Retry-After": "2"}))
    assert isinstance(throttled, ConcurrencyLimitError) and throttled.retry_after == 2.0


def test_is_retryable_only_for_governance_5xx_timeouts_and_connection_errors():
    for code in ("CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED", "WS_REQUEST_BLOCKED"):
        mapped = error_from_response(response(400, {"o:errorDetails": [{"detail": "d", "o:errorCode": code}]}))
        assert isinstance(mapped, ConcurrencyLimitError) and is_retryable(mapped)
        assert is_retryable(NetSuiteError("hand-made", status=400, code=code))
    assert is_retryable(error_from_response(response(429, b"")))
    assert is_retryable(error_from_response(response(503, b"")))
    assert is_retryable(NetSuiteError("hand-made", status=502))
    assert is_retryable(TransportError("t", code="TIMEOUT"))
    assert is_retryable(requests.exceptions.ReadTimeout())
    assert is_retryable(requests.exceptions.ConnectionError())
    assert is_retryable(TimeoutError()) and is_retryable(ConnectionResetError())

    for status in (400, 401, 403, 404, 409):
        assert not is_retryable(error_from_response(response(status, {"title": "x"})))
    assert not is_retryable(NetSuiteError("bad url", code="REQUEST_ERROR"))
    assert not is_retryable(ValueError("x"))
    assert not is_retryable(SlotUnavailable())  # the task layer handles the limiter's own exception


def test_errors_survive_pickling():
    err = ValidationError("bad", status=400, code="USER_ERROR", request_id="r1")
    copy = pickle.loads(pickle.dumps(err))  # noqa: S301 - round-trips our own object
    assert type(copy) is ValidationError
    assert (copy.status, copy.code, copy.detail, copy.request_id) == (400, "USER_ERROR", "bad", "r1")
    assert str(copy) == str(err)


def test_json_encoding_keeps_decimal_digits():
    assert encode_json({"a": Decimal("409.94"), "b": [Decimal("1E+2"), 1, 1.5, None, True, "é"]}) == (
        '{"a":409.94,"b":[100,1,1.5,null,true,"é"]}'.encode()
    )
    awkward = {'quo"te': 'a"b\\c\n\u0001\u2028', "f": False, "t": True, "n": None, "nested": [{"é": "ü"}]}
    assert json.loads(encode_json(awkward)) == awkward  # escapes, bools and null as the stdlib reads them
    with pytest.raises(ValueError):
        encode_json({"a": Decimal("NaN")})
    with pytest.raises(TypeError):
        encode_json({"a": object()})


def test_secrets_never_reach_logs_reprs_or_errors(fake, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    fake.script(
        ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED", "blocked"),
        Reply(204, headers={"Location": "/x/1"}),
        ns_error(400, "USER_ERROR", "bad"),
    )
    client = make_client()
    client.upsert("customer", "shopify-customer-1", {"companyName": "Acme"}, correlation_id="corr-42")
    with pytest.raises(NetSuiteError) as caught:
        client.upsert("customer", "shopify-customer-1", {"companyName": "Acme"})

    signatures = [
        urllib.parse.unquote(r["headers"]["Authorization"].split('oauth_signature="')[1].split('"')[0])
        for r in fake.requests
    ]
    exposed = caplog.text + repr(client) + repr(client._auth) + str(caught.value) + repr(caught.value)
    for secret in [CONSUMER_SECRET, TOKEN_SECRET, *signatures]:
        assert secret not in exposed
        assert urllib.parse.quote(secret, safe="") not in exposed
    assert "Acme" not in caplog.text  # bodies stay out of logs too
    assert "shopify-customer-1" in caplog.text and "corr-42" in caplog.text


def test_a_read_that_finds_nothing_logs_as_a_call_a_refused_write_as_a_warning(fake, make_client, caplog):
    """A 404 on a GET is an answer the caller handles (a record not there yet): INFO, not WARNING; a 4xx on a write
    is something to look at."""
    caplog.set_level(logging.INFO, logger="netsuite_client")
    fake.script(ns_error(404, "NONEXISTENT_ID", "no such record"), ns_error(400, "USER_ERROR", "bad line"))
    client = make_client()
    with pytest.raises(NotFoundError):
        client.get("deposit", external_id="shopify-payout-1")
    with pytest.raises(NetSuiteError):
        client.upsert("deposit", "shopify-payout-1", {"memo": "x"})
    levels = {r.getMessage().split()[1]: r.levelname for r in caplog.records if r.getMessage().startswith("netsuite ")}
    assert levels == {"get": "INFO", "upsert": "WARNING"}
