"""The transport under every NetSuite operation: one logical call = attempts, retries and call records.

Retry policy lives here, not in callers: governance refusals (429 / CONCURRENCY_LIMIT_EXCEEDED...), 5xx,
timeouts and connection failures are retried with capped exponential backoff and full jitter; other 4xx are
raised on the first attempt. A failure that may already have taken effect (read timeout, 5xx) is only
retried for requests that are safe to repeat; see `Transport._call`.

Each attempt runs inside a slot of the (fleet-wide) limiter and reports its outcome to it before leaving the
slot. A limiter that cannot grant a slot raises its own exception (`SlotUnavailable`); the transport lets it
through untouched, unretried, so the task layer can reschedule.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import urllib.parse
import uuid
import weakref
from collections.abc import Callable, Generator, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

import backoff
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .encoding import encode_json
from .errors import ConcurrencyLimitError, NetSuiteError, TransportError, error_from_response
from .models import CallRecord, Outcome

__all__ = ["SlotHandle", "SlotLimiter", "Transport"]

logger = logging.getLogger("netsuite_client")

_MAX_TRANSPORT_DETAIL = 300

T = TypeVar("T")


# --- the limiter protocol -------------------------------------------------------------------------------


class SlotHandle(Protocol):
    """What a limiter slot yields: the client tells it how the attempt went before leaving the slot."""

    def report(self, outcome: str) -> None:
        """`outcome` is "ok" (2xx), "governance" (429 or a governance code) or "error" (anything else)."""
        ...


class SlotLimiter(Protocol):
    """A concurrency limiter: each HTTP attempt holds one slot of `lane` while it runs.

    `slot()` may raise (the shared limiter raises `SlotUnavailable` when no slot came free in time); the
    client never retries or wraps that.
    """

    def slot(self, lane: str = "live") -> AbstractContextManager[SlotHandle | None]: ...


class _NoLimiter:
    def slot(self, lane: str = "live") -> AbstractContextManager[SlotHandle | None]:
        return contextlib.nullcontext()


def _report(handle: object, outcome: str) -> None:
    # Limiters written to the older protocol yield None (or anything else): they simply get no report.
    report = getattr(handle, "report", None)
    if report is None:
        return
    try:
        report(outcome)
    except Exception:  # noqa: BLE001 - a limiter's bookkeeping failure must not fail a call NetSuite answered
        logger.exception("netsuite_client limiter report(%r) failed", outcome)


def _limiter_outcome(error: NetSuiteError | None) -> str:
    if error is None:
        return "ok"
    # error_from_response maps 429 and every governance code (whatever the status) to ConcurrencyLimitError.
    return "governance" if isinstance(error, ConcurrencyLimitError) else "error"


# --- transport errors -----------------------------------------------------------------------------------


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached NetSuite (so repeating it cannot duplicate anything)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError):
        return True
    if isinstance(exc, requests.exceptions.SSLError):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def _transport_error(exc: requests.RequestException) -> NetSuiteError:
    detail = f"{type(exc).__name__}: {exc}"[:_MAX_TRANSPORT_DETAIL]
    if isinstance(exc, requests.exceptions.Timeout):
        return TransportError(detail, code="TIMEOUT", ambiguous=not _never_sent(exc))
    if isinstance(exc, requests.exceptions.ConnectionError):
        return TransportError(detail, code="CONNECTION_ERROR", ambiguous=not _never_sent(exc))
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        return TransportError(detail, code="CONNECTION_ERROR", ambiguous=True)
    # InvalidURL, InvalidHeader and friends: a bug or bad configuration, not a transient fault.
    return NetSuiteError(detail, code="REQUEST_ERROR")


# --- one logical call -----------------------------------------------------------------------------------


@dataclasses.dataclass
class _Attempt:
    """What the current attempt of one logical call has observed, for its CallRecord."""

    internal_id: str | None
    attempt: int = 0
    http_status: int | None = None
    request_id: str | None = None
    duration_ms: int = 0
    # Set once an attempt failed in a way that may have reached NetSuite; see `missing_is_done`.
    maybe_applied: bool = False
    # Set once a 401 made the client drop its bearer token and try again; that happens once a call.
    reauthenticated: bool = False
    # A NetSuite code seen on a response that was accepted anyway (a replayed idempotency key).
    code: str | None = None

    def begin(self) -> None:
        """A new attempt: count it and forget what the previous one saw (but not what it may have done)."""
        self.attempt += 1
        self.http_status = None
        self.request_id = None
        self.code = None
        self.duration_ms = 0


@dataclasses.dataclass
class _Call:
    """One logical call: the request every attempt sends, what its call records name, and its attempt state."""

    operation: str
    method: str
    url: str
    params: Mapping[str, str] | None
    data: bytes | None
    headers: dict[str, str]
    lane: str
    record_type: str | None
    external_id: str | None
    correlation_id: str
    state: _Attempt


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


class Transport:
    """Configuration, pooled sessions and the call loop the operation groups of `NetSuiteClient` share.

    Thread-safe: each thread gets its own pooled `requests.Session`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        auth: requests.auth.AuthBase,
        session_factory: Callable[[], requests.Session] | None = None,
        timeout: tuple[float, float] = (3.05, 30.0),
        max_tries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        retry_after_max: float = 60.0,
        limiter: SlotLimiter | None = None,
        on_call: Callable[[CallRecord], None] | None = None,
        user_agent: str = "shopsync/0.1",
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"base_url must be an http(s) URL without query or fragment: {base_url!r}")
        if max_tries < 1:
            raise ValueError("max_tries must be at least 1")
        if backoff_base < 0 or backoff_max < 0 or retry_after_max < 0:
            raise ValueError("backoff_base, backoff_max and retry_after_max must not be negative")
        self.base_url = base_url.rstrip("/") + "/"
        self._auth = auth
        self._session_factory = session_factory
        self._timeout = timeout
        self._max_tries = max_tries
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._retry_after_max = retry_after_max
        self._limiter: SlotLimiter = limiter if limiter is not None else _NoLimiter()
        self._on_call = on_call
        self._user_agent = user_agent
        self._local = threading.local()
        self._sessions: weakref.WeakSet[requests.Session] = weakref.WeakSet()
        self._sessions_lock = threading.Lock()
        # What Session.request would merge in from the environment (proxies, CA bundle) for this host, read once:
        # requests reads it again on every send (twice), scanning the whole environment each time, which cost more
        # CPU than signing. Sessions then run with trust_env off and get these settings explicitly.
        with requests.Session() as probe:
            self._send_settings = probe.merge_environment_settings(self.base_url, {}, None, None, None)

    # -- sessions --

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._session_factory() if self._session_factory else requests.Session()
            session.trust_env = False  # the environment's settings are in self._send_settings
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

    # -- retry policy --

    def _wait_gen(self) -> Generator[float | None, Any, None]:
        # backoff sends each failure into the wait generator, which is how Retry-After reaches the delay.
        # Jitter is applied here (backoff's own jitter is disabled) so that Retry-After stays a floor
        # instead of being jittered down.
        ceilings = backoff.expo(factor=self._backoff_base, max_value=self._backoff_max)
        next(ceilings)
        err = yield None
        while True:
            delay = backoff.full_jitter(next(ceilings))
            if isinstance(err, NetSuiteError) and err.retry_after is not None:
                delay = max(delay, err.retry_after)
            err = yield delay

    def _gives_up(self, err: NetSuiteError, *, repeatable: bool) -> bool:
        if not err.retryable:
            return True
        if err.ambiguous and not repeatable:
            return True
        # A Retry-After longer than a worker should block: surface it (err.retry_after) so the task layer
        # can reschedule instead of pinning a process.
        return err.retry_after is not None and err.retry_after > self._retry_after_max

    # -- call records --

    def _emit(self, call: _Call, error: NetSuiteError | None, outcome: Outcome, wait: float | None = None) -> None:
        state = call.state
        record = CallRecord(
            operation=call.operation,
            method=call.method,
            record_type=call.record_type,
            external_id=call.external_id,
            internal_id=state.internal_id,
            http_status=state.http_status,
            error_code=error.code if error is not None else state.code,
            attempt=state.attempt,
            duration_ms=state.duration_ms,
            final=outcome != "retry",
            outcome=outcome,
            correlation_id=call.correlation_id,
            request_id=state.request_id,
        )
        # A read that finds nothing is an answer its caller handles (NotFoundError: a record not there yet), not a
        # fault to look at: logged as an ordinary call.
        looked_up = call.method == "GET" and state.http_status == 404
        level = logging.INFO if outcome == "ok" or looked_up else logging.WARNING
        if logger.isEnabledFor(level):  # the record's dict is built only for a line that is written
            self._log_call(call, record, level, outcome, wait)
        if self._on_call is not None:
            try:
                self._on_call(record)
            except Exception:  # noqa: BLE001 - a broken call log must not fail the NetSuite call
                logger.exception("netsuite_client on_call hook failed (corr=%s)", call.correlation_id)

    def _log_call(self, call: _Call, record: CallRecord, level: int, outcome: Outcome, wait: float | None) -> None:
        state = call.state
        logger.log(
            level,
            "netsuite %s %s %s eid=%s id=%s attempt=%d/%d status=%s code=%s %dms outcome=%s%s corr=%s",
            call.operation,
            call.method,
            call.record_type or "-",
            call.external_id or "-",
            state.internal_id or "-",
            state.attempt,
            self._max_tries,
            state.http_status if state.http_status is not None else "-",
            record.error_code or "-",
            state.duration_ms,
            outcome,
            f" wait={wait:.2f}s" if wait is not None else "",
            call.correlation_id,
            extra={"netsuite_call": dataclasses.asdict(record)},
        )

    # -- the call loop --

    def _call(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        parse: Callable[[requests.Response], tuple[T, str | None]],
        record_type: str | None = None,
        external_id: str | None = None,
        internal_id: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        extra_headers: Mapping[str, str] | None = None,
        repeatable: bool = True,
        missing_is_done: bool = False,
        accept: Callable[[requests.Response, NetSuiteError], bool] | None = None,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> T:
        """One logical call: attempts (each in a limiter slot, each re-signed), retries, records.

        `repeatable` says whether the request may be sent again after a failure that might already have
        taken effect; when False only failures known not to have run (governance refusals, connection
        refused) are retried. `missing_is_done` makes a 404 count as success once an earlier attempt may
        have landed (a DELETE whose first attempt timed out after NetSuite ran it). `accept` lets `parse`
        handle a non-2xx response it recognises (the replayed-idempotency-key 400) instead of raising.

        An auth with `invalidate()` (bearer tokens) gets one more try, at once, after a 401: the token may
        have been revoked or expired early, and a new one is cheap. An auth with `ensure_fresh()` gets it
        called before the slot is taken, so that fetching a token never holds a NetSuite slot.
        """
        headers = {"User-Agent": self._user_agent}
        data = None
        if body is not None:
            data = encode_json(body)
            headers["Content-Type"] = "application/json"
        if extra_headers:
            headers.update(extra_headers)
        call = _Call(
            operation=operation,
            method=method,
            url=self.base_url + path.lstrip("/"),
            params=params,
            data=data,
            headers=headers,
            lane=lane,
            record_type=record_type,
            external_id=external_id,
            correlation_id=correlation_id or uuid.uuid4().hex,
            state=_Attempt(internal_id=internal_id),
        )

        def attempt() -> T:
            return self._attempt(call, parse, missing_is_done=missing_is_done, accept=accept)

        return self._with_retries(attempt, call, repeatable=repeatable)()

    def _with_retries(self, attempt: Callable[[], T], call: _Call, *, repeatable: bool) -> Callable[[], T]:
        """`attempt` wrapped in the retry policy, each retry, success and give-up recorded."""
        return backoff.on_exception(
            self._wait_gen,
            NetSuiteError,
            max_tries=self._max_tries,
            jitter=None,
            giveup=lambda e: self._gives_up(e, repeatable=repeatable),
            on_success=lambda details: self._emit(call, None, "ok"),
            on_backoff=lambda details: self._emit(call, details["exception"], "retry", wait=details.get("wait")),
            on_giveup=lambda details: self._emit(call, details["exception"], "failed"),
            raise_on_giveup=True,
            logger=None,
        )(attempt)

    def _attempt(
        self,
        call: _Call,
        parse: Callable[[requests.Response], tuple[T, str | None]],
        *,
        missing_is_done: bool,
        accept: Callable[[requests.Response, NetSuiteError], bool] | None,
    ) -> T:
        """One attempt as the retry policy sees it: an exchange (two after a 401 that re-authenticates), parsed."""
        state = call.state
        while True:
            response, err = self._exchange(call)
            state.http_status = response.status_code
            if err is None:
                break
            state.request_id = err.request_id
            if missing_is_done and response.status_code == 404 and state.maybe_applied:
                return parse(response)[0]
            if accept is not None and accept(response, err):
                state.code = err.code
                break
            if self._reauthenticated(call, response, err):
                continue
            state.maybe_applied |= err.ambiguous
            raise err
        result, found_id = parse(response)
        if found_id:
            state.internal_id = found_id
        return result

    def _reauthenticated(self, call: _Call, response: requests.Response, err: NetSuiteError) -> bool:
        """After a first 401, drop a bearer token so the next exchange fetches a new one; whether it did."""
        invalidate = getattr(self._auth, "invalidate", None)
        if response.status_code != 401 or not callable(invalidate) or call.state.reauthenticated:
            return False
        # A 401 means NetSuite refused the request before running it, so even a create may go again.
        call.state.reauthenticated = True
        invalidate()
        self._emit(call, err, "retry", wait=0.0)
        return True

    def _exchange(self, call: _Call) -> tuple[requests.Response, NetSuiteError | None]:
        """One HTTP exchange in one limiter slot, its outcome reported before the slot is left."""
        call.state.begin()
        ensure_fresh = getattr(self._auth, "ensure_fresh", None)
        if callable(ensure_fresh):
            ensure_fresh()
        session = self._session()
        # Signed and encoded before the slot is taken: a slot of the account's pool is held only while the
        # request is on the wire. (TBA accepts a timestamp up to 5 minutes old; a slot wait is seconds.)
        prepared = session.prepare_request(
            requests.Request(
                call.method, call.url, params=call.params, data=call.data, headers=call.headers, auth=self._auth
            )
        )
        with self._limiter.slot(call.lane) as handle:
            response = self._send(session, prepared, self._send_settings, call.state, handle)
            error = None if 200 <= response.status_code < 300 else error_from_response(response)
            _report(handle, _limiter_outcome(error))
        return response, error

    def _send(
        self,
        session: requests.Session,
        prepared: requests.PreparedRequest,
        send_settings: dict[str, Any],
        state: _Attempt,
        handle: object,
    ) -> requests.Response:
        """Put a prepared request on the wire from inside its slot; a transport failure becomes a NetSuiteError."""
        # Timed from inside the slot: the call log measures NetSuite, not our own queueing.
        started = time.monotonic()
        try:
            response = session.send(prepared, timeout=self._timeout, allow_redirects=False, **send_settings)
        except BaseException as exc:
            state.duration_ms = _elapsed_ms(started)
            _report(handle, "error")
            if isinstance(exc, requests.RequestException):
                err = _transport_error(exc)
                state.maybe_applied |= err.ambiguous
                raise err from exc
            raise
        state.duration_ms = _elapsed_ms(started)
        return response
