"""Shopify Admin GraphQL client: cost-aware throttling, retries, per-attempt records.

The same code talks to a real shop (`https://{shop}/admin/api/{version}/graphql.json`) and to the local
simulator; only `url` and the token differ.

Shopify meters GraphQL with a leaky bucket of query cost per app and store. Every answer reports the bucket
(`extensions.cost.throttleStatus`), so the client keeps the latest report and, before sending, waits until the
bucket has restored enough for the query instead of sending a request Shopify would refuse. A THROTTLED answer
(nothing ran) waits as long as the answer's throttleStatus says the bucket needs (requested cost less what is
available, over the restore rate), plus a random spread, and goes again, under its own cap; 5xx and transport
failures are retried with capped exponential backoff and full jitter; everything else is raised at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import logging
import random
import threading
import time
import urllib.parse
import uuid
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Literal

import backoff
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .document_info import DocumentInfo, document_info
from .errors import (
    DEFAULT_THROTTLE_WAIT,
    ShopifyError,
    ShopifyThrottled,
    ShopifyTransportError,
    _cost_of,
    _NotJSON,
    _number,
    error_from_parts,
)

__all__ = ["ShopifyAdminClient", "ShopifyCallRecord", "ThrottleStatus"]

logger = logging.getLogger("shopify_client")

Outcome = Literal["ok", "retry", "failed"]

_MAX_TRANSPORT_DETAIL = 300
# Gate rounds before a request goes out regardless: other threads keep debiting the shared estimate, and a
# clock that does not move (a misconfigured fake) must not spin forever. Shopify stays the final judge.
_MAX_GATE_ROUNDS = 5
_MAX_LOGGED_IDS = 5
_POINT_TOLERANCE = 1e-6


@dataclasses.dataclass(frozen=True, slots=True)
class ThrottleStatus:
    """The bucket as Shopify last reported it, and when (on the client's clock)."""

    maximum_available: float
    currently_available: float
    restore_rate: float
    observed_at: float

    def available_at(self, now: float) -> float:
        """What the bucket should hold at `now`: the report plus what has leaked back in since, up to the max."""
        restored = max(0.0, now - self.observed_at) * self.restore_rate
        return min(self.maximum_available, self.currently_available + restored)


@dataclasses.dataclass(frozen=True, slots=True)
class ShopifyCallRecord:
    """One HTTP attempt against the Admin API, for the call log.

    A logical call yields one record per attempt, sharing `correlation_id`; the last has `final=True`.
    `throttle_wait` is the time spent waiting for the bucket before this attempt was sent; `wait` the time
    the client will sleep before the next attempt. `ids` are the gids/ids found in the variables (the only
    part of the variables ever recorded).
    """

    operation: str
    attempt: int
    http_status: int | None
    error_code: str | None
    cost_requested: float | None
    cost_actual: float | None
    available: float | None
    duration_ms: int
    outcome: Outcome
    final: bool
    correlation_id: str
    request_id: str | None = None
    wait: float | None = None
    throttle_wait: float = 0.0
    ids: tuple[str, ...] = ()


class _Secret:
    """Holds the access token so that no repr, vars() dump or debugger's locals view shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("the Shopify access token is not picklable")


class ShopifyAdminClient:
    """Shopify Admin GraphQL over one endpoint, thread-safe (one pooled `requests.Session` per thread).

    One instance per shop and process should be shared: the throttle state it learns from each answer is what
    lets it pace every thread against the one bucket Shopify keeps for the app and store.
    """

    def __init__(
        self,
        *,
        url: str,
        access_token: str,
        session_factory: Callable[[], requests.Session] | None = None,
        timeout: tuple[float, float] = (3.05, 30.0),
        max_tries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 10.0,
        min_available: float = 50.0,
        max_throttle_retries: int = 10,
        max_throttle_wait: float = 60.0,
        throttle_jitter: float = 0.25,
        throttle_spread: float = 0.0,
        on_call: Callable[[ShopifyCallRecord], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        user_agent: str = "shopsync/0.1",
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise ValueError(f"url must be an http(s) URL of the GraphQL endpoint: {url!r}")
        if not isinstance(access_token, str) or not access_token.strip():
            raise ValueError("access_token must be a non-empty string")
        if max_tries < 1 or max_throttle_retries < 0:
            raise ValueError("max_tries must be at least 1 and max_throttle_retries not negative")
        if min(backoff_base, backoff_max, min_available, max_throttle_wait, throttle_jitter, throttle_spread) < 0:
            raise ValueError("backoff, throttle and availability settings must not be negative")
        self.url = url
        self._token = _Secret(access_token)
        self._session_factory = session_factory
        self._timeout = timeout
        self._max_tries = max_tries
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._min_available = float(min_available)
        self._max_throttle_retries = max_throttle_retries
        self._max_throttle_wait = max_throttle_wait
        self._throttle_jitter = throttle_jitter
        self._throttle_spread = throttle_spread
        self._on_call = on_call
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._user_agent = user_agent
        self._lock = threading.Lock()
        self._throttle: ThrottleStatus | None = None
        # Requested cost last seen per operation name: the default expectation for its next call.
        self._cost_estimates: dict[str, float] = {}
        self._local = threading.local()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._sessions_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ShopifyAdminClient(url={self.url!r})"

    @property
    def throttle_status(self) -> ThrottleStatus | None:
        """The latest bucket report (as adjusted by this client's own reservations), or None before any."""
        with self._lock:
            return self._throttle

    # -- sessions --

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._session_factory() if self._session_factory else requests.Session()
            self._local.session = session
            with self._sessions_lock:
                self._sessions.add(session)
        return session

    def close(self) -> None:
        """Close every thread's pooled connections."""
        with self._sessions_lock:
            sessions = list(self._sessions)
            self._sessions.clear()
        for session in sessions:
            session.close()
        self._local = threading.local()

    def __enter__(self) -> ShopifyAdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the bucket --

    def _await_capacity(self, operation: str, expected_cost: float | None) -> float:
        """Sleep until the bucket should hold what this query needs, then reserve its cost; the time slept.

        The reservation lowers the shared estimate at once, so threads of this process that check the bucket
        before Shopify's next report see the points as spent and queue behind each other instead of all
        sending into a bucket that only has room for one.
        """
        waited = 0.0
        for _ in range(_MAX_GATE_ROUNDS):
            with self._lock:
                status = self._throttle
                if status is None:
                    return waited
                cost = expected_cost if expected_cost is not None else self._cost_estimates.get(operation, 0.0)
                now = self._clock()
                available = status.available_at(now)
                need = min(max(self._min_available, cost), status.maximum_available)
                # The tolerance absorbs float error: a wait computed to the point must not be followed by a
                # second one of a few femtoseconds.
                if available + _POINT_TOLERANCE >= need or status.restore_rate <= 0:
                    if cost > 0:
                        self._throttle = dataclasses.replace(
                            status, currently_available=available - cost, observed_at=now
                        )
                    return waited
                wait = (need - available) / status.restore_rate
                if waited + wait > self._max_throttle_wait:
                    # Let Shopify judge: a THROTTLED answer costs nothing and surfaces ShopifyThrottled with its
                    # own retry_after for the task layer to reschedule on, rather than pinning a worker here.
                    return waited
            logger.debug("shopify %s waiting %.2fs for the cost bucket (%.0f < %.0f)", operation, wait, available, need)
            self._sleep(wait)
            waited += wait
        return waited

    def _observe(self, operation: str, doc: Any) -> tuple[float | None, float | None, float | None]:
        """Learn from an answer's cost block: (requested, actual, currently available)."""
        cost = _cost_of(doc)
        if cost is None:
            return None, None, None
        requested = _number(cost.get("requestedQueryCost"))
        actual = _number(cost.get("actualQueryCost"))
        raw = cost.get("throttleStatus")
        raw = raw if isinstance(raw, Mapping) else {}
        maximum = _number(raw.get("maximumAvailable"))
        current = _number(raw.get("currentlyAvailable"))
        rate = _number(raw.get("restoreRate"))
        with self._lock:
            if requested is not None:
                self._cost_estimates[operation] = requested
            if maximum is not None and current is not None and rate is not None:
                # The newest report replaces our reservations: Shopify's count is the truth.
                self._throttle = ThrottleStatus(maximum, current, rate, observed_at=self._clock())
        return requested, actual, current

    # -- calls --

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        expected_cost: float | None = None,
        correlation_id: str | None = None,
    ) -> dict[str, Any]:
        """Run one GraphQL document; its `data`. Raises a `ShopifyError` subclass on failure.

        `expected_cost` is the query's requested cost if the caller knows it; otherwise the cost Shopify
        reported for the last call of the same operation is assumed. A mutation without an `@idempotent`
        directive is not sent again after a failure that may have applied it (5xx, read timeout).
        """
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty GraphQL document")
        info = document_info(query, operation_name)
        operation = operation_name or info.name or "anonymous"
        body = _request_body(query, variables, operation_name)
        headers = self._headers()
        corr = correlation_id or uuid.uuid4().hex
        ids = _loggable_ids(variables)

        retries = _Retries(self._backoff_base, self._backoff_max)
        attempt = 0
        while True:
            throttle_wait = self._await_capacity(operation, expected_cost)
            attempt += 1
            sent = self._send(operation, body, headers)
            seen = {
                "operation": operation,
                "attempt": attempt,
                "http_status": sent.status_code,
                "cost_requested": sent.requested,
                "cost_actual": sent.actual,
                "available": sent.available,
                "duration_ms": sent.duration_ms,
                "correlation_id": corr,
                "request_id": sent.request_id,
                "throttle_wait": round(throttle_wait, 3),
                "ids": ids,
            }
            err = sent.error
            if err is None:
                self._emit(ShopifyCallRecord(**seen, error_code=None, outcome="ok", final=True))
                return sent.doc["data"]
            self._redact(err)
            wait = self._retry_wait(err, info, retries)
            if wait is None:
                self._emit(ShopifyCallRecord(**seen, error_code=err.code, outcome="failed", final=True))
                raise err
            self._emit(ShopifyCallRecord(**seen, error_code=err.code, outcome="retry", final=False, wait=wait))
            self._sleep(wait)

    def _headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": self._user_agent,
            "X-Shopify-Access-Token": self._token.reveal(),
        }

    def _send(self, operation: str, body: bytes, headers: Mapping[str, str]) -> _Sent:
        """One HTTP attempt: what came back (or the transport failure), and what the answer says of the bucket."""
        sent = _Sent()
        started = time.monotonic()
        try:
            response = self._session().post(
                self.url,
                data=body,
                headers=headers,
                timeout=self._timeout,
                # A redirect would carry the token header to wherever it points.
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # Not chained: the requests exception holds the prepared request, token header included. Its
            # message (type, host, reason) is carried in ours.
            sent.error = _transport_error(exc)
        else:
            sent.status_code = response.status_code
            text = response.text or ""
            try:
                sent.doc = json.loads(text) if text.strip() else None
            except ValueError:
                sent.doc = _NotJSON()
            sent.requested, sent.actual, sent.available = self._observe(operation, sent.doc)
            sent.error = error_from_parts(
                sent.status_code, sent.doc, response.headers, text=text, reason=response.reason
            )
            sent.request_id = response.headers.get("X-Request-Id") or None
        sent.duration_ms = round((time.monotonic() - started) * 1000)
        return sent

    def _retry_wait(self, err: ShopifyError, info: DocumentInfo, retries: _Retries) -> float | None:
        """How long to wait before sending again after `err`; None when it is not to be sent again."""
        if isinstance(err, ShopifyThrottled):
            retries.throttles += 1
            base = err.retry_after if err.retry_after is not None else DEFAULT_THROTTLE_WAIT
            candidate = base + self._rng.uniform(0.0, self._throttle_window(err))
            if retries.throttles <= self._max_throttle_retries and candidate <= self._max_throttle_wait:
                return candidate
        elif err.retryable and (info.repeatable or not err.ambiguous):
            retries.failures += 1
            if retries.failures < self._max_tries:
                candidate = backoff.full_jitter(next(retries.ceilings))
                if err.retry_after is not None:
                    candidate = max(candidate, err.retry_after)
                if candidate <= self._max_throttle_wait:
                    return candidate
        return None

    def _throttle_window(self, err: ShopifyThrottled) -> float:
        """How widely the retry after a THROTTLED answer is spread past the wait the bucket needs.

        Clients that share the bucket but not this client's estimate (other processes, other hosts) are refused
        together and compute the same wait from the same report; coming back at one instant, all but one are
        refused again. With `throttle_spread` s, they come back over `s` times the query's own restore time
        (requested cost / restore rate): about as many retries as the bucket can take meanwhile.
        """
        window = self._throttle_jitter
        if self._throttle_spread and err.requested and err.restore_rate and err.restore_rate > 0:
            window = max(window, self._throttle_spread * err.requested / err.restore_rate)
        return window

    # -- records --

    def _redact(self, err: ShopifyError) -> None:
        token = self._token.reveal()
        if token in err.message:
            err.message = err.message.replace(token, "[redacted]")
            err.args = (str(err),)

    def _emit(self, record: ShopifyCallRecord) -> None:
        level = logging.INFO if record.outcome == "ok" else logging.WARNING
        logger.log(
            level,
            "shopify %s attempt=%d status=%s code=%s cost=%s/%s available=%s %dms outcome=%s%s%s ids=%s req=%s corr=%s",
            record.operation,
            record.attempt,
            record.http_status if record.http_status is not None else "-",
            record.error_code or "-",
            _fmt(record.cost_requested),
            _fmt(record.cost_actual),
            _fmt(record.available),
            record.duration_ms,
            record.outcome,
            f" wait={record.wait:.2f}s" if record.wait is not None else "",
            f" throttled_for={record.throttle_wait:.2f}s" if record.throttle_wait else "",
            ",".join(record.ids) or "-",
            record.request_id or "-",
            record.correlation_id,
            extra={"shopify_call": dataclasses.asdict(record)},
        )
        if self._on_call is not None:
            try:
                self._on_call(record)
            except Exception:  # noqa: BLE001 - a broken call log must not fail the Shopify call
                logger.exception("shopify_client on_call hook failed (corr=%s)", record.correlation_id)


# --- attempts -------------------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class _Sent:
    """One attempt's outcome: `error` None means `doc` holds the answer's data."""

    error: ShopifyError | None = None
    doc: Any = None
    status_code: int | None = None
    request_id: str | None = None
    requested: float | None = None
    actual: float | None = None
    available: float | None = None
    duration_ms: int = 0


class _Retries:
    """What one logical call has spent of its retries: backoff ceilings, failures and throttled answers."""

    def __init__(self, backoff_base: float, backoff_max: float) -> None:
        self.ceilings = backoff.expo(factor=backoff_base, max_value=backoff_max)
        next(self.ceilings)  # the generator's first value is the priming None
        self.failures = 0
        self.throttles = 0


def _request_body(query: str, variables: Mapping[str, Any] | None, operation_name: str | None) -> bytes:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = dict(variables)
    if operation_name is not None:
        payload["operationName"] = operation_name
    return json.dumps(payload, separators=(",", ":"), default=_json_default).encode("utf-8")


# --- logging and encoding -------------------------------------------------------------------------------


def _loggable_ids(variables: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Ids from the variables (keys `id`, `*Id`, `*_id`, `*Ids`): the only variable values fit for a log."""
    if not variables:
        return ()
    found: list[str] = []
    for key, value in variables.items():
        if not isinstance(key, str) or not (key == "id" or key.endswith(("Id", "_id", "Ids", "_ids"))):
            continue
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, int) and not isinstance(item, bool):
                found.append(str(item))
            elif isinstance(item, str) and item.startswith("gid://shopify/"):
                found.append(item)
            if len(found) >= _MAX_LOGGED_IDS:
                return tuple(found)
    return tuple(found)


def _json_default(value: Any) -> Any:
    # GraphQL's Decimal and DateTime scalars travel as strings; a float would round money.
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send non-finite Decimal {value!s}")
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} as a GraphQL variable")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


# --- transport failures ---------------------------------------------------------------------------------


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached Shopify, so repeating it cannot apply anything twice."""
    if isinstance(
        exc, requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError | requests.exceptions.SSLError
    ):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def _transport_error(exc: requests.RequestException) -> ShopifyError:
    detail = f"{type(exc).__name__}: {exc}"[:_MAX_TRANSPORT_DETAIL]
    if isinstance(exc, requests.exceptions.Timeout):
        return ShopifyTransportError(detail, code="TIMEOUT", ambiguous=not _never_sent(exc))
    if isinstance(exc, requests.exceptions.ConnectionError):
        return ShopifyTransportError(detail, code="CONNECTION_ERROR", ambiguous=not _never_sent(exc))
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return ShopifyTransportError(detail, code="CONNECTION_ERROR", ambiguous=True)
    # InvalidURL, InvalidHeader and friends: configuration, not a transient fault.
    return ShopifyError(detail, code="REQUEST_ERROR")
