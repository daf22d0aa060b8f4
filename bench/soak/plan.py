"""The soak's order lifecycles and the webhook stream Shopify would send for them, with the delivery faults.

Each lifecycle is made in the Shopify simulator (so a late or missing webhook can be read back, as from Shopify):
the order (bench/orders_realistic's realistic shapes, from the order factory), then by its kind split fulfillments,
a return of one unit, or a cancellation. The webhooks of every lifecycle are then faulted as Shopify's delivery is:
1% never delivered, 5% delivered 2-10 times (a retry keeps the webhook id, a second send gets a new one), and the
whole stream shuffled within a window. A few refunds larger than their order are injected on purpose: they must
end in the dead-letter queue with their reason (INVALID_TRANSITION), the only dead letters the soak expects.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests

from bench.common import Delivery
from bench.orders_realistic.run import make_customer, make_order
from bench.soak.faults import FaultLog
from simulators.shopify import order_factory as of

KINDS = (("placed", 0.40), ("shipped", 0.30), ("returned", 0.15), ("cancelled", 0.15))
LOCATIONS = (71001, 71002)  # Shopify locations (LOCATION_MAP maps them to NetSuite's)
CUSTOMERS = 150
DROP_SHARE = 0.01
DUPLICATE_SHARE = 0.05
SHUFFLE_WINDOW = 40  # positions: a webhook may arrive up to this many places away from its causal order
FULFILLMENT_ID_BASE = 6_100_000_000_000
REFUND_ID_BASE = 6_200_000_000_000
BAD_REFUND_ID_BASE = 6_300_000_000_000
BAD_REFUND_AMOUNT = "99999.00"
BAD_REFUND_EVERY = 400  # one injected bad refund per this many orders (at least one)


@dataclass
class Lifecycle:
    """One order's history as Shopify made it: what NetSuite must end up holding."""

    order: dict  # the orders/create payload
    kind: str
    total: Decimal  # Shopify's order total (presentment): the sales order's, before refunds
    fulfillments: list[dict] = field(default_factory=list)
    refunds: list[dict] = field(default_factory=list)
    cancelled: dict | None = None  # the order as cancelled
    paid: bool = False  # orders/paid delivered with orders/create (the demo; the soak's stream leaves it out)

    @property
    def order_id(self) -> int:
        return int(self.order["id"])

    def product_lines(self) -> list[dict]:
        return [li for li in self.order["line_items"] if not li.get("gift_card")]

    def webhooks(self) -> list[tuple[str, dict, str]]:
        """(topic, body, key) in the order Shopify made them."""
        out = [("orders/create", self.order, f"create-{self.order_id}")]
        if self.paid:
            out.append(("orders/paid", self.order, f"paid-{self.order_id}"))
        out += [("fulfillments/create", f, f"fulfillment-{f['id']}") for f in self.fulfillments]
        out += [("refunds/create", r, f"refund-{r['id']}") for r in self.refunds]
        if self.cancelled is not None:
            # Shopify sends orders/updated alongside orders/cancelled for the same change.
            out += [
                ("orders/cancelled", self.cancelled, f"cancelled-{self.order_id}"),
                ("orders/updated", self.cancelled, f"updated-{self.order_id}"),
            ]
        return out


def _kind(rng: random.Random) -> str:
    r, edge = rng.random(), 0.0
    for kind, share in KINDS:
        edge += share
        if r < edge:
            return kind
    return KINDS[-1][0]


def _split(lines: list[dict]) -> list[dict[int, int]]:
    """Two shipments when the order allows it (half its product lines each, or one line's units split)."""
    if len(lines) >= 2:
        half = len(lines) // 2
        return [{li["id"]: li["quantity"] for li in lines[:half]}, {li["id"]: li["quantity"] for li in lines[half:]}]
    only = lines[0]
    if only["quantity"] >= 2:
        first = only["quantity"] // 2
        return [{only["id"]: first}, {only["id"]: only["quantity"] - first}]
    return [{only["id"]: only["quantity"]}]


def make_lifecycles(shop_url: str, orders: int, rng: random.Random) -> list[Lifecycle]:
    """`orders` lifecycles, each made in the Shopify simulator as it happens there."""
    session = requests.Session()
    pool = [make_customer(rng, n) for n in range(CUSTOMERS)]
    now = datetime.now(UTC)
    out = []
    for n in range(orders):
        who = "guest" if rng.random() < 0.15 else "repeat"
        customer = make_customer(rng, 900_000 + n) if who == "guest" else rng.choice(pool)
        planned = make_order(rng, CUSTOMERS + n, who, customer, now)
        life = Lifecycle(planned.order, _kind(rng), planned.shopify_total)
        if not life.product_lines():
            life.kind = "placed"
        create(session, shop_url, life)
        happen(session, shop_url, life, n, rng)
        out.append(life)
    return out


def create(session: requests.Session, shop_url: str, life: Lifecycle) -> None:
    """The order made in the Shopify simulator (placed: its webhook is the caller's to send, or not)."""
    session.post(f"{shop_url}/_sim/orders", json=life.order, timeout=30).raise_for_status()


def happen(session: requests.Session, shop_url: str, life: Lifecycle, n: int, rng: random.Random) -> None:
    """What the lifecycle's kind does to its order in the Shopify simulator, after it was placed: cancelled; or
    shipped in two fulfillments from the two locations (`_split`) and, when returned, one unit refunded. `n` makes
    the fulfillment and refund ids unique."""
    url = f"{shop_url}/_sim/orders/{life.order_id}"
    if life.kind == "cancelled":
        made = session.post(
            f"{url}/cancel", json={"reason": rng.choice(["customer", "inventory", "other"])}, timeout=30
        )
        made.raise_for_status()
        life.cancelled = made.json()["order"]
        return
    if life.kind not in ("shipped", "returned"):
        return
    for k, lines in enumerate(_split(life.product_lines())):
        body = {
            "id": FULFILLMENT_ID_BASE + n * 10 + k,
            "line_items": [{"id": lid, "quantity": q} for lid, q in lines.items()],
            "location_id": LOCATIONS[k % len(LOCATIONS)],
            "status": "success",
        }
        made = session.post(f"{url}/fulfillments", json=body, timeout=30)
        made.raise_for_status()
        life.fulfillments.append(made.json()["fulfillment"])
    if life.kind == "returned":
        refund = _one_unit_refund(life, REFUND_ID_BASE + n)
        made = session.post(f"{url}/refunds", json=refund, timeout=30)
        made.raise_for_status()
        life.refunds.append(made.json()["refund"])


def bad_refund(life: Lifecycle, n: int) -> dict:
    """A refund for far more than the order (never made in Shopify): it must be refused with its reason."""
    refund = _one_unit_refund(life, BAD_REFUND_ID_BASE + n)
    refund["transactions"][0]["amount"] = BAD_REFUND_AMOUNT
    return refund


def _one_unit_refund(life: Lifecycle, refund_id: int) -> dict:
    """One unit of the order's first product line refunded, restocked at the first location."""
    line = life.product_lines()[0]
    return of.build_refund(
        life.order,
        refund_id=refund_id,
        lines={line["id"]: 1},
        location_id=LOCATIONS[0],
        created_at=datetime.now(UTC).isoformat(),
        transaction_id=refund_id,
    )


@dataclass
class Stream:
    """The webhooks to deliver, in delivery order, and what was done to them."""

    deliveries: list[Delivery]
    dropped: list[str]  # webhook ids never delivered
    duplicated: int  # webhooks delivered more than once
    extra_copies: int  # deliveries beyond the first of those
    injected: dict[str, dict[str, Any]]  # webhook id -> the injected data fault


def stream(
    lifecycles: list[Lifecycle],
    prefix: str,
    rng: random.Random,
    log: FaultLog,
    *,
    drop_share: float = DROP_SHARE,
    duplicate_share: float = DUPLICATE_SHARE,
    bad_refunds: bool = True,
) -> Stream:
    """Every lifecycle's webhooks with Shopify's delivery faults (and the injected bad refunds), shuffled. The
    demo's gentler stream: `drop_share` 0 and no bad refunds."""
    keyed: list[tuple[float, Delivery]] = []
    dropped: list[str] = []
    duplicated = extra = 0
    injected: dict[str, dict[str, Any]] = {}
    position = 0
    shipped = [i for i, life in enumerate(lifecycles) if life.kind in ("shipped", "returned")]
    bad_at = set(rng.sample(shipped, min(len(shipped), max(1, len(lifecycles) // BAD_REFUND_EVERY))))
    if not bad_refunds:
        bad_at = set()
    for i, life in enumerate(lifecycles):
        webhooks = life.webhooks()
        if i in bad_at:
            refund = bad_refund(life, i)
            key = f"badrefund-{refund['id']}"
            webhooks.append(("refunds/create", refund, key))
            injected[prefix + key] = {"topic": "refunds/create", "code": "INVALID_TRANSITION", "refund": refund["id"]}
            log.add("bad_refund", f"refund {refund['id']} of {BAD_REFUND_AMOUNT} on order {life.order_id}",
                    webhook_id=prefix + key, expect_code="INVALID_TRANSITION")  # fmt: skip
        for topic, body, key in webhooks:
            position += 1
            webhook_id = prefix + key
            at = position + rng.uniform(0, SHUFFLE_WINDOW)
            if webhook_id not in injected and rng.random() < drop_share:
                dropped.append(webhook_id)
                log.add("never_delivered", topic, webhook_id=webhook_id)
                continue
            keyed.append((at, Delivery(topic, body, webhook_id)))
            if webhook_id not in injected and rng.random() < duplicate_share:
                copies = rng.randint(2, 10) - 1
                duplicated += 1
                extra += copies
                for c in range(copies):
                    # A retry keeps the webhook id; Shopify also sends the same change again under a new id.
                    copy_id = webhook_id if rng.random() < 0.5 else f"{webhook_id}-again{c}"
                    keyed.append((at + rng.uniform(0, 3 * SHUFFLE_WINDOW), Delivery(topic, body, copy_id)))
    keyed.sort(key=lambda pair: pair[0])
    return Stream([d for _, d in keyed], dropped, duplicated, extra, injected)
