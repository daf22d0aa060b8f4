"""The edit phase of bench/orders_realistic: each order drawn for an edit is edited in the Shopify simulator (one
product line removed) and Shopify's webhooks for it are sent: the `orders/edited` (deltas only) and, as Shopify
sends alongside it for the same change, an `orders/updated` carrying the order after the edit (its lines'
`current_quantity`, its new total). `--edit-updates` is the share of edits whose `orders/updated` is sent (1: as
Shopify does; 0: it never arrives, so every edit must read the order back from Shopify). The two kinds are sent
shuffled together (Shopify does not promise an order between them).

Figures of the phase: events by topic and status, task retries and reschedules (the fleet counters in Redis),
and what the Shopify simulator served (GraphQL requests, THROTTLED answers, order reads, points spent).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from decimal import Decimal

import redis
import requests

from bench import common

TASK_OUTCOMES = "shopsync:metrics:task_outcomes"  # app/adapters/counters.py: field "task|outcome"
SHOPIFY_STATS = ("requests_total", "throttled", "points_spent", "points_requested", "error_responses")


def deliveries(
    shop_url: str,
    session: requests.Session,
    edited: list[tuple[dict, int, Decimal]],
    prefix: str,
    update_share: float,
    rng: random.Random,
) -> list[common.Delivery]:
    """Edit each (order, line removed, Shopify's total after the edit) in the Shopify simulator; the webhooks
    Shopify sends for the edits, shuffled."""
    out: list[common.Delivery] = []
    for n, (order, line_id, total) in enumerate(edited):
        response = session.post(
            f"{shop_url}/_sim/orders/{order['id']}/edit",
            json={"line_items": [{"id": line_id, "quantity": 0}], "current_total_price": str(total)},
            timeout=30,
        )
        response.raise_for_status()
        after = response.json()["order"]
        edit = {
            "order_edit": {
                "id": 800_000 + n,
                "order_id": order["id"],
                # Committing the edit is what stamps the order's updated_at.
                "committed_at": after["updated_at"],
                "created_at": after["updated_at"],
                "line_items": {"additions": [], "removals": [{"id": line_id, "delta": 1}]},
            }
        }
        out.append(common.Delivery("orders/edited", edit, f"{prefix}edit-{order['id']}"))
        if rng.random() < update_share:
            out.append(common.Delivery("orders/updated", updated_payload(after, total), f"{prefix}upd-{order['id']}"))
    rng.shuffle(out)
    return out


def updated_payload(after: dict, total: Decimal) -> dict:
    """The orders/updated body Shopify sends for the edit: the order as it now is, its current total on both
    sides of the money bag (edits are drawn among shop-currency orders, so both sides are the same)."""
    body = copy.deepcopy(after)
    amount = str(total)
    currency = body.get("currency") or "USD"
    body["current_total_price_set"] = {
        "shop_money": {"amount": amount, "currency_code": currency},
        "presentment_money": {"amount": amount, "currency_code": body.get("presentment_currency") or currency},
    }
    return body


def snapshot(shop_url: str, redis_url: str) -> dict:
    """The counters the phase's figures are differences of."""
    stats = requests.get(f"{shop_url}/_sim/stats", timeout=10).json()
    outcomes = redis.Redis.from_url(redis_url).hgetall(TASK_OUTCOMES)
    return {
        "shopify": {k: stats.get(k) or 0 for k in SHOPIFY_STATS},
        "order_queries": (stats.get("queries_by_root_field") or {}).get("order", 0),
        "task_outcomes": {k.decode(): int(v) for k, v in outcomes.items()},
    }


def figures(before: dict, after: dict, by_topic: dict[str, dict[str, int]], span_s: float | None) -> dict:
    """The phase's figures from two snapshots and the events' statuses by topic."""

    def delta(key: str, getter: Callable[[dict], dict]) -> float:
        return (getter(after).get(key) or 0) - (getter(before).get(key) or 0)

    shopify = {k: round(delta(k, lambda s: s["shopify"]), 1) for k in SHOPIFY_STATS}
    outcomes: dict[str, int] = {}
    for key in set(before["task_outcomes"]) | set(after["task_outcomes"]):
        count = after["task_outcomes"].get(key, 0) - before["task_outcomes"].get(key, 0)
        if count:
            outcomes[key.split("|", 1)[1]] = outcomes.get(key.split("|", 1)[1], 0) + count
    throttled = int(shopify["throttled"])
    return {
        "events_by_topic": by_topic,
        "edits_done": by_topic.get("orders/edited", {}).get("done", 0),
        "shopify": shopify,
        # Every order query of the phase is an edit's read (GetOrder; the bench's orders have no fulfillment or
        # refund to read); the simulator counts a throttled one too.
        "shopify_order_reads": after["order_queries"] - before["order_queries"] - throttled,
        "task_outcomes": outcomes,
        "task_retries": outcomes.get("retry", 0),
        "span_s": span_s,
    }


def events_by_topic(db: common.BenchDb, prefix: str) -> dict[str, dict[str, int]]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT topic, status, count(*) FROM webhook_events WHERE webhook_id LIKE %s GROUP BY 1, 2",
            (prefix + "%",),
        ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for topic, status, count in rows:
        out.setdefault(topic, {})[status] = count
    return out


def report_rows(r: dict) -> list[tuple[str, object]]:
    e = r["edit_phase"]
    s = e["shopify"]
    return [
        ("edits: events by topic and status", e["events_by_topic"]),
        ("edits: first received -> last processed", f"{e['span_s']} s"),
        (
            "edits: Shopify order reads / requests / THROTTLED",
            f"{e['shopify_order_reads']} / {int(s['requests_total'])} / {int(s['throttled'])}",
        ),
        ("edits: Shopify points spent / requested", f"{s['points_spent']} / {s['points_requested']}"),
        ("edits: task outcomes (retries, reschedules)", e["task_outcomes"]),
    ]
