"""The values inventory reads return and writes take (and what they report back), and the checks of their fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .errors import UserErrorDetail
from .ids import legacy_id

__all__ = [
    "AppliedChange",
    "Level",
    "Location",
    "QuantityChange",
    "SetResult",
    "gid_number",
    "optional_int",
    "positive_int",
    "quantities_by_name",
    "strict_int",
]


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


# --- fields ---------------------------------------------------------------------------------------------


def quantities_by_name(raw: Any) -> dict[str, int]:
    result: dict[str, int] = {}
    for entry in raw or ():
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            result[entry["name"]] = strict_int(entry.get("quantity"), f"{entry['name']} quantity")
    return result


def gid_number(node: Any) -> int | None:
    raw = node.get("id") if isinstance(node, Mapping) else None
    return legacy_id(raw) if isinstance(raw, str) else None


def positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"invalid {what}: {value!r}")
    return value


def strict_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"invalid {what}: {value!r}")
    return value


def optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
