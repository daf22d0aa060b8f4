"""Inventory push-back: NetSuite's available quantities reach Shopify through the real clients, both
simulators over HTTP, the real PostgreSQL; CAS, idempotency keys and the watermark."""

from __future__ import annotations

import dataclasses

import pytest
import requests
from sqlalchemy import func, select

from app.adapters.netsuite import get_netsuite
from app.config import get_settings
from app.db import locks
from app.db.models import InventoryPush, SyncWatermark
from app.db.session import session_scope
from app.services.inventory import push_inventory
from shopify_client.client import ShopifyAdminClient

SKUS = ["SKU-A", "SKU-B", "SKU-C"]
SHOPIFY_EAST, SHOPIFY_WEST = 1001, 1002  # LOCATION_MAP in the test settings: 1001=1, 1002=2


@pytest.fixture
def stores(sim, shopify_server):
    requests.post(f"{shopify_server}/_sim/reset", json={}, timeout=5).raise_for_status()
    requests.post(
        f"{shopify_server}/_sim/inventory/locations",
        json=[{"id": SHOPIFY_EAST, "name": "East"}, {"id": SHOPIFY_WEST, "name": "West"}],
        timeout=5,
    ).raise_for_status()
    ids = requests.post(f"{shopify_server}/_sim/inventory/items", json=[{"sku": s} for s in SKUS], timeout=5).json()[
        "ids"
    ]
    levels = [
        {"inventory_item_id": i, "location_id": loc, "available": 5}
        for i in ids
        for loc in (SHOPIFY_EAST, SHOPIFY_WEST)
    ]
    requests.post(f"{shopify_server}/_sim/inventory/levels", json=levels, timeout=5).raise_for_status()
    shopify = ShopifyAdminClient(url=f"{shopify_server}/admin/api/2026-04/graphql.json", access_token="shpat_test")
    west = get_netsuite().create("location", {"name": "West warehouse"})
    LOCATIONS["2"] = west
    SETTINGS[0] = dataclasses.replace(get_settings(), location_map={SHOPIFY_EAST: "1", SHOPIFY_WEST: west})
    return sim, shopify_server, shopify


LOCATIONS = {"1": "1"}  # the test's NetSuite location names -> internal ids (West is created per test)
SETTINGS = [get_settings()]


def set_netsuite(sim: str, entries: list[tuple[str, str, int]]) -> None:
    body = [
        {"item": sku, "location": LOCATIONS[loc], "quantityonhand": qty, "quantityavailable": qty}
        for sku, loc, qty in entries
    ]
    requests.post(f"{sim}/_sim/inventory", json=body, timeout=5).raise_for_status()


def shopify_levels(base: str) -> dict[tuple[str, int], int]:
    rows = requests.get(f"{base}/_sim/inventory/levels", timeout=5).json()
    return {(r["sku"], r["location_id"]): r["available"] for r in rows}


def push(shopify) -> object:
    with session_scope() as session:
        return push_inventory(session, get_netsuite(), shopify, SETTINGS[0])


def test_netsuite_quantities_reach_shopify_once_and_the_watermark_moves(stores):
    sim, shopify_base, shopify = stores
    set_netsuite(sim, [("SKU-A", "1", 7), ("SKU-B", "1", 3), ("SKU-C", "2", 12), ("SKU-A", "2", -2)])
    report = push(shopify)
    assert report.calls == 1
    # NetSuite locations outside LOCATION_MAP (other tests' warehouses) are reported; the mapped two never are.
    assert {"1", LOCATIONS["2"]}.isdisjoint(report.unmapped_locations)
    # NetSuite also stocks the fixture items, which Shopify does not sell: reported, never guessed.
    assert set(SKUS).isdisjoint(report.unmapped_skus) and "IPOD2008GREEN" in report.unmapped_skus
    assert report.pushed == len(report.targets) >= 4  # every level differed from Shopify's 5
    levels = shopify_levels(shopify_base)
    for target in report.targets:  # Shopify now shows NetSuite's truth everywhere it was read
        assert levels[(target.sku, target.shopify_location_id)] == target.quantity
    assert levels[("SKU-A", SHOPIFY_EAST)] == 7 and levels[("SKU-B", SHOPIFY_EAST)] == 3
    assert levels[("SKU-C", SHOPIFY_WEST)] == 12
    assert levels[("SKU-A", SHOPIFY_WEST)] == 0  # oversold in NetSuite: Shopify must not sell it
    with session_scope() as s:
        watermark = s.get(SyncWatermark, "netsuite_inventory").value

    # Nothing changed in NetSuite: nothing is read, nothing sent.
    again = push(shopify)
    assert again.changes_read == 0 and again.calls == 0
    # One change: only that one is read and pushed.
    set_netsuite(sim, [("SKU-B", "1", 9)])
    third = push(shopify)
    assert (third.changes_read, third.pushed) == (1, 1)
    assert shopify_levels(shopify_base)[("SKU-B", SHOPIFY_EAST)] == 9
    with session_scope() as s:
        assert s.get(SyncWatermark, "netsuite_inventory").value > watermark
        assert s.scalar(select(func.count()).select_from(InventoryPush)) == report.pushed + 1
    stats = requests.get(f"{shopify_base}/_sim/stats", timeout=5).json()
    assert stats["mutations_by_name"] == {"inventorySetQuantities": 2}
    assert stats["inventory_changes"] == report.pushed + 1


def test_a_crash_before_the_watermark_moves_repushes_nothing_twice(stores):
    sim, shopify_base, shopify = stores
    set_netsuite(sim, [("SKU-A", "1", 5), ("SKU-C", "2", 1)])
    with session_scope() as session:
        push_inventory(session, get_netsuite(), shopify, SETTINGS[0])
        session.rollback()  # as if the worker died after Shopify answered, before the commit
    with session_scope() as s:
        assert s.get(SyncWatermark, "netsuite_inventory") is None
    first = requests.get(f"{shopify_base}/_sim/stats", timeout=5).json()["inventory_changes"]
    report = push(shopify)  # the same NetSuite changes again
    assert report.changes_read >= 2 and report.calls == 0  # Shopify already shows them: nothing re-sent
    assert requests.get(f"{shopify_base}/_sim/stats", timeout=5).json()["inventory_changes"] == first


def test_a_sale_between_read_and_write_is_not_overwritten_blindly(stores, monkeypatch):
    """CHANGE_FROM_QUANTITY_STALE: the push re-reads and sends again with a new key."""
    sim, shopify_base, shopify = stores
    set_netsuite(sim, [("SKU-A", "1", 20)])
    import shopify_client.inventory as inv

    real_read = inv.read_levels
    calls = {"n": 0}

    def read_then_sell(client, pairs):
        levels = real_read(client, pairs)
        calls["n"] += 1
        if calls["n"] == 1:  # a Shopify sale lands right after our read
            requests.post(
                f"{shopify_base}/_sim/inventory/levels",
                json=[{"sku": "SKU-A", "location_id": SHOPIFY_EAST, "available": 4}],
                timeout=5,
            ).raise_for_status()
        return levels

    monkeypatch.setattr(inv, "read_levels", read_then_sell)
    report = push(shopify)
    assert report.stale_retries == 1 and report.calls == 2
    assert shopify_levels(shopify_base)[("SKU-A", SHOPIFY_EAST)] == 20


def test_unmapped_skus_and_locations_are_reported_not_guessed(stores):
    sim, shopify_base, shopify = stores
    requests.post(f"{sim}/_sim/items", json=[{"itemid": "NETSUITE-ONLY"}], timeout=5).raise_for_status()
    set_netsuite(sim, [("NETSUITE-ONLY", "1", 3)])
    report = push(shopify)
    assert "NETSUITE-ONLY" in report.unmapped_skus
    assert all(t.sku != "NETSUITE-ONLY" for t in report.targets)


def test_a_cycle_that_finds_another_running_is_skipped_and_the_next_picks_up(stores):
    sim, shopify_base, shopify = stores
    set_netsuite(sim, [("SKU-A", "1", 4)])
    with session_scope() as holder:
        # Another cycle (a slow one, a second beat, a manual `shopsync inventory sync`) holds the lock.
        assert locks.try_transaction_lock(holder, locks.INVENTORY_PUSH)
        skipped = push(shopify)
        assert skipped.as_dict() == {"skipped": "another inventory push is running"}
        assert requests.get(f"{shopify_base}/_sim/stats", timeout=5).json()["inventory_changes"] == 0
    report = push(shopify)  # the holder's transaction ended, and with it the lock
    assert report.skipped is None and report.pushed >= 1
    assert shopify_levels(shopify_base)[("SKU-A", SHOPIFY_EAST)] == 4
