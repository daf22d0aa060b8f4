"""Step 2: after the orders, what happens to some of them in Shopify: a split shipment from two locations, a
partial refund (one unit returned after shipping), a cancellation. Made in the Shopify simulator by the soak's
lifecycles (bench/soak/plan.py `happen`), their webhooks delivered duplicated and shuffled, then checked in
NetSuite's own records: item fulfillments with their units and locations, a credit memo and a customer refund of
the refund's amount, the cancelled order's lines closed.
"""

from __future__ import annotations

import requests

from bench.soak import plan
from bench.soak import run as soak
from bench.soak.faults import FaultLog
from devtools.demo.report import Section, section
from devtools.demo.stack import Demo

TITLE = "a split shipment from two locations, a partial refund, a cancellation"
KINDS = ("shipped", "returned", "cancelled")
LATER_TOPICS = ("fulfillments/create", "refunds/create", "orders/cancelled", "orders/updated")
N_BASE = 90_000  # `happen`'s n: fulfillment and refund ids distinct from the soak's


def choose(lifecycles: list[plan.Lifecycle]) -> list[plan.Lifecycle]:
    """Three placed orders in the shop's currency with two product lines or more (so a shipment can split)."""
    fit = [
        life
        for life in lifecycles
        if life.kind == "placed" and len(life.product_lines()) >= 2 and life.order["presentment_currency"] == "USD"
    ]
    if len(fit) < len(KINDS):
        raise RuntimeError(f"only {len(fit)} orders with two product lines: run the demo with more --orders")
    return fit[: len(KINDS)]


def _lines(record: dict | None) -> list[dict]:
    return ((record or {}).get("item") or {}).get("items") or []


def run(demo: Demo) -> Section:
    chosen = choose(demo.lifecycles)
    session = requests.Session()
    for n, (life, kind) in enumerate(zip(chosen, KINDS, strict=True)):
        life.kind = kind
        plan.happen(session, demo.urls["shop"], life, N_BASE + n, demo.rng)
    stream = plan.stream(
        chosen,
        demo.prefix,
        demo.rng,
        FaultLog(),
        drop_share=0.0,
        duplicate_share=0.3,
        bad_refunds=False,
        topics=LATER_TOPICS,
    )
    demo.send(stream.deliveries, "fulfillment, refund, cancel webhooks")
    demo.settle("documents landing in NetSuite")
    seen = demo.netsuite()
    history = demo.check(seen)
    shipped, returned, cancelled = chosen
    fulfillments = {str(r.get("externalId")): r for r in seen["netsuite"]["itemFulfillment"]}
    locations = sorted(
        {
            str((line.get("location") or {}).get("id"))
            for f in shipped.fulfillments
            for line in _lines(fulfillments.get(f"shopify-fulfillment-{f['id']}"))
            if line.get("location")
        }
    )
    refund = returned.refunds[0]
    amount = sum(float(t["amount"]) for t in refund["transactions"] if t.get("kind") == "refund")
    figures = [
        f"order {shipped.order['name']} shipped in {len(shipped.fulfillments)} fulfillments from Shopify locations"
        f" {', '.join(str(f['location_id']) for f in shipped.fulfillments)} → NetSuite item fulfillments at"
        f" locations {', '.join(locations)}",
        f"order {returned.order['name']} shipped, then one unit refunded ({amount:.2f}"
        f" {returned.order['presentment_currency']}) → a credit memo and a customer refund of that amount",
        f"order {cancelled.order['name']} cancelled → its sales order lines closed",
        f"{len(stream.deliveries)} deliveries ({stream.extra_copies} extra copies, shuffled); NetSuite documents"
        f" now: {', '.join(f'{n} {t}' for t, n in history.documents.items())}",
    ]
    problems = history.missing + history.duplicated + history.wrong
    expected = {str(soak.NETSUITE_LOCATIONS[i]) for i in range(min(2, len(shipped.fulfillments)))}
    if len(shipped.fulfillments) < 2 or set(locations) != expected:
        problems.append(f"the split shipment is at NetSuite locations {locations}, expected {sorted(expected)}")
    return section(TITLE, figures, problems)
