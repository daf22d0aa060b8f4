"""Inventory over Admin GraphQL (API version 2026-04): read levels, push `available` quantities.

Reads are cursor-paged generators so that a shop with hundreds of thousands of (item, location) levels is
streamed in constant memory. Every document is sized with Shopify's cost rules (1 per object, 2 + `first` x
node per connection, `first` x item per list, 1 for a list without a size argument; a mutation 10; the
ceiling for one query 1000) and the cost functions below mirror them for these exact documents; a unit test
checks them against the simulator's implementation of the rules.

Writes use `inventorySetQuantities`, which from 2026-04 needs two things the server enforces:

- `@idempotent(key:)`: the same key returns the original result instead of applying the change again. That is
  what makes the mutation safe to resend after a timeout or a 5xx, and the client does resend it (it checks
  the document for the directive). The key must therefore name the logical operation, never the HTTP attempt:
  see `idempotency_key`.
- `changeFromQuantity` on every quantity, explicitly: an int makes the write a compare-and-swap (Shopify
  refuses it with CHANGE_FROM_QUANTITY_STALE when the level has moved since it was read), null opts out.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import decimal
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from .bulk import iter_jsonl, run_bulk_query
from .errors import ShopifyError, ShopifyGraphQLError, ShopifyUserError, UserErrorDetail, user_error_from_payload
from .graphql import MAX_PAGE_SIZE, MAX_QUERY_COST, GraphQLExecutor, end_cursor, paged
from .ids import gid, legacy_id

__all__ = [
    "BULK_LEVELS_QUERY",
    "INVENTORY_ITEMS_QUERY",
    "INVENTORY_ITEM_LEVELS_QUERY",
    "INVENTORY_LEVELS_QUERY",
    "LOCATIONS_QUERY",
    "MAX_PAGE_SIZE",
    "MAX_QUERY_COST",
    "MAX_SET_QUANTITIES",
    "SET_AVAILABLE_MUTATION",
    "AppliedChange",
    "Level",
    "Location",
    "QuantityChange",
    "SetResult",
    "batched",
    "idempotency_key",
    "iter_inventory_items",
    "iter_levels",
    "iter_levels_bulk",
    "iter_locations",
    "levels_page_size",
    "read_levels",
    "read_levels_document",
    "set_available",
]

logger = logging.getLogger("shopify_client.inventory")

T = TypeVar("T")


# --- values ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Level:
    """One inventory item at one location. `on_hand` is None when Shopify did not report it."""

    inventory_item_id: int
    sku: str | None
    location_id: int
    available: int
    on_hand: int | None
    updated_at: str | None


@dataclasses.dataclass(frozen=True)
class Location:
    id: int
    name: str
    is_active: bool


@dataclasses.dataclass(frozen=True)
class QuantityChange:
    """Set `available` of one item at one location to `quantity`.

    `change_from_quantity` is the quantity the caller last read: Shopify applies the write only if the level
    still holds it. None opts out of that check (the write then wins over whatever happened meanwhile).
    """

    inventory_item_id: int
    location_id: int
    quantity: int
    change_from_quantity: int | None


@dataclasses.dataclass(frozen=True)
class AppliedChange:
    """One entry of the adjustment group Shopify reports (a set of `available` also moves `on_hand`)."""

    inventory_item_id: int | None
    location_id: int | None
    name: str
    delta: int
    quantity_after_change: int | None


@dataclasses.dataclass(frozen=True)
class SetResult:
    """What Shopify answered to one `inventorySetQuantities`.

    - `applied`: Shopify accepted the batch (no user errors, or an adjustment group next to them).
    - `replayed`: the answer is known to be the stored result of an earlier request under the same key (the
      adjustment group predates this call). Informational only: safety comes from the key, and a replay that
      cannot be told apart from a fresh answer (one within seconds, or one without an adjustment group)
      reports False.
    - `changes`: the adjustments Shopify made (empty when the levels already held the targets).
    - `stale`: the quantities refused with CHANGE_FROM_QUANTITY_STALE. Re-read them (`read_levels`) and send
      again under a NEW key: the old key is bound to the old variables, so reusing it with fresh
      `changeFromQuantity` values is IDEMPOTENCY_KEY_PARAMETER_MISMATCH, and reusing it with the same values
      returns this same stale answer for as long as Shopify keeps the key.
    - `user_errors`: every user error Shopify returned (the stale ones included).

    When `applied` is False nothing of the batch landed: `remaining` is then the whole batch, otherwise only
    the stale quantities.
    """

    applied: bool
    replayed: bool
    changes: list[AppliedChange]
    stale: list[QuantityChange]
    user_errors: tuple[UserErrorDetail, ...]
    requested: tuple[QuantityChange, ...] = ()
    adjustment_group_id: str | None = None
    created_at: str | None = None

    @property
    def remaining(self) -> list[QuantityChange]:
        return list(self.stale) if self.applied else list(self.requested)


# --- documents ------------------------------------------------------------------------------------------

# Most levels nested per item in the list read: a shop rarely stocks an item at more than a handful of
# locations, and an item with more has the rest paged on its own (INVENTORY_ITEM_LEVELS_QUERY).
LEVELS_PER_ITEM = 10
NESTED_LEVELS_PAGE = MAX_PAGE_SIZE
# Shopify starts a query only when the bucket holds its whole requested cost, so list pages stay well under
# the ceiling: a worker then waits less for a bucket that other workers are draining too. The actual cost,
# charged by what comes back, is the same whatever the page size.
LIST_PAGE_BUDGET = 800
# Shopify's limit on the quantities of one inventorySetQuantities (and any connection's `first`).
MAX_SET_QUANTITIES = 250
READ_LEVELS_BATCH = 250
# The bounded wait for an earlier request under the same key to finish (IDEMPOTENCY_CONCURRENT_REQUEST).
CONCURRENT_RETRIES = 5
CONCURRENT_WAIT = 1.0
CONCURRENT_WAIT_MAX = 8.0
# An adjustment group created this long before the call started cannot be the call's own doing.
REPLAY_CLOCK_SKEW = dt.timedelta(seconds=30)

LEVEL_FIELDS = """
fragment LevelFields on InventoryLevel {
  updatedAt
  location { id }
  quantities(names: ["available", "on_hand"]) { name quantity }
}
"""

INVENTORY_LEVELS_QUERY = (
    """
query InventoryLevels($first: Int!, $after: String, $levelsFirst: Int!) {
  inventoryItems(first: $first, after: $after) {
    nodes {
      id
      sku
      inventoryLevels(first: $levelsFirst) {
        nodes { ...LevelFields }
        pageInfo { hasNextPage endCursor }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + LEVEL_FIELDS
)

INVENTORY_ITEM_LEVELS_QUERY = (
    """
query InventoryItemLevels($id: ID!, $first: Int!, $after: String) {
  inventoryItem(id: $id) {
    inventoryLevels(first: $first, after: $after) {
      nodes { ...LevelFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
    + LEVEL_FIELDS
)

INVENTORY_ITEMS_QUERY = """
query InventoryItems($first: Int!, $after: String) {
  inventoryItems(first: $first, after: $after) {
    nodes { id sku }
    pageInfo { hasNextPage endCursor }
  }
}
"""

LOCATIONS_QUERY = """
query Locations($first: Int!, $after: String, $includeInactive: Boolean!) {
  locations(first: $first, after: $after, includeInactive: $includeInactive) {
    nodes { id name isActive }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# The input travels as one variable so that the document never changes and the server compares exactly the
# variables this module builds, deterministically, from the QuantityChanges.
SET_AVAILABLE_MUTATION = """
mutation InventorySetAvailable($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup {
      id
      createdAt
      reason
      referenceDocumentUri
      changes { name delta quantityAfterChange item { id } location { id } }
    }
    userErrors { code field message }
  }
}
"""


# Requested costs, by Shopify's rules (see the module docstring).
def level_node_cost() -> int:
    """A level 1, its location 1, its quantities (a list without a size argument) 1."""
    return 3


def levels_page_cost(first: int, levels_first: int) -> int:
    """Items 2 + n x (item 1 + levels 2 + m x level)."""
    return 2 + first * (1 + 2 + levels_first * level_node_cost())


def item_levels_page_cost(first: int) -> int:
    """The item 1 + its levels 2 + n x level."""
    return 1 + 2 + first * level_node_cost()


def items_page_cost(first: int) -> int:
    return 2 + first


def locations_page_cost(first: int) -> int:
    return 2 + first


def read_levels_cost(items: int, pairs: int) -> int:
    """Per item 1, per (item, location) its level 1 and the level's quantities 1."""
    return items + 2 * pairs


SET_AVAILABLE_COST = 10


# --- ids and keys ---------------------------------------------------------------------------------------

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


# --- reads ----------------------------------------------------------------------------------------------


def iter_levels(
    client: GraphQLExecutor,
    *,
    page_size: int = MAX_PAGE_SIZE,
    location_ids: Iterable[int] | None = None,
    levels_per_item: int | None = None,
) -> Iterator[Level]:
    """Every (inventory item, location) level of the shop, streamed, each exactly once.

    Cursor paging over `inventoryItems` with each item's first `levels_per_item` levels nested; an item
    stocked at more locations has its further levels paged on its own before the next item is yielded.
    `levels_per_item` defaults to the shop's number of locations (one cheap read first), capped at
    LEVELS_PER_ITEM: a one-location shop then gets 133 items a page instead of 24, while a shop with hundreds
    of locations, most items stocked at a few, does not pay for hundreds of empty level slots per item.

    `page_size` is an upper bound: a page never requests more than LIST_PAGE_BUDGET points. `location_ids`
    keeps only those locations (filtered here: the schema has no per-location filter on `inventoryItems`).
    """
    first = _page_size(page_size)
    if levels_per_item is not None:
        levels_per_item = _page_size(levels_per_item)
    wanted = None if location_ids is None else frozenset(_positive_int(i, "location id") for i in location_ids)
    return _levels(client, first, levels_per_item, wanted)


def levels_page_size(page_size: int, levels_per_item: int) -> int:
    """Items a levels page holds: `page_size`, or fewer to stay within LIST_PAGE_BUDGET."""
    affordable = (LIST_PAGE_BUDGET - 2) // (levels_page_cost(1, levels_per_item) - 2)
    return max(1, min(page_size, affordable))


def _levels(
    client: GraphQLExecutor, page_size: int, levels_per_item: int | None, wanted: frozenset[int] | None
) -> Iterator[Level]:
    if levels_per_item is None:
        # Inactive locations count too: they can still hold levels.
        locations = sum(1 for _ in iter_locations(client, include_inactive=True))
        levels_per_item = max(1, min(locations, LEVELS_PER_ITEM))
    nested_first = levels_per_item
    for item in paged(
        client,
        INVENTORY_LEVELS_QUERY,
        "InventoryLevels",
        root="inventoryItems",
        first=levels_page_size(page_size, nested_first),
        variables={"levelsFirst": nested_first},
        cost=lambda n: levels_page_cost(n, nested_first),
    ):
        item_gid = item.get("id")
        if not isinstance(item_gid, str):
            raise ShopifyError("inventory item without an id", code="INVALID_RESPONSE")
        item_id = legacy_id(item_gid)
        sku = item.get("sku")
        connection = item.get("inventoryLevels")
        yield from _item_levels(connection, item_id, sku, wanted)
        page_info = connection.get("pageInfo") if isinstance(connection, Mapping) else None
        if isinstance(page_info, Mapping) and page_info.get("hasNextPage"):
            for level in paged(
                client,
                INVENTORY_ITEM_LEVELS_QUERY,
                "InventoryItemLevels",
                root=("inventoryItem", "inventoryLevels"),
                first=NESTED_LEVELS_PAGE,
                variables={"id": item_gid},
                cost=item_levels_page_cost,
                after=end_cursor(page_info, "inventoryLevels"),
            ):
                yield from _item_levels({"nodes": [level]}, item_id, sku, wanted)


def _item_levels(connection: Any, item_id: int, sku: Any, wanted: frozenset[int] | None) -> Iterator[Level]:
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    for node in nodes or ():
        if not isinstance(node, Mapping):
            continue
        location = node.get("location")
        location_gid = location.get("id") if isinstance(location, Mapping) else None
        if not isinstance(location_gid, str):
            raise ShopifyError(f"inventory level of item {item_id} without a location", code="INVALID_RESPONSE")
        location_id = legacy_id(location_gid)
        if wanted is not None and location_id not in wanted:
            continue
        quantities = _quantities(node.get("quantities"))
        available = quantities.get("available")
        if available is None:
            raise ShopifyError(
                f"inventory level of item {item_id} at location {location_id} has no available quantity",
                code="INVALID_RESPONSE",
            )
        yield Level(
            inventory_item_id=item_id,
            sku=sku if isinstance(sku, str) else None,
            location_id=location_id,
            available=available,
            on_hand=quantities.get("on_hand"),
            updated_at=node.get("updatedAt") if isinstance(node.get("updatedAt"), str) else None,
        )


def iter_inventory_items(
    client: GraphQLExecutor, *, page_size: int = MAX_PAGE_SIZE
) -> Iterator[tuple[int, str | None]]:
    """(inventory item id, sku) of every inventory item: the raw material of the SKU -> item map.

    SKUs are not unique in Shopify (nor required): the caller decides what a duplicate or a missing one means.
    """
    first = _page_size(page_size)
    for node in paged(
        client,
        INVENTORY_ITEMS_QUERY,
        "InventoryItems",
        root="inventoryItems",
        first=first,
        variables={},
        cost=items_page_cost,
    ):
        raw = node.get("id")
        if not isinstance(raw, str):
            raise ShopifyError("inventory item without an id", code="INVALID_RESPONSE")
        sku = node.get("sku")
        yield legacy_id(raw), sku if isinstance(sku, str) else None


def iter_locations(
    client: GraphQLExecutor, *, include_inactive: bool = False, page_size: int = MAX_PAGE_SIZE
) -> Iterator[Location]:
    """Every location of the shop (active ones only unless `include_inactive`)."""
    first = _page_size(page_size)
    for node in paged(
        client,
        LOCATIONS_QUERY,
        "Locations",
        root="locations",
        first=first,
        variables={"includeInactive": bool(include_inactive)},
        cost=locations_page_cost,
    ):
        raw = node.get("id")
        if not isinstance(raw, str):
            raise ShopifyError("location without an id", code="INVALID_RESPONSE")
        yield Location(id=legacy_id(raw), name=str(node.get("name") or ""), is_active=bool(node.get("isActive")))


# The bulk form of the levels read: no paging arguments (a bulk query pages itself), the same fields.
BULK_LEVELS_QUERY = """
{
  inventoryItems {
    edges {
      node {
        id
        sku
        inventoryLevels {
          edges {
            node {
              location { id }
              quantities(names: ["available", "on_hand"]) { name quantity }
              updatedAt
            }
          }
        }
      }
    }
  }
}
"""
# Parents remembered besides the current one, for a child that does not follow its parent directly.
BULK_RECENT_PARENTS = 1024


def iter_levels_bulk(
    client: GraphQLExecutor,
    *,
    location_ids: Iterable[int] | None = None,
    poll_interval: float = 1.0,
    timeout: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
    session: Any = None,
) -> Iterator[Level]:
    """Every (inventory item, location) level of the shop through one bulk query (`run_bulk_query`), streamed
    from its JSONL file: the same Levels as `iter_levels`, without paging through the cost bucket.

    The file holds each item (`{"id", "sku"}`) on a line, then its levels on lines of their own carrying
    `"__parentId"` = the item's gid. This relies on what Shopify documents for bulk output: a child line comes
    after its parent's line. Only the current parent's sku is kept, plus the last BULK_RECENT_PARENTS parents
    so that a child separated from its parent by other items still finds it; a child whose parent is not among
    them is an INVALID_RESPONSE error (its sku is unknown, and a Level without its sku would be wrong, not
    merely incomplete). Memory therefore stays flat whatever the shop's size.

    Errors are those of `run_bulk_query` and `iter_jsonl`; nothing is yielded before the operation completed.
    """
    wanted = None if location_ids is None else frozenset(_positive_int(i, "location id") for i in location_ids)
    result = run_bulk_query(
        client, BULK_LEVELS_QUERY, poll_interval=poll_interval, timeout=timeout, sleep=sleep, session=session
    )
    if result.url is None:
        return
    parent_gid: str | None = None
    parent: tuple[int, str | None] = (0, None)
    recent: collections.OrderedDict[str, tuple[int, str | None]] = collections.OrderedDict()
    for line in iter_jsonl(result.url, session=session):
        parent_ref = line.get("__parentId")
        if parent_ref is None:
            raw = line.get("id")
            if not isinstance(raw, str):
                raise ShopifyError("bulk inventory item line without an id", code="INVALID_RESPONSE")
            if parent_gid is not None:
                recent[parent_gid] = parent
                if len(recent) > BULK_RECENT_PARENTS:
                    recent.popitem(last=False)
            sku = line.get("sku")
            parent_gid, parent = raw, (legacy_id(raw), sku if isinstance(sku, str) else None)
            continue
        if parent_ref == parent_gid:
            item_id, sku = parent
        elif isinstance(parent_ref, str) and parent_ref in recent:
            item_id, sku = recent[parent_ref]
        else:
            raise ShopifyError(
                f"bulk inventory level for {parent_ref!r} before (or too far after) its item", code="INVALID_RESPONSE"
            )
        yield from _item_levels({"nodes": [line]}, item_id, sku, wanted)


_AVAILABLE_SELECTION = '{ quantities(names: ["available"]) { name quantity } }'


def read_levels_document(count_per_item: Sequence[int]) -> str:
    """The document reading `available` for items (aliases i0, i1, ...) at locations (l0, l1, ... per item).

    The shape depends only on how many locations each item has, never on the ids (those are variables), so
    Shopify sees a handful of distinct documents rather than one per call.
    """
    variables: list[str] = []
    fields: list[str] = []
    for i, count in enumerate(count_per_item):
        variables.append(f"$i{i}: ID!")
        levels = []
        for j in range(count):
            variables.append(f"$i{i}l{j}: ID!")
            levels.append(f"l{j}: inventoryLevel(locationId: $i{i}l{j}) {_AVAILABLE_SELECTION}")
        fields.append(f"  i{i}: inventoryItem(id: $i{i}) {{\n    " + "\n    ".join(levels) + "\n  }")
    return f"query InventoryLevelsAt({', '.join(variables)}) {{\n" + "\n".join(fields) + "\n}\n"


def read_levels(client: GraphQLExecutor, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Current `available` of each (inventory item id, location id), e.g. to re-read after a stale error.

    A pair Shopify has no level for (the item is not stocked there, or no longer exists) is absent from the
    result. Reads up to READ_LEVELS_BATCH pairs a request.
    """
    unique: dict[tuple[int, int], None] = {}
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValueError(f"expected (inventory item id, location id), got {pair!r}")
        unique[(_positive_int(pair[0], "inventory item id"), _positive_int(pair[1], "location id"))] = None
    result: dict[tuple[int, int], int] = {}
    for batch in batched(unique, READ_LEVELS_BATCH):
        by_item: dict[int, list[int]] = {}
        for item_id, location_id in batch:
            by_item.setdefault(item_id, []).append(location_id)
        items = list(by_item.items())
        variables: dict[str, Any] = {}
        for i, (item_id, locations) in enumerate(items):
            variables[f"i{i}"] = gid("InventoryItem", item_id)
            for j, location_id in enumerate(locations):
                variables[f"i{i}l{j}"] = gid("Location", location_id)
        data = client.execute(
            read_levels_document([len(locations) for _, locations in items]),
            variables,
            operation_name="InventoryLevelsAt",
            expected_cost=read_levels_cost(len(items), len(batch)),
        )
        for i, (item_id, locations) in enumerate(items):
            item = data.get(f"i{i}") if isinstance(data, Mapping) else None
            if not isinstance(item, Mapping):
                continue
            for j, location_id in enumerate(locations):
                level = item.get(f"l{j}")
                if not isinstance(level, Mapping):
                    continue
                available = _quantities(level.get("quantities")).get("available")
                if available is not None:
                    result[(item_id, location_id)] = available
    return result


# --- writes ---------------------------------------------------------------------------------------------


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
    if not changes:
        raise ValueError("quantities must not be empty")
    if len(changes) > MAX_SET_QUANTITIES:
        raise ValueError(
            f"at most {MAX_SET_QUANTITIES} quantities per inventorySetQuantities (got {len(changes)}): "
            "split them with batched() and give each batch its own key"
        )
    if not isinstance(idempotency_key, str) or not idempotency_key.strip() or len(idempotency_key) > 255:
        raise ValueError("idempotency_key must be a non-empty string of at most 255 characters")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("reason must be a non-empty string")
    if reference_document_uri is not None and not isinstance(reference_document_uri, str):
        raise ValueError("reference_document_uri must be a string or None")
    if isinstance(concurrent_retries, bool) or not isinstance(concurrent_retries, int) or concurrent_retries < 0:
        raise ValueError("concurrent_retries must be a non-negative int")
    seen: set[tuple[int, int]] = set()
    rows: list[dict[str, Any]] = []
    for change in changes:
        if not isinstance(change, QuantityChange):
            raise TypeError(f"expected QuantityChange, got {type(change).__name__}")
        pair = (
            _positive_int(change.inventory_item_id, "inventory item id"),
            _positive_int(change.location_id, "location id"),
        )
        if pair in seen:
            raise ValueError(f"inventory item {pair[0]} at location {pair[1]} appears twice in one batch")
        seen.add(pair)
        rows.append(
            {
                "inventoryItemId": gid("InventoryItem", pair[0]),
                "locationId": gid("Location", pair[1]),
                "quantity": _int(change.quantity, "quantity"),
                # Always present: from 2026-04 Shopify refuses an input that leaves it out; null opts out of
                # the compare-and-swap.
                "changeFromQuantity": None
                if change.change_from_quantity is None
                else _int(change.change_from_quantity, "change_from_quantity"),
            }
        )
    variables = {
        "input": {
            "name": "available",
            "reason": reason,
            "referenceDocumentUri": reference_document_uri,
            "quantities": rows,
        },
        "key": idempotency_key,
    }

    started = now()
    attempt = 0
    while True:
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
            details: tuple[UserErrorDetail, ...] = (UserErrorDetail(code=exc.code, field=None, message=exc.message),)
            payload: Mapping[str, Any] | None = None
        else:
            payload = data.get("inventorySetQuantities") if isinstance(data, Mapping) else None
            if not isinstance(payload, Mapping):
                raise ShopifyError("inventorySetQuantities returned no payload", code="INVALID_RESPONSE")
            refused = user_error_from_payload(payload, operation="inventorySetQuantities")
            details = refused.user_errors if refused is not None else ()
        codes = {d.code for d in details}
        if _MISMATCH in codes:
            raise ShopifyUserError(
                f"inventorySetQuantities refused key {idempotency_key}: it was first used with other variables "
                "(IDEMPOTENCY_KEY_PARAMETER_MISMATCH); the key must be derived from everything the batch sets",
                status=200,
                user_errors=[d for d in details if d.code == _MISMATCH] + [d for d in details if d.code != _MISMATCH],
            )
        if _CONCURRENT in codes:
            if attempt < concurrent_retries:
                wait = min(CONCURRENT_WAIT_MAX, CONCURRENT_WAIT * 2**attempt)
                attempt += 1
                logger.info(
                    "inventorySetQuantities key %s still in progress elsewhere; asking again in %.1fs (%d/%d)",
                    idempotency_key,
                    wait,
                    attempt,
                    concurrent_retries,
                )
                sleep(wait)
                continue
            raise ShopifyUserError(
                f"inventorySetQuantities key {idempotency_key} still in progress after {attempt} waits "
                "(IDEMPOTENCY_CONCURRENT_REQUEST); send it again later with the same key",
                status=200,
                user_errors=details,
            )
        assert payload is not None  # every path without a payload raised or retried above
        others = [d for d in details if d.code != _STALE]
        if others:
            raise ShopifyUserError(
                "inventorySetQuantities refused: "
                + "; ".join(
                    f"{d.code or 'ERROR'} at {'.'.join(d.field) if d.field else '-'}: {d.message}" for d in others
                ),
                status=200,
                user_errors=details,
            )
        return _set_result(payload, changes, details, started)


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
                    inventory_item_id=_gid_of(raw.get("item")),
                    location_id=_gid_of(raw.get("location")),
                    name=str(raw.get("name") or ""),
                    delta=_int(raw.get("delta"), "delta"),
                    quantity_after_change=_optional_int(raw.get("quantityAfterChange")),
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


# --- helpers --------------------------------------------------------------------------------------------


def _quantities(raw: Any) -> dict[str, int]:
    result: dict[str, int] = {}
    for entry in raw or ():
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            result[entry["name"]] = _int(entry.get("quantity"), f"{entry['name']} quantity")
    return result


def _gid_of(node: Any) -> int | None:
    raw = node.get("id") if isinstance(node, Mapping) else None
    return legacy_id(raw) if isinstance(raw, str) else None


def _page_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be an int between 1 and {MAX_PAGE_SIZE}")
    return value


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"invalid {what}: {value!r}")
    return value


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"invalid {what}: {value!r}")
    return value


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
