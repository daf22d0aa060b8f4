"""Step 2: three more orders, and what happens to them in Shopify: a split shipment from two locations, a partial
refund (one unit returned after shipping), a cancellation. Made in the Shopify simulator by the soak's lifecycles
(bench/soak/plan.py `happen`); every webhook of theirs (orders/create included) delivered duplicated and shuffled,
so a fulfillment may come before its order; then checked in NetSuite's own records: item fulfillments with their
units and locations, a credit memo and a customer refund of the refund's amount, the cancelled order's lines
closed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import requests

from bench.orders_realistic.run import make_customer, make_order
from bench.soak import plan
from bench.soak import run as soak
from devtools.demo.report import Section, section
from devtools.demo.stack import Demo

TITLE = "a split shipment from two locations, a partial refund, a cancellation"
KINDS = ("shipped", "returned", "cancelled")
ORDER_NO_BASE = 48_000
N_BASE = 90_000  # `happen`'s n: fulfillment and refund ids distinct from the soak's


def orders_that_split(demo: Demo) -> list[plan.Lifecycle]:
    """Realistic orders in the shop's currency with two product lines or more (so a shipment can split), placed."""
    now = datetime.now(UTC)
    out: list[plan.Lifecycle] = []
    n = 0
    while len(out) < len(KINDS):
        customer = make_customer(demo.rng, 970_000 + n)
        planned = make_order(demo.rng, ORDER_NO_BASE + n, "repeat", customer, now)
        n += 1
        life = plan.Lifecycle(planned.order, "placed", planned.shopify_total)
        if planned.order["presentment_currency"] == "USD" and len(life.product_lines()) >= 2:
            out.append(life)
    return out


def early_arrivals(stream: plan.Stream) -> int:
    """Deliveries (fulfillments, refunds, cancellations) that came before their order's orders/create."""
    created: set[int] = set()
    early = 0
    for delivery in stream.deliveries:
        order_id = int(delivery.body.get("order_id", delivery.body.get("id")))
        if delivery.topic == "orders/create":
            created.add(order_id)
        elif order_id not in created:
            early += 1
    return early


def _lines(record: dict | None) -> list[dict]:
    return ((record or {}).get("item") or {}).get("items") or []


def run(demo: Demo) -> Section:
    chosen = orders_that_split(demo)
    session = requests.Session()
    for n, (life, kind) in enumerate(zip(chosen, KINDS, strict=True)):
        life.kind = kind
        plan.create(session, demo.urls["shop"], life)
        plan.happen(session, demo.urls["shop"], life, N_BASE + n, demo.rng)
    demo.lifecycles += chosen
    stream = demo.deliver(chosen, "webhooks of the three orders", 0.3)
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
        f"order {returned.order['name']} shipped in {len(returned.fulfillments)}, then one unit refunded ({amount:.2f}"
        f" {returned.order['presentment_currency']}) → a credit memo and a customer refund of that amount",
        f"order {cancelled.order['name']} cancelled → its sales order lines closed",
        f"{len(stream.deliveries)} deliveries ({stream.extra_copies} extra copies, shuffled: {early_arrivals(stream)}"
        " came before their order's orders/create)",
        f"NetSuite documents now: {', '.join(f'{n} {t}' for t, n in history.documents.items())}",
    ]
    problems = history.missing + history.duplicated + history.wrong
    expected = {str(soak.NETSUITE_LOCATIONS[i]) for i in range(min(2, len(shipped.fulfillments)))}
    if len(shipped.fulfillments) < 2 or set(locations) != expected:
        problems.append(f"the split shipment is at NetSuite locations {locations}, expected {sorted(expected)}")
    return section(TITLE, figures, problems)
