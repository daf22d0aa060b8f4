"""Step 5: the nightly reconciliation, run now the way ops would (`shopsync reconcile --plot`, what beat runs at
RECONCILE_HOUR_UTC). Before it, someone edits Shopify's stock by hand (the drift it must correct from NetSuite's
numbers) and an order is placed whose webhook Shopify never delivers (the orders check must find it missing in
NetSuite and heal it through the live path). The next night finds nothing left to correct or heal; the drift plot
of both nights is written to a file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.netsuite_throughput.run import CATALOG
from bench.orders_realistic.run import make_customer, make_order
from bench.soak import plan
from bench.soak import run as soak
from devtools.demo.report import Section, section
from devtools.demo.stack import Demo

TITLE = "nightly reconciliation: seeded drift corrected, a webhook never delivered healed, drift plotted"
DRIFTED = 4
ORDER_NO = 49_500


def seed_drift(demo: Demo) -> dict[tuple[str, int], int]:
    """Shopify levels edited by hand (no webhook): (SKU, Shopify location) -> the wrong quantity."""
    pairs = [(sku, loc) for sku, _, _ in CATALOG for loc in plan.LOCATIONS]
    truth = soak.netsuite_levels(demo.urls["sim"])
    drift = {pair: truth.get(pair, 0) + demo.rng.randint(3, 12) for pair in demo.rng.sample(pairs, DRIFTED)}
    requests.post(
        f"{demo.urls['shop']}/_sim/inventory/levels",
        json=[{"sku": sku, "location_id": loc, "available": q} for (sku, loc), q in drift.items()],
        timeout=30,
    ).raise_for_status()
    return drift


def never_delivered(demo: Demo) -> plan.Lifecycle:
    """An order placed in Shopify whose orders/create webhook never arrives."""
    planned = make_order(demo.rng, ORDER_NO, "repeat", make_customer(demo.rng, 960_000), datetime.now(UTC))
    life = plan.Lifecycle(planned.order, "placed", planned.shopify_total)
    plan.create(requests.Session(), demo.urls["shop"], life)
    demo.lifecycles.append(life)
    return life


def shown(path: Path) -> Path:
    """The path as the reader can open it from where they ran the demo."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def night(demo: Demo, plot: Path) -> dict:
    """One nightly reconciliation as ops runs it by hand; its report, the drift plot redrawn."""
    return json.loads(demo.shopsync("reconcile", "--json", "--plot", str(plot)))


def run(demo: Demo) -> Section:
    drift = seed_drift(demo)
    missing = never_delivered(demo)
    plot = demo.options.run_dir / "drift.svg"
    plot.unlink(missing_ok=True)
    report = night(demo, plot)
    demo.settle("healed orders landing")
    after = night(demo, plot)  # the next night: nothing left to correct or heal
    seen = demo.netsuite()
    history = demo.check(seen)
    eid = f"shopify-order-{missing.order_id}"
    landed = [r for r in seen["netsuite"]["salesOrder"] if r.get("externalId") == eid]
    left = {
        key: (seen["shopify_levels"].get(key), seen["netsuite_levels"].get(key))
        for key in sorted(set(seen["shopify_levels"]) | set(seen["netsuite_levels"]))
        if seen["shopify_levels"].get(key) != seen["netsuite_levels"].get(key)
    }
    fixed = [pair for pair in drift if pair not in left]
    figures = [
        f"seeded: {len(drift)} Shopify levels edited by hand; order {missing.order['name']} placed, its webhook"
        " never sent",
        f"run {report.get('run_id')}: {report.get('skus_compared')} SKUs compared, {report.get('diffs_found')} diffs,"
        f" {report.get('corrections_applied')} corrected ({len(fixed)}/{len(drift)} seeded ones among them)",
        f"orders check: {report.get('orders_checked')} orders against NetSuite's own totals,"
        f" {len(report.get('orders_missing') or [])} missing, {report.get('orders_healed')} healed;"
        f" {len(report.get('total_mismatches') or [])} total mismatches",
        f"after: {len(seen['shopify_levels']) - len(left)}/{len(seen['shopify_levels'])} Shopify levels equal"
        f" NetSuite's; sales orders {eid}: {len(landed)}",
        f"the next night (run {after.get('run_id')}): {after.get('diffs_found')} diffs,"
        f" {len(after.get('orders_missing') or [])} orders missing",
        f"drift plot: {shown(plot)}",
    ]
    problems = history.missing + history.duplicated + history.wrong
    problems += [f"{sku} at {loc}: Shopify {s}, NetSuite {n}" for (sku, loc), (s, n) in left.items()]
    if len(landed) != 1:
        problems.append(f"the order whose webhook never came: {len(landed)} sales orders, expected 1")
    if missing.order_id not in [int(x) for x in report.get("orders_missing") or []]:
        problems.append(f"the orders check did not find {missing.order['name']} missing")
    if after.get("diffs_found") or after.get("orders_missing"):
        problems.append(f"the next night still found {after.get('diffs_found')} diffs, {after.get('orders_missing')}")
    if not plot.is_file() or plot.stat().st_size == 0:
        problems.append(f"no drift plot at {plot}")
    return section(TITLE, figures, problems)
