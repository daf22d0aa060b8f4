"""Inventory push-back decisions. Pure: NetSuite is the truth; Shopify gets NetSuite's available quantity."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

NAMESPACE = uuid.UUID("5b0b1f0e-2c2e-4c55-9a43-0e6f7f2b6a11")


@dataclass(frozen=True)
class NetSuiteLevel:
    sku: str
    netsuite_location: str
    available: int
    changed_at: str


@dataclass(frozen=True)
class Target:
    sku: str
    inventory_item_id: int
    shopify_location_id: int
    quantity: int


@dataclass(frozen=True)
class Plan:
    targets: tuple[Target, ...]
    unmapped_skus: tuple[str, ...]
    unmapped_locations: tuple[str, ...]
    watermark: str | None  # the newest change covered: advance to it once every target has landed


def plan_push(
    levels: Iterable[NetSuiteLevel],
    inventory_items: Mapping[str, int],
    shopify_location_for: Mapping[str, int],
) -> Plan:
    """What Shopify must show: NetSuite's available per SKU and location, mapped to Shopify's ids.

    Negative availability (oversold in NetSuite) is pushed as 0: Shopify would otherwise keep selling what
    is not there. Later changes of the same (SKU, location) win.
    """
    latest: dict[tuple[str, int], Target] = {}
    skus: set[str] = set()
    locations: set[str] = set()
    watermark = None
    for level in levels:
        watermark = max(watermark or level.changed_at, level.changed_at)
        item = inventory_items.get(level.sku)
        location = shopify_location_for.get(level.netsuite_location)
        if item is None:
            skus.add(level.sku)
            continue
        if location is None:
            locations.add(level.netsuite_location)
            continue
        latest[(level.sku, location)] = Target(level.sku, item, location, max(0, level.available))
    return Plan(tuple(latest.values()), tuple(sorted(skus)), tuple(sorted(locations)), watermark)


def push_key(cycle: str, batch: Iterable[Target]) -> str:
    """Idempotency key of one push: derived from the logical operation (the cycle and exactly what it sets),
    never from the HTTP attempt, so a retried push is a no-op and a different push is never taken for one."""
    content = ";".join(
        f"{t.inventory_item_id}@{t.shopify_location_id}={t.quantity}"
        for t in sorted(batch, key=lambda t: (t.inventory_item_id, t.shopify_location_id))
    )
    return str(uuid.uuid5(NAMESPACE, f"{cycle}|{content}"))
