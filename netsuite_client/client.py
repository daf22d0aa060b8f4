"""NetSuite REST record and SuiteQL client.

The same code talks to a real account (`https://<acct>.suitetalk.api.netsuite.com/services/rest`) and to the
local simulator (`http://127.0.0.1:<port>/services/rest`); only `base_url` and `auth` differ.

Retry policy lives here, not in callers: governance refusals (429 / CONCURRENCY_LIMIT_EXCEEDED...), 5xx,
timeouts and connection failures are retried with capped exponential backoff and full jitter; other 4xx are
raised on the first attempt. A failure that may already have taken effect (read timeout, 5xx) is only
retried for requests that are safe to repeat; see `_call`.
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
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .errors import (
    NetSuiteError,
    SuiteQLLimitError,
    TransportError,
    error_from_response,
)
from .models import CallRecord, Outcome

__all__ = [
    "SUITEQL_MAX_PAGE_SIZE",
    "SUITEQL_MAX_ROWS",
    "NetSuiteClient",
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


class SlotLimiter(Protocol):
    """A concurrency limiter: each HTTP attempt holds one slot of `lane` while it runs."""

    def slot(self, lane: str = "live") -> AbstractContextManager[object]: ...


class _NoLimiter:
    def slot(self, lane: str = "live") -> AbstractContextManager[object]:
        return contextlib.nullcontext()


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
            error_code=error.code if error is not None else None,
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
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> T:
        """One logical call: attempts (each in a limiter slot, each re-signed), retries, records.

        `repeatable` says whether the request may be sent again after a failure that might already have
        taken effect; when False only failures known not to have run (governance refusals, connection
        refused) are retried. `missing_is_done` makes a 404 count as success once an earlier attempt may
        have landed (a DELETE whose first attempt timed out after NetSuite ran it).
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

        def attempt() -> T:
            state.attempt += 1
            state.http_status = None
            state.request_id = None
            session = self._session()
            started = time.monotonic()
            try:
                with self._limiter.slot(lane):
                    # Timed from inside the slot: the call log measures NetSuite, not our own queueing.
                    started = time.monotonic()
                    response = session.request(
                        method,
                        url,
                        params=params,
                        data=data,
                        headers=headers,
                        auth=self._auth,
                        timeout=self._timeout,
                        allow_redirects=False,
                    )
            except requests.RequestException as exc:
                state.duration_ms = round((time.monotonic() - started) * 1000)
                err = _transport_error(exc)
                state.maybe_applied |= err.ambiguous
                raise err from exc
            state.duration_ms = round((time.monotonic() - started) * 1000)
            state.http_status = response.status_code
            if missing_is_done and response.status_code == 404 and state.maybe_applied:
                return parse(response)[0]
            if not 200 <= response.status_code < 300:
                err = error_from_response(response)
                state.request_id = err.request_id
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
        _check_identifier("record type", record_type)
        _check_external_id(external_id)
        if not isinstance(body, Mapping):
            raise TypeError("upsert body must be a mapping")
        if "id" in body:
            raise ValueError("upsert body must not contain an internal 'id' (NetSuite refuses it)")
        if body.get("externalId", external_id) != external_id:
            raise ValueError("upsert body externalId differs from the external id in the URL")
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
