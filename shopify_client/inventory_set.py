"""Pushing `available` quantities: `inventorySetQuantities` under an idempotency key, and what Shopify answered.

From API version 2026-04 the mutation needs two things the server enforces:

- `@idempotent(key:)`: the same key returns the original result instead of applying the change again. That is
  what makes the mutation safe to resend after a timeout or a 5xx, and the client does resend it (it checks
  the document for the directive). The key must therefore name the logical operation, never the HTTP attempt:
  see `idempotency_key`.
- `changeFromQuantity` on every quantity, explicitly: an int makes the write a compare-and-swap (Shopify
  refuses it with CHANGE_FROM_QUANTITY_STALE when the level has moved since it was read), null opts out.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from .errors import ShopifyError, ShopifyGraphQLError, ShopifyUserError, UserErrorDetail, user_error_from_payload
from .graphql import GraphQLExecutor
from .ids import gid
from .inventory_documents import MAX_SET_QUANTITIES, SET_AVAILABLE_COST, SET_AVAILABLE_MUTATION
from .inventory_values import (
    AppliedChange,
    QuantityChange,
    SetResult,
    gid_number,
    optional_int,
    positive_int,
    strict_int,
)

__all__ = ["KEY_NAMESPACE", "batched", "idempotency_key", "set_available"]

# The log name of the whole inventory API, writes included.
logger = logging.getLogger("shopify_client.inventory")

T = TypeVar("T")

# The bounded wait for an earlier request under the same key to finish (IDEMPOTENCY_CONCURRENT_REQUEST).
CONCURRENT_RETRIES = 5
CONCURRENT_WAIT = 1.0
CONCURRENT_WAIT_MAX = 8.0
# An adjustment group created this long before the call started cannot be the call's own doing.
REPLAY_CLOCK_SKEW = dt.timedelta(seconds=30)


# --- keys and batches -----------------------------------------------------------------------------------

# Fixed forever: a new namespace changes every key, so a push retried across the change would look new to
# Shopify and apply twice.
KEY_NAMESPACE = uuid.UUID("8f3c6f0a-4d7e-5b2a-9c61-2f0d7e3a9b15")


def idempotency_key(*parts: Any) -> str:
    """A key for `@idempotent` derived from the logical operation, e.g. `("reconcile", run_date, sku, location,
    target)`: the same parts always give the same key (a retried push is a no-op), different parts a
    different one (a different push is never mistaken for a retry).

    Parts are str, int, bool, None, Decimal, date/datetime, UUID, or tuples/lists of those; they are encoded
    with their types and boundaries (`("a|b",)` and `("a", "b")` differ, so do `1` and `"1"`). Floats are
    refused: their text is an accident of arithmetic, and a key must not change with it.
    """
    if not parts:
        raise ValueError("idempotency_key needs at least one part")
    canonical = json.dumps([_key_part(p) for p in parts], separators=(",", ":"), ensure_ascii=False)
    return str(uuid.uuid5(KEY_NAMESPACE, canonical))


def _key_part(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"idempotency key part must be finite: {value!s}")
        return {"decimal": format(value.normalize(), "f")}
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    if isinstance(value, tuple | list):
        return [_key_part(v) for v in value]
    raise TypeError(f"cannot derive an idempotency key from {type(value).__name__}")


def batched(items: Iterable[T], size: int = MAX_SET_QUANTITIES) -> Iterator[list[T]]:
    """`items` in lists of at most `size`, in order (each a batch for one `set_available`)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError("size must be a positive int")
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- the write ------------------------------------------------------------------------------------------


def set_available(
    client: GraphQLExecutor,
    quantities: Sequence[QuantityChange],
    *,
    reason: str = "correction",
    reference_document_uri: str | None = None,
    idempotency_key: str,
    correlation_id: str | None = None,
    concurrent_retries: int = CONCURRENT_RETRIES,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> SetResult:
    """Set `available` for up to MAX_SET_QUANTITIES (item, location) pairs in one keyed mutation.

    Batching is the caller's job (`batched`), because the key belongs to the batch: the same batch must be
    sent under the same key on every retry, and only the caller knows what a batch is.

    Transport failures and 5xx are retried inside the client with the same key (the document carries
    `@idempotent`, so a resend cannot apply twice). IDEMPOTENCY_CONCURRENT_REQUEST (the same key still being
    processed) is waited out here and sent again with the same key, `concurrent_retries` times, then raised as
    a retryable ShopifyUserError. CHANGE_FROM_QUANTITY_STALE comes back in `SetResult.stale`.
    IDEMPOTENCY_KEY_PARAMETER_MISMATCH raises ShopifyUserError: the caller derived one key for two different
    batches, a bug no retry fixes. Any other user error raises a non-retryable ShopifyUserError.
    """
    changes = tuple(quantities)
    _check_arguments(changes, idempotency_key, reason, reference_document_uri, concurrent_retries)
    variables = {
        "input": {
            "name": "available",
            "reason": reason,
            "referenceDocumentUri": reference_document_uri,
            "quantities": _quantity_rows(changes),
        },
        "key": idempotency_key,
    }
    started = now()
    attempt = 0
    while True:
        payload, details = _send(client, variables, correlation_id)
        codes = {d.code for d in details}
        if _MISMATCH in codes:
            raise _mismatch_error(idempotency_key, details)
        if _CONCURRENT in codes:
            if attempt >= concurrent_retries:
                raise _in_progress_error(idempotency_key, attempt, details)
            attempt = _wait_out_concurrent(idempotency_key, attempt, concurrent_retries, sleep)
            continue
        assert payload is not None  # every path without a payload raised or retried above
        _raise_if_refused(details)
        return _set_result(payload, changes, details, started)


def _check_arguments(
    changes: tuple[QuantityChange, ...],
    key: Any,
    reason: Any,
    reference_document_uri: Any,
    concurrent_retries: Any,
) -> None:
    if not changes:
        raise ValueError("quantities must not be empty")
    if len(changes) > MAX_SET_QUANTITIES:
        raise ValueError(
            f"at most {MAX_SET_QUANTITIES} quantities per inventorySetQuantities (got {len(changes)}): "
            "split them with batched() and give each batch its own key"
        )
    if not isinstance(key, str) or not key.strip() or len(key) > 255:
        raise ValueError("idempotency_key must be a non-empty string of at most 255 characters")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason must be a non-empty string")
    if reference_document_uri is not None and not isinstance(reference_document_uri, str):
        raise ValueError("reference_document_uri must be a string or None")
    if isinstance(concurrent_retries, bool) or not isinstance(concurrent_retries, int) or concurrent_retries < 0:
        raise ValueError("concurrent_retries must be a non-negative int")


def _quantity_rows(changes: tuple[QuantityChange, ...]) -> list[dict[str, Any]]:
    """The `quantities` of the mutation's input, one per change, each (item, location) at most once."""
    seen: set[tuple[int, int]] = set()
    rows: list[dict[str, Any]] = []
    for change in changes:
        if not isinstance(change, QuantityChange):
            raise TypeError(f"expected QuantityChange, got {type(change).__name__}")
        pair = (
            positive_int(change.inventory_item_id, "inventory item id"),
            positive_int(change.location_id, "location id"),
        )
        if pair in seen:
            raise ValueError(f"inventory item {pair[0]} at location {pair[1]} appears twice in one batch")
        seen.add(pair)
        rows.append(
            {
                "inventoryItemId": gid("InventoryItem", pair[0]),
                "locationId": gid("Location", pair[1]),
                "quantity": strict_int(change.quantity, "quantity"),
                # Always present: from 2026-04 Shopify refuses an input that leaves it out; null opts out of
                # the compare-and-swap.
                "changeFromQuantity": None
                if change.change_from_quantity is None
                else strict_int(change.change_from_quantity, "change_from_quantity"),
            }
        )
    return rows


def _send(
    client: GraphQLExecutor, variables: Mapping[str, Any], correlation_id: str | None
) -> tuple[Mapping[str, Any] | None, tuple[UserErrorDetail, ...]]:
    """One mutation: its payload (None when refused at the top level) and the user errors it carries."""
    try:
        data = client.execute(
            SET_AVAILABLE_MUTATION,
            variables,
            operation_name="InventorySetAvailable",
            expected_cost=SET_AVAILABLE_COST,
            correlation_id=correlation_id,
        )
    except ShopifyGraphQLError as exc:
        # Idempotency refusals may come as top-level errors rather than userErrors; they mean the same.
        if exc.code not in (_CONCURRENT, _MISMATCH):
            raise
        return None, (UserErrorDetail(code=exc.code, field=None, message=exc.message),)
    payload = data.get("inventorySetQuantities") if isinstance(data, Mapping) else None
    if not isinstance(payload, Mapping):
        raise ShopifyError("inventorySetQuantities returned no payload", code="INVALID_RESPONSE")
    refused = user_error_from_payload(payload, operation="inventorySetQuantities")
    return payload, (refused.user_errors if refused is not None else ())


def _mismatch_error(key: str, details: tuple[UserErrorDetail, ...]) -> ShopifyUserError:
    return ShopifyUserError(
        f"inventorySetQuantities refused key {key}: it was first used with other variables "
        "(IDEMPOTENCY_KEY_PARAMETER_MISMATCH); the key must be derived from everything the batch sets",
        status=200,
        user_errors=[d for d in details if d.code == _MISMATCH] + [d for d in details if d.code != _MISMATCH],
    )


def _wait_out_concurrent(key: str, attempt: int, concurrent_retries: int, sleep: Callable[[float], None]) -> int:
    """Sleep before asking again about a key still being processed elsewhere; the attempts made so far."""
    wait = min(CONCURRENT_WAIT_MAX, CONCURRENT_WAIT * 2**attempt)
    attempt += 1
    logger.info(
        "inventorySetQuantities key %s still in progress elsewhere; asking again in %.1fs (%d/%d)",
        key,
        wait,
        attempt,
        concurrent_retries,
    )
    sleep(wait)
    return attempt


def _in_progress_error(key: str, attempt: int, details: tuple[UserErrorDetail, ...]) -> ShopifyUserError:
    return ShopifyUserError(
        f"inventorySetQuantities key {key} still in progress after {attempt} waits "
        "(IDEMPOTENCY_CONCURRENT_REQUEST); send it again later with the same key",
        status=200,
        user_errors=details,
    )


def _raise_if_refused(details: tuple[UserErrorDetail, ...]) -> None:
    """Any user error but a stale quantity refuses the batch (a stale one is reported in the result)."""
    others = [d for d in details if d.code != _STALE]
    if others:
        raise ShopifyUserError(
            "inventorySetQuantities refused: "
            + "; ".join(f"{d.code or 'ERROR'} at {'.'.join(d.field) if d.field else '-'}: {d.message}" for d in others),
            status=200,
            user_errors=details,
        )


_STALE = "CHANGE_FROM_QUANTITY_STALE"
_MISMATCH = "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
_CONCURRENT = "IDEMPOTENCY_CONCURRENT_REQUEST"


def _set_result(
    payload: Mapping[str, Any],
    changes: tuple[QuantityChange, ...],
    details: tuple[UserErrorDetail, ...],
    started: dt.datetime,
) -> SetResult:
    group = payload.get("inventoryAdjustmentGroup")
    group = group if isinstance(group, Mapping) else None
    stale_indexes: set[int] = set()
    for detail in details:
        index = _quantity_index(detail.field)
        if index is None or not 0 <= index < len(changes):
            # A stale error that does not say which quantity: any compare-and-swap in the batch may be it.
            stale_indexes.update(i for i, c in enumerate(changes) if c.change_from_quantity is not None)
        else:
            stale_indexes.add(index)
    applied_changes = []
    if group is not None:
        for raw in group.get("changes") or ():
            if not isinstance(raw, Mapping):
                continue
            applied_changes.append(
                AppliedChange(
                    inventory_item_id=gid_number(raw.get("item")),
                    location_id=gid_number(raw.get("location")),
                    name=str(raw.get("name") or ""),
                    delta=strict_int(raw.get("delta"), "delta"),
                    quantity_after_change=optional_int(raw.get("quantityAfterChange")),
                )
            )
    created_at = group.get("createdAt") if group is not None else None
    created_at = created_at if isinstance(created_at, str) else None
    return SetResult(
        applied=not details or group is not None,
        replayed=_predates(created_at, started),
        changes=applied_changes,
        stale=[changes[i] for i in sorted(stale_indexes)],
        user_errors=details,
        requested=changes,
        adjustment_group_id=group.get("id") if group is not None and isinstance(group.get("id"), str) else None,
        created_at=created_at,
    )


def _quantity_index(field: tuple[str, ...] | None) -> int | None:
    """The index in `["input", "quantities", "3", "changeFromQuantity"]`."""
    if not field:
        return None
    for name, following in zip(field, field[1:], strict=False):
        if name == "quantities" and following.isdigit():
            return int(following)
    return None


def _predates(created_at: str | None, started: dt.datetime) -> bool:
    if created_at is None:
        return False
    try:
        created = dt.datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return False
    if created.tzinfo is None:
        return False
    return created < started - REPLAY_CLOCK_SKEW
