"""Shopify bulk query operations: start one, poll it to completion, stream its JSONL result.

A bulk query runs a whole-shop read in the background on Shopify's side, without cursor paging and without
spending the cost bucket per page. The flow, as Shopify documents it:

1. `bulkOperationRunQuery(query:)` starts the operation (the inner query travels as a `String!` variable, so
   the outer document never changes and the inner one needs no escaping). A shop where this app already runs
   a bulk query refuses a second one with a user error ("... already in progress"): `run_bulk_query` then
   waits for that operation to end and asks again, within the same deadline.
2. `currentBulkOperation(type: QUERY)` reports the app's latest bulk query: CREATED, RUNNING, then COMPLETED
   (with `url`), or FAILED (with `errorCode`), CANCELED, EXPIRED. If the latest operation is no longer ours
   (another process of the same app started one meanwhile), ours is read by id through `node(id:)`.
3. The result is a JSONL file at a pre-signed storage URL (not the Admin API): one object per line, nested
   connection nodes on their own lines with `__parentId`. `iter_jsonl` streams it without the access token.

A bulk operation COMPLETED with no objects has no `url`: `BulkResult.url` is then None (nothing to read).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests

from .errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyServerError,
    ShopifyTransportError,
    user_error_from_payload,
)
from .graphql import GraphQLExecutor

__all__ = [
    "BULK_NODE_QUERY",
    "BULK_RUN_QUERY_MUTATION",
    "CURRENT_BULK_OPERATION_QUERY",
    "BulkResult",
    "ShopifyBulkTimeout",
    "iter_jsonl",
    "run_bulk_query",
]

logger = logging.getLogger("shopify_client.bulk")

BULK_RUN_QUERY_MUTATION = """
mutation BulkOperationRunQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message }
  }
}
"""

_BULK_FIELDS = "id status errorCode objectCount rootObjectCount fileSize url partialDataUrl"

CURRENT_BULK_OPERATION_QUERY = f"""
query CurrentBulkOperation {{
  currentBulkOperation(type: QUERY) {{ {_BULK_FIELDS} }}
}}
"""

BULK_NODE_QUERY = f"""
query BulkOperationById($id: ID!) {{
  node(id: $id) {{ ... on BulkOperation {{ {_BULK_FIELDS} }} }}
}}
"""

# Statuses after which the operation will not change again.
_RUNNING = frozenset({"CREATED", "RUNNING", "CANCELING"})
# errorCode values after which running the same query again may succeed (Shopify: "retry the operation").
_RETRYABLE_ERROR_CODES = frozenset({"INTERNAL_SERVER_ERROR"})
# Times the mutation is sent again after "already in progress", each after the other operation ended.
MAX_START_ATTEMPTS = 5
_IN_PROGRESS = "already in progress"


@dataclasses.dataclass(frozen=True, slots=True)
class BulkResult:
    """A COMPLETED bulk query. `url` is None when it matched nothing (Shopify writes no file then)."""

    id: str
    status: str
    object_count: int
    root_object_count: int
    url: str | None
    file_size: int | None = None
    partial_data_url: str | None = None


class ShopifyBulkTimeout(ShopifyError):
    """The bulk operation did not finish (or could not start) within the caller's timeout. Retryable: it may
    still be running on Shopify's side; `operation_id` names it (None if ours never started)."""

    _retryable = True

    def __init__(self, message: str, *, operation_id: str | None = None, **kwargs: Any) -> None:
        self.operation_id = operation_id
        kwargs.setdefault("code", "BULK_TIMEOUT")
        super().__init__(message, **kwargs)


def run_bulk_query(
    client: GraphQLExecutor,
    query: str,
    *,
    poll_interval: float = 1.0,
    timeout: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
) -> BulkResult:
    """Run `query` as a bulk operation and wait for it; the COMPLETED operation's counts and file URL.

    Raises ShopifyBulkTimeout (retryable) when `timeout` seconds pass first, ShopifyError carrying Shopify's
    `errorCode` (or the status) when it ends FAILED, CANCELED or EXPIRED (retryable only for
    INTERNAL_SERVER_ERROR), ShopifyUserError when the mutation is refused for another reason than a running
    operation. `session` is not used for the GraphQL calls (the client has its own); it is accepted so that
    callers can pass the same arguments here and to `iter_jsonl`.

    Time is counted both on the monotonic clock and as the sum of the sleeps, so an injected `sleep` that does
    not really sleep still reaches the timeout.
    """
    del session
    if not isinstance(query, str) or not query.strip():
        raise ValueError("query must be a non-empty GraphQL document")
    if poll_interval < 0 or timeout < 0:
        raise ValueError("poll_interval and timeout must not be negative")
    waiter = _Waiter(timeout, sleep, poll_interval)

    operation_id: str | None = None
    for attempt in range(1, MAX_START_ATTEMPTS + 1):
        data = client.execute(BULK_RUN_QUERY_MUTATION, {"query": query}, operation_name="BulkOperationRunQuery")
        payload = data.get("bulkOperationRunQuery") if isinstance(data, Mapping) else None
        if not isinstance(payload, Mapping):
            raise ShopifyError("bulkOperationRunQuery returned no payload", code="INVALID_RESPONSE")
        refused = user_error_from_payload(payload, operation="bulkOperationRunQuery")
        if refused is None:
            operation = payload.get("bulkOperation")
            operation_id = operation.get("id") if isinstance(operation, Mapping) else None
            if not isinstance(operation_id, str) or not operation_id:
                raise ShopifyError("bulkOperationRunQuery returned no operation id", code="INVALID_RESPONSE")
            break
        if not all(_IN_PROGRESS in d.message.lower() for d in refused.user_errors):
            raise refused
        logger.info("a bulk query is already running; waiting for it before starting ours (%d)", attempt)
        _wait_for_other(client, waiter)
    else:
        raise ShopifyBulkTimeout(
            f"bulk query not started: another one was still in progress after {MAX_START_ATTEMPTS} attempts"
        )

    logger.info("bulk query %s started", operation_id)
    while True:
        current = _current(client)
        if current is None or current.get("id") != operation_id:
            current = _by_id(client, operation_id)
        status = current.get("status")
        if status == "COMPLETED":
            return _result(current)
        if status not in _RUNNING:
            raise _ended_error(current, operation_id)
        if not waiter.wait():
            raise ShopifyBulkTimeout(
                f"bulk query {operation_id} still {status} after {timeout:g}s", operation_id=operation_id
            )


def iter_jsonl(
    url: str,
    *,
    session: requests.Session | None = None,
    timeout: float | tuple[float, float] = (3.05, 120),
    chunk_size: int = 64 * 1024,
) -> Iterator[dict[str, Any]]:
    """Each JSON object of the JSONL file at `url`, streamed line by line (memory stays flat).

    `url` is the pre-signed storage URL a bulk operation reports: it carries its own authorization, so no
    Shopify token is sent (and a token header on `session` is removed for this request). A 403/404/410 (the
    URL expired: results are kept seven days) is a non-retryable ShopifyError; a 5xx or a transport failure
    (also mid-file) a retryable one, after which the file must be read again from the start.
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"url must be an http(s) URL: {url!r}")
    own = session is None
    http = requests.Session() if session is None else session
    try:
        try:
            response = http.get(
                url,
                stream=True,
                timeout=timeout,
                # None removes a header the session may carry: the token must not travel to storage.
                headers={"X-Shopify-Access-Token": None, "Accept": "application/jsonl, */*"},
            )
        except requests.RequestException as exc:
            raise _download_error(exc) from None
        with response:
            if response.status_code != 200:
                detail = f"bulk result download answered HTTP {response.status_code}"
                if 500 <= response.status_code < 600:
                    raise ShopifyServerError(detail, status=response.status_code, code="BULK_FILE_UNAVAILABLE")
                raise ShopifyError(detail, status=response.status_code, code="BULK_FILE_UNAVAILABLE")
            number = 0
            try:
                for raw in response.iter_lines(chunk_size=chunk_size):
                    number += 1
                    if not raw or not raw.strip():
                        continue
                    try:
                        obj = json.loads(raw)
                    except ValueError:
                        raise ShopifyError(f"bulk result line {number} is not JSON", code="INVALID_RESPONSE") from None
                    if not isinstance(obj, dict):
                        raise ShopifyError(f"bulk result line {number} is not an object", code="INVALID_RESPONSE")
                    yield obj
            except requests.RequestException as exc:
                raise _download_error(exc) from None
    finally:
        if own:
            http.close()


# --- helpers --------------------------------------------------------------------------------------------


class _Waiter:
    """The shared deadline: elapsed time is the larger of the monotonic clock and the sleeps taken."""

    def __init__(self, timeout: float, sleep: Callable[[float], None], interval: float) -> None:
        self._timeout = timeout
        self._sleep = sleep
        self._interval = interval
        self._started = time.monotonic()
        self._slept = 0.0

    def elapsed(self) -> float:
        return max(time.monotonic() - self._started, self._slept)

    def wait(self) -> bool:
        """Sleep one interval (less if the deadline is nearer); False when the deadline has passed."""
        left = self._timeout - self.elapsed()
        if left <= 0:
            return False
        pause = min(self._interval, left)
        self._sleep(pause)
        self._slept += pause
        return True


def _current(client: GraphQLExecutor) -> Mapping[str, Any] | None:
    data = client.execute(CURRENT_BULK_OPERATION_QUERY, operation_name="CurrentBulkOperation")
    current = data.get("currentBulkOperation") if isinstance(data, Mapping) else None
    return current if isinstance(current, Mapping) else None


def _by_id(client: GraphQLExecutor, operation_id: str) -> Mapping[str, Any]:
    data = client.execute(BULK_NODE_QUERY, {"id": operation_id}, operation_name="BulkOperationById")
    node = data.get("node") if isinstance(data, Mapping) else None
    if not isinstance(node, Mapping) or node.get("id") != operation_id:
        raise ShopifyError(f"bulk operation {operation_id} not found", code="INVALID_RESPONSE")
    return node


def _wait_for_other(client: GraphQLExecutor, waiter: _Waiter) -> None:
    """Poll until the app's current bulk query is no longer running (or there is none)."""
    while True:
        current = _current(client)
        if current is None or current.get("status") not in _RUNNING:
            return
        if not waiter.wait():
            raise ShopifyBulkTimeout(
                f"another bulk query ({current.get('id')}) was still {current.get('status')} at the timeout"
            )


def _result(raw: Mapping[str, Any]) -> BulkResult:
    url = raw.get("url")
    partial = raw.get("partialDataUrl")
    return BulkResult(
        id=str(raw.get("id")),
        status="COMPLETED",
        object_count=_count(raw.get("objectCount")) or 0,
        root_object_count=_count(raw.get("rootObjectCount")) or 0,
        url=url if isinstance(url, str) and url else None,
        file_size=_count(raw.get("fileSize")),
        partial_data_url=partial if isinstance(partial, str) and partial else None,
    )


def _ended_error(raw: Mapping[str, Any], operation_id: str) -> ShopifyError:
    status = str(raw.get("status") or "UNKNOWN")
    error_code = raw.get("errorCode") if isinstance(raw.get("errorCode"), str) else None
    message = f"bulk query {operation_id} ended {status}" + (f" ({error_code})" if error_code else "")
    code = error_code or status
    if error_code in _RETRYABLE_ERROR_CODES:
        return ShopifyServerError(message, code=code)
    if error_code == "ACCESS_DENIED":
        return ShopifyAuthError(message, code=code)
    return ShopifyError(message, code=code)


def _count(value: Any) -> int | None:
    # UnsignedInt64 travels as a string.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _download_error(exc: requests.RequestException) -> ShopifyError:
    # Not chained, and without the URL: a pre-signed URL is a credential for the file.
    kind = type(exc).__name__
    if isinstance(exc, requests.Timeout):
        return ShopifyTransportError(f"bulk result download: {kind}", code="TIMEOUT")
    if isinstance(
        exc,
        requests.ConnectionError | requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError,
    ):
        return ShopifyTransportError(f"bulk result download: {kind}", code="CONNECTION_ERROR")
    return ShopifyError(f"bulk result download: {kind}", code="REQUEST_ERROR")
