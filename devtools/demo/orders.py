"""Step 1: orders of a realistic mix, delivered duplicated and shuffled, land exactly once in NetSuite with
NetSuite's own totals equal to Shopify's.

The orders are the realistic-orders benchmark's (bench/orders_realistic: discounts, gift cards sold and redeemed,
guests, EUR/GBP/CAD on a USD shop, multi-rate tax, duties, tips), each made in the Shopify simulator first as a
placed lifecycle of the soak (bench/soak/plan.py), whose faulted stream delivers them, each orders/create with its
orders/paid (paid at checkout: a customer deposit per capture under the demo's PAYMENT_MODEL=deposit): some twice (a
retry keeps the webhook id, a second send gets a new one), all shuffled, none lost.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import requests

from bench.orders_realistic.run import Planned, make_customer, make_order
from bench.soak import plan
from devtools.demo.report import Section, section
from devtools.demo.stack import Demo

POOL = 60  # returning customers
ORDER_NO_BASE = 40_000  # make_order's order number: ids distinct from the benchmarks'
GUEST_SHARE = 0.15
# What "a realistic mix" must show, whatever the size: each shape at least once (make_order's tags).
SHAPES = {
    "discounted": ("discounted",),
    "gift card": ("gift card sold", "gift card redeemed"),
    "guest checkout": ("guest",),
    "in another currency": ("EUR", "GBP", "CAD"),
}
TITLE = "orders of a realistic mix → exactly once in NetSuite, totals equal"


def shapes_of(planned: Planned) -> set[str]:
    return {shape for shape, tags in SHAPES.items() if set(tags) & set(planned.tags)}


def mixed_orders(rng: random.Random, count: int, first_no: int = ORDER_NO_BASE) -> list[Planned]:
    """`count` orders drawn as the benchmark draws them, keeping the draws that show a shape not seen yet while the
    slots left are as few as the shapes missing (so even a small run shows every shape)."""
    pool = [make_customer(rng, n) for n in range(POOL)]
    now = datetime.now(UTC)
    out: list[Planned] = []
    seen: set[str] = set()
    n = 0
    while len(out) < count:
        guest = rng.random() < GUEST_SHARE
        customer = make_customer(rng, 900_000 + first_no + n) if guest else rng.choice(pool)
        planned = make_order(rng, first_no + n, "guest" if guest else "repeat", customer, now)
        n += 1
        missing = set(SHAPES) - seen
        if count - len(out) > len(missing) or shapes_of(planned) & missing:
            out.append(planned)
            seen |= shapes_of(planned)
    return out


def place(demo: Demo, planned: list[Planned]) -> list[plan.Lifecycle]:
    """Each order made in the Shopify simulator (its webhook not sent yet)."""
    session = requests.Session()
    lifecycles = [plan.Lifecycle(p.order, "placed", p.shopify_total) for p in planned]
    for life in lifecycles:
        plan.create(session, demo.urls["shop"], life)
    return lifecycles


def run(demo: Demo) -> Section:
    planned = mixed_orders(demo.rng, demo.options.orders)
    lifecycles = place(demo, planned)
    demo.lifecycles += lifecycles
    stream = demo.deliver(lifecycles, "orders/create webhooks", demo.options.duplicate_share)
    settled = demo.settle("orders landing in NetSuite")
    seen = demo.netsuite()
    history = demo.check(seen)
    records = Counter(str(r.get("externalId")) for r in seen["netsuite"]["salesOrder"])
    totals = {str(r.get("externalId")): Decimal(str(r.get("total"))) for r in seen["netsuite"]["salesOrder"]}
    ours = [f"shopify-order-{life.order_id}" for life in lifecycles]
    once = sum(1 for eid in ours if records[eid] == 1)
    equal = sum(1 for eid, life in zip(ours, lifecycles, strict=True) if totals.get(eid) == life.total)
    mix = Counter(shape for p in planned for shape in shapes_of(p))
    currencies = Counter(p.order["presentment_currency"] for p in planned)
    foreign = ", ".join(f"{c} {k}" for k, c in sorted(currencies.items()) if k != "USD")
    figures = [
        f"{len(planned)} orders: " + ", ".join(f"{mix[s]} {s}" for s in SHAPES) + f" ({foreign})",
        f"{len(stream.deliveries)} deliveries (orders/create and orders/paid), shuffled: {stream.duplicated}"
        " webhooks sent more than once"
        f" ({stream.extra_copies} extra copies); settled in {settled:.0f} s",
        f"NetSuite: {once}/{len(ours)} orders exactly once, {sum(records.values()) - once} extra sales orders;"
        f" {equal}/{len(ours)} NetSuite totals equal Shopify's to the cent",
        f"NetSuite calls in flight at peak: {history.peak} (budget {history.budget})",
    ]
    problems = history.missing + history.duplicated + history.wrong
    problems += [f"no order of the shape: {s}" for s in SHAPES if not mix[s]]
    if history.peak > history.budget:
        problems.append(f"peak {history.peak} NetSuite calls in flight over the budget {history.budget}")
    return section(TITLE, figures, problems)
