"""The operator commands, as an operator runs them (click's runner), against the simulators on loopback."""

from __future__ import annotations

import json

from click.testing import CliRunner

from app.cli import main
from tests.integration.test_inventory_push import (
    SHOPIFY_EAST,
    set_netsuite,
    shopify_levels,
    stores,  # noqa: F401 - fixture
)


def test_inventory_sync_prints_what_it_pushed(stores):  # noqa: F811
    sim, shopify_base, _ = stores
    set_netsuite(sim, [("SKU-A", "1", 8)])
    result = CliRunner().invoke(main, ["inventory", "sync", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["pushed"] >= 1 and report["calls"] >= 1
    assert shopify_levels(shopify_base)[("SKU-A", SHOPIFY_EAST)] == 8
    again = CliRunner().invoke(main, ["inventory", "sync"])
    assert again.exit_code == 0 and "pushed 0 quantity(ies) in 0 call(s)" in again.output


def test_reconcile_dry_run_reports_without_correcting(stores):  # noqa: F811
    sim, shopify_base, _ = stores
    set_netsuite(sim, [("SKU-B", "1", 3)])  # Shopify shows 5
    result = CliRunner().invoke(main, ["reconcile", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dry_run"] is True and report["corrections_applied"] == 0
    assert {
        "sku": "SKU-B",
        "location_id": SHOPIFY_EAST,
        "netsuite": 3,
        "shopify": 5,
        "tolerance": 0,
        "action": "corrected",
    } in report["diffs"]
    assert shopify_levels(shopify_base)[("SKU-B", SHOPIFY_EAST)] == 5
    table = CliRunner().invoke(main, ["reconcile"])
    assert table.exit_code == 0 and "SKU-B" in table.output and "corrected" in table.output
    assert shopify_levels(shopify_base)[("SKU-B", SHOPIFY_EAST)] == 3


def test_reconcile_writes_the_drift_plot(stores, tmp_path):  # noqa: F811
    sim, _, _ = stores
    set_netsuite(sim, [("SKU-A", "1", 2)])
    for _ in range(3):
        assert CliRunner().invoke(main, ["reconcile", "--dry-run"]).exit_code == 0
    plot = tmp_path / "drift.svg"
    result = CliRunner().invoke(main, ["reconcile", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    svg = plot.read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and "Inventory drift, last 4 reconciliation run(s)" in svg
