"""Inventory of the simulated shop: locations, inventory items, their levels, and the idempotency keys of the
inventory mutations.

Quantities, kept simple on purpose: a level holds `available` and `on_hand`. Their difference stands for
everything Shopify keeps between the two (committed, reserved, damaged, ...) and only the control API changes
it. So a mutation of `available` moves `on_hand` by the same delta, and a mutation of `on_hand` moves
`available` by the same delta; on_hand >= available holds whenever the control API was given on_hand >=
available (it refuses anything else).

Levels are immutable values swapped in under the store lock, so a reader holding one sees a consistent
(available, on_hand, updated_at) without locking, and bulk seeding can share one value between all levels.
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from simulators.shopify.store import StoreError, parse_gid

QUANTITY_NAMES = ("available", "on_hand")
# Names `InventoryLevel.quantities(names:)` accepts besides the two stored ones; they read as 0, except
# committed, which is what separates on_hand from available here.
OTHER_QUANTITY_NAMES = frozenset({"committed", "incoming", "reserved", "damaged", "safety_stock", "quality_control"})
MAX_QUANTITY = 1_000_000_000
MAX_INPUT_SIZE = 250

# Shopify's documented reasons for inventory changes; anything else is INVALID_REASON.
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")

# Generated ids: large like Shopify's, and apart from each other so a mixed-up gid type is easy to spot.
FIRST_ITEM_ID = 43_000_000_001
FIRST_LOCATION_ID = 80_000_000_001
FIRST_GROUP_ID = 91_000_000_001


class Level(NamedTuple):
    available: int
    on_hand: int
    updated_at: float


@dataclass(slots=True)
class Location:
    id: int
    name: str
    active: bool
    created_at: float


@dataclass(slots=True)
class Item:
    id: int
    sku: str | None
    tracked: bool
    created_at: float
    updated_at: float
    # location id -> level
    levels: dict[int, Level]


@dataclass(frozen=True)
class UserError:
    code: str
    field: list[str] | None
    message: str


@dataclass(frozen=True)
class Change:
    name: str
    delta: int
    quantity_after: int
    item_id: int
    location_id: int


@dataclass(frozen=True)
class AdjustmentGroup:
    id: int
    created_at: float
    reason: str
    reference_document_uri: str | None
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Row:
    """One entry of `quantities` (set: the new quantity) or `changes` (adjust: the delta)."""

    index: int
    inventory_item_id: Any
    location_id: Any
    value: int
    # None when the key was absent from the input; (value,) when present, null included.
    change_from: tuple[int | None] | None


@dataclass
class MutationResult:
    group: AdjustmentGroup | None
    errors: list[UserError]
    stale: bool = False


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or value is None:
        raise StoreError(400, f"{what} must be an integer")
    try:
        return int(str(value).rsplit("/", 1)[-1]) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise StoreError(400, f"{what} must be an integer (or a gid), got {value!r}") from None


def _quantity(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise StoreError(400, f"{what} must be an integer")
    if abs(value) > MAX_QUANTITY:
        raise StoreError(400, f"{what} must be between -{MAX_QUANTITY} and {MAX_QUANTITY}")
    return value


def _gid_id(value: Any, kind: str) -> int | None:
    try:
        return parse_gid(value, kind)
    except ValueError:
        return None


class InventoryStore:
    """Locations, items and levels. Thread-safe: writers hold the lock; readers get immutable levels."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.Lock()
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.locations: dict[int, Location] = {}
            self.items: dict[int, Item] = {}
            self._by_sku: dict[str, list[int]] = {}
            self._item_ids: list[int] = []
            self._item_ids_sorted = True
            # location id -> ids of the items stocked there, kept sorted lazily
            self._stocked: dict[int, list[int]] = {}
            self._stocked_sorted: dict[int, bool] = {}
            self._level_count = 0
            self._item_seq = itertools.count(FIRST_ITEM_ID)
            self._location_seq = itertools.count(FIRST_LOCATION_ID)
            self._group_seq = itertools.count(FIRST_GROUP_ID)

    def now(self) -> float:
        return self._clock()

    # reads

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {"locations": len(self.locations), "items": len(self.items), "levels": self._level_count}

    def sorted_locations(self) -> list[Location]:
        with self.lock:
            return sorted(self.locations.values(), key=lambda loc: loc.id)

    def sorted_item_ids(self) -> list[int]:
        """Every item id in ascending order; the list is shared, callers must not change it."""
        with self.lock:
            if not self._item_ids_sorted:
                # A new list, not an in-place sort: a reader still paging the old one must not see it emptied.
                self._item_ids = sorted(self._item_ids)
                self._item_ids_sorted = True
            return self._item_ids

    def stocked_item_ids(self, location_id: int) -> list[int]:
        """Ids of the items with a level at the location, ascending; shared, callers must not change it."""
        with self.lock:
            ids = self._stocked.get(location_id)
            if ids is None:
                return []
            if not self._stocked_sorted[location_id]:
                ids = self._stocked[location_id] = sorted(ids)
                self._stocked_sorted[location_id] = True
            return ids

    def item_ids_for_sku(self, sku: str) -> list[int]:
        with self.lock:
            return list(self._by_sku.get(sku, ()))

    def levels_view(
        self, sku: str | None = None, item_id: int | None = None, location_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Levels as the control API lists them, in (item id, location id) order."""
        if item_id is not None:
            ids = [item_id]
        elif sku is not None:
            ids = sorted(self.item_ids_for_sku(sku))
        else:
            ids = self.sorted_item_ids()
        rows = []
        for iid in ids:
            item = self.items.get(iid)
            if item is None:
                continue
            for lid, level in sorted(item.levels.items()):
                if location_id is not None and lid != location_id:
                    continue
                rows.append(
                    {
                        "sku": item.sku,
                        "inventory_item_id": iid,
                        "location_id": lid,
                        "available": level.available,
                        "on_hand": level.on_hand,
                        "updated_at": level.updated_at,
                    }
                )
        return rows

    # control API writes

    def add_locations(self, body: Any) -> list[int]:
        """Create or rename locations: `[{"id"?, "name", "active"?}]`."""
        entries = body if isinstance(body, list) else [body]
        now = self.now()
        ids = []
        with self.lock:
            for entry in entries:
                if not isinstance(entry, dict):
                    raise StoreError(400, "each location must be an object {id?, name, active?}")
                lid = _int(entry["id"], "location id") if entry.get("id") is not None else next(self._location_seq)
                name = entry.get("name") or f"Location {lid}"
                active = entry.get("active", True)
                if not isinstance(active, bool):
                    raise StoreError(400, "active must be a boolean")
                existing = self.locations.get(lid)
                created = existing.created_at if existing is not None else now
                self.locations[lid] = Location(lid, str(name), active, created)
                ids.append(lid)
        return ids

    def add_items(self, body: Any) -> list[int]:
        """Create or update items: `[{"id"?, "sku", "tracked"?}]`."""
        entries = body if isinstance(body, list) else [body]
        now = self.now()
        ids = []
        with self.lock:
            for entry in entries:
                if not isinstance(entry, dict):
                    raise StoreError(400, "each item must be an object {id?, sku, tracked?}")
                sku = entry.get("sku")
                if sku is not None and not isinstance(sku, str):
                    raise StoreError(400, "sku must be a string")
                tracked = entry.get("tracked", True)
                if not isinstance(tracked, bool):
                    raise StoreError(400, "tracked must be a boolean")
                iid = _int(entry["id"], "inventory item id") if entry.get("id") is not None else next(self._item_seq)
                item = self.items.get(iid)
                if item is None:
                    self._insert_item(Item(iid, sku, tracked, now, now, {}))
                else:
                    if item.sku != sku:
                        self._unindex_sku(item)
                        item.sku = sku
                        if sku is not None:
                            self._by_sku.setdefault(sku, []).append(iid)
                    item.tracked = tracked
                    item.updated_at = now
                ids.append(iid)
        return ids

    def set_levels(self, body: Any) -> int:
        """Create or overwrite levels: `[{"inventory_item_id" | "sku", "location_id", "available", "on_hand"?}]`.

        Without on_hand a new level gets on_hand = available and an existing one keeps its gap (on_hand moves
        with available), as the mutations do."""
        entries = body if isinstance(body, list) else [body]
        now = self.now()
        with self.lock:
            resolved = []
            for entry in entries:
                if not isinstance(entry, dict):
                    raise StoreError(400, "each level must be an object")
                item = self._find_item(entry)
                lid = _int(entry.get("location_id"), "location_id")
                if lid not in self.locations:
                    raise StoreError(400, f"no location {lid}: create it with POST /_sim/inventory/locations")
                available = _quantity(entry.get("available"), "available")
                current = item.levels.get(lid)
                if entry.get("on_hand") is not None:
                    on_hand = _quantity(entry["on_hand"], "on_hand")
                elif current is not None:
                    on_hand = current.on_hand + available - current.available
                else:
                    on_hand = available
                if on_hand < available:
                    raise StoreError(400, f"on_hand ({on_hand}) must be >= available ({available})")
                resolved.append((item, lid, Level(available, on_hand, now)))
            for item, lid, level in resolved:
                self._put_level(item, lid, level)
                item.updated_at = now
        return len(resolved)

    def seed(self, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the whole inventory with `items` x `locations` levels, quickly (benchmarks seed 100,000 x 3).

        SKUs are `sku_prefix` + the item's number from 1, zero-padded to `sku_width` digits when given; item ids
        count up from `first_item_id`; location ids are `location_ids` or generated."""
        n_items = body.get("items", 0)
        n_locations = body.get("locations", 1)
        available = body.get("available", 0)
        on_hand = body.get("on_hand", available)
        prefix = body.get("sku_prefix", "SKU-")
        width = body.get("sku_width", 0)
        location_ids = body.get("location_ids")
        first_item_id = body.get("first_item_id", FIRST_ITEM_ID)
        for name, value in (("items", n_items), ("locations", n_locations), ("sku_width", width)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise StoreError(400, f"{name} must be an integer >= 0")
        available = _quantity(available, "available")
        on_hand = _quantity(on_hand, "on_hand")
        if on_hand < available:
            raise StoreError(400, "on_hand must be >= available")
        if not isinstance(prefix, str):
            raise StoreError(400, "sku_prefix must be a string")
        if location_ids is None:
            location_ids = [FIRST_LOCATION_ID + i for i in range(n_locations)]
        elif not isinstance(location_ids, list):
            raise StoreError(400, "location_ids must be a list of integers")
        location_ids = [_int(v, "location id") for v in location_ids]
        names = body.get("location_names") or {}
        first_item_id = _int(first_item_id, "first_item_id")
        self.reset()
        now = self.now()
        level = Level(available, on_hand, now)  # immutable, so every level can share it
        with self.lock:
            for position, lid in enumerate(location_ids, start=1):
                name = names.get(str(lid)) or f"Warehouse {position}"
                self.locations[lid] = Location(lid, name, True, now)
            ids = list(range(first_item_id, first_item_id + n_items))
            skus = [f"{prefix}{number:0{width}d}" for number in range(1, n_items + 1)]
            self.items = {
                iid: Item(iid, sku, True, now, now, dict.fromkeys(location_ids, level))
                for iid, sku in zip(ids, skus, strict=True)
            }
            self._by_sku = {sku: [iid] for iid, sku in zip(ids, skus, strict=True)}
            self._item_ids = ids
            self._item_ids_sorted = True
            self._stocked = {lid: list(ids) for lid in location_ids}
            self._stocked_sorted = dict.fromkeys(location_ids, True)
            self._level_count = n_items * len(location_ids)
            self._item_seq = itertools.count(max(first_item_id + n_items, FIRST_ITEM_ID))
        return {
            "locations": location_ids,
            "items": n_items,
            "levels": n_items * len(location_ids),
            "first_item_id": first_item_id,
            "last_item_id": first_item_id + n_items - 1 if n_items else None,
            "first_sku": skus[0] if skus else None,
            "last_sku": skus[-1] if skus else None,
        }

    def _find_item(self, entry: dict[str, Any]) -> Item:
        if entry.get("inventory_item_id") is not None:
            iid = _int(entry["inventory_item_id"], "inventory_item_id")
            item = self.items.get(iid)
            if item is None:
                raise StoreError(400, f"no inventory item {iid}")
            return item
        sku = entry.get("sku")
        if not isinstance(sku, str):
            raise StoreError(400, "each level needs inventory_item_id or sku")
        ids = self._by_sku.get(sku) or []
        if len(ids) != 1:
            raise StoreError(400, f"sku {sku!r} names {len(ids)} inventory items; give inventory_item_id")
        return self.items[ids[0]]

    def _insert_item(self, item: Item) -> None:
        self.items[item.id] = item
        if self._item_ids and item.id < self._item_ids[-1]:
            self._item_ids_sorted = False
        self._item_ids.append(item.id)
        if item.sku is not None:
            self._by_sku.setdefault(item.sku, []).append(item.id)

    def _unindex_sku(self, item: Item) -> None:
        if item.sku is None:
            return
        ids = self._by_sku.get(item.sku, [])
        if item.id in ids:
            ids.remove(item.id)
        if not ids:
            self._by_sku.pop(item.sku, None)

    def _put_level(self, item: Item, location_id: int, level: Level) -> None:
        if location_id not in item.levels:
            stocked = self._stocked.setdefault(location_id, [])
            if stocked and item.id < stocked[-1]:
                self._stocked_sorted[location_id] = False
            else:
                self._stocked_sorted.setdefault(location_id, True)
            stocked.append(item.id)
            self._level_count += 1
        item.levels[location_id] = level

    # mutations

    def apply(
        self,
        mode: str,
        name: Any,
        reason: Any,
        reference_document_uri: Any,
        rows: Sequence[Row],
        rows_field: str,
    ) -> MutationResult:
        """inventorySetQuantities (`mode` "set") or inventoryAdjustQuantities ("adjust"), all or nothing.

        Every row is checked against the state under the lock before anything changes, so a stale or invalid
        row leaves the whole call unapplied."""
        if len(rows) > MAX_INPUT_SIZE:
            # The brief asks for a user error; real Shopify may refuse this before execution (UNCONFIRMED).
            return MutationResult(
                None,
                [
                    UserError(
                        "MAX_INPUT_SIZE_EXCEEDED",
                        ["input", rows_field],
                        f"The input array size of {len(rows)} is greater than the maximum allowed of {MAX_INPUT_SIZE}.",
                    )
                ],
            )
        errors: list[UserError] = []
        if name not in QUANTITY_NAMES:
            code = "INVALID_NAME" if mode == "set" else "INVALID_QUANTITY_NAME"
            errors.append(
                UserError(code, ["input", "name"], "The quantity name must be either 'available' or 'on_hand'.")
            )
        if reason not in REASONS:
            errors.append(UserError("INVALID_REASON", ["input", "reason"], "The specified reason is invalid."))
        if reference_document_uri is not None and not _URI.match(str(reference_document_uri)):
            errors.append(
                UserError(
                    "INVALID_REFERENCE_DOCUMENT",
                    ["input", "referenceDocumentUri"],
                    "The specified reference document is invalid.",
                )
            )
        with self.lock:
            now = self.now()
            planned: dict[tuple[int, int], Level] = {}
            changes: list[Change] = []
            stale = False
            for row in rows:
                path = ["input", rows_field, str(row.index)]
                if mode == "set" and row.change_from is None:
                    # From 2026-04 the key must be sent (null opts out of the check); Shopify says omitting it
                    # "returns an error" without naming it. COMPARE_QUANTITY_REQUIRED is the code its enum
                    # still carries for the same rule of the older compareQuantity (UNCONFIRMED).
                    errors.append(
                        UserError(
                            "COMPARE_QUANTITY_REQUIRED",
                            [*path, "changeFromQuantity"],
                            "changeFromQuantity must be given for each quantity: an integer, or null to skip "
                            "the check.",
                        )
                    )
                    continue
                iid = _gid_id(row.inventory_item_id, "InventoryItem")
                item = self.items.get(iid) if iid is not None else None
                if item is None:
                    errors.append(
                        UserError(
                            "INVALID_INVENTORY_ITEM",
                            [*path, "inventoryItemId"],
                            "The specified inventory item could not be found.",
                        )
                    )
                    continue
                lid = _gid_id(row.location_id, "Location")
                if lid is None or lid not in self.locations:
                    errors.append(
                        UserError(
                            "INVALID_LOCATION", [*path, "locationId"], "The specified location could not be found."
                        )
                    )
                    continue
                key = (item.id, lid)
                if mode == "set" and key in planned:
                    errors.append(
                        UserError(
                            "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                            [*path, "inventoryItemId"],
                            "The combination of inventoryItemId and locationId must be unique.",
                        )
                    )
                    continue
                level = planned.get(key) or item.levels.get(lid)
                if level is None:
                    errors.append(
                        UserError(
                            "ITEM_NOT_STOCKED_AT_LOCATION",
                            [*path, "locationId"],
                            "The specified inventory item is not stocked at the location.",
                        )
                    )
                    continue
                if name not in QUANTITY_NAMES:
                    continue
                current = level.available if name == "available" else level.on_hand
                if row.change_from is not None and row.change_from[0] is not None and row.change_from[0] != current:
                    stale = True
                    errors.append(
                        UserError(
                            "CHANGE_FROM_QUANTITY_STALE",
                            [*path, "changeFromQuantity"],
                            f"The changeFromQuantity value ({row.change_from[0]}) does not match the persisted "
                            f"{name} quantity ({current}).",
                        )
                    )
                    continue
                delta = row.value - current if mode == "set" else row.value
                available, on_hand = level.available + delta, level.on_hand + delta
                if max(available, on_hand) > MAX_QUANTITY:
                    errors.append(
                        UserError(
                            "INVALID_QUANTITY_TOO_HIGH",
                            [*path, "quantity" if mode == "set" else "delta"],
                            f"The total quantity can't be higher than {MAX_QUANTITY:,}.",
                        )
                    )
                    continue
                if min(available, on_hand) < -MAX_QUANTITY:
                    errors.append(
                        UserError(
                            "INVALID_QUANTITY_TOO_LOW",
                            [*path, "quantity" if mode == "set" else "delta"],
                            f"The total quantity can't be lower than -{MAX_QUANTITY:,}.",
                        )
                    )
                    continue
                planned[key] = Level(available, on_hand, now)
                # The named quantity first, then the one that moved with it, as Shopify lists both.
                other = "on_hand" if name == "available" else "available"
                after = {"available": available, "on_hand": on_hand}
                changes.append(Change(name, delta, after[name], item.id, lid))
                changes.append(Change(other, delta, after[other], item.id, lid))
            if errors:
                return MutationResult(None, errors, stale)
            for (iid, lid), level in planned.items():
                item = self.items[iid]
                self._put_level(item, lid, level)
                item.updated_at = now
            group = AdjustmentGroup(next(self._group_seq), now, reason, reference_document_uri, tuple(changes))
        return MutationResult(group, [])


# idempotency


@dataclass
class _KeyState:
    fingerprint: str
    running: bool = True
    result: Any = None


@dataclass
class KeyClaim:
    """What the registry says about a key: `new` (run it, then finish), `replay` (`result` is the original),
    `mismatch` or `concurrent`."""

    outcome: str
    result: Any = None


@dataclass
class IdempotencyRegistry:
    """The @idempotent keys of the shop, kept for the simulator's lifetime (Shopify keeps them for a while)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    keys: dict[str, _KeyState] = field(default_factory=dict)
    running: int = 0

    def claim(self, key: str, fingerprint: str) -> KeyClaim:
        with self.lock:
            state = self.keys.get(key)
            if state is None:
                self.keys[key] = _KeyState(fingerprint)
                self.running += 1
                return KeyClaim("new")
            # Different parameters are refused even while the first call runs: the key is not theirs.
            if state.fingerprint != fingerprint:
                return KeyClaim("mismatch")
            if state.running:
                return KeyClaim("concurrent")
            return KeyClaim("replay", state.result)

    def finish(self, key: str, result: Any) -> None:
        with self.lock:
            state = self.keys.get(key)
            if state is None or not state.running:
                return
            state.running = False
            state.result = result
            self.running -= 1

    def abandon(self, key: str) -> None:
        """Forget a key whose call failed inside the simulator, so that a retry runs it afresh."""
        with self.lock:
            if self.keys.pop(key, None) is not None:
                self.running -= 1

    def in_flight(self) -> int:
        with self.lock:
            return self.running

    def reset(self) -> None:
        """Forget every key; a call still running finishes without recording its result."""
        with self.lock:
            self.keys.clear()
            self.running = 0


def page_after(ids: list[int], after_id: int | None) -> int:
    """Position of the first id greater than `after_id` in an ascending list."""
    return 0 if after_id is None else bisect.bisect_right(ids, after_id)
