"""Step 4: stock changes in NetSuite (a receipt, a count) reach Shopify through the inventory push, run now the
way an operator would (`shopsync inventory sync`, the cycle beat runs every INVENTORY_PUSH_EVERY_MINUTES)."""

from __future__ import annotations

import requests

from bench.netsuite_throughput.run import CATALOG
from bench.soak import plan
from bench.soak import run as soak
from devtools.demo.dead_letter import wait_for
from devtools.demo.report import Section, section
from devtools.demo.stack import Demo

TITLE = "a NetSuite stock change pushed back to Shopify"
MOVES = 3


def run(demo: Demo) -> Section:
    pairs = [(sku, i) for sku, _, _ in CATALOG for i in range(len(plan.LOCATIONS))]
    moved = {pair: demo.rng.randint(100, 140) for pair in demo.rng.sample(pairs, MOVES)}
    shopify = soak.shopify_levels(demo.urls["shop"])
    before = {pair: shopify.get((pair[0], plan.LOCATIONS[pair[1]])) for pair in moved}
    requests.post(
        f"{demo.urls['sim']}/_sim/inventory",
        json=[
            {"item": sku, "location": soak.NETSUITE_LOCATIONS[i], "quantityonhand": q, "quantityavailable": q}
            for (sku, i), q in moved.items()
        ],
        timeout=30,
    ).raise_for_status()
    report = demo.shopsync_json("inventory", "sync", busy="skipped")  # again while beat's cycle holds the lock

    def shopify_has_them() -> dict | None:
        levels = soak.shopify_levels(demo.urls["shop"])
        now = {pair: levels.get((pair[0], plan.LOCATIONS[pair[1]])) for pair in moved}
        return now if now == moved else None

    try:
        wait_for(demo, "Shopify's levels", shopify_has_them, timeout=30)
        problems = []
    except RuntimeError:
        problems = [f"Shopify's levels did not follow NetSuite's: {moved}"]
    changes = "; ".join(
        f"{sku} at {soak.NETSUITE_LOCATIONS[i]} (Shopify {plan.LOCATIONS[i]}): {before[(sku, i)]} → {q}"
        for (sku, i), q in moved.items()
    )
    figures = [
        f"received in NetSuite: {changes}",
        f"shopsync inventory sync: {report.get('changes_read')} change(s) read, {report.get('pushed')} quantity(ies)"
        f" pushed in {report.get('calls')} inventorySetQuantities call(s)"
        + (f" ({report['skipped']})" if report.get("skipped") else ""),
        f"Shopify's available now: {'the same ' + str(len(moved)) + ' new levels' if not problems else 'different'}",
    ]
    return section(TITLE, figures, problems)
