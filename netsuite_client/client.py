"""NetSuite REST record and SuiteQL client.

The same code talks to a real account (`https://<acct>.suitetalk.api.netsuite.com/services/rest`) and to the
local simulator (`http://127.0.0.1:<port>/services/rest`); only `base_url` and `auth` differ.

Retry policy lives here, not in callers: governance refusals (429 / CONCURRENCY_LIMIT_EXCEEDED...), 5xx,
timeouts and connection failures are retried with capped exponential backoff and full jitter; other 4xx are
raised on the first attempt. A failure that may already have taken effect (read timeout, 5xx) is only
retried for requests that are safe to repeat; see `_call`.

Each attempt runs inside a slot of the (fleet-wide) limiter and reports its outcome to it before leaving the
slot. A limiter that cannot grant a slot raises its own exception (`SlotUnavailable`); the client lets it
through untouched, unretried, so the task layer can reschedule.
"""

from __future__ import annotations

import contextlib
import dataclasses
import decimal
import json
import logging
import math
import re
import threading
import time
import unicodedata
import urllib.parse
import uuid
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

import backoff
import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .errors import (
    AsyncJobTimeoutError,
    ConcurrencyLimitError,
    NetSuiteError,
    SuiteQLLimitError,
    TransportError,
    error_from_parts,
    error_from_response,
)
from .models import AsyncJob, AsyncResult, CallRecord, Outcome

__all__ = [
    "SUITEQL_MAX_PAGE_SIZE",
    "SUITEQL_MAX_ROWS",
    "NetSuiteClient",
    "SlotHandle",
    "SlotLimiter",
    "encode_json",
    "suiteql_in",
    "suiteql_literal",
]

logger = logging.getLogger("netsuite_client")

SUITEQL_MAX_PAGE_SIZE = 1000
SUITEQL_MAX_ROWS = 100_000
# Oracle rejects an IN list longer than this (ORA-01795), and SuiteQL inherits it.
SUITEQL_MAX_IN_ITEMS = 1000

_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_INTERNAL_ID = re.compile(r"^[0-9]+$")
# Record types, sublists and field names become path segments and query values: a strict shape keeps a
# caller's data from ever steering the URL ("../", "?", "#").
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MAX_TRANSPORT_DETAIL = 300

T = TypeVar("T")


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


# --- JSON -----------------------------------------------------------------------------------------------


def encode_json(value: Any) -> bytes:
    """UTF-8 JSON for a request body; `Decimal` values become JSON numbers with their exact digits.

    The stdlib encoder can only emit a Decimal as a string or via float (409.94 must not become
    409.93999999999999773), so bodies are rendered by this small encoder instead.
    """
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def _encode(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool | str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send non-finite Decimal {value!s} to NetSuite")
        # "f" keeps every digit and never uses an exponent, which some NetSuite fields refuse.
        out.append(format(value, "f"))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot send non-finite float {value!r} to NetSuite")
        out.append(float.__repr__(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be str, got {type(key).__name__}")
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON for NetSuite")


# --- SuiteQL literals -----------------------------------------------------------------------------------


def suiteql_literal(value: str) -> str:
    """A SuiteQL string literal for `value`: `O'Brien` -> `'O''Brien'`.

    SuiteQL over REST has no bind parameters, so every SKU, email or external id placed in a query must
    go through here. Control characters (NUL included) are refused rather than escaped: no legitimate key
    contains them and some layers truncate at NUL.
    """
    if not isinstance(value, str):
        raise TypeError(f"suiteql_literal expects str, got {type(value).__name__}")
    for ch in value:
        if unicodedata.category(ch) == "Cc":
            raise ValueError("SuiteQL literal contains a control character")
    return "'" + value.replace("'", "''") + "'"


def suiteql_in(values: Iterable[str]) -> str:
    """A parenthesised list of SuiteQL literals for `IN`: `('a','b')`. Duplicates are dropped."""
    if isinstance(values, str):
        raise TypeError("suiteql_in expects an iterable of str, not a single str")
    literals = list(dict.fromkeys(suiteql_literal(v) for v in values))
    if not literals:
        raise ValueError("suiteql_in needs at least one value (IN () is not valid SuiteQL)")
    if len(literals) > SUITEQL_MAX_IN_ITEMS:
        raise ValueError(f"suiteql_in accepts at most {SUITEQL_MAX_IN_ITEMS} values; split the query")
    return "(" + ",".join(literals) + ")"


# --- validation helpers ---------------------------------------------------------------------------------


def _check_identifier(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise ValueError(f"invalid NetSuite {kind}: {value!r}")
    return value


def _check_external_id(external_id: str) -> str:
    if not isinstance(external_id, str) or not _EXTERNAL_ID.match(external_id):
        raise ValueError(f"external id must be letters, digits, '_' or '-': {external_id!r}")
    return external_id


def _record_ref(ref: str | int) -> tuple[str, str | None, str | None]:
    """(path segment, internal id, external id) for an internal id or an `eid:<externalId>` reference."""
    if isinstance(ref, bool):
        raise TypeError("record id must be an int or str, not bool")
    if isinstance(ref, int):
        if ref <= 0:
            raise ValueError(f"invalid NetSuite internal id: {ref!r}")
        return str(ref), str(ref), None
    if isinstance(ref, str):
        if _INTERNAL_ID.match(ref):
            return ref, ref, None
        if ref.startswith("eid:"):
            eid = _check_external_id(ref[4:])
            return ref, None, eid
    raise ValueError(f"invalid NetSuite record id (internal id or 'eid:<externalId>'): {ref!r}")


def _replace_params(replace: Sequence[str]) -> dict[str, str]:
    if isinstance(replace, str):
        replace = (replace,)
    names = [_check_identifier("sublist", name) for name in replace]
    return {"replace": ",".join(names)} if names else {}


def _appends_lines(body: Mapping[str, Any], replace: Sequence[str]) -> bool:
    """Whether sending `body` twice could add sublist lines twice.

    Lines sent without `?replace=<sublist>` are added, not matched, unless they carry their key; so
    repeating such a request after an ambiguous failure would duplicate them.
    """
    replaced = {replace} if isinstance(replace, str) else set(replace)
    for name, value in body.items():
        if isinstance(value, Mapping) and isinstance(value.get("items"), list) and name not in replaced:
            return True
    return False


def _location_id(response: requests.Response) -> str | None:
    location = response.headers.get("Location")
    if not location:
        return None
    last = urllib.parse.urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    return last if _INTERNAL_ID.match(last) else None


def _json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise NetSuiteError(
            "response body is not JSON",
            status=response.status_code,
            code="INVALID_RESPONSE",
        ) from None


def _strip_links(row: Any) -> Any:
    if isinstance(row, dict):
        row = dict(row)
        row.pop("links", None)
    return row


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


# --- the client -----------------------------------------------------------------------------------------


class NetSuiteClient:
    """NetSuite REST records + SuiteQL, with retries, a pluggable concurrency limiter and per-attempt records.

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

    def __repr__(self) -> str:
        return f"NetSuiteClient(base_url={self.base_url!r}, auth={self._auth!r})"

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

    def __enter__(self) -> NetSuiteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- retry machinery --

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

    def _emit(
        self,
        *,
        operation: str,
        method: str,
        record_type: str | None,
        external_id: str | None,
        state: _Attempt,
        error: NetSuiteError | None,
        outcome: Outcome,
        correlation_id: str,
        wait: float | None = None,
    ) -> None:
        record = CallRecord(
            operation=operation,
            method=method,
            record_type=record_type,
            external_id=external_id,
            internal_id=state.internal_id,
            http_status=state.http_status,
            error_code=error.code if error is not None else state.code,
            attempt=state.attempt,
            duration_ms=state.duration_ms,
            final=outcome != "retry",
            outcome=outcome,
            correlation_id=correlation_id,
            request_id=state.request_id,
        )
        level = logging.INFO if outcome == "ok" else logging.WARNING
        logger.log(
            level,
            "netsuite %s %s %s eid=%s id=%s attempt=%d/%d status=%s code=%s %dms outcome=%s%s corr=%s",
            operation,
            method,
            record_type or "-",
            external_id or "-",
            state.internal_id or "-",
            state.attempt,
            self._max_tries,
            state.http_status if state.http_status is not None else "-",
            record.error_code or "-",
            state.duration_ms,
            outcome,
            f" wait={wait:.2f}s" if wait is not None else "",
            correlation_id,
            extra={"netsuite_call": dataclasses.asdict(record)},
        )
        if self._on_call is not None:
            try:
                self._on_call(record)
            except Exception:  # noqa: BLE001 - a broken call log must not fail the NetSuite call
                logger.exception("netsuite_client on_call hook failed (corr=%s)", correlation_id)

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
        corr = correlation_id or uuid.uuid4().hex
        url = self.base_url + path.lstrip("/")
        headers = {"User-Agent": self._user_agent}
        data = None
        if body is not None:
            data = encode_json(body)
            headers["Content-Type"] = "application/json"
        if extra_headers:
            headers.update(extra_headers)
        state = _Attempt(internal_id=internal_id)
        info = {
            "operation": operation,
            "method": method,
            "record_type": record_type,
            "external_id": external_id,
            "state": state,
            "correlation_id": corr,
        }

        ensure_fresh = getattr(self._auth, "ensure_fresh", None)
        invalidate = getattr(self._auth, "invalidate", None)

        def exchange() -> tuple[requests.Response, NetSuiteError | None]:
            """One HTTP exchange in one limiter slot, its outcome reported before the slot is left."""
            state.attempt += 1
            state.http_status = None
            state.request_id = None
            state.code = None
            state.duration_ms = 0
            if callable(ensure_fresh):
                ensure_fresh()
            session = self._session()
            # Signed and encoded before the slot is taken: a slot of the account's pool is held only while the
            # request is on the wire. (TBA accepts a timestamp up to 5 minutes old; a slot wait is seconds.)
            prepared = session.prepare_request(
                requests.Request(method, url, params=params, data=data, headers=headers, auth=self._auth)
            )
            # What Session.request would merge in (proxies, CA bundle from the environment), kept for send().
            send_settings = session.merge_environment_settings(prepared.url, {}, None, None, None)
            with self._limiter.slot(lane) as handle:
                # Timed from inside the slot: the call log measures NetSuite, not our own queueing.
                started = time.monotonic()
                try:
                    response = session.send(prepared, timeout=self._timeout, allow_redirects=False, **send_settings)
                except BaseException as exc:
                    state.duration_ms = round((time.monotonic() - started) * 1000)
                    _report(handle, "error")
                    if isinstance(exc, requests.RequestException):
                        err = _transport_error(exc)
                        state.maybe_applied |= err.ambiguous
                        raise err from exc
                    raise
                state.duration_ms = round((time.monotonic() - started) * 1000)
                error = None if 200 <= response.status_code < 300 else error_from_response(response)
                _report(handle, _limiter_outcome(error))
            return response, error

        def attempt() -> T:
            while True:
                response, err = exchange()
                state.http_status = response.status_code
                if err is None:
                    break
                state.request_id = err.request_id
                if missing_is_done and response.status_code == 404 and state.maybe_applied:
                    return parse(response)[0]
                if accept is not None and accept(response, err):
                    state.code = err.code
                    break
                if response.status_code == 401 and callable(invalidate) and not state.reauthenticated:
                    # A 401 means NetSuite refused the request before running it, so even a create may go again.
                    state.reauthenticated = True
                    invalidate()
                    self._emit(**info, error=err, outcome="retry", wait=0.0)
                    continue
                state.maybe_applied |= err.ambiguous
                raise err
            result, found_id = parse(response)
            if found_id:
                state.internal_id = found_id
            return result

        def on_success(details: dict[str, Any]) -> None:
            self._emit(**info, error=None, outcome="ok")

        def on_backoff(details: dict[str, Any]) -> None:
            self._emit(**info, error=details["exception"], outcome="retry", wait=details.get("wait"))

        def on_giveup(details: dict[str, Any]) -> None:
            self._emit(**info, error=details["exception"], outcome="failed")

        retrying = backoff.on_exception(
            self._wait_gen,
            NetSuiteError,
            max_tries=self._max_tries,
            jitter=None,
            giveup=lambda e: self._gives_up(e, repeatable=repeatable),
            on_success=on_success,
            on_backoff=on_backoff,
            on_giveup=on_giveup,
            raise_on_giveup=True,
            logger=None,
        )(attempt)
        return retrying()

    # -- records --

    def upsert(
        self,
        record_type: str,
        external_id: str,
        body: Mapping[str, Any],
        *,
        replace: Sequence[str] = (),
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> str | None:
        """Create or update the record whose external id is `external_id`; the internal id if NetSuite says.

        `PUT record/v1/<type>/eid:<externalId>`. On an existing transaction, sublist lines without their
        `line` key are added, so pass `replace=("item",)` when sending a full set of lines.
        """
        _check_upsert(record_type, external_id, body)
        return self._call(
            operation="upsert",
            method="PUT",
            path=f"record/v1/{record_type}/eid:{external_id}",
            params=_replace_params(replace),
            body=body,
            parse=lambda r: (_location_id(r), _location_id(r)),
            record_type=record_type,
            external_id=external_id,
            repeatable=not _appends_lines(body, replace),
            correlation_id=correlation_id,
            lane=lane,
        )

    def create(
        self,
        record_type: str,
        body: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> str:
        """`POST record/v1/<type>`; the new record's internal id.

        Not retried after a failure that may have created the record (read timeout, 5xx): prefer `upsert`
        with an external id wherever the record type allows it.
        """
        _check_identifier("record type", record_type)
        if not isinstance(body, Mapping):
            raise TypeError("create body must be a mapping")
        eid = body.get("externalId")
        return self._call(
            operation="create",
            method="POST",
            path=f"record/v1/{record_type}",
            body=body,
            parse=_require_location,
            record_type=record_type,
            external_id=eid if isinstance(eid, str) else None,
            repeatable=False,
            correlation_id=correlation_id,
            lane=lane,
        )

    def get(
        self,
        record_type: str,
        id_or_eid: str | int | None = None,
        *,
        external_id: str | None = None,
        fields: Sequence[str] | None = None,
        expand_sub_resources: bool = False,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> dict[str, Any]:
        """`GET record/v1/<type>/<id>` by internal id (or `eid:...`), or by `external_id=`."""
        _check_identifier("record type", record_type)
        if (id_or_eid is None) == (external_id is None):
            raise ValueError("pass exactly one of an internal id or external_id=")
        ref = id_or_eid if id_or_eid is not None else "eid:" + _check_external_id(str(external_id))
        segment, internal_id, eid = _record_ref(ref)
        params: dict[str, str] = {}
        if fields:
            names = [fields] if isinstance(fields, str) else list(fields)
            params["fields"] = ",".join(_check_identifier("field", f) for f in names)
        if expand_sub_resources:
            params["expandSubResources"] = "true"

        def parse(response: requests.Response) -> tuple[dict[str, Any], str | None]:
            doc = _json_body(response)
            if not isinstance(doc, dict):
                raise NetSuiteError("record response is not an object", status=200, code="INVALID_RESPONSE")
            found = doc.get("id")
            return doc, str(found) if found is not None else None

        return self._call(
            operation="get",
            method="GET",
            path=f"record/v1/{record_type}/{segment}",
            params=params,
            parse=parse,
            record_type=record_type,
            external_id=eid,
            internal_id=internal_id,
            correlation_id=correlation_id,
            lane=lane,
        )

    def get_sublist(
        self,
        record_type: str,
        id: str | int,
        sublist: str = "item",
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> list[dict[str, Any]]:
        """The lines of a sublist (`GET record/v1/<type>/<id>/<sublist>`), each with its `line` key.

        Asks for expanded lines: without `expandSubResources` NetSuite may answer with links only. A line
        that lacks `line` gets it from its self link (`.../item/<line>`).
        """
        _check_identifier("record type", record_type)
        _check_identifier("sublist", sublist)
        segment, internal_id, eid = _record_ref(id)

        def parse(response: requests.Response) -> tuple[list[dict[str, Any]], None]:
            doc = _json_body(response)
            items = doc.get("items") if isinstance(doc, dict) else doc
            if not isinstance(items, list):
                raise NetSuiteError("sublist response has no items", status=200, code="INVALID_RESPONSE")
            return [_sublist_line(item) for item in items if isinstance(item, dict)], None

        return self._call(
            operation="get_sublist",
            method="GET",
            path=f"record/v1/{record_type}/{segment}/{sublist}",
            params={"expandSubResources": "true"},
            parse=parse,
            record_type=record_type,
            external_id=eid,
            internal_id=internal_id,
            correlation_id=correlation_id,
            lane=lane,
        )

    def list_ids(
        self,
        record_type: str,
        *,
        limit: int = SUITEQL_MAX_PAGE_SIZE,
        offset: int = 0,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> list[str]:
        """Internal ids of one page of a record type's instances (`GET record/v1/<type>?limit=&offset=`).

        Needs the View level of the record type's permission and nothing more, which makes `limit=1` the
        cheapest read that proves the role holds it (a role without it gets 403 INSUFFICIENT_PERMISSION).
        """
        _check_identifier("record type", record_type)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= SUITEQL_MAX_PAGE_SIZE:
            raise ValueError(f"limit must be an int between 1 and {SUITEQL_MAX_PAGE_SIZE}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError("offset must be a non-negative int")

        def parse(response: requests.Response) -> tuple[list[str], None]:
            doc = _json_body(response)
            items = doc.get("items") if isinstance(doc, dict) else None
            if not isinstance(items, list):
                raise NetSuiteError("collection response has no items", status=200, code="INVALID_RESPONSE")
            return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id") is not None], None

        return self._call(
            operation="list",
            method="GET",
            path=f"record/v1/{record_type}",
            params={"limit": str(limit), "offset": str(offset)},
            parse=parse,
            record_type=record_type,
            correlation_id=correlation_id,
            lane=lane,
        )

    def patch(
        self,
        record_type: str,
        id: str | int,
        body: Mapping[str, Any],
        *,
        replace: Sequence[str] = (),
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> None:
        """`PATCH record/v1/<type>/<id>` (+ `?replace=<sublists>`)."""
        _check_identifier("record type", record_type)
        if not isinstance(body, Mapping):
            raise TypeError("patch body must be a mapping")
        segment, internal_id, eid = _record_ref(id)
        self._call(
            operation="patch",
            method="PATCH",
            path=f"record/v1/{record_type}/{segment}",
            params=_replace_params(replace),
            body=body,
            parse=lambda r: (None, None),
            record_type=record_type,
            external_id=eid,
            internal_id=internal_id,
            repeatable=not _appends_lines(body, replace),
            correlation_id=correlation_id,
            lane=lane,
        )

    def delete(
        self,
        record_type: str,
        id: str | int,
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> None:
        """`DELETE record/v1/<type>/<id>`. A 404 after an attempt that may have landed counts as done."""
        _check_identifier("record type", record_type)
        segment, internal_id, eid = _record_ref(id)
        self._call(
            operation="delete",
            method="DELETE",
            path=f"record/v1/{record_type}/{segment}",
            parse=lambda r: (None, None),
            record_type=record_type,
            external_id=eid,
            internal_id=internal_id,
            missing_is_done=True,
            correlation_id=correlation_id,
            lane=lane,
        )

    def transform(
        self,
        record_type: str,
        id: str | int,
        target_type: str,
        body: Mapping[str, Any] | None = None,
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> str:
        """`POST record/v1/<type>/<id>/!transform/<target>`; the new record's internal id.

        Never repeated after a failure that may have created the target (read timeout, 5xx): the caller
        must look for the record (e.g. by its externalId) before trying again.
        """
        _check_identifier("record type", record_type)
        _check_identifier("record type", target_type)
        segment, internal_id, eid = _record_ref(id)
        return self._call(
            operation="transform",
            method="POST",
            path=f"record/v1/{record_type}/{segment}/!transform/{target_type}",
            body=dict(body) if body is not None else {},
            parse=_require_location,
            record_type=record_type,
            external_id=eid,
            internal_id=internal_id,
            repeatable=False,
            correlation_id=correlation_id,
            lane=lane,
        )

    # -- asynchronous requests --

    def async_request(
        self,
        method: str,
        relative_path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | uuid.UUID | None = None,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> AsyncJob:
        """Submit any REST request for asynchronous processing (`Prefer: respond-async`); its job.

        `relative_path` is relative to the base URL (`record/v1/salesOrder/eid:x`). The request carries
        `X-NetSuite-Idempotency-Key` (a new uuid4 unless given), which is what makes the submission safe to
        repeat: every attempt of this call sends the same key, and a key NetSuite has seen before is answered
        with the earlier job, which is returned (`replayed=True`) instead of an error. Pass a stable key
        (e.g. `uuid.uuid5(namespace, "<order>-<revision>")`) to make a resubmission by a retried task safe too.
        """
        method = method.upper() if isinstance(method, str) else method
        if method not in _ASYNC_METHODS:
            raise ValueError(f"async_request method must be one of {sorted(_ASYNC_METHODS)}: {method!r}")
        if body is not None and not isinstance(body, Mapping):
            raise TypeError("async_request body must be a mapping")
        return self._submit_async(
            operation="async_request",
            method=method,
            path=_check_relative_path(relative_path),
            params=dict(params) if params else None,
            body=body,
            idempotency_key=idempotency_key,
            record_type=None,
            external_id=None,
            correlation_id=correlation_id,
            lane=lane,
        )

    def upsert_async(
        self,
        record_type: str,
        external_id: str,
        body: Mapping[str, Any],
        *,
        replace: Sequence[str] = (),
        idempotency_key: str | uuid.UUID | None = None,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> AsyncJob:
        """`upsert` submitted asynchronously; the job to pass to `wait_for_job` / `poll_job`."""
        _check_upsert(record_type, external_id, body)
        return self._submit_async(
            operation="upsert_async",
            method="PUT",
            path=f"record/v1/{record_type}/eid:{external_id}",
            params=_replace_params(replace) or None,
            body=body,
            idempotency_key=idempotency_key,
            record_type=record_type,
            external_id=external_id,
            correlation_id=correlation_id,
            lane=lane,
        )

    def _submit_async(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        idempotency_key: str | uuid.UUID | None,
        record_type: str | None,
        external_id: str | None,
        correlation_id: str | None,
        lane: str,
    ) -> AsyncJob:
        key = _idempotency_key(idempotency_key)

        def parse(response: requests.Response) -> tuple[AsyncJob, None]:
            location = response.headers.get("Location")
            if response.status_code == 202 or not 200 <= response.status_code < 300:
                job_id = _job_id_from_location(location)
                if job_id is None:
                    raise NetSuiteError(
                        "NetSuite accepted an asynchronous request without a job Location",
                        status=response.status_code,
                        code="MISSING_LOCATION",
                    )
                replayed = response.status_code != 202
                if replayed:
                    logger.info("netsuite idempotency key already used; continuing with earlier job %s", job_id)
                return (
                    AsyncJob(
                        id=job_id,
                        location=location,
                        idempotency_key=key,
                        replayed=replayed,
                        record_type=record_type,
                        external_id=external_id,
                    ),
                    None,
                )
            # The server ignored `Prefer: respond-async` and did the work at once: hand the answer back as
            # an already finished job rather than pretend there is something to poll.
            result = _result_from_response(None, response)
            return (
                AsyncJob(
                    id=None,
                    location=None,
                    idempotency_key=key,
                    record_type=record_type,
                    external_id=external_id,
                    result=result,
                ),
                None,
            )

        return self._call(
            operation=operation,
            method=method,
            path=path,
            params=params,
            body=dict(body) if body is not None else None,
            extra_headers={"Prefer": "respond-async", IDEMPOTENCY_HEADER: key},
            parse=parse,
            record_type=record_type,
            external_id=external_id,
            # The idempotency key makes a repeat harmless: NetSuite answers it with the job it already has.
            repeatable=True,
            accept=_is_idempotency_replay,
            correlation_id=correlation_id,
            lane=lane,
        )

    def poll_job(
        self,
        job: AsyncJob | str,
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> AsyncResult | None:
        """One look at a job: None while it runs; its result once it has finished.

        For a task that would rather reschedule itself than block a worker in `wait_for_job`. Raises the
        typed error of the original request when the job failed.
        """
        if isinstance(job, AsyncJob) and job.result is not None:
            return job.result
        job_id = _job_id_of(job)
        record_type = job.record_type if isinstance(job, AsyncJob) else None
        external_id = job.external_id if isinstance(job, AsyncJob) else None
        corr = correlation_id or uuid.uuid4().hex
        common: dict[str, Any] = {
            "method": "GET",
            "record_type": record_type,
            "external_id": external_id,
            "correlation_id": corr,
            "lane": lane,
        }
        doc = self._call(operation="job_status", path=f"async/v1/job/{job_id}", parse=_json_object, **common)
        state = _job_state(doc)
        if state == "running":
            return None
        tasks = self._call(operation="job_tasks", path=f"async/v1/job/{job_id}/task", parse=_json_object, **common)
        task_id = _first_task_id(tasks)
        if task_id is None:
            if state == "failed":
                raise NetSuiteError(f"async job {job_id} failed and has no task result", code="ASYNC_JOB_FAILED")
            raise NetSuiteError(f"async job {job_id} finished without a task", code="INVALID_RESPONSE")
        # An original response that was an error may come back as the result's own status (then _call raises
        # its typed error, retrying 5xx/governance as for any read) or wrapped in a 200 envelope (below).
        result = self._call(
            operation="job_result",
            path=f"async/v1/job/{job_id}/task/{task_id}/result",
            parse=lambda r: (_result_from_response(job_id, r), None),
            **common,
        )
        if not 200 <= result.status < 300:
            raise error_from_parts(result.status, result.body, result.headers)
        if state == "failed":
            raise NetSuiteError(
                f"async job {job_id} reported failure but its result has status {result.status}",
                status=result.status,
                code="ASYNC_JOB_FAILED",
            )
        return result

    def wait_for_job(
        self,
        job: AsyncJob | str,
        *,
        poll_interval: float = 0.5,
        timeout: float = 300.0,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> AsyncResult:
        """Poll a job until it finishes; the original request's status, internal id (from its Location), body.

        A failed job raises the typed error of the original request (ValidationError, NotFoundError...).
        Raises `AsyncJobTimeoutError` (retryable, ambiguous) if the job is still running after `timeout`
        seconds; the job is not cancelled and may be waited on again.
        """
        if poll_interval < 0 or timeout < 0:
            raise ValueError("poll_interval and timeout must not be negative")
        corr = correlation_id or uuid.uuid4().hex
        deadline = time.monotonic() + timeout
        while True:
            result = self.poll_job(job, correlation_id=corr, lane=lane)
            if result is not None:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                job_id = _job_id_of(job)
                raise AsyncJobTimeoutError(f"async job {job_id} still running after {timeout:g}s", job_id=job_id)
            time.sleep(min(poll_interval, remaining))

    # -- SuiteQL --

    def suiteql(
        self,
        query: str,
        *,
        page_size: int = SUITEQL_MAX_PAGE_SIZE,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> Iterator[dict[str, Any]]:
        """Rows of a SuiteQL query, fetched page by page (`POST query/v1/suiteql?limit=&offset=`).

        The query MUST have an ORDER BY on a unique key: NetSuite pages by offset, and without a total order
        rows can repeat or go missing between pages. NetSuite serves at most 100,000 rows per query; when
        more remain this raises `SuiteQLLimitError` after yielding the rows it could, and the caller should
        page with keyset conditions (`WHERE id > <last id> ORDER BY id`). Build literals with
        `suiteql_literal` / `suiteql_in`, never by string formatting.
        """
        if not isinstance(query, str) or not query.strip():
            raise ValueError("SuiteQL query must be a non-empty string")
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise TypeError("page_size must be an int")
        if not 1 <= page_size <= SUITEQL_MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {SUITEQL_MAX_PAGE_SIZE}")
        return self._suiteql_pages(query, page_size, correlation_id or uuid.uuid4().hex, lane)

    def _suiteql_pages(self, query: str, page_size: int, correlation_id: str, lane: str) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._call(
                operation="suiteql",
                method="POST",
                path="query/v1/suiteql",
                params={"limit": str(page_size), "offset": str(offset)},
                body={"q": query},
                extra_headers={"Prefer": "transient"},
                parse=_suiteql_page,
                correlation_id=correlation_id,
                lane=lane,
            )
            items, has_more = page
            for row in items:
                yield _strip_links(row)
            if not has_more:
                return
            offset += page_size
            if offset + page_size > SUITEQL_MAX_ROWS:
                raise SuiteQLLimitError(
                    f"SuiteQL serves at most {SUITEQL_MAX_ROWS} rows a query and more remain after {offset}; "
                    "page with a keyset condition (WHERE key > last ORDER BY key) instead of offsets",
                    code="SUITEQL_ROW_LIMIT",
                )


def _check_upsert(record_type: str, external_id: str, body: Mapping[str, Any]) -> None:
    _check_identifier("record type", record_type)
    _check_external_id(external_id)
    if not isinstance(body, Mapping):
        raise TypeError("upsert body must be a mapping")
    if "id" in body:
        raise ValueError("upsert body must not contain an internal 'id' (NetSuite refuses it)")
    if body.get("externalId", external_id) != external_id:
        raise ValueError("upsert body externalId differs from the external id in the URL")


# --- asynchronous jobs ----------------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "X-NetSuite-Idempotency-Key"
_ASYNC_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# Progress values are compared lowercased; NetSuite documents "succeeded"/"failed", the rest are spellings a
# server (or a later API version) might plausibly use.
_JOB_SUCCEEDED = frozenset({"succeeded", "success", "successful", "completed", "complete", "done", "finished"})
_JOB_FAILED = frozenset({"failed", "failure", "error", "errored", "aborted", "cancelled", "canceled"})
_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_JOB_PATH = re.compile(r"/async/v1/job/([^/?#]+)/?$")
# NetSuite documents the key as a UUID; the canonical 8-4-4-4-12 form is the one every server accepts.
_IDEMPOTENCY_KEY = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _idempotency_key(key: str | uuid.UUID | None) -> str:
    if key is None:
        return str(uuid.uuid4())
    if isinstance(key, uuid.UUID):
        return str(key)
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.match(key):
        raise ValueError("idempotency key must be a UUID (e.g. uuid.uuid5(namespace, '<order>-<revision>'))")
    return key


def _check_relative_path(path: str) -> str:
    if not isinstance(path, str) or not path.strip("/"):
        raise ValueError("relative_path must be a non-empty path")
    parts = urllib.parse.urlsplit(path)
    segments = path.strip("/").split("/")
    if parts.scheme or parts.netloc or parts.query or parts.fragment or any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"relative_path must be a plain path under the base URL (query in params=): {path!r}")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in path):
        raise ValueError(f"relative_path must not contain whitespace or control characters: {path!r}")
    return path.strip("/")


def _job_id_from_location(location: str | None) -> str | None:
    if not location:
        return None
    match = _JOB_PATH.search(urllib.parse.urlsplit(location).path)
    if match is None:
        return None
    job_id = urllib.parse.unquote(match.group(1))
    return job_id if _JOB_ID.match(job_id) else None


def _job_id_of(job: AsyncJob | str) -> str:
    job_id = job.id if isinstance(job, AsyncJob) else job
    # The id becomes a path segment; polling always goes to our own base URL, never to a Location's host.
    if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
        raise ValueError(f"invalid async job id: {job_id!r}")
    return job_id


def _is_idempotency_replay(response: requests.Response, error: NetSuiteError) -> bool:
    return (
        400 <= response.status_code < 500
        and error.code == "IDEMPOTENCY_ERROR"
        and _job_id_from_location(response.headers.get("Location")) is not None
    )


def _json_object(response: requests.Response) -> tuple[dict[str, Any], None]:
    doc = _json_body(response)
    if not isinstance(doc, dict):
        raise NetSuiteError("response is not a JSON object", status=response.status_code, code="INVALID_RESPONSE")
    return doc, None


def _job_state(doc: Mapping[str, Any]) -> str:
    """One of succeeded, failed, finished (done; the result tells how) or running."""
    progress = doc.get("progress")
    if isinstance(progress, str):
        value = progress.strip().lower()
        if value in _JOB_SUCCEEDED:
            return "succeeded"
        if value in _JOB_FAILED:
            return "failed"
    if doc.get("completed") is True:
        return "finished"
    return "running"


def _first_task_id(doc: Mapping[str, Any]) -> str | None:
    items = doc.get("items")
    if not isinstance(items, list):
        return None
    for item in items:
        if not isinstance(item, dict):
            continue
        candidates: list[Any] = [item.get("id")]
        for link in item.get("links") or ():
            if isinstance(link, dict) and link.get("rel") == "self" and isinstance(link.get("href"), str):
                candidates.append(urllib.parse.urlsplit(link["href"]).path.rstrip("/").rsplit("/", 1)[-1])
        for candidate in candidates:
            if isinstance(candidate, int) and not isinstance(candidate, bool):
                candidate = str(candidate)
            if isinstance(candidate, str) and _JOB_ID.match(candidate):
                return candidate
    return None


def _decode_body(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _envelope_headers(value: Any) -> dict[str, str]:
    pairs: Iterable[Any] = value.items() if isinstance(value, Mapping) else value if isinstance(value, list) else ()
    headers: dict[str, str] = {}
    for pair in pairs:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            name, val = pair
        elif isinstance(pair, Mapping) and "name" in pair and "value" in pair:
            name, val = pair["name"], pair["value"]
        else:
            continue
        if isinstance(name, str) and isinstance(val, str | int):
            headers[name] = str(val)
    return headers


def _result_from_response(job_id: str | None, response: requests.Response) -> AsyncResult:
    """The original response from a task result, whether replayed as is or wrapped in a JSON envelope."""
    text = response.text or ""
    try:
        doc = json.loads(text) if text.strip() else None
    except ValueError:
        doc = None
    envelope = (
        isinstance(doc, dict)
        and isinstance(doc.get("status"), int)
        and not isinstance(doc.get("status"), bool)
        and ("body" in doc or "headers" in doc)
        and "o:errorDetails" not in doc
    )
    if envelope:
        status = doc["status"]
        headers = CaseInsensitiveDict(_envelope_headers(doc.get("headers")))
        body = _decode_body(doc.get("body"))
    else:
        status = response.status_code
        headers = CaseInsensitiveDict(response.headers)
        body = doc if doc is not None else (text or None)
    location = headers.get("Location")
    internal_id = None
    if location:
        last = urllib.parse.urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
        internal_id = last if _INTERNAL_ID.match(last) else None
    return AsyncResult(
        job_id=job_id,
        status=status,
        internal_id=internal_id,
        location=location,
        body=body,
        headers=headers,
    )


def _require_location(response: requests.Response) -> tuple[str, str]:
    found = _location_id(response)
    if found is None:
        raise NetSuiteError(
            "NetSuite answered without a Location holding the new record's id",
            status=response.status_code,
            code="MISSING_LOCATION",
        )
    return found, found


def _sublist_line(item: dict[str, Any]) -> dict[str, Any]:
    line = dict(item)
    links = line.pop("links", None)
    if "line" not in line and isinstance(links, list):
        for link in links:
            if isinstance(link, dict) and link.get("rel") == "self" and isinstance(link.get("href"), str):
                last = urllib.parse.urlsplit(link["href"]).path.rstrip("/").rsplit("/", 1)[-1]
                if _INTERNAL_ID.match(last):
                    line["line"] = int(last)
    return line


def _suiteql_page(response: requests.Response) -> tuple[tuple[list[Any], bool], None]:
    doc = _json_body(response)
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise NetSuiteError("SuiteQL response has no items", status=response.status_code, code="INVALID_RESPONSE")
    return (doc["items"], bool(doc.get("hasMore"))), None
