"""Inventory push-back: NetSuite's available quantities, changed since the watermark, pushed to Shopify.

The service never writes inventory to NetSuite from Shopify's numbers: NetSuite is the truth. Restocks from
refunds reach NetSuite through the credit memo (order flow) and come back to Shopify through this push.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import locks
from app.db.models import InventoryPush, ShopifyInventoryItem, SyncWatermark
from app.domain.inventory import NetSuiteLevel, Target, plan_push, push_key
from netsuite_client import NetSuiteClient, suiteql_literal
from shopify_client.client import ShopifyAdminClient

log = logging.getLogger(__name__)

WATERMARK = "netsuite_inventory"
EPOCH = "1970-01-01T00:00:00.000000Z"
BATCH = 250  # inventorySetQuantities takes at most 250 quantities a call
MAX_STALE_ROUNDS = 3


@dataclass
class PushReport:
    cycle: str
    since: str
    until: str | None
    changes_read: int = 0
    pushed: int = 0
    calls: int = 0
    replayed: int = 0
    stale_retries: int = 0
    unmapped_skus: list[str] = field(default_factory=list)
    unmapped_locations: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    skipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.skipped:
            return {"skipped": self.skipped}
        return {
            "cycle": self.cycle,
            "since": self.since,
            "until": self.until,
            "changes_read": self.changes_read,
            "pushed": self.pushed,
            "calls": self.calls,
            "replayed": self.replayed,
            "stale_retries": self.stale_retries,
            "unmapped_skus": self.unmapped_skus,
            "unmapped_locations": self.unmapped_locations,
        }


def read_watermark(session: Session) -> str:
    row = session.get(SyncWatermark, WATERMARK)
    return row.value if row else EPOCH


def _advance(session: Session, value: str) -> None:
    stmt = insert(SyncWatermark).values(name=WATERMARK, value=value)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["name"], set_={"value": value, "updated_at": datetime.now(UTC)})
    )


def netsuite_changes(client: NetSuiteClient, settings: Settings, since: str) -> Iterator[NetSuiteLevel]:
    """Every item/location quantity changed after `since`, paged (SuiteQL pages of 1,000, unique ORDER BY)."""
    field_name = settings.netsuite_item_sku_field
    query = (
        f"SELECT iil.item AS item, i.{field_name} AS sku, iil.location AS location, "
        "iil.quantityavailable AS available, iil.lastmodifieddate AS changed "
        "FROM InventoryItemLocations iil JOIN item i ON i.id = iil.item "
        f"WHERE iil.lastmodifieddate > {suiteql_literal(since)} "
        "ORDER BY iil.lastmodifieddate, iil.item, iil.location"
    )
    for row in client.suiteql(query, lane="inventory"):
        if not row.get("sku"):
            continue
        yield NetSuiteLevel(
            sku=row["sku"],
            netsuite_location=str(row["location"]),
            available=int(float(row.get("available") or 0)),
            changed_at=row["changed"],
        )


def inventory_item_map(
    session: Session, shopify: ShopifyAdminClient, skus: set[str], *, refresh: bool = False
) -> dict[str, int]:
    """SKU -> Shopify inventory item, from PostgreSQL; refreshed from Shopify when SKUs are missing."""
    from shopify_client.inventory import iter_inventory_items

    known = dict(
        session.execute(
            select(ShopifyInventoryItem.sku, ShopifyInventoryItem.inventory_item_id).where(
                ShopifyInventoryItem.sku.in_(skus)
            )
        )
        .tuples()
        .all()
    )
    if refresh or skus - set(known):
        rows = [{"sku": sku, "inventory_item_id": item_id} for item_id, sku in iter_inventory_items(shopify) if sku]
        for start in range(0, len(rows), 1000):
            stmt = insert(ShopifyInventoryItem).values(rows[start : start + 1000])
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["sku"],
                    set_={"inventory_item_id": stmt.excluded.inventory_item_id, "refreshed_at": datetime.now(UTC)},
                )
            )
        known = {r["sku"]: r["inventory_item_id"] for r in rows if r["sku"] in skus}
    return known


@dataclass
class SetOutcome:
    pushed: int = 0
    calls: int = 0
    replayed: int = 0
    stale_retries: int = 0
    applied: list[tuple[Target, int | None, str]] = field(default_factory=list)  # (target, previous, key)


def set_targets(
    shopify: ShopifyAdminClient,
    targets: list[Target],
    operation: str,
    *,
    reason: str = "correction",
    known: Mapping[tuple[int, int], int] | None = None,
) -> SetOutcome:
    """Make Shopify show each target quantity: per batch of 250, read what Shopify shows, send only what differs
    with that as `changeFromQuantity` (compare-and-swap), and on CHANGE_FROM_QUANTITY_STALE read again and send
    again under a new key. The key is derived from the operation and exactly what the call sets and expects, so a
    retried call is a no-op at Shopify and a re-run finds nothing left to send.

    `known` (inventory item, location) -> quantity, when the caller has just read Shopify (a bulk snapshot): the
    first round trusts it instead of reading again, which at 750 points a read is what the cost bucket can't
    afford at scale; compare-and-swap still refuses anything that changed since, and that batch is re-read."""
    from shopify_client.inventory import QuantityChange, read_levels, set_available

    outcome = SetOutcome()
    for start in range(0, len(targets), BATCH):
        batch = targets[start : start + BATCH]
        for round_number in range(MAX_STALE_ROUNDS):
            if round_number == 0 and known is not None:
                current = {
                    (t.inventory_item_id, t.shopify_location_id): known[(t.inventory_item_id, t.shopify_location_id)]
                    for t in batch
                    if (t.inventory_item_id, t.shopify_location_id) in known
                }
            else:
                current = read_levels(shopify, [(t.inventory_item_id, t.shopify_location_id) for t in batch])
            todo = [t for t in batch if current.get((t.inventory_item_id, t.shopify_location_id)) != t.quantity]
            if not todo:
                break
            changes = [
                QuantityChange(
                    t.inventory_item_id,
                    t.shopify_location_id,
                    t.quantity,
                    current.get((t.inventory_item_id, t.shopify_location_id)),
                )
                for t in todo
            ]
            expected = sorted((c.inventory_item_id, c.location_id, c.change_from_quantity) for c in changes)
            key = push_key(f"{operation}|{expected}", todo)
            result = set_available(
                shopify,
                changes,
                reason=reason,
                reference_document_uri=f"shopsync://{operation}",
                idempotency_key=key,
            )
            outcome.calls += 1
            outcome.replayed += int(result.replayed)
            if result.stale:
                outcome.stale_retries += 1
                continue
            outcome.pushed += len(todo)
            outcome.applied += [(t, current.get((t.inventory_item_id, t.shopify_location_id)), key) for t in todo]
            break
        else:
            raise RuntimeError(f"{operation}: Shopify quantities kept changing under {len(batch)} target(s)")
    return outcome


def push_inventory(
    session: Session, netsuite: NetSuiteClient, shopify: ShopifyAdminClient, settings: Settings
) -> PushReport:
    """One push cycle: read NetSuite changes since the watermark, set Shopify's available quantities with
    compare-and-swap and idempotency keys, and advance the watermark only after every push landed.

    One cycle at a time: the advisory lock keeps two beats (or a slow cycle and the next, or a manual run) from
    overlapping; a cycle that finds it taken is skipped, and the next one picks up from the same watermark."""
    if not locks.try_transaction_lock(session, locks.INVENTORY_PUSH):
        return PushReport(cycle="", since="", until=None, skipped="another inventory push is running")
    since = read_watermark(session)
    levels = list(netsuite_changes(netsuite, settings, since))
    report = PushReport(cycle=f"push:{since}", since=since, until=None, changes_read=len(levels))
    if not levels:
        return report
    items = inventory_item_map(session, shopify, {level.sku for level in levels})
    reverse_locations = {netsuite_id: shopify_id for shopify_id, netsuite_id in settings.location_map.items()}
    plan = plan_push(levels, items, reverse_locations)
    report.until = plan.watermark
    report.cycle = f"push:{since}:{plan.watermark}"  # the same NetSuite changes give the same cycle after a crash
    report.unmapped_skus = list(plan.unmapped_skus)
    report.unmapped_locations = list(plan.unmapped_locations)
    report.targets = list(plan.targets)

    outcome = set_targets(shopify, list(plan.targets), report.cycle)
    report.pushed, report.calls = outcome.pushed, outcome.calls
    report.replayed, report.stale_retries = outcome.replayed, outcome.stale_retries
    for target, previous, key in outcome.applied:
        session.add(
            InventoryPush(
                cycle=report.cycle[:64],
                sku=target.sku,
                shopify_location_id=target.shopify_location_id,
                quantity=target.quantity,
                previous_quantity=previous,
                idempotency_key=key,
            )
        )
    _advance(session, plan.watermark)
    log.info(
        "inventory push %s: %d change(s) read, %d pushed in %d call(s)",
        report.cycle,
        len(levels),
        report.pushed,
        report.calls,
    )
    return report
