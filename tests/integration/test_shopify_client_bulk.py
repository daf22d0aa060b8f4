"""Bulk queries (start, poll, stream the JSONL) against a small scripted HTTP server.

The server below is not the simulator: it answers the bulk documents of shopify_client.bulk from a script
(one list of `data` answers per operation name, the last one repeated), serves result files under /files/,
and records every request so the tests can check what was sent where.
"""

from __future__ import annotations

import json
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from shopify_client import (
    BulkResult,
    Level,
    ShopifyAdminClient,
    ShopifyAuthError,
    ShopifyBulkTimeout,
    ShopifyError,
    ShopifyServerError,
    ShopifyUserError,
    iter_jsonl,
    iter_levels_bulk,
    run_bulk_query,
)
from shopify_client import bulk as bulk_module
from shopify_client import inventory as inventory_module

TOKEN = "shpat_bulk_test_secret"
OP = "gid://shopify/BulkOperation/1001"
OTHER = "gid://shopify/BulkOperation/900"


def item_gid(n: int) -> str:
    return f"gid://shopify/InventoryItem/{n}"


def location_gid(n: int) -> str:
    return f"gid://shopify/Location/{n}"


def level_line(item: int, location: int, available: int, on_hand: int | None = None) -> dict[str, Any]:
    quantities = [{"name": "available", "quantity": available}]
    if on_hand is not None:
        quantities.append({"name": "on_hand", "quantity": on_hand})
    return {
        "location": {"id": location_gid(location)},
        "quantities": quantities,
        "updatedAt": "2026-11-20T10:00:00Z",
        "__parentId": item_gid(item),
    }


class FakeShopify:
    """Scripted GraphQL answers per operation name, and files (bytes, or a callable producing chunks)."""

    def __init__(self) -> None:
        self.script: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, bytes | Callable[[], Iterator[bytes]]] = {}
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.port = 0

    @property
    def graphql_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/admin/api/2026-04/graphql.json"

    def file_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/files/{name}?X-Goog-Signature=presigned"

    def answer(self, operation: str) -> dict[str, Any]:
        with self.lock:
            answers = self.script[operation]
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def calls(self, operation: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("operation") == operation]

    def downloads(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "GET"]


def make_handler(fake: FakeShopify) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            operation = body.get("operationName")
            fake.requests.append(
                {"method": "POST", "path": self.path, "headers": dict(self.headers), "operation": operation, **body}
            )
            doc = {
                "data": fake.answer(operation),
                "extensions": {
                    "cost": {
                        "requestedQueryCost": 10,
                        "actualQueryCost": 10,
                        "throttleStatus": {
                            "maximumAvailable": 2000.0,
                            "currentlyAvailable": 1990,
                            "restoreRate": 100.0,
                        },
                    }
                },
            }
            raw = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            fake.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
            name = self.path.split("?", 1)[0].removeprefix("/files/")
            content = fake.files.get(name)
            if content is None:
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if isinstance(content, int):
                self.send_response(content)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/jsonl")
            if isinstance(content, bytes):
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                return
            # No length: HTTP/1.0, the body ends when the connection closes.
            self.end_headers()
            for chunk in content():
                self.wfile.write(chunk)

    return Handler


@pytest.fixture
def fake() -> Iterator[FakeShopify]:
    state = FakeShopify()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(fake: FakeShopify) -> Iterator[ShopifyAdminClient]:
    with ShopifyAdminClient(url=fake.graphql_url, access_token=TOKEN, sleep=lambda s: None) as c:
        yield c


def started(op: str = OP) -> dict[str, Any]:
    return {"bulkOperationRunQuery": {"bulkOperation": {"id": op, "status": "CREATED"}, "userErrors": []}}


def in_progress() -> dict[str, Any]:
    return {
        "bulkOperationRunQuery": {
            "bulkOperation": None,
            "userErrors": [
                {
                    "field": None,
                    "message": f"A bulk query operation for this app and shop is already in progress: {OTHER}.",
                }
            ],
        }
    }


def current(status: str, op: str = OP, **fields: Any) -> dict[str, Any]:
    base = {
        "id": op,
        "status": status,
        "errorCode": None,
        "objectCount": "0",
        "rootObjectCount": "0",
        "fileSize": None,
        "url": None,
        "partialDataUrl": None,
    }
    base.update(fields)
    return {"currentBulkOperation": base}


def completed(fake: FakeShopify, name: str, objects: int = 0, roots: int = 0, op: str = OP) -> dict[str, Any]:
    return current(
        "COMPLETED", op, objectCount=str(objects), rootObjectCount=str(roots), fileSize="123", url=fake.file_url(name)
    )


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


# --- run_bulk_query -------------------------------------------------------------------------------------


def test_levels_bulk_polls_to_completion_and_maps_children_to_parents(
    fake: FakeShopify, client: ShopifyAdminClient
) -> None:
    fake.files["levels.jsonl"] = jsonl(
        [
            {"id": item_gid(1), "sku": "SKU-1"},
            level_line(1, 10, 5, 7),
            level_line(1, 20, 0, 2),
            {"id": item_gid(2), "sku": None},
            level_line(2, 10, -3),
            {"id": item_gid(3), "sku": "SKU-3"},  # an item stocked nowhere
            {"id": item_gid(4), "sku": "SKU-4"},
            level_line(4, 20, 11, 11),
        ]
    )
    fake.script["BulkOperationRunQuery"] = [started()]
    fake.script["CurrentBulkOperation"] = [
        current("CREATED"),
        current("RUNNING"),
        completed(fake, "levels.jsonl", objects=8, roots=4),
    ]
    sleeps = Sleeps()

    levels = list(iter_levels_bulk(client, poll_interval=0.5, sleep=sleeps))

    updated = "2026-11-20T10:00:00Z"
    assert levels == [
        Level(1, "SKU-1", 10, 5, 7, updated),
        Level(1, "SKU-1", 20, 0, 2, updated),
        Level(2, None, 10, -3, None, updated),
        Level(4, "SKU-4", 20, 11, 11, updated),
    ]
    assert sleeps.calls == [0.5, 0.5]
    (mutation,) = fake.calls("BulkOperationRunQuery")
    assert "bulkOperationRunQuery(query: $query)" in mutation["query"]
    assert mutation["variables"] == {"query": inventory_module.BULK_LEVELS_QUERY}
    assert len(fake.calls("CurrentBulkOperation")) == 3
    assert "currentBulkOperation(type: QUERY)" in fake.calls("CurrentBulkOperation")[0]["query"]
    assert all(r["headers"].get("X-Shopify-Access-Token") == TOKEN for r in fake.requests if r["method"] == "POST")
    (download,) = fake.downloads()
    assert download["path"] == "/files/levels.jsonl?X-Goog-Signature=presigned"
    assert "X-Shopify-Access-Token" not in download["headers"]
    assert TOKEN not in json.dumps(download["headers"])

    fake.script["BulkOperationRunQuery"] = [started()]
    fake.script["CurrentBulkOperation"] = [completed(fake, "levels.jsonl", objects=8, roots=4)]
    only = list(iter_levels_bulk(client, location_ids=[20], sleep=sleeps))
    assert only == [Level(1, "SKU-1", 20, 0, 2, updated), Level(4, "SKU-4", 20, 11, 11, updated)]


def test_run_bulk_query_returns_counts_and_url(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    fake.script["BulkOperationRunQuery"] = [started()]
    fake.script["CurrentBulkOperation"] = [current("RUNNING"), completed(fake, "x.jsonl", objects=12, roots=3)]
    result = run_bulk_query(client, "{ products { edges { node { id } } } }", sleep=Sleeps())
    assert result == BulkResult(
        id=OP, status="COMPLETED", object_count=12, root_object_count=3, url=fake.file_url("x.jsonl"), file_size=123
    )


def test_completed_without_file_yields_nothing(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    fake.script["BulkOperationRunQuery"] = [started()]
    fake.script["CurrentBulkOperation"] = [current("COMPLETED")]
    assert list(iter_levels_bulk(client, sleep=Sleeps())) == []
    assert fake.downloads() == []


@pytest.mark.parametrize(
    ("status", "error_code", "kind", "retryable"),
    [
        ("FAILED", "ACCESS_DENIED", ShopifyAuthError, False),
        ("FAILED", "TIMEOUT", ShopifyError, False),
        ("FAILED", "INTERNAL_SERVER_ERROR", ShopifyServerError, True),
        ("CANCELED", None, ShopifyError, False),
        ("EXPIRED", None, ShopifyError, False),
    ],
)
def test_operation_ending_badly_raises_with_its_error_code(
    fake: FakeShopify, client: ShopifyAdminClient, status: str, error_code: str | None, kind: type, retryable: bool
) -> None:
    fake.script["BulkOperationRunQuery"] = [started()]
    fake.script["CurrentBulkOperation"] = [current("RUNNING"), current(status, errorCode=error_code)]
    with pytest.raises(ShopifyError) as caught:
        run_bulk_query(client, "{ products { edges { node { id } } } }", sleep=Sleeps())
    assert type(caught.value) is kind
    assert caught.value.code == (error_code or status)
    assert caught.value.retryable is retryable
    assert OP in caught.value.message


def test_already_in_progress_waits_for_the_other_then_runs(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    fake.files["mine.jsonl"] = jsonl([{"id": item_gid(1), "sku": "A"}, level_line(1, 10, 4)])
    fake.script["BulkOperationRunQuery"] = [in_progress(), started()]
    fake.script["CurrentBulkOperation"] = [
        current("RUNNING", OTHER),
        current("RUNNING", OTHER),
        current("COMPLETED", OTHER, url=fake.file_url("theirs.jsonl")),
        current("RUNNING"),
        completed(fake, "mine.jsonl", objects=2, roots=1),
    ]
    sleeps = Sleeps()
    levels = list(iter_levels_bulk(client, poll_interval=2.0, sleep=sleeps))
    assert levels == [Level(1, "A", 10, 4, None, "2026-11-20T10:00:00Z")]
    assert len(fake.calls("BulkOperationRunQuery")) == 2
    assert sleeps.calls == [2.0, 2.0, 2.0]
    assert [d["path"].split("?")[0] for d in fake.downloads()] == ["/files/mine.jsonl"]


def test_already_in_progress_is_bounded_by_the_timeout(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    fake.script["BulkOperationRunQuery"] = [in_progress()]
    fake.script["CurrentBulkOperation"] = [current("RUNNING", OTHER)]
    sleeps = Sleeps()
    with pytest.raises(ShopifyBulkTimeout) as caught:
        run_bulk_query(client, "{ products { edges { node { id } } } }", poll_interval=1.0, timeout=3.0, sleep=sleeps)
    assert caught.value.retryable
    assert caught.value.operation_id is None
    assert sum(sleeps.calls) == pytest.approx(3.0)
    assert len(fake.calls("BulkOperationRunQuery")) == 1


def test_already_in_progress_gives_up_after_bounded_attempts(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    # The other operation always looks finished, yet the mutation keeps being refused.
    fake.script["BulkOperationRunQuery"] = [in_progress()]
    fake.script["CurrentBulkOperation"] = [current("COMPLETED", OTHER)]
    with pytest.raises(ShopifyBulkTimeout):
        run_bulk_query(client, "{ products { edges { node { id } } } }", sleep=Sleeps())
    assert len(fake.calls("BulkOperationRunQuery")) == bulk_module.MAX_START_ATTEMPTS


def test_other_user_error_is_raised(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    fake.script["BulkOperationRunQuery"] = [
        {
            "bulkOperationRunQuery": {
                "bulkOperation": None,
                "userErrors": [{"field": ["query"], "message": "Invalid bulk query: no connection field"}],
            }
        }
    ]
    with pytest.raises(ShopifyUserError) as caught:
        run_bulk_query(client, "{ shop { id } }", sleep=Sleeps())
    assert not caught.value.retryable
    assert fake.calls("CurrentBulkOperation") == []


def test_timeout_is_a_retryable_error_naming_the_operation(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    fake.script["BulkOperationRunQuery"] = [started()]
    fake.script["CurrentBulkOperation"] = [current("RUNNING")]
    sleeps = Sleeps()
    with pytest.raises(ShopifyBulkTimeout) as caught:
        run_bulk_query(client, "{ products { edges { node { id } } } }", poll_interval=2.0, timeout=5.0, sleep=sleeps)
    assert caught.value.retryable
    assert caught.value.operation_id == OP
    assert caught.value.code == "BULK_TIMEOUT"
    assert sleeps.calls == [2.0, 2.0, 1.0]


def test_ours_is_read_by_id_when_another_became_current(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    fake.script["BulkOperationRunQuery"] = [started()]
    fake.script["CurrentBulkOperation"] = [current("RUNNING", "gid://shopify/BulkOperation/2000")]
    fake.script["BulkOperationById"] = [
        {"node": current("RUNNING")["currentBulkOperation"]},
        {"node": completed(fake, "x.jsonl", objects=1, roots=1)["currentBulkOperation"]},
    ]
    result = run_bulk_query(client, "{ products { edges { node { id } } } }", sleep=Sleeps())
    assert result.id == OP and result.url == fake.file_url("x.jsonl")
    assert [c["variables"] for c in fake.calls("BulkOperationById")] == [{"id": OP}, {"id": OP}]


# --- iter_jsonl and the parent/child stream -------------------------------------------------------------


def test_iter_jsonl_never_sends_the_token_even_from_a_session(fake: FakeShopify) -> None:
    fake.files["f.jsonl"] = b'{"a": 1}\n\n{"b": [2]}\n'
    session = requests.Session()
    session.headers["X-Shopify-Access-Token"] = TOKEN
    assert list(iter_jsonl(fake.file_url("f.jsonl"), session=session)) == [{"a": 1}, {"b": [2]}]
    (download,) = fake.downloads()
    assert "X-Shopify-Access-Token" not in download["headers"]
    session.close()


@pytest.mark.parametrize(("status", "retryable"), [(403, False), (404, False), (503, True)])
def test_iter_jsonl_http_errors(fake: FakeShopify, status: int, retryable: bool) -> None:
    fake.files["gone.jsonl"] = status  # type: ignore[assignment]
    with pytest.raises(ShopifyError) as caught:
        list(iter_jsonl(fake.file_url("gone.jsonl")))
    assert caught.value.status == status
    assert caught.value.retryable is retryable
    assert "presigned" not in str(caught.value)


def test_iter_jsonl_bad_line(fake: FakeShopify) -> None:
    fake.files["bad.jsonl"] = b'{"a": 1}\nnot json\n'
    lines = iter_jsonl(fake.file_url("bad.jsonl"))
    assert next(lines) == {"a": 1}
    with pytest.raises(ShopifyError, match="line 2") as caught:
        next(lines)
    assert caught.value.code == "INVALID_RESPONSE"


def test_child_before_its_parent_is_refused(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    fake.files["orphan.jsonl"] = jsonl([level_line(9, 10, 1), {"id": item_gid(9), "sku": "NINE"}])
    fake.script["BulkOperationRunQuery"] = [started()]
    fake.script["CurrentBulkOperation"] = [completed(fake, "orphan.jsonl")]
    with pytest.raises(ShopifyError) as caught:
        list(iter_levels_bulk(client, sleep=Sleeps()))
    assert caught.value.code == "INVALID_RESPONSE"


def test_child_after_a_later_parent_still_finds_its_sku(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    fake.files["interleaved.jsonl"] = jsonl(
        [{"id": item_gid(1), "sku": "A"}, {"id": item_gid(2), "sku": "B"}, level_line(2, 10, 2), level_line(1, 10, 1)]
    )
    fake.script["BulkOperationRunQuery"] = [started()]
    fake.script["CurrentBulkOperation"] = [completed(fake, "interleaved.jsonl")]
    levels = list(iter_levels_bulk(client, sleep=Sleeps()))
    assert [(lv.inventory_item_id, lv.sku) for lv in levels] == [(2, "B"), (1, "A")]


def test_streams_a_100k_line_file_with_flat_memory(fake: FakeShopify, client: ShopifyAdminClient) -> None:
    items = 25_000  # each with 3 levels: 100,000 lines

    def generate() -> Iterator[bytes]:
        chunk: list[bytes] = []
        for n in range(1, items + 1):
            chunk.append(json.dumps({"id": item_gid(n), "sku": f"SKU-{n:06d}"}).encode() + b"\n")
            for location in (1, 2, 3):
                chunk.append(json.dumps(level_line(n, location, n % 50, n % 60)).encode() + b"\n")
            if len(chunk) >= 400:
                yield b"".join(chunk)
                chunk = []
        yield b"".join(chunk)

    fake.files["big.jsonl"] = generate
    fake.script["BulkOperationRunQuery"] = [started()]
    fake.script["CurrentBulkOperation"] = [completed(fake, "big.jsonl", objects=100_000, roots=items)]

    count = 0
    per_location = {1: 0, 2: 0, 3: 0}
    last: Level | None = None
    tracemalloc.start()
    try:
        for level in iter_levels_bulk(client, location_ids=[1, 2, 3], sleep=Sleeps()):
            count += 1
            per_location[level.location_id] += 1
            last = level
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 3 * items
    assert per_location == {1: items, 2: items, 3: items}
    assert last == Level(items, f"SKU-{items:06d}", 3, items % 50, items % 60, "2026-11-20T10:00:00Z")
    # The file is ~14 MB; holding it (or every Level) would show in the peak. Streaming stays far below.
    print(f"peak traced memory: {peak / 1e6:.2f} MB")
    assert peak < 4 * 1024 * 1024
