"""Inventory over Admin GraphQL (API version 2026-04): read levels, push `available` quantities.

The API of the package's inventory side, by job:

- reads (here): levels, inventory items, locations, by cursor paging (`iter_levels`...) or one bulk query
  (`iter_levels_bulk`), and the `available` of given (item, location) pairs (`read_levels`). Reads are
  generators so that a shop with hundreds of thousands of (item, location) levels is streamed in constant
  memory;
- `inventory_set`: the keyed `inventorySetQuantities` write (`set_available`, `idempotency_key`, `batched`);
- `inventory_documents`: the documents, their sizes and costs (Shopify's cost rules, mirrored and checked by a
  test against the simulator's implementation);
- `inventory_values`: the values they take and return (`Level`, `QuantityChange`, `SetResult`...).

Everything is importable from here, as it always was.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from .bulk import iter_jsonl, run_bulk_query
from .errors import ShopifyError
from .graphql import MAX_PAGE_SIZE, MAX_QUERY_COST, GraphQLExecutor, end_cursor, paged
from .ids import gid, legacy_id
from .inventory_documents import (
    BULK_LEVELS_QUERY,
    INVENTORY_ITEM_LEVELS_QUERY,
    INVENTORY_ITEMS_QUERY,
    INVENTORY_LEVELS_QUERY,
    LEVEL_FIELDS,
    LEVELS_PER_ITEM,
    LIST_PAGE_BUDGET,
    LOCATIONS_QUERY,
    MAX_SET_QUANTITIES,
    NESTED_LEVELS_PAGE,
    READ_LEVELS_BATCH,
    SET_AVAILABLE_COST,
    SET_AVAILABLE_MUTATION,
    item_levels_page_cost,
    items_page_cost,
    level_node_cost,
    levels_page_cost,
    levels_page_size,
    locations_page_cost,
    read_levels_cost,
    read_levels_document,
)
from .inventory_set import (
    CONCURRENT_RETRIES,
    CONCURRENT_WAIT,
    CONCURRENT_WAIT_MAX,
    KEY_NAMESPACE,
    REPLAY_CLOCK_SKEW,
    batched,
    idempotency_key,
    set_available,
)
from .inventory_values import (
    AppliedChange,
    Level,
    Location,
    QuantityChange,
    SetResult,
    positive_int,
    quantities_by_name,
)

__all__ = [
    "BULK_LEVELS_QUERY",
    "CONCURRENT_RETRIES",
    "CONCURRENT_WAIT",
    "CONCURRENT_WAIT_MAX",
    "INVENTORY_ITEMS_QUERY",
    "INVENTORY_ITEM_LEVELS_QUERY",
    "INVENTORY_LEVELS_QUERY",
    "KEY_NAMESPACE",
    "LEVEL_FIELDS",
    "LEVELS_PER_ITEM",
    "LIST_PAGE_BUDGET",
    "LOCATIONS_QUERY",
    "MAX_PAGE_SIZE",
    "MAX_QUERY_COST",
    "MAX_SET_QUANTITIES",
    "NESTED_LEVELS_PAGE",
    "READ_LEVELS_BATCH",
    "REPLAY_CLOCK_SKEW",
    "SET_AVAILABLE_COST",
    "SET_AVAILABLE_MUTATION",
    "AppliedChange",
    "Level",
    "Location",
    "QuantityChange",
    "SetResult",
    "batched",
    "idempotency_key",
    "item_levels_page_cost",
    "items_page_cost",
    "iter_inventory_items",
    "iter_levels",
    "iter_levels_bulk",
    "iter_locations",
    "level_node_cost",
    "levels_page_cost",
    "levels_page_size",
    "locations_page_cost",
    "read_levels",
    "read_levels_cost",
    "read_levels_document",
    "set_available",
]


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
    wanted = None if location_ids is None else frozenset(positive_int(i, "location id") for i in location_ids)
    return _levels(client, first, levels_per_item, wanted)


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
        quantities = quantities_by_name(node.get("quantities"))
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
    wanted = None if location_ids is None else frozenset(positive_int(i, "location id") for i in location_ids)
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


def read_levels(client: GraphQLExecutor, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Current `available` of each (inventory item id, location id), e.g. to re-read after a stale error.

    A pair Shopify has no level for (the item is not stocked there, or no longer exists) is absent from the
    result. Reads up to READ_LEVELS_BATCH pairs a request.
    """
    unique: dict[tuple[int, int], None] = {}
    for pair in pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ValueError(f"expected (inventory item id, location id), got {pair!r}")
        unique[(positive_int(pair[0], "inventory item id"), positive_int(pair[1], "location id"))] = None
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
                available = quantities_by_name(level.get("quantities")).get("available")
                if available is not None:
                    result[(item_id, location_id)] = available
    return result


# --- helpers --------------------------------------------------------------------------------------------


def _page_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be an int between 1 and {MAX_PAGE_SIZE}")
    return value
