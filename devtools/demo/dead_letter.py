"""Step 3: an order naming a SKU NetSuite does not have is dead-lettered with its reason; the item is then created
in NetSuite (the simulator's /_sim control API stands for the merchandiser), the entry requeued through the ops API
as an operator would (`POST /ops/dlq/<id>/requeue`, what the console's Requeue button calls), and the order lands
once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import click
import requests

from bench.common import Delivery
from bench.orders_realistic.run import make_customer, make_order
from bench.soak import plan
from bench.soak import run as soak
from devtools.demo.report import Section, section
from devtools.demo.stack import Demo

TITLE = "an unknown SKU: dead-lettered with its reason, the item created, requeued, landed once"
NEW_SKU = "TEE-LIMITED-DROP-M"
ORDER_NO = 49_000
STOCK = 25


def order_with_new_sku(demo: Demo) -> plan.Lifecycle:
    """A realistic order whose first product line is a SKU just launched in Shopify, not yet in NetSuite."""
    planned = make_order(demo.rng, ORDER_NO, "repeat", make_customer(demo.rng, 950_000), datetime.now(UTC))
    line = next(li for li in planned.order["line_items"] if not li.get("gift_card"))
    line["sku"], line["name"], line["title"] = NEW_SKU, "Limited Drop Tee - M", "Limited Drop Tee"
    return plan.Lifecycle(planned.order, "placed", planned.shopify_total)


def launch_in_shopify(demo: Demo) -> None:
    """The new product as Shopify has it: an inventory item stocked at both locations."""
    shop = demo.urls["shop"]
    requests.post(f"{shop}/_sim/inventory/items", json=[{"sku": NEW_SKU}], timeout=10).raise_for_status()
    levels = [{"sku": NEW_SKU, "location_id": loc, "available": STOCK} for loc in plan.LOCATIONS]
    requests.post(f"{shop}/_sim/inventory/levels", json=levels, timeout=10).raise_for_status()


def create_in_netsuite(demo: Demo) -> None:
    """What the merchandiser does in NetSuite: the item, and its stock at both locations (the same as Shopify's)."""
    sim = demo.urls["sim"]
    item = {"itemid": NEW_SKU, "displayname": "Limited Drop Tee - M"}
    requests.post(f"{sim}/_sim/items", json=[item], timeout=10).raise_for_status()
    stock = [
        {"item": NEW_SKU, "location": loc, "quantityonhand": STOCK, "quantityavailable": STOCK}
        for loc in soak.NETSUITE_LOCATIONS
    ]
    requests.post(f"{sim}/_sim/inventory", json=stock, timeout=10).raise_for_status()


def wait_for(demo: Demo, what: str, found: Callable[[], object], timeout: float = 60.0) -> object:
    """Poll `found` with a one-step progress bar until it answers something."""
    deadline = time.monotonic() + min(timeout, max(1.0, demo.deadline.left()))
    with click.progressbar(length=1, label=what) as bar:
        while time.monotonic() < deadline:
            value = found()
            if value:
                bar.update(1)
                return value
            demo.stack.check_alive()
            time.sleep(0.5)
    raise RuntimeError(f"{what}: nothing within {timeout:.0f} s")


def run(demo: Demo) -> Section:
    life = order_with_new_sku(demo)
    launch_in_shopify(demo)
    plan.create(requests.Session(), demo.urls["shop"], life)
    demo.lifecycles.append(life)
    demo.send([Delivery("orders/create", life.order, f"{demo.prefix}create-{life.order_id}")], "orders/create webhook")

    def open_entry() -> dict | None:
        entries = demo.ops("GET", "/dlq", params={"topic": "orders/create"}).json()["entries"]
        return next((e for e in entries if e.get("error_code") == "UNKNOWN_SKU"), None)

    entry = wait_for(demo, "the dead letter", open_entry)
    reason = f"{entry['error_code']} ({entry['category']}): {entry['error_message']}"
    create_in_netsuite(demo)
    result = demo.ops("POST", f"/dlq/{entry['dead_letter_id']}/requeue").json()["result"]
    demo.settle("the requeued order landing")
    seen = demo.netsuite()
    history = demo.check(seen)
    eid = f"shopify-order-{life.order_id}"
    landed = [r for r in seen["netsuite"]["salesOrder"] if r.get("externalId") == eid]
    after = demo.ops("GET", f"/dlq/{entry['dead_letter_id']}").json()
    figures = [
        f"order {life.order['name']} with {NEW_SKU}: dead letter #{entry['dead_letter_id']} — {reason}",
        f"{NEW_SKU} created in NetSuite; POST /ops/dlq/{entry['dead_letter_id']}/requeue: {result}",
        f"dead letter now {after['status']}; sales orders {eid}: {len(landed)}",
    ]
    problems = history.missing + history.duplicated + history.wrong
    if len(landed) != 1:
        problems.append(f"{len(landed)} sales orders {eid}, expected 1")
    if after["status"] != "requeued":
        problems.append(f"the dead letter is {after['status']}, expected requeued")
    still_open = [d for d in seen["dead_letters"] if d["id"] != entry["dead_letter_id"]]
    problems += [f"another dead letter: {d['topic']} {d['error_code']} {d['error_message'][:80]}" for d in still_open]
    return section(TITLE, figures, problems)
