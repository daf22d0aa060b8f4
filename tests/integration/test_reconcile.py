"""Inventory reconciliation through both simulators: seeded drift of every kind, corrections applied once even
across a killed run and a re-run, runs stored, spikes alerted."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
import requests
from sqlalchemy import select

from app.adapters.netsuite import get_netsuite
from app.db.models import ReconciliationDiff, ReconciliationRun, SyncAlert
from app.db.session import session_scope
from app.services.reconcile import reconcile_inventory
from tests.integration.test_inventory_push import (  # noqa: F401 - fixtures
    LOCATIONS,
    SETTINGS,
    SHOPIFY_EAST,
    set_netsuite,
    shopify_levels,
    stores,
)

NIGHT = date(2026, 11, 23)


def setup_drift(sim: str, shopify_base: str) -> None:
    """NetSuite truth at East: A 10, B 10, C 10 (SKU-C is a configured fast mover, tolerance 2)."""
    set_netsuite(sim, [("SKU-A", "1", 10), ("SKU-B", "1", 10), ("SKU-C", "1", 10)])
    requests.post(
        f"{shopify_base}/_sim/inventory/levels",
        json=[
            {"sku": "SKU-A", "location_id": SHOPIFY_EAST, "available": 14},  # Shopify high
            {"sku": "SKU-B", "location_id": SHOPIFY_EAST, "available": 7},  # Shopify low
            {"sku": "SKU-C", "location_id": SHOPIFY_EAST, "available": 11},  # within tolerance
        ],
        timeout=5,
    ).raise_for_status()


def settings():
    return dataclasses.replace(SETTINGS[0], reconcile_sku_classes={"SKU-C": "high"})


def run(shopify, **kwargs):
    with session_scope() as session:
        return reconcile_inventory(session, get_netsuite(), shopify, settings(), run_date=NIGHT, **kwargs)


def test_every_kind_of_drift_ends_in_exactly_the_expected_corrections(stores):  # noqa: F811
    sim, shopify_base, shopify = stores
    setup_drift(sim, shopify_base)
    dry = run(shopify, dry_run=True)
    assert dry.corrections_applied == 0 and shopify_levels(shopify_base)[("SKU-A", SHOPIFY_EAST)] == 14

    report = run(shopify, scheduled=True)
    levels = shopify_levels(shopify_base)
    assert levels[("SKU-A", SHOPIFY_EAST)] == 10 and levels[("SKU-B", SHOPIFY_EAST)] == 10
    assert levels[("SKU-C", SHOPIFY_EAST)] == 11  # within tolerance: left alone
    with session_scope() as s:
        actions = {
            (d.sku, d.shopify_location_id): d.action
            for d in s.scalars(select(ReconciliationDiff).where(ReconciliationDiff.run_id == report.run_id))
        }
    assert actions[("SKU-A", SHOPIFY_EAST)] == "corrected" and actions[("SKU-B", SHOPIFY_EAST)] == "corrected"
    assert actions[("SKU-C", SHOPIFY_EAST)] == "within_tolerance"
    assert "missing_in_shopify" in actions.values()  # NetSuite items Shopify does not carry (the fixture SKUs)
    assert report.corrections_applied >= 2 and report.alert is None

    # A second scheduled run the same night (two beats, or a retry): nothing new, nothing sent.
    again = run(shopify, scheduled=True)
    assert again.skipped and "already ran" in again.skipped
    # A manual re-run the same night finds nothing to correct and the simulator saw no duplicate adjustment.
    before = requests.get(f"{shopify_base}/_sim/stats", timeout=5).json()["inventory_changes"]
    manual = run(shopify)
    assert manual.corrections_applied == 0
    assert requests.get(f"{shopify_base}/_sim/stats", timeout=5).json()["inventory_changes"] == before


def test_a_run_killed_mid_way_is_finished_by_the_restart_without_applying_twice(stores, monkeypatch):  # noqa: F811
    sim, shopify_base, shopify = stores
    setup_drift(sim, shopify_base)
    to_correct = sum(1 for d in run(shopify, dry_run=True).diffs if d["action"] == "corrected")
    assert to_correct >= 2
    import app.services.reconcile as rec

    real = rec.set_targets

    def die_after_landing(client, targets, operation, **kw):
        real(client, targets[:1], operation, **kw)  # the first correction lands, then the worker dies
        raise SystemExit("killed")

    monkeypatch.setattr(rec, "set_targets", die_after_landing)
    with pytest.raises(SystemExit):
        run(shopify, scheduled=True)
    monkeypatch.setattr(rec, "set_targets", real)
    changes_after_crash = requests.get(f"{shopify_base}/_sim/stats", timeout=5).json()["inventory_changes"]

    report = run(shopify, scheduled=True)  # the restart takes the unfinished run over
    levels = shopify_levels(shopify_base)
    assert levels[("SKU-A", SHOPIFY_EAST)] == 10 and levels[("SKU-B", SHOPIFY_EAST)] == 10
    assert report.corrections_applied == to_correct - 1  # only what had not landed before the kill
    stats = requests.get(f"{shopify_base}/_sim/stats", timeout=5).json()
    assert stats["inventory_changes"] == changes_after_crash + to_correct - 1
    with session_scope() as s:
        runs = s.scalars(select(ReconciliationRun)).all()
    assert [(r.trigger, r.status) for r in runs] == [("manual", "done"), ("scheduled", "done")]


def test_a_diff_spike_raises_an_alert(stores):  # noqa: F811
    sim, shopify_base, shopify = stores
    with session_scope() as s:
        for _ in range(5):
            s.add(ReconciliationRun(kind="inventory", trigger="manual", run_date=NIGHT, status="done", diffs_found=1))
    setup_drift(sim, shopify_base)
    report = run(shopify, dry_run=True)
    assert report.alert and "median" in report.alert
    with session_scope() as s:
        [alert] = s.scalars(select(SyncAlert)).all()
    assert alert.kind == "reconciliation_spike"
    assert LOCATIONS["1"] == "1"


def test_a_bundle_is_corrected_from_its_netsuite_components(stores):  # noqa: F811
    sim, shopify_base, shopify = stores
    [bundle_item] = requests.post(f"{shopify_base}/_sim/inventory/items", json=[{"sku": "GIFT-BOX"}], timeout=5).json()[
        "ids"
    ]
    requests.post(
        f"{shopify_base}/_sim/inventory/levels",
        json=[{"inventory_item_id": bundle_item, "location_id": SHOPIFY_EAST, "available": 50}],
        timeout=5,
    ).raise_for_status()
    set_netsuite(sim, [("SKU-A", "1", 10), ("SKU-B", "1", 4)])
    bundled = dataclasses.replace(settings(), bundles={"GIFT-BOX": {"SKU-A": 2, "SKU-B": 1}})
    with session_scope() as session:
        report = reconcile_inventory(session, get_netsuite(), shopify, bundled, run_date=NIGHT)
    assert {
        "sku": "GIFT-BOX",
        "location_id": SHOPIFY_EAST,
        "netsuite": 4,
        "shopify": 50,
        "tolerance": 0,
        "action": "corrected",
    } in report.diffs
    assert shopify_levels(shopify_base)[("GIFT-BOX", SHOPIFY_EAST)] == 4  # min(10 // 2, 4 // 1)


def test_a_sale_after_the_snapshot_is_caught_by_compare_and_swap(stores, monkeypatch):  # noqa: F811
    sim, shopify_base, shopify = stores
    setup_drift(sim, shopify_base)
    import app.services.reconcile as rec

    real = rec.set_targets

    def sale_then_set(client, targets, operation, **kw):
        # A sale lands in Shopify after the bulk snapshot was taken, before the correction is sent.
        requests.post(
            f"{shopify_base}/_sim/inventory/levels",
            json=[{"sku": "SKU-A", "location_id": SHOPIFY_EAST, "available": 13}],
            timeout=5,
        ).raise_for_status()
        outcome = real(client, targets, operation, **kw)
        assert outcome.stale_retries == 1  # the snapshot's 14 was refused, re-read, sent again
        return outcome

    monkeypatch.setattr(rec, "set_targets", sale_then_set)
    run(shopify)
    assert shopify_levels(shopify_base)[("SKU-A", SHOPIFY_EAST)] == 10
