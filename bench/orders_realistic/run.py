"""Realistic orders benchmark: orders of every shape a store sends (discounts, gift cards, guests, foreign
currencies, multi-rate tax, free and paid shipping, duties, tips, edits afterwards) through the real intake,
Celery order workers, PostgreSQL and Redis, against the NetSuite and Shopify simulators. It prints figures; it
is not a test.

    .venv/bin/python -m bench.orders_realistic [--orders 2000] [--seed N] [--tax-mode legacy|suitetax]
        [--edit-updates 1.0]

A fresh stack from the Procfile (devtools.devstack): the NetSuite simulator (`shopsync-dev simulate netsuite`,
the throughput benchmark's 150 +/- 50 ms uniform latency, cap 15, in the chosen tax mode), the Shopify simulator
(every order stored there, so `orders/edited` reads it back), `web` and `--workers` x `worker_orders`.
Seeded: the 40 SKUs and the SHOPIFY-* service items, one tax code per Shopify tax (title, rate) with
TAX_CODE_MAP naming them, then `shopsync items refresh`.

Phases: warm-up (one order per pool customer, so NetSuite knows the store's returning customers); measured
(`--orders` orders: the mix in MIX below); edits (the orders drawn for an edit are edited in the Shopify
simulator, one line removed, and Shopify's webhooks sent: the orders/edited and, for `--edit-updates` of them, the
orders/updated Shopify sends with it; `edits.py`). Then every measured order's sales order total
(what the simulator computed from the lines, as NetSuite does) is compared with Shopify's total to the cent.

Isolation: database shopsync_bench_orders (dropped, migrated, truncated), Redis db 2 only (flushed). Raw results
and process logs go to bench/results/ (gitignored). Bounded: each phase has a deadline, and the run fails (exit 2)
when one passes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import redis
import requests

from app.config import environ_copy
from bench import common
from bench.netsuite_throughput.run import (
    BENCH_ENV,
    CATALOG,
    JITTER_MS,
    LATENCY_MS,
    SIM_CAP,
    _catalog_ids,
    pool_customer,
)
from bench.orders_realistic import edits
from devtools.demo import service_items
from devtools.devstack import ROOT, Stack, free_port, wait_for_http
from simulators.shopify import order_factory as of

DB = common.BenchDb("shopsync_bench_orders", 2)
RESULTS_DIR = ROOT / "bench" / "results"
SECRET = "bench-orders-webhook-secret"
SHOP = "bench-orders-store.myshopify.com"
ADMIN_TOKEN = "shpat_bench_orders"
TABLES = ("webhook_events", "order_state", "netsuite_call_log", "dead_letters", "customer_sync")
SEED = 20261203

TARGET_DEAD = 0
TARGET_MISMATCHES = 0
TARGET_REPEAT_CALLS = 1.1

CUSTOMER_POOL = 300
WARMUP_TIMEOUT_S = 300
MEASURE_TIMEOUT_S = 900
EDIT_TIMEOUT_S = 300


@dataclass(frozen=True)
class Mix:
    """The share of measured orders of each shape (each drawn on its own, so shapes combine)."""

    guest: float = 0.15
    new_customer: float = 0.05  # first-time customers with an account; the rest come from the pool
    discounted: float = 0.30  # an order code, a line's own discount or a shipping discount
    gift_card: float = 0.10  # half sell a gift card (a line), half pay with one (a payment)
    foreign: float = 0.20  # EUR, GBP (VAT included in prices) or CAD (GST + PST) on a USD shop
    duty_if_foreign: float = 0.30
    tip: float = 0.03
    edited: float = 0.05  # of the shop-currency orders with two product lines or more
    express: float = 0.15


MIX = Mix()
# (city, state, zip, [(tax title, rate)], shipping taxed): several rates per place, as US sales tax is.
PLACES = [
    ("Portland", "OR", "97205", [], False),
    (
        "Austin",
        "TX",
        "78701",
        [("Texas State Tax", "0.0625"), ("Austin City Tax", "0.01"), ("Austin MTA", "0.01")],
        True,
    ),
    ("Denver", "CO", "80202", [("Colorado State Tax", "0.029"), ("Denver City Tax", "0.0481"), ("RTD", "0.01")], False),
    ("Boston", "MA", "02108", [("Massachusetts State Tax", "0.0625")], False),
    ("Seattle", "WA", "98101", [("Washington State Tax", "0.065"), ("Seattle City Tax", "0.0385")], True),
    ("Chicago", "IL", "60601", [("Illinois State Tax", "0.0625"), ("Chicago City Tax", "0.04")], False),
]
# currency -> (shop money per unit of it, taxes, taxes included in prices)
FOREIGN = {
    "EUR": ("1.0842", [("DE MwSt", "0.19")], True),
    "GBP": ("1.2675", [("GB VAT", "0.20")], True),
    "CAD": ("0.7311", [("GST", "0.05"), ("BC PST", "0.07")], False),
}
CURRENCY_IDS = {"USD": "1", "GBP": "2", "CAD": "3", "EUR": "4"}  # the simulator's seeded currencies
CUSTOMER_ID_BASE = 7_300_000_000_000
ORDER_ID_BASE = 5_300_000_000_000


def tax_titles() -> list[tuple[str, str]]:
    found = [t for place in PLACES for t in place[3]] + [t for _, taxes, _ in FOREIGN.values() for t in taxes]
    return list(dict.fromkeys(found))


# --- orders -----------------------------------------------------------------------------------------------


@dataclass
class Planned:
    """One measured order and what the benchmark knows about it."""

    order: dict
    who: str  # repeat | new | guest
    tags: list[str] = field(default_factory=list)
    edit_line: int | None = None  # the line an edit removes
    shopify_total: Decimal = Decimal("0")  # in the document currency, after the edit


def make_customer(rng: random.Random, n: int) -> tuple[of.Customer, tuple]:
    return pool_customer(rng, CUSTOMER_ID_BASE, n, PLACES)


def _discounts(rng: random.Random, lines: list[of.Line], paid_shipping: bool) -> tuple[list, of.Discount | None, str]:
    """(lines, order discount, shipping discount amount or "")"""
    kind = rng.choice(("code", "code", "line", "shipping") if paid_shipping else ("code", "code", "line"))
    if kind == "code":
        base = of.lines_subtotal([li for li in lines if not li.gift_card])
        pct = Decimal(rng.choice((10, 15, 20))) / 100
        return lines, of.Discount(f"SAVE{int(pct * 100)}", str(of.money(base * pct))), ""
    if kind == "line":
        first = lines[0]
        off = of.money(first.amount * Decimal("0.25"))
        return [of.Line(**{**first.__dict__, "discount": str(off)}), *lines[1:]], None, ""
    return lines, None, "yes"


def make_order(rng: random.Random, order_no: int, who: str, customer: tuple, now: datetime) -> Planned:
    person, place = customer
    tags: list[str] = [who]
    lines = of.random_lines(rng, CATALOG, ids=_catalog_ids, quantity=lambda r: r.choice((1, 1, 1, 2, 2, 3)))
    currency, rate, taxes, included = "USD", "1", place[3], False
    if rng.random() < MIX.foreign:
        currency = rng.choice(sorted(FOREIGN))
        rate, taxes, included = FOREIGN[currency]
        tags.append(currency)
        if rng.random() < MIX.duty_if_foreign:
            lines[0] = of.Line(**{**lines[0].__dict__, "duty": rng.choice(("4.50", "7.80", "12.35"))})
            tags.append("duty")
    gateway = "shopify_payments"
    if rng.random() < MIX.gift_card:
        if rng.random() < 0.5:
            value = rng.choice(("25.00", "50.00", "100.00"))  # a gift card product: one variant per value
            card = of.Line("", "Gift Card", value, 1, 42_000_000_000 + int(float(value)), 9_000_000_000, gift_card=True)
            lines.append(card)
            tags.append("gift card sold")
        else:
            gateway = "gift_card"
            tags.append("gift card redeemed")
    subtotal = of.lines_subtotal([li for li in lines if not li.gift_card])
    express = rng.random() < MIX.express
    price = "14.95" if express else ("0.00" if subtotal >= 75 else "6.95")
    tags.append("shipping paid" if price != "0.00" else "shipping free")
    discount, ship_off = None, ""
    if rng.random() < MIX.discounted:
        lines, discount, ship_off = _discounts(rng, lines, price != "0.00")
        tags.append("discounted")
    shipping = of.Shipping(
        "Express" if express else "Standard",
        price,
        discount=(str(of.money(Decimal(price) / 2)) if ship_off else None),
        taxable=place[4] or included,
    )
    tip = None
    if rng.random() < MIX.tip:
        tip = rng.choice(("2.00", "5.00", "10.00"))
        tags.append("tip")
    if len(taxes) > 1:
        tags.append("multi-rate tax")
    if included:
        tags.append("taxes included")
    order = of.build_order(
        order_id=ORDER_ID_BASE + order_no,
        number=20000 + order_no,
        customer=person,
        lines=lines,
        created_at=now - timedelta(seconds=order_no),
        taxes=[(t, Decimal(r)) for t, r in taxes],
        taxes_included=included,
        shipping=shipping,
        discount=discount,
        currency="USD",
        presentment_currency=currency,
        exchange_rate=rate,
        tip=tip,
        extras=of.Extras(gateway=gateway, shop=SHOP),
    )
    if who == "guest":
        order["customer"] = None
    planned = Planned(order, who, tags, shopify_total=_presentment(order, "current_total_price"))
    products = [li for li in order["line_items"] if not li.get("gift_card")]
    if currency == "USD" and len(products) >= 2 and rng.random() < MIX.edited / 0.55:
        # ~55% of the orders qualify (shop currency, two product lines or more): MIX.edited of all orders
        planned.edit_line = int(products[-1]["id"])
        planned.tags.append("edited")
    return planned


def _presentment(order: dict, name: str) -> Decimal:
    bag = order.get(f"{name}_set")
    return Decimal(bag["presentment_money"]["amount"]) if bag else Decimal(order[name])


def edited_total(order: dict, line_id: int) -> Decimal:
    """Shopify's total once the line is removed by an edit: less its net amount and, when taxes are added to
    prices, its tax (shop currency only: an edit posts shop amounts)."""
    line = next(li for li in order["line_items"] if int(li["id"]) == line_id)
    net = Decimal(line["price"]) * line["quantity"] - sum(
        (Decimal(a["amount"]) for a in line.get("discount_allocations") or []), Decimal("0")
    )
    tax = Decimal("0") if order["taxes_included"] else sum((Decimal(t["price"]) for t in line["tax_lines"]), Decimal(0))
    return Decimal(order["current_total_price"]) - net - tax


def generate(rng: random.Random, orders: int) -> tuple[list[dict], list[Planned]]:
    pool = [make_customer(rng, n) for n in range(CUSTOMER_POOL)]
    now = datetime.now(UTC)
    warm = [make_order(rng, n, "repeat", c, now).order for n, c in enumerate(rng.sample(pool, len(pool)))]
    measured, fresh = [], 0
    for n in range(orders):
        r = rng.random()
        if r < MIX.guest:
            who, customer = "guest", make_customer(rng, 900_000 + n)
        elif r < MIX.guest + MIX.new_customer:
            who, customer = "new", make_customer(rng, CUSTOMER_POOL + fresh)
            fresh += 1
        else:
            who, customer = "repeat", rng.choice(pool)
        measured.append(make_order(rng, CUSTOMER_POOL + n, who, customer, now))
    return warm, measured


# --- figures ----------------------------------------------------------------------------------------------


def calls_by_order(after_id: int) -> dict[str, int]:
    """NetSuite HTTP attempts of the phase by webhook id (the correlation id of every call an event makes)."""
    with DB.connect() as conn:
        rows = conn.execute(
            "SELECT coalesce(correlation_id, ''), count(*) FROM netsuite_call_log WHERE id > %s GROUP BY 1",
            (after_id,),
        ).fetchall()
    return dict(rows)


def max_call_log_id() -> int:
    with DB.connect() as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM netsuite_call_log").fetchone()[0]


def dead_letters() -> list[tuple[str, str]]:
    with DB.connect() as conn:
        rows = conn.execute("SELECT to_jsonb(d) FROM dead_letters d ORDER BY id").fetchall()
    out = []
    for (row,) in rows:
        code = row.get("error_code") or row.get("code") or row.get("reason") or "?"
        text = str(row.get("error_message") or row.get("error") or row.get("message") or "")[:200]
        out.append((str(code), text))
    return out


def mismatches(plans: list[Planned], records: list[dict]) -> tuple[list[dict], int]:
    by_eid = {r.get("externalId"): r for r in records}
    out, missing = [], 0
    for p in plans:
        record = by_eid.get(f"shopify-order-{p.order['id']}")
        if record is None:
            missing += 1
            continue
        netsuite = Decimal(str(record.get("total")))
        if netsuite != p.shopify_total:
            out.append(
                {
                    "order": p.order["id"],
                    "name": p.order["name"],
                    "shape": ", ".join(p.tags),
                    "shopify": str(p.shopify_total),
                    "netsuite": str(netsuite),
                    "diff": str(netsuite - p.shopify_total),
                }
            )
    return out, missing


# --- the run ----------------------------------------------------------------------------------------------


def start_stack(args: argparse.Namespace, base_env: dict[str, str], run_dir: Path) -> tuple[Stack, dict]:
    ns_port, shop_port, web_port = free_port(), free_port(), free_port()
    urls = {
        "sim": f"http://127.0.0.1:{ns_port}",
        "shop": f"http://127.0.0.1:{shop_port}",
        "web": f"http://127.0.0.1:{web_port}",
    }
    env = {
        **base_env,
        "NETSUITE_BASE_URL": f"{urls['sim']}/services/rest",
        "SHOPIFY_ADMIN_URL": f"{urls['shop']}/admin/api/2026-04/graphql.json",
        "PORT": str(web_port),
    }
    stack = Stack(env=env, run_dir=run_dir)
    try:
        return stack, _start(stack, env, urls, args)
    except BaseException:
        stack.stop_all()
        raise


def start_simulators(
    stack: Stack, urls: dict[str, str], *, latency_ms: int = LATENCY_MS, jitter_ms: int = JITTER_MS, cap: int = SIM_CAP
) -> None:
    """Both simulators on the ports of `urls["sim"]` and `urls["shop"]` (quiet, this bench's shop and token), up."""
    ns_port, shop_port = urls["sim"].rsplit(":", 1)[1], urls["shop"].rsplit(":", 1)[1]
    stack.start(
        "netsuite",
        f"exec shopsync-dev simulate netsuite --quiet --port {ns_port} --concurrency-limit {cap}"
        f" --latency-ms {latency_ms} --latency-jitter-ms {jitter_ms}",
    )
    stack.start(
        "shopify",
        f"exec shopsync-dev simulate shopify --quiet --port {shop_port} --shop {SHOP} --access-token {ADMIN_TOKEN}",
    )
    wait_for_http(f"{urls['sim']}/_sim/stats", timeout=30)
    wait_for_http(f"{urls['shop']}/_sim/stats", timeout=30)


def _start(stack: Stack, env: dict[str, str], urls: dict[str, str], args: argparse.Namespace) -> dict[str, str]:
    start_simulators(stack, urls)
    env.update(seed_netsuite(urls["sim"], seed=args.seed, tax_mode=args.tax_mode))
    print(f"  {common.shopsync(env, 'items', 'refresh')}", flush=True)
    stack.env = env
    common.start_web_and_order_workers(stack, urls["web"], args.workers, args.concurrency)
    return urls


def seed_netsuite(sim: str, *, seed: int, tax_mode: str) -> dict[str, str]:
    """The NetSuite simulator as these orders need it (uniform latency, the tax mode, the 40 SKUs and the SHOPIFY-*
    service items, one tax code per Shopify tax); the settings that name them for the service."""
    requests.post(
        f"{sim}/_sim/config", json={"latency_distribution": "uniform", "seed": seed, "tax_mode": tax_mode}, timeout=10
    ).raise_for_status()
    requests.post(
        f"{sim}/_sim/items",
        json=[{"itemid": s, "displayname": t} for s, t, _ in CATALOG] + service_items(),
        timeout=10,
    ).raise_for_status()
    codes = requests.post(
        f"{sim}/_sim/taxcodes",
        json=[{"itemid": f"{t} {r}", "rate": float(Decimal(r) * 100)} for t, r in tax_titles()],
        timeout=10,
    )
    codes.raise_for_status()
    ids = [str(c["id"]) for c in codes.json()]
    tax_map = ",".join(f"{t}:{Decimal(r).normalize()}={i}" for (t, r), i in zip(tax_titles(), ids, strict=True))
    return {
        "TAX_CODE_MAP": tax_map,
        "NETSUITE_DEFAULT_TAX_CODE_ID": ids[0],
        "NETSUITE_TAX_MODE": tax_mode,
        "NETSUITE_CURRENCY_MAP": ",".join(f"{k}={v}" for k, v in CURRENCY_IDS.items()),
    }


class DeadlinePassed(RuntimeError):
    pass


def phase(web: str, deliveries: list[common.Delivery], prefix: str, timeout: float, stack: Stack, label: str) -> dict:
    sent = common.send_webhooks(web, deliveries, secret=SECRET, shop=SHOP)
    counts, ok = common.wait_done(DB, prefix, len(deliveries), timeout, stack, label)
    if not ok:
        raise DeadlinePassed(f"{label}: not finished within {timeout:.0f}s: {dict(counts)}")
    return {"send": sent, "events": dict(counts), "timing": common.phase_timing(DB, prefix)}


def run(args: argparse.Namespace, base_env: dict[str, str], run_dir: Path) -> dict:
    print(f"  {common.rebuild_database(DB, base_env)}", flush=True)
    tables = common.reset_state(DB, TABLES)
    code = common.code_state(DB)
    rng = random.Random(args.seed)
    warm, plans = generate(rng, args.orders)
    stamp = os.urandom(4).hex()
    result: dict[str, Any] = {"code": code, "tables_truncated": tables}
    stack, urls = start_stack(args, base_env, run_dir)
    try:
        shop = requests.Session()
        shop.post(f"{urls['shop']}/_sim/orders", json=warm + [p.order for p in plans], timeout=120).raise_for_status()
        print(f"  warm-up: {len(warm)} orders, one per pool customer ...", flush=True)
        prefix = f"ord-warm-{stamp}-"
        deliveries = [common.Delivery("orders/create", o, f"{prefix}{o['id']}") for o in warm]
        result["warmup"] = phase(urls["web"], deliveries, prefix, WARMUP_TIMEOUT_S, stack, "warm-up")
        result["quiet_check"] = common.wait_for_no_other_benchmarks(args.quiet_wait)
        result["machine_busy_pct_idle_stack"] = common.busy_pct(2.0)
        base_log, base_calls = (
            max_call_log_id(),
            common.sim_calls(requests.get(f"{urls['sim']}/_sim/stats", timeout=10).json()),
        )
        print(f"  measuring: {len(plans)} orders ...", flush=True)
        prefix = f"ord-m-{stamp}-"
        deliveries = [common.Delivery("orders/create", p.order, f"{prefix}{p.who}-{p.order['id']}") for p in plans]
        result["measured"] = phase(urls["web"], deliveries, prefix, MEASURE_TIMEOUT_S, stack, "measured")
        result["calls_measured"] = calls_by_order(base_log)
        mid_log = max_call_log_id()
        sim_after = common.sim_calls(requests.get(f"{urls['sim']}/_sim/stats", timeout=10).json())
        result["sim_calls_measured"] = sum((sim_after - base_calls).values())
        result["calls_by_operation"] = dict(sim_after - base_calls)
        edited = [p for p in plans if p.edit_line is not None]
        for p in edited:
            p.shopify_total = edited_total(p.order, p.edit_line)
        prefix = f"ord-e-{stamp}-"
        deliveries = edits.deliveries(
            urls["shop"],
            shop,
            [(p.order, p.edit_line, p.shopify_total) for p in edited],
            prefix,
            args.edit_updates,
            random.Random(args.seed + 1),
        )
        updates = sum(d.topic == "orders/updated" for d in deliveries)
        print(
            f"  edits: {len(edited)} orders edited in Shopify; orders/edited + {updates} orders/updated sent",
            flush=True,
        )
        before_edits = edits.snapshot(urls["shop"], DB.redis_url)
        result["edits"] = phase(urls["web"], deliveries, prefix, EDIT_TIMEOUT_S, stack, "edits")
        result["edit_phase"] = edits.figures(
            before_edits,
            edits.snapshot(urls["shop"], DB.redis_url),
            edits.events_by_topic(DB, prefix),
            result["edits"]["timing"]["received_to_processed_s"],
        )
        result["calls_edits"] = sum(calls_by_order(mid_log).values())
        result["sales_orders"] = requests.get(f"{urls['sim']}/_sim/records/salesOrder", timeout=120).json()
        stack.check_alive()
    finally:
        stack.stop_all()
        redis.Redis.from_url(DB.redis_url).flushdb()
    result["logs"] = common.scan_logs(
        stack.run_dir, ["web", *[f"worker_orders-{i}" for i in range(1, args.workers + 1)]]
    )
    result["dead_letters"] = dead_letters()
    return figures(result, plans)


def figures(result: dict, plans: list[Planned]) -> dict:
    records = result.pop("sales_orders")
    bad, missing = mismatches(plans, records)
    calls = result["calls_measured"]
    by_who: dict[str, list[int]] = {}
    for p in plans:
        by_who.setdefault(p.who, []).append(next((n for k, n in calls.items() if k.endswith(f"-{p.order['id']}")), 0))
    timing = result["measured"]["timing"]
    span = timing["received_to_processed_s"]
    shapes = Counter(t for p in plans for t in p.tags)
    edit_events = sum(result["edits"]["events"].values())
    result.update(
        {
            "orders": len(plans),
            "shapes": dict(shapes.most_common()),
            "mismatches": bad,
            "orders_missing_in_netsuite": missing,
            "calls_per_order": round(result["sim_calls_measured"] / len(plans), 3),
            "calls_per_order_call_log": round(sum(calls.values()) / len(plans), 3),
            "calls_per_order_by_customer": {k: round(sum(v) / len(v), 3) for k, v in by_who.items()},
            "orders_by_customer": {k: len(v) for k, v in by_who.items()},
            "calls_per_edit": round(result["calls_edits"] / edit_events, 3) if edit_events else None,
            "orders_per_s_end_to_end": round(len(plans) / span, 2) if span else None,
        }
    )
    return result


def report(r: dict) -> str:
    dead = r["dead_letters"]
    codes = Counter(code for code, _ in dead)
    repeat = r["calls_per_order_by_customer"].get("repeat")
    rows = [
        ("orders measured (repeat / first-time / guest)", f"{r['orders']} ({r['orders_by_customer']})"),
        ("shapes (an order has several)", ", ".join(f"{k} {v}" for k, v in r["shapes"].items())),
        ("intake: sent in / rate", f"{r['measured']['send']['send_s']} s / {r['measured']['send']['intake_per_s']}/s"),
        ("events done / dead (measured)", f"{r['measured']['events']}"),
        *edits.report_rows(r),
        ("dead letters (all phases), by code", f"{len(dead)} {dict(codes)}"),
        ("orders missing in NetSuite", r["orders_missing_in_netsuite"]),
        ("sales orders whose total differs from Shopify's", len(r["mismatches"])),
        (
            "NetSuite calls per order (simulator / call log)",
            f"{r['calls_per_order']} / {r['calls_per_order_call_log']}",
        ),
        ("  by customer (call log)", ", ".join(f"{k} {v}" for k, v in r["calls_per_order_by_customer"].items())),
        ("  by operation", ", ".join(f"{k} {v}" for k, v in sorted(r["calls_by_operation"].items()))),
        ("NetSuite calls per edit event (orders/edited and orders/updated)", r["calls_per_edit"]),
        (
            "end to end (first received -> last processed)",
            f"{r['measured']['timing']['received_to_processed_s']} s, {r['orders_per_s_end_to_end']} orders/s",
        ),
        (
            "max attempts of an event",
            f"{r['measured']['timing']['max_attempts']} (measured), {r['edits']['timing']['max_attempts']} (edits)",
        ),
        ("worker/web log warnings+errors", r["logs"]["problems"]),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    for code, text in dead[:5]:
        lines.append(f"  dead letter {code}: {text}")
    for m in r["mismatches"][:8]:
        lines.append(
            f"  mismatch {m['name']} ({m['shape']}): Shopify {m['shopify']}, NetSuite {m['netsuite']}, diff {m['diff']}"
        )
    lines.append("")
    verdicts = [
        ("0 dead letters", len(dead) == TARGET_DEAD, str(len(dead))),
        (
            "0 mismatches (NetSuite total = Shopify total, to the cent)",
            len(r["mismatches"]) == TARGET_MISMATCHES and r["orders_missing_in_netsuite"] == 0,
            f"{len(r['mismatches'])} differ, {r['orders_missing_in_netsuite']} missing",
        ),
        (
            f"calls per order for repeat customers <= {TARGET_REPEAT_CALLS}",
            repeat is not None and repeat <= TARGET_REPEAT_CALLS,
            str(repeat),
        ),
    ]
    lines += [f"{'PASS' if ok else 'MISS'}  {name}: {detail}" for name, ok, detail in verdicts]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.orders_realistic", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders in the measured phase")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--tax-mode", choices=("legacy", "suitetax"), default="legacy")
    parser.add_argument("--workers", type=int, default=3, help="worker_orders processes")
    parser.add_argument("--concurrency", type=int, default=6, help="WORKER_CONCURRENCY of each")
    parser.add_argument(
        "--edit-updates",
        type=float,
        default=1.0,
        help="share of edits whose orders/updated (sent by Shopify with the edit) is delivered too; 0: never",
    )
    parser.add_argument("--quiet-wait", type=float, default=common.QUIET_MAX_WAIT_S, help="s to wait for other benches")
    args = parser.parse_args(argv)
    if not 1 <= args.orders <= 10_000:
        parser.error("--orders: between 1 and 10000")
    if not 0 <= args.edit_updates <= 1:
        parser.error("--edit-updates: between 0 and 1")
    signal.signal(signal.SIGTERM, common.raise_exit)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = RESULTS_DIR / f"orders-realistic-{stamp}"
    run_dir.mkdir(parents=True, exist_ok=True)
    base_env = {
        **environ_copy(),
        **BENCH_ENV,
        "DATABASE_URL": DB.dsn,
        "REDIS_URL": DB.redis_url,
        "SHOPIFY_SHOP": SHOP,
        "SHOPIFY_WEBHOOK_SECRETS": SECRET,
        "SHOPIFY_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    base_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base_env.get('PATH', '')}"
    quiet = common.wait_for_no_other_benchmarks(args.quiet_wait)
    print(common.rebuild_database(DB, base_env), flush=True)
    info = common.machine_info(DB)
    command = "python -m bench.orders_realistic " + " ".join(sys.argv[1:] if argv is None else argv)
    print(
        f"bench/orders_realistic on {info['nproc']} x {info['cpu_model']}, {info['date_utc']}; {command};"
        f" tax mode {args.tax_mode}; NetSuite simulator {LATENCY_MS} +/- {JITTER_MS} ms; load"
        f" {' '.join(info['loadavg_before'])}",
        flush=True,
    )
    out = RESULTS_DIR / f"orders-realistic-{stamp}.json"
    try:
        result = run(args, base_env, run_dir)
    except DeadlinePassed as exc:
        print(f"FAILED: {exc}")
        out.write_text(json.dumps({"command": command, "machine": info, "failed": str(exc)}, indent=2))
        return 2
    text = report(result)
    print()
    print(f"code: {result['code']}")
    print(text)
    if result["logs"]["top"]:
        print("\nlog warnings/errors:")
        for message, count in result["logs"]["top"]:
            print(f"  {count:>6} x {message}")
    payload = {"command": command, "machine": info, "quiet_check": quiet, "args": vars(args), "result": result}
    out.write_text(json.dumps(payload, indent=2, default=str))
    print(f"\nraw results: {out.relative_to(ROOT)} (process logs in {run_dir.relative_to(ROOT)}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
