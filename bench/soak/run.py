"""The chaos soak: N order lifecycles through the real processes while things break, then the nightly
reconciliation, then the history check against what NetSuite itself holds. A progress bar, then a verdict.

    .venv/bin/python -m bench.soak [--orders 2000] [--seed N] [--rate 40] [--timeout 1800]

A stack of its own (nothing shared is restarted or flushed): a PostgreSQL cluster and a Redis server of the soak's
own (bench/services.py, ports 55441 and 56441), both simulators (NetSuite: cap 15, 150 +/- 50 ms uniform latency;
Shopify: holds every order, fulfillment, refund, cancellation and inventory level), and the Procfile's processes:
web, `--workers` x worker_orders, worker_fulfillment, worker_bulk (inventory, reconcile, the outbox relay) and beat.

Phases: lifecycles made in the Shopify simulator (plan.py); the webhook stream sent at `--rate` deliveries/s with
Shopify's delivery faults, the chaos schedule firing as it goes (faults.py) and inventory moving on both sides
(NetSuite's stock changes, pushed by beat's inventory push; Shopify levels edited by hand); what the intake refused
while PostgreSQL was down delivered again, as Shopify retries; everything settled (every event done or dead: the
outbox relay re-publishes what the FLUSHDB and the killed workers lost); the nightly reconciliation
(`shopsync reconcile`: inventory, then the orders check healing what never arrived); the history check
(history.py), after another night when something is still missing and the night before healed a missing order (its
documents are healed the night after it; at most 3 nights).

The soak compresses time, in settings an operator may also set: the relay runs every 5 s and re-publishes an event
10 s old (OUTBOX_RELAY_*), an event already handed over after `--republish` s; task retries back off at most 20 s;
the inventory push runs every minute; reconciliation tolerances are 0 (any difference is corrected). The Shopify
simulator has a Plus store's GraphQL rate (10,000-point bucket, 1,000 points/s; the orders check costs ~110 points an
order). Bounded: the
whole run fails (exit 2, with the phase it was in) past `--timeout` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import psycopg
import requests

from app.config import environ_copy
from bench import common
from bench.netsuite_throughput.run import BENCH_ENV, CATALOG
from bench.orders_realistic.run import ADMIN_TOKEN, SECRET, SHOP, seed_netsuite, start_simulators
from bench.services import PrivatePostgres, PrivateRedis
from bench.soak import history as hist
from bench.soak import plan
from bench.soak.faults import Chaos, FaultLog, Worker
from devtools.devstack import ROOT, Stack, free_port, procfile_commands, wait_for_http

RESULTS_DIR = ROOT / "bench" / "results"
DATABASE = "shopsync_soak"
SEED = 20261212
BUDGET = 12
SIM_CAP = 15
NETSUITE_LOCATIONS = (901, 902)  # LOCATION_MAP: plan.LOCATIONS[i] -> NETSUITE_LOCATIONS[i]
INVENTORY_AT = (0.25, 0.5, 0.75)  # shares of the stream at which stock moves on both sides
MAX_NIGHTS = 3
REDELIVERY_ROUNDS = 8
QUEUES = ("orders", "fulfillments", "refunds", "inventory", "reconcile", "backfill")


class SoakTimeout(RuntimeError):
    """The run passed its hard deadline."""


@dataclass
class Options:
    orders: int = 2000
    seed: int = SEED
    rate: float = 40.0  # deliveries per second
    workers: int = 2  # worker_orders processes
    concurrency: int = 4  # WORKER_CONCURRENCY of each worker_orders
    latency_ms: int = 150
    jitter_ms: int = 50
    timeout_s: float = 1800.0
    scale: float = 1.0  # time-based chaos (429 bursts) scales with it
    republish_s: float = 60.0  # OUTBOX_REPUBLISH_AFTER_SECONDS
    # Shopify's GraphQL rate (bucket points, points restored per second): a Plus store's by default. The nightly
    # orders check spends ~110 points an order, so on a standard plan (1,000 / 100) it reads ~1 order a second.
    shopify_bucket: int = 10_000
    shopify_restore: float = 1_000.0
    pg_port: int = 55441
    redis_port: int = 56441
    progress: bool = True


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, phase: str, state: str = "") -> None:
        if self.left() <= 0:
            raise SoakTimeout(
                f"soak passed its {self.seconds:.0f} s limit during {phase}" + (f": {state}" if state else "")
            )


def say(opts: Options, message: str) -> None:
    click.echo(message, err=False)
    sys.stdout.flush()


# --- the stack --------------------------------------------------------------------------------------------


# Only these pass from the caller's environment: the stack's settings are the soak's alone (a test session's
# settings, for one, name service items this NetSuite does not have).
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "USER", "LOGNAME", "SHELL")


def service_env(opts: Options, db: common.BenchDb, urls: dict[str, str]) -> dict[str, str]:
    env = {
        **{k: v for k, v in environ_copy().items() if k in INHERITED},
        **BENCH_ENV,
        "DATABASE_URL": db.dsn,
        "REDIS_URL": db.redis_url,
        "SHOPIFY_SHOP": SHOP,
        "SHOPIFY_WEBHOOK_SECRETS": SECRET,
        "SHOPIFY_ADMIN_TOKEN": ADMIN_TOKEN,
        "SHOPIFY_ADMIN_URL": f"{urls['shop']}/admin/api/2026-04/graphql.json",
        "NETSUITE_BASE_URL": f"{urls['sim']}/services/rest",
        "NETSUITE_CONCURRENCY": str(BUDGET),
        "PORT": urls["web"].rsplit(":", 1)[1],
        "LOCATION_MAP": ",".join(f"{s}={n}" for s, n in zip(plan.LOCATIONS, NETSUITE_LOCATIONS, strict=True)),
        "OUTBOX_RELAY_INTERVAL_SECONDS": "5",
        "OUTBOX_RELAY_AFTER_SECONDS": "10",
        "OUTBOX_REPUBLISH_AFTER_SECONDS": str(opts.republish_s),
        "TASK_RETRY_BACKOFF_MAX": "20",
        "INVENTORY_PUSH_EVERY_MINUTES": "1",
        "RECONCILE_TOLERANCE_HIGH": "0",
        "RECONCILE_TOLERANCE_LOW": "0",
        # The nightly run is the soak's to start: beat's would fire only at this hour, half a day away.
        "RECONCILE_HOUR_UTC": str((datetime.now(UTC).hour + 12) % 24),
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def workers(opts: Options) -> dict[str, Worker]:
    commands = procfile_commands()
    out = {
        f"worker_orders-{i}": Worker(
            f"worker_orders-{i}",
            commands["worker_orders"],
            {"WORKER_ID": str(i), "WORKER_CONCURRENCY": str(opts.concurrency)},
        )
        for i in range(1, opts.workers + 1)
    }
    out["worker_fulfillment"] = Worker("worker_fulfillment", commands["worker_fulfillment"], {})
    out["worker_bulk"] = Worker("worker_bulk", commands["worker_bulk"], {})
    return out


def seed_inventory(urls: dict[str, str], rng: random.Random) -> None:
    """The catalog's SKUs stocked at both locations on both sides, the same quantities (no drift to begin with)."""
    requests.post(
        f"{urls['sim']}/_sim/inventory/seed", json={"items": 0, "location_ids": list(NETSUITE_LOCATIONS)}, timeout=30
    ).raise_for_status()
    requests.post(
        f"{urls['shop']}/_sim/inventory/locations",
        json=[{"id": loc, "name": f"Store {loc}"} for loc in plan.LOCATIONS],
        timeout=30,
    ).raise_for_status()
    requests.post(
        f"{urls['shop']}/_sim/inventory/items", json=[{"sku": sku} for sku, _, _ in CATALOG], timeout=30
    ).raise_for_status()
    levels = {(sku, i): rng.randint(5, 80) for sku, _, _ in CATALOG for i in range(len(plan.LOCATIONS))}
    requests.post(
        f"{urls['sim']}/_sim/inventory",
        json=[
            {"item": sku, "location": NETSUITE_LOCATIONS[i], "quantityonhand": q, "quantityavailable": q}
            for (sku, i), q in levels.items()
        ],
        timeout=30,
    ).raise_for_status()
    requests.post(
        f"{urls['shop']}/_sim/inventory/levels",
        json=[{"sku": sku, "location_id": plan.LOCATIONS[i], "available": q} for (sku, i), q in levels.items()],
        timeout=30,
    ).raise_for_status()


def start(opts: Options, stack: Stack, urls: dict[str, str], rng: random.Random) -> dict[str, Worker]:
    start_simulators(stack, urls, latency_ms=opts.latency_ms, jitter_ms=opts.jitter_ms, cap=SIM_CAP)
    requests.post(
        f"{urls['shop']}/_sim/config",
        json={"bucket_size": opts.shopify_bucket, "restore_rate": opts.shopify_restore},
        timeout=10,
    ).raise_for_status()
    stack.env = {**stack.env, **seed_netsuite(urls["sim"], seed=opts.seed, tax_mode="legacy")}
    for order in requests.get(f"{urls['shop']}/_sim/orders", timeout=30).json():  # the simulator's seed orders
        requests.delete(f"{urls['shop']}/_sim/orders/{order['id']}", timeout=30).raise_for_status()
    seed_inventory(urls, rng)
    common.shopsync(dict(stack.env), "items", "refresh")
    stack.start("web")
    specs = workers(opts)
    for worker in specs.values():
        stack.start(worker.name, worker.command, extra_env=worker.env)
    stack.start("beat")
    wait_for_http(f"{urls['web']}/healthz", timeout=60)
    wanted = {f"orders-{i}@" for i in range(1, opts.workers + 1)} | {"fulfillment@", "bulk@"}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stack.check_alive()
        nodes = common.worker_pools(stack.env["REDIS_URL"])
        if all(any(n.startswith(w) for n in nodes) for w in wanted):
            return specs
        time.sleep(0.5)
    raise RuntimeError(f"celery workers {sorted(wanted)} did not all answer within 120 s")


# --- the stream -------------------------------------------------------------------------------------------


def move_inventory(urls: dict[str, str], rng: random.Random, prefix: str, n: int, log: FaultLog) -> list:
    """Stock moves in NetSuite (receipts, counts: the push carries them to Shopify) and someone edits Shopify's
    levels by hand (the nightly reconciliation sets them back); returns Shopify's webhooks for the edits."""
    pairs = [(sku, i) for sku, _, _ in CATALOG for i in range(len(plan.LOCATIONS))]
    moved = rng.sample(pairs, 8)
    requests.post(
        f"{urls['sim']}/_sim/inventory",
        json=[
            {"item": sku, "location": NETSUITE_LOCATIONS[i], "quantityonhand": q, "quantityavailable": q}
            for (sku, i), q in ((p, rng.randint(0, 90)) for p in moved)
        ],
        timeout=30,
    ).raise_for_status()
    edited = rng.sample(pairs, 4)
    values = [rng.randint(0, 90) for _ in edited]
    requests.post(
        f"{urls['shop']}/_sim/inventory/levels",
        json=[
            {"sku": sku, "location_id": plan.LOCATIONS[i], "available": v}
            for (sku, i), v in zip(edited, values, strict=True)
        ],
        timeout=30,
    ).raise_for_status()
    log.add("inventory_moves", f"8 NetSuite levels changed, 4 Shopify levels edited by hand (round {n})")
    ids = {}
    for level in requests.get(f"{urls['shop']}/_sim/inventory/levels", timeout=30).json():
        ids[(level["sku"], level["location_id"])] = level["inventory_item_id"]
    now = datetime.now(UTC).isoformat()
    return [
        common.Delivery(
            "inventory_levels/update",
            {
                "inventory_item_id": ids[(sku, plan.LOCATIONS[i])],
                "location_id": plan.LOCATIONS[i],
                "available": v,
                "updated_at": now,
            },  # fmt: skip
            f"{prefix}inventory-{n}-{k}",
        )
        for k, ((sku, i), v) in enumerate(zip(edited, values, strict=True))
    ]


def send_stream(
    opts: Options,
    urls: dict[str, str],
    deliveries: list[common.Delivery],
    chaos: Chaos,
    rng: random.Random,
    prefix: str,
    deadline: Deadline,
) -> dict[str, Any]:
    """Deliver the stream at the chosen rate, firing the chaos schedule and the inventory moves as it goes."""
    chunk = max(1, int(opts.rate))
    by_id = {}
    failed: list[str] = []
    moves = list(INVENTORY_AT)
    started = time.monotonic()
    bar = click.progressbar(length=len(deliveries), label="soak: stream", show_pos=True) if opts.progress else None
    try:
        for first in range(0, len(deliveries), chunk):
            deadline.check("the stream", f"{first}/{len(deliveries)} sent")
            share = first / max(1, len(deliveries))
            for label in chaos.due(share):
                if not opts.progress:
                    say(opts, f"  [{chaos.log.now():7.1f} s] chaos: {label}")
            batch = deliveries[first : first + chunk]
            while moves and moves[0] <= share:
                batch = batch + move_inventory(urls, rng, prefix, len(INVENTORY_AT) - len(moves) + 1, chaos.log)
                moves.pop(0)
            for d in batch:
                by_id[d.webhook_id] = d
            sent = common.send_webhooks(urls["web"], batch, secret=SECRET, shop=SHOP)
            failed += sent["failed"]
            if bar is not None:
                bar.update(len(batch))
            pause = (first + chunk) / opts.rate - (time.monotonic() - started)
            if pause > 0:
                time.sleep(pause)
    finally:
        if bar is not None:
            bar.render_finish()
    send_s = time.monotonic() - started
    chaos.finish(timeout=max(30.0, min(180.0, deadline.left())))
    # What the intake refused (PostgreSQL down, a restart) is delivered again later, as Shopify retries.
    rounds = 0
    while failed and rounds < REDELIVERY_ROUNDS:
        deadline.check("redelivery", f"{len(failed)} deliveries still refused")
        rounds += 1
        time.sleep(2.0 * rounds)
        again = [by_id[w] for w in dict.fromkeys(failed)]
        failed = common.send_webhooks(urls["web"], again, secret=SECRET, shop=SHOP)["failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} deliveries still refused after {rounds} redelivery rounds")
    return {"deliveries": len(deliveries), "send_s": round(send_s, 1), "redelivery_rounds": rounds}


# --- settling and the nightly reconciliation --------------------------------------------------------------


def pending(db: common.BenchDb) -> tuple[int, int, int]:
    """(events not finished, done, dead), polling through a PostgreSQL restart."""
    for _ in range(120):
        try:
            with db.connect() as conn:
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE status NOT IN ('done', 'dead', 'ignored')),"
                    " count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'dead')"
                    " FROM webhook_events"
                ).fetchone()
            return int(row[0]), int(row[1]), int(row[2])
        except psycopg.OperationalError:
            time.sleep(0.5)
    raise RuntimeError("PostgreSQL did not answer for 60 s")


def settle(opts: Options, db: common.BenchDb, stack: Stack, deadline: Deadline, label: str) -> float:
    """Wait until every event is done or dead (twice in a row, 1 s apart); seconds it took."""
    started = time.monotonic()
    left, done, dead = pending(db)
    bar = click.progressbar(length=left + done + dead, label=label, show_pos=True) if opts.progress else None
    last_print, calm = 0.0, 0
    try:
        while True:
            left, done, dead = pending(db)
            if bar is not None:
                bar.length = left + done + dead
                bar.update(done + dead - bar.pos)
            elif time.monotonic() - last_print > 15:
                say(opts, f"  {label}: {left} events pending, {done} done, {dead} dead")
                last_print = time.monotonic()
            calm = calm + 1 if left == 0 else 0
            if calm >= 2:
                return round(time.monotonic() - started, 1)
            stack.check_alive()
            deadline.check(label, f"{left} events pending, {done} done, {dead} dead")
            time.sleep(1.0)
    finally:
        if bar is not None:
            bar.render_finish()


def events_total(db: common.BenchDb) -> int:
    with db.connect() as conn:
        return int(conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0])


def night(opts: Options, db: common.BenchDb, stack: Stack, deadline: Deadline, n: int) -> dict[str, Any]:
    """One nightly reconciliation (`shopsync reconcile`: inventory, then the orders check), and its heals settled
    (every heal is an event, processed like the webhook that never came)."""
    deadline.check(f"reconciliation night {n}")
    before = events_total(db)
    started = time.monotonic()
    report = json.loads(common.shopsync(dict(stack.env), "reconcile", "--json", timeout=max(30, int(deadline.left()))))
    healed = events_total(db) - before
    settle_s = settle(opts, db, stack, deadline, f"soak: night {n} heals") if healed else 0.0
    out = {
        "night": n,
        "wall_s": round(time.monotonic() - started, 1),
        "orders_checked": report.get("orders_checked"),
        "orders_missing": len(report.get("orders_missing") or []),
        "events_healed": healed,
        "inventory_diffs": report.get("diffs_found"),
        "inventory_corrected": report.get("corrections_applied"),
        "total_mismatches": len(report.get("total_mismatches") or []),
        "timings": report.get("timings"),
        "settle_s": settle_s,
    }
    say(opts, f"  night {n}: {out}")
    return out


# --- what the check reads ---------------------------------------------------------------------------------


def netsuite_levels(sim: str) -> dict[tuple[str, int], int]:
    items = {str(i["id"]): i["itemid"] for i in requests.get(f"{sim}/_sim/items", timeout=30).json()}
    to_shopify = dict(zip(NETSUITE_LOCATIONS, plan.LOCATIONS, strict=True))
    out = {}
    # POSTing no change answers every level NetSuite holds.
    for level in requests.post(f"{sim}/_sim/inventory", json=[], timeout=30).json():
        location = to_shopify.get(int(level["location"]))
        if location is not None and items.get(level["item"]):
            out[(items[level["item"]], location)] = max(0, int(float(level["quantityavailable"])))
    return out


def shopify_levels(shop: str) -> dict[tuple[str, int], int]:
    return {
        (lv["sku"], int(lv["location_id"])): int(lv["available"])
        for lv in requests.get(f"{shop}/_sim/inventory/levels", timeout=30).json()
        if int(lv["location_id"]) in plan.LOCATIONS
    }


def dead_letters(db: common.BenchDb) -> list[dict[str, Any]]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT d.id, d.topic, d.category, d.error_code, left(d.error_message, 300), e.webhook_id"
            " FROM dead_letters d LEFT JOIN webhook_events e ON e.id = d.webhook_event_id ORDER BY d.id"
        ).fetchall()
    keys = ("id", "topic", "category", "error_code", "error_message", "webhook_id")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def collect(urls: dict[str, str], db: common.BenchDb) -> dict[str, Any]:
    sim = urls["sim"]
    return {
        "netsuite": {t: requests.get(f"{sim}/_sim/records/{t}", timeout=120).json() for t in hist.CHECKED_TYPES},
        "items": {str(i["id"]): i["itemid"] for i in requests.get(f"{sim}/_sim/items", timeout=30).json()},
        "stats": requests.get(f"{sim}/_sim/stats", timeout=30).json(),
        "netsuite_levels": netsuite_levels(sim),
        "shopify_levels": shopify_levels(urls["shop"]),
        "dead_letters": dead_letters(db),
    }


# --- the run ----------------------------------------------------------------------------------------------


def soak(opts: Options, run_dir: Path) -> dict[str, Any]:
    """One soak; its figures and the history check (`history`, a hist.History). Raises SoakTimeout past the limit."""
    deadline = Deadline(opts.timeout_s)
    rng = random.Random(opts.seed)
    log = FaultLog()
    postgres = PrivatePostgres(port=opts.pg_port)
    redis_server = PrivateRedis(port=opts.redis_port)
    db = common.BenchDb(
        DATABASE, 0, pg_address=f"127.0.0.1:{opts.pg_port}", redis_address=f"127.0.0.1:{opts.redis_port}"
    )
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("sim", "shop", "web")}
    stack = Stack(env=service_env(opts, db, urls), run_dir=run_dir)
    result: dict[str, Any] = {"options": asdict(opts)}
    try:
        postgres.init().start()
        postgres.create_database(DATABASE)
        redis_server.start()
        common.shopsync(dict(stack.env), "db", "upgrade")
        specs = start(opts, stack, urls, rng)
        say(opts, f"  stack up in {log.now():.0f} s; making {opts.orders} lifecycles in the Shopify simulator")
        lifecycles = plan.make_lifecycles(urls["shop"], opts.orders, rng)
        prefix = f"soak-{os.urandom(3).hex()}-"
        planned = plan.stream(lifecycles, prefix, rng, log)
        result["plan"] = {
            "kinds": {k: sum(1 for life in lifecycles if life.kind == k) for k, _ in plan.KINDS},
            "webhooks": len(planned.deliveries),
            "never_delivered": len(planned.dropped),
            "duplicated": planned.duplicated,
            "extra_copies": planned.extra_copies,
            "injected_bad_refunds": len(planned.injected),
        }
        say(opts, f"  plan: {result['plan']}")
        chaos = Chaos(stack, urls["sim"], postgres, redis_server, log, specs, SIM_CAP, scale=opts.scale)
        result["stream"] = send_stream(opts, urls, planned.deliveries, chaos, rng, prefix, deadline)
        result["settle_s"] = settle(opts, db, stack, deadline, "soak: settling")
        result["nights"] = []
        for n in range(1, MAX_NIGHTS + 1):
            result["nights"].append(night(opts, db, stack, deadline, n))
            seen = collect(urls, db)
            result["history"] = check(lifecycles, seen, log)
            # A fulfillment or refund whose order was missing too is healed the night after its order (the check
            # heals a missing order first): another night only then.
            if not (result["history"].missing and result["nights"][-1]["orders_missing"]):
                break
        result["netsuite_calls"] = dict(common.sim_calls(seen["stats"]))
        result["netsuite_rejections"] = seen["stats"].get("rejections")
        result["netsuite_peak_total"] = seen["stats"].get("peak_total")
        result["faults"] = log.counts()
        result["fault_log"] = log.as_list()
        result["wall_s"] = log.now()
        return result
    finally:
        stack.stop_all()
        redis_server.stop()
        postgres.remove()
        result["logs"] = common.scan_logs(run_dir, list(workers(opts)) + ["web", "beat"])


def check(lifecycles: list[plan.Lifecycle], seen: dict[str, Any], log: FaultLog) -> hist.History:
    return hist.check(
        lifecycles,
        seen["netsuite"],
        seen["items"],
        peak=int(seen["stats"].get("peak_concurrency") or 0),
        budget=BUDGET,
        shopify_levels=seen["shopify_levels"],
        netsuite_levels=seen["netsuite_levels"],
        dead_letters=seen["dead_letters"],
        log=log,
    )


def report(result: dict[str, Any]) -> str:
    h: hist.History = result["history"]
    lines = [
        f"plan: {result['plan']}",
        f"faults injected: {result['faults']}",
        f"stream: {result['stream']}; settled {result['settle_s']} s after",
        *(f"night {n['night']}: {n}" for n in result["nights"]),
        f"NetSuite documents: {h.documents}; inventory levels compared {h.levels_compared}",
        f"NetSuite calls {sum(result['netsuite_calls'].values())}; refused {result['netsuite_rejections']};"
        f" peak in flight {h.peak} ours, {result['netsuite_peak_total']} with the other integration's",
        f"wall time {result['wall_s']:.0f} s; log warnings/errors {result['logs']['problems']}",
    ]
    for name, found in (("missing", h.missing), ("duplicated", h.duplicated), ("wrong", h.wrong), ("drift", h.drift)):
        lines += [f"  {name}: {x}" for x in found[:10]]
    for d in (h.unexplained or h.dead_letters)[:10]:
        why = d["explained_by"] or "UNEXPLAINED"
        lines.append(f"  dead letter {d['topic']} {d['error_code']}: {why} ({d['error_message'][:120]})")
    lines.append(h.verdict())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--rate", type=float, default=40.0, help="webhook deliveries per second")
    parser.add_argument("--workers", type=int, default=2, help="worker_orders processes")
    parser.add_argument("--concurrency", type=int, default=4, help="WORKER_CONCURRENCY of each worker_orders")
    parser.add_argument("--timeout", type=float, default=1800.0, help="hard limit of the whole run, seconds")
    parser.add_argument("--republish", type=float, default=60.0, help="OUTBOX_REPUBLISH_AFTER_SECONDS")
    parser.add_argument("--quiet-wait", type=float, default=common.QUIET_MAX_WAIT_S, help="s to wait for other benches")
    args = parser.parse_args(argv)
    if not 1 <= args.orders <= 20_000:
        parser.error("--orders: between 1 and 20000")
    signal.signal(signal.SIGTERM, common.raise_exit)
    opts = Options(
        orders=args.orders,
        seed=args.seed,
        rate=args.rate,
        workers=args.workers,
        concurrency=args.concurrency,
        timeout_s=args.timeout,
        republish_s=args.republish,
        progress=sys.stdout.isatty(),  # bars on a terminal, a line every 15 s otherwise
    )
    common.wait_for_no_other_benchmarks(args.quiet_wait)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = RESULTS_DIR / f"soak-{stamp}"
    command = "python -m bench.soak " + " ".join(sys.argv[1:] if argv is None else argv)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    say(opts, f"bench/soak, {command}; {os.cpu_count()} cores; load {load}")
    out = RESULTS_DIR / f"soak-{stamp}.json"
    try:
        result = soak(opts, run_dir)
    except (SoakTimeout, RuntimeError) as exc:  # past the limit, or the stack could not run the soak
        say(opts, f"soak verdict: FAIL — {exc}")
        return 2
    print(report(result))
    history = result["history"]
    payload = {**result, "history": {"facts": history.facts(), "findings": asdict(history)}, "command": command}
    out.write_text(json.dumps(payload, indent=1, default=str))
    print(f"raw results: {out.relative_to(ROOT)} (process logs in {run_dir.relative_to(ROOT)}/)")
    return 0 if result["history"].passed else 1
