"""Typed Shopify Admin GraphQL errors and the one function that maps an HTTP response to them.

GraphQL answers most failures with HTTP 200 and an `errors` list, so the body decides as often as the status.
The client, not its callers, decides what is worth retrying: `ShopifyError.retryable` is true for throttling,
5xx (and Shopify's INTERNAL_SERVER_ERROR code), timeouts and connection failures; never for auth, validation,
cost-limit or other 4xx errors.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

__all__ = [
    "RETRYABLE_USER_ERROR_CODES",
    "ShopifyAuthError",
    "ShopifyError",
    "ShopifyGraphQLError",
    "ShopifyServerError",
    "ShopifyThrottled",
    "ShopifyTransportError",
    "ShopifyUserError",
    "UserErrorDetail",
    "error_from_parts",
    "error_from_response",
    "is_retryable",
    "throttle_wait",
    "user_error_from_payload",
]

REQUEST_ID_HEADER = "X-Request-Id"

# Mutation user errors that mean "not now" rather than "never": the same idempotency key is still being
# processed by an earlier request, which will finish on its own.
RETRYABLE_USER_ERROR_CODES = frozenset({"IDEMPOTENCY_CONCURRENT_REQUEST"})

# When a THROTTLED answer carries no cost block (a proxy, an older API version) there is nothing to compute
# the wait from; one second restores at least 50 points at the slowest published rate.
DEFAULT_THROTTLE_WAIT = 1.0

_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    402: "PAYMENT_REQUIRED",
    403: "ACCESS_DENIED",
    404: "NOT_FOUND",
    423: "LOCKED",
    429: "THROTTLED",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}
_AUTH_CODES = frozenset({"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"})
_SERVER_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})
# Bodies that are not Shopify JSON (a proxy's HTML page) are quoted only this far.
_MAX_DETAIL_CHARS = 500
_MAX_LISTED_ERRORS = 10


class ShopifyError(Exception):
    """A Shopify Admin API call that failed.

    `ambiguous` is true when the request may have taken effect before the failure was seen (a read timeout,
    a 5xx): repeating a mutation without an `@idempotent` key could then apply it twice.
    """

    _retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.retry_after = retry_after
        self.ambiguous = ambiguous
        super().__init__(self._text())

    @property
    def retryable(self) -> bool:
        return self._retryable

    def _text(self) -> str:
        head = "Shopify " + (str(self.status) if self.status is not None else "(no response)")
        if self.code:
            head += " " + self.code
        return f"{head}: {self.message}"

    def __str__(self) -> str:
        return self._text()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r}, "
            f"request_id={self.request_id!r}, retry_after={self.retry_after!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's default pickling replays self.args and would drop the keyword-only attributes; Celery
        # and process pools pickle exceptions.
        return (_restore, (type(self), self.message, self.__dict__.copy()))


def _restore(cls: type[ShopifyError], message: str, attrs: dict[str, Any]) -> ShopifyError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(attrs)
    return err


class ShopifyAuthError(ShopifyError):
    """401/403 or ACCESS_DENIED: a bad or revoked token, or a missing scope. Only a human can fix it."""


class ShopifyThrottled(ShopifyError):
    """The cost bucket did not hold the query's requested cost; nothing ran. `retry_after` says how long
    the bucket needs to restore enough points."""

    _retryable = True

    def __init__(
        self,
        message: str,
        *,
        requested: float | None = None,
        available: float | None = None,
        restore_rate: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.requested = requested
        self.available = available
        self.restore_rate = restore_rate
        kwargs.setdefault("code", "THROTTLED")
        super().__init__(message, **kwargs)


class ShopifyServerError(ShopifyError):
    """5xx, or Shopify's INTERNAL_SERVER_ERROR code (which it returns with HTTP 200)."""

    _retryable = True


class ShopifyTransportError(ShopifyError):
    """No usable HTTP response: connection refused or reset, DNS, TLS, timeout.

    `code` is synthetic ("TIMEOUT", "CONNECTION_ERROR") so call logs can group these without a status.
    """

    _retryable = True


class ShopifyGraphQLError(ShopifyError):
    """The document was refused (validation, MAX_COST_EXCEEDED, bad variables...): sending it again won't help.

    `errors` keeps the raw error objects for diagnosis; the message lists them.
    """

    def __init__(self, message: str, *, errors: Sequence[Mapping[str, Any]] = (), **kwargs: Any) -> None:
        self.errors = [dict(e) for e in errors if isinstance(e, Mapping)]
        super().__init__(message, **kwargs)


@dataclass(frozen=True, slots=True)
class UserErrorDetail:
    """One entry of a mutation's `userErrors`."""

    code: str | None
    field: tuple[str, ...] | None
    message: str


class ShopifyUserError(ShopifyError):
    """A mutation ran and refused the input (`userErrors`). Retryable only for codes that mean "not now"."""

    def __init__(self, message: str, *, user_errors: Sequence[UserErrorDetail] = (), **kwargs: Any) -> None:
        self.user_errors = tuple(user_errors)
        first = self.user_errors[0] if self.user_errors else None
        self.field = first.field if first else None
        kwargs.setdefault("code", first.code if first else None)
        super().__init__(message, **kwargs)

    @property
    def retryable(self) -> bool:
        return bool(self.user_errors) and all(e.code in RETRYABLE_USER_ERROR_CODES for e in self.user_errors)


# --- mapping --------------------------------------------------------------------------------------------


def throttle_wait(cost: Mapping[str, Any] | None) -> float | None:
    """Seconds until the bucket holds the requested cost: (requested − currentlyAvailable) / restoreRate.

    None when the cost block lacks the numbers to say.
    """
    if not isinstance(cost, Mapping):
        return None
    status = cost.get("throttleStatus")
    requested = _number(cost.get("requestedQueryCost"))
    available = _number(status.get("currentlyAvailable")) if isinstance(status, Mapping) else None
    rate = _number(status.get("restoreRate")) if isinstance(status, Mapping) else None
    if requested is None or available is None or not rate or rate <= 0:
        return None
    return max(0.0, (requested - available) / rate)


def error_from_response(response: requests.Response) -> ShopifyError | None:
    """The typed error for a Shopify Admin GraphQL response, or None if it carries usable `data`.

    A 200 is not enough: GraphQL reports throttling, validation and access errors in the body.
    """
    text = response.text or ""
    try:
        doc: Any = json.loads(text) if text.strip() else None
    except ValueError:
        doc = _NOT_JSON
    return error_from_parts(response.status_code, doc, response.headers, text=text, reason=response.reason)


class _NotJSON:
    pass


_NOT_JSON: Any = _NotJSON()


def error_from_parts(
    status: int,
    doc: Any,
    headers: Mapping[str, str] | None = None,
    *,
    text: str = "",
    reason: str | None = None,
) -> ShopifyError | None:
    """As `error_from_response`, from a status, an already-decoded body and headers (the client decodes
    each body once)."""
    header_map: Mapping[str, str] = CaseInsensitiveDict(headers or {})
    request_id = header_map.get(REQUEST_ID_HEADER) or None
    is_json = not isinstance(doc, _NotJSON)
    errors = doc.get("errors") if is_json and isinstance(doc, dict) else None
    common: dict[str, Any] = {"status": status, "request_id": request_id}

    if not 200 <= status < 300:
        code = _first_code(errors) or _STATUS_CODES.get(status, f"HTTP_{status}")
        detail = _describe(errors) or _snippet(text) or reason or "no detail"
        if status in (401, 403):
            return ShopifyAuthError(detail, code=code, **common)
        if status == 429 or code == "THROTTLED":
            cost = _cost_of(doc)
            wait = throttle_wait(cost)
            if wait is None:
                wait = _retry_after(header_map.get("Retry-After"))
            return _throttled(detail, cost, retry_after=wait if wait is not None else DEFAULT_THROTTLE_WAIT, **common)
        if 500 <= status < 600:
            return ShopifyServerError(
                detail,
                code=code,
                retry_after=_retry_after(header_map.get("Retry-After")),
                ambiguous=True,
                **common,
            )
        if 300 <= status < 400:
            location = header_map.get("Location")
            detail = f"unexpected redirect to {location}" if location else f"unexpected redirect: {detail}"
        elif isinstance(errors, list) and errors:
            # Some GraphQL servers (not Shopify itself) answer a document they refuse with 400 and the list.
            return ShopifyGraphQLError(
                detail, code=code, errors=[e for e in errors if isinstance(e, Mapping)], **common
            )
        return ShopifyError(detail, code=code, **common)

    if not is_json or not isinstance(doc, dict):
        return ShopifyError(
            f"response is not a GraphQL JSON object: {_snippet(text) or 'empty body'}",
            code="INVALID_RESPONSE",
            **common,
        )
    if errors:
        error_list = errors if isinstance(errors, list) else [errors]
        codes = [_code(e) for e in error_list]
        detail = _describe(error_list) or "GraphQL errors without a message"
        if "THROTTLED" in codes:
            cost = _cost_of(doc)
            wait = throttle_wait(cost)
            return _throttled(detail, cost, retry_after=wait if wait is not None else DEFAULT_THROTTLE_WAIT, **common)
        if any(c in _AUTH_CODES for c in codes):
            return ShopifyAuthError(detail, code=next(c for c in codes if c in _AUTH_CODES), **common)
        if any(c in _SERVER_CODES for c in codes):
            return ShopifyServerError(
                detail, code=next(c for c in codes if c in _SERVER_CODES), ambiguous=True, **common
            )
        # Partial data next to errors is still a failure: a sync that silently drops a field it asked for
        # writes wrong numbers to NetSuite.
        return ShopifyGraphQLError(
            detail,
            code=next((c for c in codes if c), None),
            errors=[e for e in error_list if isinstance(e, Mapping)],
            **common,
        )
    if not isinstance(doc.get("data"), dict):
        return ShopifyError("GraphQL response has neither data nor errors", code="INVALID_RESPONSE", **common)
    return None


def user_error_from_payload(
    payload: Mapping[str, Any] | None, *, operation: str = "mutation"
) -> ShopifyUserError | None:
    """The ShopifyUserError for a mutation payload's `userErrors`, or None when it has none."""
    if not isinstance(payload, Mapping):
        return None
    raw = payload.get("userErrors")
    if not isinstance(raw, list) or not raw:
        return None
    details: list[UserErrorDetail] = []
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        field = item.get("field")
        details.append(
            UserErrorDetail(
                code=item.get("code") if isinstance(item.get("code"), str) else None,
                field=tuple(str(f) for f in field) if isinstance(field, list) else None,
                message=str(item.get("message") or ""),
            )
        )
    if not details:
        return None
    listed = "; ".join(
        f"{d.code or 'ERROR'} at {'.'.join(d.field) if d.field else '-'}: {d.message}"
        for d in details[:_MAX_LISTED_ERRORS]
    )
    return ShopifyUserError(f"{operation} refused: {listed}", status=200, user_errors=details)


def is_retryable(exc: BaseException) -> bool:
    """Whether repeating the failed operation later can succeed (not whether it is safe: see `ambiguous`)."""
    if isinstance(exc, ShopifyError):
        return exc.retryable
    return isinstance(exc, requests.Timeout | requests.ConnectionError | TimeoutError | ConnectionError)


# --- helpers --------------------------------------------------------------------------------------------


def _throttled(message: str, cost: Mapping[str, Any] | None, **kwargs: Any) -> ShopifyThrottled:
    status = cost.get("throttleStatus") if isinstance(cost, Mapping) else None
    status = status if isinstance(status, Mapping) else {}
    return ShopifyThrottled(
        message,
        requested=_number(cost.get("requestedQueryCost")) if isinstance(cost, Mapping) else None,
        available=_number(status.get("currentlyAvailable")),
        restore_rate=_number(status.get("restoreRate")),
        **kwargs,
    )


def _cost_of(doc: Any) -> Mapping[str, Any] | None:
    if not isinstance(doc, dict):
        return None
    extensions = doc.get("extensions")
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    return cost if isinstance(cost, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def _code(error: Any) -> str | None:
    if not isinstance(error, Mapping):
        return None
    extensions = error.get("extensions")
    code = extensions.get("code") if isinstance(extensions, Mapping) else None
    return code if isinstance(code, str) and code else None


def _first_code(errors: Any) -> str | None:
    if isinstance(errors, list):
        return next((c for c in map(_code, errors) if c), None)
    return None


def _describe(errors: Any) -> str:
    """Every error's message with its code and path, so a log line shows what was refused and where."""
    if isinstance(errors, str):
        return errors[:_MAX_DETAIL_CHARS]
    if isinstance(errors, Mapping):
        errors = [errors]
    if not isinstance(errors, list):
        return ""
    parts: list[str] = []
    for error in errors[:_MAX_LISTED_ERRORS]:
        if isinstance(error, str):
            parts.append(error[:_MAX_DETAIL_CHARS])
            continue
        if not isinstance(error, Mapping):
            continue
        text = str(error.get("message") or "no message")[:_MAX_DETAIL_CHARS]
        code = _code(error)
        path = error.get("path")
        if code:
            text = f"[{code}] {text}"
        if isinstance(path, list) and path:
            text += f" (at {'.'.join(str(p) for p in path)})"
        parts.append(text)
    if len(errors) > _MAX_LISTED_ERRORS:
        parts.append(f"... and {len(errors) - _MAX_LISTED_ERRORS} more")
    return "; ".join(parts)


def _snippet(text: str) -> str:
    return " ".join(text.split())[:_MAX_DETAIL_CHARS]


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None
