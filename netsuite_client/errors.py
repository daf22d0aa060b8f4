"""Typed NetSuite errors and the one function that maps an HTTP response to them.

The client, not its callers, decides what is worth retrying: `NetSuiteError.retryable` (and `is_retryable`)
is true only for governance refusals (429 and the concurrency error codes), 5xx, timeouts and connection
failures.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

__all__ = [
    "GOVERNANCE_CODES",
    "AsyncJobTimeoutError",
    "AuthError",
    "ConcurrencyLimitError",
    "NetSuiteError",
    "NotFoundError",
    "ServerError",
    "SuiteQLLimitError",
    "TransportError",
    "ValidationError",
    "error_from_parts",
    "error_from_response",
    "is_retryable",
]

# NetSuite reports an exhausted account-wide concurrency pool with these codes, and not always with a 429
# (SOAP-era codes still surface through REST and RESTlets), so the code wins over the status.
GOVERNANCE_CODES = frozenset({"CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED", "WS_REQUEST_BLOCKED"})

# NetSuite does not document a request-id header for REST; these are the ones seen in the wild. Whatever is
# present is kept so a support ticket can quote it. UNCONFIRMED: the simulator may send none of them.
REQUEST_ID_HEADERS = ("X-N-OperationId", "X-NetSuite-JobId", "NS_RTIMER_COMPOSITE")

# Bodies that are not NetSuite JSON (a proxy's HTML page, a load balancer's 502) are quoted only this far.
_MAX_DETAIL_CHARS = 500


class NetSuiteError(Exception):
    """A NetSuite call that failed.

    `ambiguous` is true when the request may have taken effect before the failure was seen (a read timeout,
    a dropped connection, a 5xx): retrying a non-idempotent call (POST create, transform) could then
    duplicate the record, so the client does not retry those on its own.
    """

    _retryable = False

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        self.detail = detail
        self.status = status
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.ambiguous = ambiguous
        super().__init__(self._message())

    @property
    def retryable(self) -> bool:
        # The status and code are checked as well as the class so that an error built by hand (or by an
        # older mapping) with a governance code or a 5xx is still retried.
        if self._retryable or self.code in GOVERNANCE_CODES or self.status == 429:
            return True
        return self.status is not None and 500 <= self.status < 600

    def _message(self) -> str:
        head = "NetSuite " + (str(self.status) if self.status is not None else "(no response)")
        if self.code:
            head += " " + self.code
        return f"{head}: {self.detail}"

    def __str__(self) -> str:
        return self._message()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, detail={self.detail!r}, "
            f"request_id={self.request_id!r}, retry_after={self.retry_after!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes would be lost by Exception's default pickling (it replays self.args), and
        # task queues and process pools pickle exceptions.
        return (_restore, (type(self), self.detail, self.__dict__.copy()))


def _restore(cls: type[NetSuiteError], detail: str, attrs: dict[str, Any]) -> NetSuiteError:
    err = cls.__new__(cls)
    Exception.__init__(err, detail)
    err.__dict__.update(attrs)
    return err


class AuthError(NetSuiteError):
    """401/403: bad or revoked token, missing permission. Retrying cannot help; a human must."""


class NotFoundError(NetSuiteError):
    """404: no record with that internal or external id."""


class ValidationError(NetSuiteError):
    """400 and every other 4xx that is not governance: the request itself is wrong."""


class ConcurrencyLimitError(NetSuiteError):
    """The account-wide concurrency pool was full; the request was refused before it ran."""

    _retryable = True


class ServerError(NetSuiteError):
    """5xx from NetSuite or a proxy in front of it."""

    _retryable = True


class TransportError(NetSuiteError):
    """No usable HTTP response: connection refused or reset, DNS, TLS, timeout.

    `code` is synthetic ("TIMEOUT", "CONNECTION_ERROR") so call logs can group these without a status.
    """

    _retryable = True


class AsyncJobTimeoutError(NetSuiteError):
    """An asynchronous job was still running when `wait_for_job` stopped waiting.

    The job may yet complete: it is ambiguous. Waiting again on `job_id` is safe, and so is resubmitting with
    the same idempotency key (NetSuite hands back the earlier job).
    """

    _retryable = True

    def __init__(self, detail: str, *, job_id: str, **kwargs: Any) -> None:
        self.job_id = job_id
        kwargs.setdefault("code", "ASYNC_JOB_TIMEOUT")
        kwargs.setdefault("ambiguous", True)
        super().__init__(detail, **kwargs)


class SuiteQLLimitError(NetSuiteError):
    """A SuiteQL query has more rows than NetSuite will page through (100,000).

    Page with keyset conditions instead (`WHERE id > :last ORDER BY id`), each query under the ceiling.
    """


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date); None if absent/garbled."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds == float("inf"):
        return None
    return max(0.0, seconds)


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _parse_body(text: str, reason: str | None) -> tuple[str | None, str]:
    """(error code, detail) from NetSuite's error document, tolerating anything else in the body."""
    try:
        doc = json.loads(text) if text.strip() else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        snippet = " ".join(text.split())[:_MAX_DETAIL_CHARS]
        return None, snippet or (reason or "no detail")

    details = doc.get("o:errorDetails")
    codes: list[str] = []
    messages: list[str] = []
    if isinstance(details, list):
        for item in details:
            if not isinstance(item, dict):
                continue
            code = item.get("o:errorCode")
            if isinstance(code, str) and code:
                codes.append(code)
            message = item.get("detail")
            if isinstance(message, str) and message:
                path = item.get("o:errorPath")
                messages.append(f"{message} (at {path})" if isinstance(path, str) and path else message)

    governance = next((c for c in codes if c in GOVERNANCE_CODES), None)
    code = governance or (codes[0] if codes else None)
    if not messages:
        for key in ("detail", "title"):
            value = doc.get(key)
            if isinstance(value, str) and value:
                messages.append(value)
                break
    detail = "; ".join(messages) or (reason or "no detail")
    return code, detail[: _MAX_DETAIL_CHARS * 4]


def error_from_response(response: requests.Response) -> NetSuiteError:
    """The typed error for a non-2xx NetSuite response (status + `o:errorDetails`)."""
    return error_from_parts(response.status_code, response.text or "", response.headers, reason=response.reason)


def error_from_parts(
    status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
    *,
    reason: str | None = None,
) -> NetSuiteError:
    """The typed error for a non-2xx status and body that did not arrive as a live response.

    An asynchronous job hands back its original response as data (status, headers, body); this maps it
    exactly as `error_from_response` maps a live one. `body` may be text, bytes or already-decoded JSON.
    """
    if isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
    elif isinstance(body, str):
        text = body
    elif body is None:
        text = ""
    else:
        try:
            text = json.dumps(body)
        except (TypeError, ValueError):
            text = str(body)
    header_map: Mapping[str, str] = CaseInsensitiveDict(headers or {})
    code, detail = _parse_body(text, reason)
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "request_id": _request_id(header_map),
        "retry_after": parse_retry_after(header_map.get("Retry-After")),
    }

    if code in GOVERNANCE_CODES or status == 429:
        return ConcurrencyLimitError(detail, **kwargs)
    if status in (401, 403):
        challenge = header_map.get("WWW-Authenticate", "")
        # NetSuite names the reason (token_rejected, timestamp_refused...) only in the challenge header.
        if 'error="' in challenge:
            reason = challenge.split('error="', 1)[1].split('"', 1)[0]
            detail = f"{detail} [{reason}]"
        return AuthError(detail, **kwargs)
    if status == 404:
        return NotFoundError(detail, **kwargs)
    if 400 <= status < 500:
        return ValidationError(detail, **kwargs)
    if 500 <= status < 600:
        return ServerError(detail, ambiguous=True, **kwargs)
    if 300 <= status < 400:
        location = header_map.get("Location")
        detail = f"unexpected redirect to {location}" if location else f"unexpected redirect: {detail}"
    return NetSuiteError(detail, **kwargs)


def is_retryable(exc: BaseException) -> bool:
    """Whether repeating the failed operation later can succeed: governance (429 and the concurrency codes),
    5xx, timeouts and connection failures; nothing else.

    Says nothing about whether repeating is safe: see `NetSuiteError.ambiguous` for that.
    """
    if isinstance(exc, NetSuiteError):
        return exc.retryable
    return isinstance(exc, requests.Timeout | requests.ConnectionError | TimeoutError | ConnectionError)
