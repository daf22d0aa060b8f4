"""NetSuite throughput benchmark: real Celery order workers against the NetSuite simulator, through the real
intake, PostgreSQL and Redis on this machine. It prints figures; it is not a test.

    .venv/bin/python -m bench.netsuite_throughput.run [--orders 2000] [--warmup 300] [--workers 1]
        [--concurrency N] [--pool prefork|threads] [--held-slots 0,3] [--send-rate N]

For each `--held-slots` value, a fresh stack from the Procfile: the simulator (`shopsync-dev simulate netsuite`, cap
15, 150 ms +/- 50 ms uniform latency, then `held_slots` set through /_sim/config: slots permanently taken by a
simulated other integration), `web` (gunicorn intake) and `--workers` x `worker_orders` (WORKER_ID=i). By default
the layout we ship: one `worker_orders` with the Procfile's own pool and concurrency (nothing overridden), against
a budget of NETSUITE_CONCURRENCY=12; `--concurrency` / `--pool` set WORKER_CONCURRENCY / WORKER_POOL to try
another layout. LOG_LEVEL is the shipped default (INFO: a line per NetSuite call and per event) unless `--log-level`
sets it; runs recorded before 2026-12-03 13:00 UTC used WARNING.

Data: 40 SKUs seeded into the simulator and `shopsync items refresh` run once (the SKU map is then cached);
orders of 1-4 lines with realistic prices, state sales tax and shipping, each with a unique id, from a fixed pool
of customers whose identity (name, email, phone, address) never changes. Warm-up: `--warmup` orders, the first
one per pool customer (so the pool is known to NetSuite, as a store's returning customers are), waited until
done. Measurement: `--orders` orders, 98% from the pool and ~2% first-time customers, sent by 16 threads as fast
as the intake takes them (or `--send-rate` webhooks a second), then waited on until every event is done or dead
(bounded).

Isolation: database shopsync_bench_ns (dropped, migrated again and every table truncated before each run), Redis
db 13 only (flushed before each run). Raw results and the process logs go to bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import psutil
import psycopg
import redis
import requests

from app.config import environ_copy
from bench import common
from devtools.demo import service_items
from devtools.devstack import ROOT, Stack, free_port, wait_for_http
from netsuite_client.limiter import LimiterConfig, RedisSlotLimiter
from simulators.shopify import order_factory as of

RESULTS_DIR = ROOT / "bench" / "results"

BENCH_DB = "shopsync_bench_ns"
BENCH_DSN = f"postgresql://root@127.0.0.1:5432/{BENCH_DB}"
REDIS_DB = 13
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
SECRET = "bench-ns-webhook-secret"
SHOP = "bench-ns-store.myshopify.com"
TABLES = (
    "webhook_events",
    "order_state",
    "order_transitions",
    "netsuite_call_log",
    "dead_letters",
    "netsuite_item_map",
    "customer_sync",
)

DB = common.BenchDb(BENCH_DB, REDIS_DB)
# The shared helpers (bench/common.py), bound to this benchmark's database and Redis db.
other_benchmarks = common.other_benchmarks
wait_for_no_other_benchmarks = common.wait_for_no_other_benchmarks
cpu_ticks, busy_pct, shopsync, sim_calls, scan_logs = (
    common.cpu_ticks,
    common.busy_pct,
    common.shopsync,
    common.sim_calls,
    common.scan_logs,
)
machine_info = partial(common.machine_info, DB)
rebuild_database = partial(common.rebuild_database, DB)
reset_state = partial(common.reset_state, DB, TABLES)
code_state = partial(common.code_state, DB)
event_counts = partial(common.event_counts, DB)
phase_timing = partial(common.phase_timing, DB)
wait_done = partial(common.wait_done, DB)


def send_orders(web: str, orders: list[dict], prefix: str, rate: float | None = None) -> dict:
    deliveries = [common.Delivery("orders/create", o, f"{prefix}{uuid.uuid4()}") for o in orders]
    return common.send_webhooks(web, deliveries, secret=SECRET, shop=SHOP, rate=rate)


SIM_CAP = 15
LATENCY_MS = 150
JITTER_MS = 50
BUDGET = 12  # NETSUITE_CONCURRENCY, the app's default
SIM_SEED = 20261123

# The bench's own session (senders, sampler) runs at this CPU nice (common.yield_cpu_to_service). 0, an equal share
# with each of the service's process groups, as every recorded figure was taken. A higher nice gives the service
# the CPU first but lets the senders send only with what it leaves (a burst of ~130 instead of ~330 webhooks a
# second here): neither is what Shopify's own machines do, so the option only shows how much the share matters.
DRIVER_NICE = 0

TARGET_RATIO = 0.90
TARGET_PEAK = BUDGET
TARGET_CALLS_PER_ORDER = 1.05

CUSTOMER_POOL = 300
NEW_CUSTOMER_SHARE = 0.02
SENDERS = common.SENDERS
SAMPLE_EVERY_S = 0.25
WARMUP_TIMEOUT_S = 300
MEASURE_TIMEOUT_S = 600
DISTURBED_PCT = 10.0  # CPU outside the bench (kernel softirq included) above this share of the machine skews it
CLK_TCK = os.sysconf("SC_CLK_TCK")

BENCH_ENV = {
    "DATABASE_URL": BENCH_DSN,
    "REDIS_URL": REDIS_URL,
    "SHOPIFY_SHOP": SHOP,
    "SHOPIFY_WEBHOOK_SECRETS": SECRET,
    "SHOPIFY_ADMIN_TOKEN": "shpat_bench_ns",
    "SHOPIFY_API_VERSION": "2026-04",
    "NETSUITE_ACCOUNT_ID": "1234567_SB1",
    # The simulator's development credentials (they exist only inside the simulator).
    "NETSUITE_CONSUMER_KEY": "sim-consumer-key",
    "NETSUITE_CONSUMER_SECRET": "sim-consumer-secret",
    "NETSUITE_TOKEN_ID": "sim-token-id",
    "NETSUITE_TOKEN_SECRET": "sim-token-secret",
    "NETSUITE_CONCURRENCY": str(BUDGET),
    "OPS_TOKEN": "bench-ns-ops-token",
}


# --- data -------------------------------------------------------------------------------------------------

PRODUCTS = [
    ("TEE-CLASSIC", "Classic Tee", "28.00", ["BLK-S", "BLK-M", "WHT-M", "WHT-L"]),
    ("HOODIE-FLEECE", "Fleece Hoodie", "74.00", ["GRY-M", "GRY-L", "NVY-M", "NVY-XL"]),
    ("CAP-WOOL", "Wool Cap", "32.00", ["OLV", "BLK", "TAN", "NVY"]),
    ("SOCK-MERINO", "Merino Socks", "24.50", ["3PK-S", "3PK-M", "3PK-L", "6PK-M"]),
    ("BAG-TOTE", "Canvas Tote", "39.00", ["NAT", "BLK", "OLV", "RED"]),
    ("BOTTLE-STEEL", "Steel Bottle", "29.95", ["500-SLV", "750-SLV", "750-BLK", "1000-BLK"]),
    ("JACKET-SHELL", "Shell Jacket", "189.00", ["BLK-M", "BLK-L", "RED-M", "RED-L"]),
    ("BEANIE-RIB", "Rib Beanie", "26.00", ["RUST", "GRY", "BLK", "CRM"]),
    ("SHORTS-TRAIL", "Trail Shorts", "54.00", ["BLK-30", "BLK-32", "KHK-32", "KHK-34"]),
    ("MUG-ENAMEL", "Enamel Mug", "18.00", ["WHT", "BLU", "GRN", "BLK"]),
]
CATALOG = [(f"{code}-{v}", f"{title} - {v}", price) for code, title, price, variants in PRODUCTS for v in variants]
FIRST = ["Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Ines", "Omar", "Lena", "Kai", "Sara", "Yuki", "Ana", "Ben"]
LAST = ["Hart", "Okafor", "Silva", "Novak", "Chen", "Dubois", "Kowalski", "Moreau", "Haddad", "Berg", "Ito", "Ruiz"]
STATES = [  # city, state, zip, combined sales tax rate
    ("Portland", "OR", "97205", Decimal("0")),
    ("Austin", "TX", "78701", Decimal("0.0825")),
    ("Denver", "CO", "80202", Decimal("0.0881")),
    ("Boston", "MA", "02108", Decimal("0.0625")),
    ("Seattle", "WA", "98101", Decimal("0.1035")),
    ("Chicago", "IL", "60601", Decimal("0.1025")),
]
CUSTOMER_ID_BASE = 7_100_000_000_000
ORDER_ID_BASE = 5_100_000_000_000


def make_customer(rng: random.Random, n: int) -> tuple[of.Customer, Decimal]:
    """One customer with a fixed identity (the same body reaches NetSuite every time they order) and the sales
    tax rate of their state."""
    customer, place = pool_customer(rng, CUSTOMER_ID_BASE, n, STATES)
    return customer, place[3]


def pool_customer(rng: random.Random, id_base: int, n: int, places: list[tuple]) -> tuple[of.Customer, tuple]:
    """Customer number n of a benchmark's pool (id id_base + n, a unique email) and the place drawn for them."""
    return of.random_customer(
        rng,
        id_base + n,
        first_names=FIRST,
        last_names=LAST,
        places=places,
        email=lambda first, last: f"{first.lower()}.{last.lower()}.{n}@example.com",
    )


def _catalog_ids(_rng: random.Random, item: of.CatalogItem) -> tuple[int, int]:
    index = CATALOG.index(item)
    return 40_000_000_000 + index, 8_000_000_000 + index // 4


def make_order(
    rng: random.Random, order_no: int, customer: tuple[of.Customer, Decimal], now: datetime, run_no: int
) -> dict:
    """A compact order (the fields the mapping reads): the figures of docs/PERFORMANCE.md were taken with it."""
    who, rate = customer
    lines = of.random_lines(rng, CATALOG, ids=_catalog_ids, quantity=lambda r: r.choice((1, 1, 1, 2, 2, 3)))
    express = rng.random() < 0.15
    shipping = "14.95" if express else ("0.00" if of.lines_subtotal(lines) >= 75 else "6.95")
    return of.build_order(
        order_id=ORDER_ID_BASE + run_no * 10_000_000 + order_no,
        number=10000 + order_no,
        customer=who,
        lines=lines,
        created_at=now - timedelta(seconds=order_no),
        tax_rate=rate,
        shipping=of.Shipping("Express" if express else "Standard", shipping),
        compact=True,
    )


def generate(rng: random.Random, warmup: int, orders: int, run_no: int) -> tuple[list[dict], list[dict], int]:
    """(warm-up orders, measured orders, brand-new customers among the measured ones)."""
    pool = [make_customer(rng, n) for n in range(CUSTOMER_POOL)]
    now = datetime.now(UTC)
    order_no = 0
    warm = []
    first_round = rng.sample(pool, len(pool))
    for i in range(warmup):
        customer = first_round[i] if i < len(first_round) else rng.choice(pool)
        warm.append(make_order(rng, order_no, customer, now, run_no))
        order_no += 1
    measured = []
    new_customers = 0
    for _ in range(orders):
        if rng.random() < NEW_CUSTOMER_SHARE:
            customer = make_customer(rng, CUSTOMER_POOL + new_customers)
            new_customers += 1
        else:
            customer = rng.choice(pool)
        measured.append(make_order(rng, order_no, customer, now, run_no))
        order_no += 1
    return warm, measured, new_customers


# --- machine ----------------------------------------------------------------------------------------------


def _tree_cpu(pid: int) -> dict[int, float]:
    out: dict[int, float] = {}
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                out[proc.pid] = times.user + times.system
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return out


def _named_cpu(prefix: str) -> dict[int, float]:
    out: dict[int, float] = {}
    for proc in psutil.process_iter(["name", "cpu_times"]):
        name = proc.info.get("name") or ""
        times = proc.info.get("cpu_times")
        if name.startswith(prefix) and times is not None:
            out[proc.pid] = times.user + times.system
    return out


def cpu_by_component(stack: Stack) -> dict[str, dict[int, float]]:
    """CPU seconds so far of every process of each component (pid -> seconds)."""
    comps: dict[str, dict[int, float]] = {"web": {}, "worker pool children": {}, "worker parents": {}, "simulator": {}}
    for name, managed in stack.processes.items():
        tree = _tree_cpu(managed.pid)
        if name.startswith("worker_orders"):
            # The parent consumes from Redis and feeds its prefork children; the children run the tasks. A thread
            # pool runs the tasks in the parent: its CPU is all under "worker parents".
            comps["worker parents"].update({pid: v for pid, v in tree.items() if pid == managed.pid})
            comps["worker pool children"].update({pid: v for pid, v in tree.items() if pid != managed.pid})
        else:
            comps.setdefault("simulator" if name == "netsuite" else name, {}).update(tree)
    comps["postgres"] = _named_cpu("postgres")
    comps["redis"] = _named_cpu("redis-server")
    me = psutil.Process().cpu_times()
    comps["bench driver (senders, sampler)"] = {os.getpid(): me.user + me.system}
    return comps


def cpu_delta(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    out = {}
    for comp, procs in after.items():
        start = before.get(comp, {})
        out[comp] = round(sum(max(0.0, s - start.get(pid, 0.0)) for pid, s in procs.items()), 2)
    return out


# --- database, redis, simulator ---------------------------------------------------------------------------


def max_call_log_id(dsn: str = BENCH_DSN) -> int:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM netsuite_call_log").fetchone()[0]


def call_log_figures(after_id: int, dsn: str = BENCH_DSN) -> dict:
    """The phase's rows of netsuite_call_log (one per HTTP attempt)."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        count, first_start, last_end, mean_ms, n429 = conn.execute(
            "SELECT count(*), min(created_at - duration_ms * interval '1 millisecond'), max(created_at),"
            " avg(duration_ms), count(*) FILTER (WHERE http_status = 429) FROM netsuite_call_log WHERE id > %s",
            (after_id,),
        ).fetchone()
        by_kind = conn.execute(
            "SELECT method || ' ' || coalesce(record_type, operation), coalesce(http_status, 0), count(*)"
            " FROM netsuite_call_log WHERE id > %s GROUP BY 1, 2 ORDER BY 1, 2",
            (after_id,),
        ).fetchall()
        pcts = conn.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) FROM netsuite_call_log WHERE id > %s",
            (after_id,),
        ).fetchone()
    window = (last_end - first_start).total_seconds() if count else 0.0
    return {
        "rows": count,
        "window_s": round(window, 3),
        "first_call_start": first_start.isoformat() if first_start else None,
        "last_call_end": last_end.isoformat() if last_end else None,
        "mean_duration_ms": round(float(mean_ms), 1) if mean_ms is not None else None,
        "p50_duration_ms": pcts[0],
        "p99_duration_ms": pcts[1],
        "http_429_rows": n429,
        "by_kind_and_status": [f"{kind} {status}: {n}" for kind, status, n in by_kind],
    }


def limiter_snapshot(client: redis.Redis) -> dict:
    return RedisSlotLimiter(client, LimiterConfig(max_budget=BUDGET)).snapshot()


def simulator_command(port: int, host: str = "127.0.0.1") -> str:
    """The simulator as every run of this benchmark starts it: cap SIM_CAP, LATENCY_MS +/- JITTER_MS."""
    return (
        f"exec shopsync-dev simulate netsuite --quiet --host {host} --port {port} --concurrency-limit {SIM_CAP}"
        f" --latency-ms {LATENCY_MS} --latency-jitter-ms {JITTER_MS}"
    )


def prepare_simulator(sim: str, env: dict[str, str], held: int, seed: int) -> dict:
    """Uniform latency, `held` slots taken by another integration, the seed; the catalog's SKUs seeded and
    `shopsync items refresh` run once (the SKU map is then cached). Returns the simulator's configuration."""
    config = requests.post(
        f"{sim}/_sim/config",
        json={"latency_distribution": "uniform", "held_slots": held, "seed": seed},
        timeout=10,
    ).json()
    requests.post(
        f"{sim}/_sim/items",
        json=[{"itemid": s, "displayname": t} for s, t, _ in CATALOG] + service_items(),  # docs/MAPPING.md
        timeout=10,
    ).raise_for_status()
    print(f"  {shopsync(env, 'items', 'refresh')}", flush=True)
    return config


# --- sending and waiting ----------------------------------------------------------------------------------


class Sampler(threading.Thread):
    """Every SAMPLE_EVERY_S: the simulator's in-flight count and served calls, the limiter's budget and holders
    (read from Redis db 13), and how busy the machine is."""

    def __init__(self, sim: str, redis_url: str = REDIS_URL) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.sim = sim
        self.samples: list[dict] = []
        self.errors = 0
        self.intruders: dict[str, float] = {}  # other benchmark/test processes seen during the phase -> when
        self._stop_event = threading.Event()
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=5)
        self._http = requests.Session()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)

    def run(self) -> None:
        started = time.monotonic()
        prev = cpu_ticks()
        while not self._stop_event.is_set():
            t = time.monotonic() - started
            try:
                stats = self._http.get(f"{self.sim}/_sim/stats", timeout=5).json()
                snap = limiter_snapshot(self._redis)
                ticks = cpu_ticks()
                busy = 100.0 * (ticks[0] - prev[0]) / max(ticks[1] - prev[1], 1)
                prev = ticks
                self.samples.append(
                    {
                        "t": round(t, 3),
                        "sim_in_flight": stats.get("in_flight"),
                        "sim_calls": sum(sim_calls(stats).values()),
                        "sim_429": (stats.get("rejections") or {}).get("concurrency", 0),
                        "budget": snap["budget"],
                        "in_use": snap["in_use"],
                        "live_waiting": snap["live_waiting"],
                        "machine_busy_pct": round(busy, 1),
                    }
                )
            except (requests.RequestException, redis.RedisError, ValueError):
                self.errors += 1
            if len(self.samples) % 8 == 1:  # every ~2 s: did another benchmark or test start meanwhile?
                for line in other_benchmarks():
                    self.intruders.setdefault(line[:150], round(t, 1))
            self._stop_event.wait(SAMPLE_EVERY_S)


def steady_rate(samples: list[dict], base_calls: int) -> float | None:
    """Calls/s between the samples where the phase reached 10% and 90% of its calls (no ramp, no tail)."""
    if not samples:
        return None
    total = samples[-1]["sim_calls"] - base_calls
    if total <= 0:
        return None
    t10 = next((s["t"] for s in samples if s["sim_calls"] - base_calls >= 0.1 * total), None)
    t90 = next((s["t"] for s in samples if s["sim_calls"] - base_calls >= 0.9 * total), None)
    if t10 is None or t90 is None or t90 <= t10:
        return None
    return round(0.8 * total / (t90 - t10), 1)


def split_rates(samples: list[dict], base_calls: int, send_s: float) -> dict:
    """Calls/s while the intake was still taking the phase's orders, and after it (until 90% of the calls):
    the intake competes with the workers for the same cores."""
    out: dict[str, float | None] = {"while_sending": None, "after_sending_to_90pct": None}
    if not samples:
        return out
    total = samples[-1]["sim_calls"] - base_calls
    first = next((s for s in samples if s["sim_calls"] > base_calls), None)
    at_send_end = next((s for s in samples if s["t"] >= send_s), None)
    at_90 = next((s for s in samples if s["sim_calls"] - base_calls >= 0.9 * total), None)
    if first and at_send_end and at_send_end["t"] > first["t"]:
        out["while_sending"] = round((at_send_end["sim_calls"] - base_calls) / (at_send_end["t"] - first["t"]), 1)
    if at_send_end and at_90 and at_90["t"] > at_send_end["t"]:
        out["after_sending_to_90pct"] = round(
            (at_90["sim_calls"] - at_send_end["sim_calls"]) / (at_90["t"] - at_send_end["t"]), 1
        )
    return out


def phase_samples(samples: list[dict], base_calls: int, send_s: float) -> dict:
    """Machine and limiter while the intake was sending, and after it until 90% of the calls: how busy the
    cores were, how many slots were held, and how often a slot sat free while a caller was polling for one."""
    out: dict[str, dict] = {}
    if not samples:
        return out
    total = samples[-1]["sim_calls"] - base_calls
    t90 = next((s["t"] for s in samples if s["sim_calls"] - base_calls >= 0.9 * total), samples[-1]["t"])
    parts = {
        "while_sending": [s for s in samples if s["t"] < send_s and s["sim_calls"] > base_calls],
        "after_sending_to_90pct": [s for s in samples if send_s <= s["t"] <= t90],
    }
    for name, sel in parts.items():
        if not sel:
            continue
        n = len(sel)
        out[name] = {
            "samples": n,
            "machine_busy_pct": round(sum(s["machine_busy_pct"] for s in sel) / n, 1),
            "mean_in_use": round(sum(s["in_use"] for s in sel) / n, 2),
            "mean_sim_in_flight": round(sum(s["sim_in_flight"] for s in sel) / n, 2),
            "share_callers_waiting": round(sum(1 for s in sel if s["live_waiting"] > 0) / n, 3),
            "share_free_slot_while_waiting": round(
                sum(1 for s in sel if s["live_waiting"] > 0 and s["in_use"] < s["budget"]) / n, 3
            ),
        }
    return out


def busy_window(samples: list[dict], base_calls: int) -> list[dict]:
    """The samples between the phase's first and last served call."""
    final = samples[-1]["sim_calls"] if samples else base_calls
    inside = [s for s in samples if base_calls < s["sim_calls"] and s["sim_calls"] <= final]
    if not inside:
        return []
    first = inside[0]["t"]
    last = next(s["t"] for s in samples if s["sim_calls"] >= final)
    return [s for s in samples if first <= s["t"] <= last]


# --- logs -------------------------------------------------------------------------------------------------


# --- one run ----------------------------------------------------------------------------------------------


def one_run(args: argparse.Namespace, held: int, base_env: dict[str, str], run_dir: Path, run_no: int) -> dict:
    seed = args.seed + run_no
    print(f"  {rebuild_database(base_env)}", flush=True)
    tables = reset_state()
    code = code_state()
    print(
        f"  code: HEAD {code['head']} + {code['uncommitted_paths']} uncommitted path(s) outside bench/"
        f" (diff {code['diff_sha1']}), schema {code['alembic_head']}; truncated {len(tables)} tables",
        flush=True,
    )
    sim_port, web_port = free_port(), free_port()
    sim = f"http://127.0.0.1:{sim_port}"
    web = f"http://127.0.0.1:{web_port}"
    env = {**base_env, "NETSUITE_BASE_URL": f"{sim}/services/rest", "PORT": str(web_port)}
    stack = Stack(env=env, run_dir=run_dir / f"held-{held}")
    rng = random.Random(seed)
    warm_orders, measured_orders, new_customers = generate(rng, args.warmup, args.orders, run_no)
    stamp = uuid.uuid4().hex[:8]
    warm_prefix, measure_prefix = f"bench-ns-warm-{stamp}-", f"bench-ns-measure-{stamp}-"
    result: dict[str, Any] = {
        "held_slots": held,
        "slots_left": SIM_CAP - held,
        "new_customers": new_customers,
        "code": code,
        "tables_truncated": tables,
    }
    redis_client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        stack.start(
            "netsuite",
            simulator_command(sim_port),
        )
        wait_for_http(f"{sim}/_sim/stats", timeout=30)
        result["sim_config"] = prepare_simulator(sim, env, held, seed)

        result["worker_pools"] = common.start_web_and_order_workers(
            stack, web, args.workers, args.concurrency, args.pool
        )
        print(f"  workers: {result['worker_pools']}", flush=True)

        print(f"  warm-up: {len(warm_orders)} orders (one per pool customer first) ...", flush=True)
        result["warmup_send"] = send_orders(web, warm_orders, warm_prefix)
        counts, ok = wait_done(warm_prefix, len(warm_orders), WARMUP_TIMEOUT_S, stack, "warm-up")
        result["warmup_events"] = dict(counts)
        if not ok or counts.get("dead"):
            errors = phase_timing(warm_prefix)["last_errors"]
            raise RuntimeError(f"warm-up failed (finished in time: {ok}): {dict(counts)}; last errors: {errors}")

        quiet = wait_for_no_other_benchmarks(args.quiet_wait)
        result["quiet_check"] = quiet
        result["machine_busy_pct_idle_stack"] = busy_pct(2.0)
        base_stats = requests.get(f"{sim}/_sim/stats", timeout=10).json()
        base_calls = sim_calls(base_stats)
        base_log_id = max_call_log_id()
        base_limiter = limiter_snapshot(redis_client)
        print(
            f"  measuring: {len(measured_orders)} orders ({new_customers} from first-time customers),"
            f" {SENDERS} sender threads; machine {result['machine_busy_pct_idle_stack']}% busy before ...",
            flush=True,
        )
        sampler = Sampler(sim)
        cpu_before = cpu_by_component(stack)
        ticks_before, steal_before = cpu_ticks(), common.steal_ticks()
        wall_start = time.monotonic()
        sampler.start()
        try:
            result["send"] = send_orders(web, measured_orders, measure_prefix, args.send_rate)
            counts, finished = wait_done(measure_prefix, len(measured_orders), MEASURE_TIMEOUT_S, stack, "measured")
        finally:
            wall = time.monotonic() - wall_start
            ticks_after, steal_after = cpu_ticks(), common.steal_ticks()
            cpu_after = cpu_by_component(stack)
            sampler.stop()
        result["worker_memory"] = {
            name: common.tree_memory(m.pid) for name, m in stack.processes.items() if name.startswith("worker_orders")
        }
        result["finished_in_time"] = finished
        result["events"] = dict(counts)
        end_stats = requests.get(f"{sim}/_sim/stats", timeout=10).json()
        end_limiter = limiter_snapshot(redis_client)
        sales_orders = requests.get(f"{sim}/_sim/records/salesOrder", timeout=60).json()
        stack.check_alive()
    finally:
        stack.stop_all()
    result["logs"] = scan_logs(stack.run_dir, ["web", *[f"worker_orders-{i}" for i in range(1, args.workers + 1)]])

    # --- figures
    calls = sim_calls(end_stats) - base_calls
    phase_calls = sum(calls.values())
    log = call_log_figures(base_log_id)
    window = log["window_s"]
    achieved = phase_calls / window if window else 0.0
    ceiling = BUDGET / (LATENCY_MS / 1000)
    sim_p50 = end_stats.get("latency_ms_p50")
    measured_ceiling_sim = BUDGET / (sim_p50 / 1000) if sim_p50 else None
    measured_ceiling_client = BUDGET / (log["mean_duration_ms"] / 1000) if log["mean_duration_ms"] else None
    phase_eids = {f"shopify-order-{o['id']}" for o in measured_orders}
    landed = Counter(r.get("externalId") for r in sales_orders if r.get("externalId") in phase_eids)
    samples = sampler.samples
    base_sample_calls = sum(base_calls.values())
    inside = busy_window(samples, base_sample_calls)
    rej_total = (end_stats.get("rejections") or {}).get("concurrency", 0)
    rej_phase = rej_total - (base_stats.get("rejections") or {}).get("concurrency", 0)
    left = SIM_CAP - held
    budgets = [s["budget"] for s in samples]
    last_quarter = budgets[int(len(budgets) * 0.75) :] if budgets else []
    cpu = cpu_delta(cpu_before, cpu_after)
    busy_s = (ticks_after[0] - ticks_before[0]) / CLK_TCK
    capacity_s = (ticks_after[1] - ticks_before[1]) / CLK_TCK
    orders = len(measured_orders)
    cpu["other (rest of the machine)"] = round(max(0.0, busy_s - sum(cpu.values())), 2)
    worker_cpu = cpu["worker pool children"] + cpu["worker parents"]
    result.update(
        {
            "orders": orders,
            "calls_by_operation": dict(calls),
            "calls": phase_calls,
            "call_log": log,
            "window_s": window,
            "achieved_calls_per_s": round(achieved, 1),
            "steady_calls_per_s_10_90": steady_rate(samples, base_sample_calls),
            "rates_split": split_rates(samples, base_sample_calls, result["send"]["send_s"]),
            "phases": phase_samples(samples, base_sample_calls, result["send"]["send_s"]),
            "ceiling_calls_per_s": round(ceiling, 1),
            "ceiling_from_sim_p50": round(measured_ceiling_sim, 1) if measured_ceiling_sim else None,
            "ceiling_from_client_mean": round(measured_ceiling_client, 1) if measured_ceiling_client else None,
            "sim_latency_ms_p50": sim_p50,
            "sim_latency_ms_p99": end_stats.get("latency_ms_p99"),
            "ratio": round(achieved / ceiling, 3),
            "peak_concurrency_run": end_stats.get("peak_concurrency"),
            "peak_total_run": end_stats.get("peak_total"),
            "peak_in_flight_sampled": max((s["sim_in_flight"] for s in samples), default=None),
            "peak_in_use_sampled": max((s["in_use"] for s in samples), default=None),
            "mean_in_use_in_window": (round(sum(s["in_use"] for s in inside) / len(inside), 2) if inside else None),
            "share_samples_budget_full": (
                round(sum(1 for s in inside if s["in_use"] >= s["budget"]) / len(inside), 3) if inside else None
            ),
            "share_samples_callers_waiting": (
                round(sum(1 for s in inside if s["live_waiting"] > 0) / len(inside), 3) if inside else None
            ),
            "mean_machine_busy_pct_in_window": (
                round(sum(s["machine_busy_pct"] for s in inside) / len(inside), 1) if inside else None
            ),
            "share_samples_machine_over_90pct": (
                round(sum(1 for s in inside if s["machine_busy_pct"] >= 90) / len(inside), 3) if inside else None
            ),
            "rejections_429_phase": rej_phase,
            "rejections_429_run": rej_total,
            "calls_per_order": round(phase_calls / orders, 3) if orders else None,
            "orders_landed": len(landed),
            "duplicate_sales_orders": sum(n - 1 for n in landed.values() if n > 1),
            "events_dead": counts.get("dead", 0),
            "timing": phase_timing(measure_prefix),
            "budget_start": base_limiter["budget"],
            "budget_min": min(budgets, default=None),
            "budget_final": end_limiter["budget"],
            "share_samples_budget_le_left": (
                round(sum(1 for b in budgets if b <= left) / len(budgets), 3) if budgets else None
            ),
            "budget_settled_le_left": bool(last_quarter)
            and max(last_quarter) <= left
            and end_limiter["budget"] <= left,
            "budget_changes": sum(1 for a, b in zip(budgets, budgets[1:], strict=False) if a != b),
            "cpu_s": cpu,
            "cpu_ms_per_order": {k: round(v * 1000 / orders, 1) for k, v in cpu.items()} if orders else {},
            "worker_cpu_ms_per_order": round(worker_cpu * 1000 / orders, 1) if orders else None,
            "machine_busy_pct_phase": round(100 * busy_s / capacity_s, 1) if capacity_s else None,
            "host_steal_pct_phase": (
                round(100 * (steal_after - steal_before) / CLK_TCK / capacity_s, 1) if capacity_s else None
            ),
            "wall_s": round(wall, 2),
            "samples": samples,
            "sampler_errors": sampler.errors,
            "other_processes_during_phase": sampler.intruders,
        }
    )
    result["failed_orders"] = (orders - len(landed)) + result["events_dead"]
    other_pct = 100 * cpu["other (rest of the machine)"] / capacity_s if capacity_s else 0.0
    result["other_cpu_pct_of_machine"] = round(other_pct, 1)
    result["disturbed"] = bool(sampler.intruders) or other_pct > DISTURBED_PCT
    e2e = result["timing"]["received_to_processed_s"]
    result["orders_per_s_end_to_end"] = round(orders / e2e, 1) if e2e else None
    return result


# --- report -----------------------------------------------------------------------------------------------


def verdicts(r: dict) -> list[tuple[str, bool, str]]:
    if r["held_slots"] == 0:
        return [
            (f"ratio >= {TARGET_RATIO}", r["ratio"] >= TARGET_RATIO, f"{r['ratio']:.3f}"),
            (
                f"peak concurrency <= {TARGET_PEAK}",
                (r["peak_concurrency_run"] or 0) <= TARGET_PEAK,
                f"{r['peak_concurrency_run']} (simulator, whole run)",
            ),
            (
                "zero 429s from our own traffic",
                r["rejections_429_run"] == 0 and r["call_log"]["http_429_rows"] == 0,
                f"{r['rejections_429_run']} answered by the simulator, {r['call_log']['http_429_rows']} in the log",
            ),
            (
                f"calls per order <= {TARGET_CALLS_PER_ORDER}",
                (r["calls_per_order"] or 99) <= TARGET_CALLS_PER_ORDER,
                f"{r['calls_per_order']}",
            ),
            (
                "every order landed once, none dead",
                r["failed_orders"] == 0 and r["duplicate_sales_orders"] == 0,
                f"{r['orders_landed']}/{r['orders']} landed, {r['events_dead']} dead",
            ),
        ]
    left = r["slots_left"]
    return [
        (
            "zero failed orders",
            r["failed_orders"] == 0 and r["duplicate_sales_orders"] == 0,
            f"{r['orders_landed']}/{r['orders']} landed, {r['events_dead']} dead, "
            f"{r['duplicate_sales_orders']} duplicates",
        ),
        (
            f"adaptive budget settles <= {left} slots left",
            r["budget_settled_le_left"],
            f"final {r['budget_final']}, min {r['budget_min']}, {r['share_samples_budget_le_left']:.0%} of samples"
            f" <= {left}"
            + (
                f" (slots left >= the configured budget of {BUDGET}: the simulator cannot refuse us, nothing to adapt)"
                if left >= BUDGET
                else ""
            ),
        ),
    ]


def table(r: dict, args: argparse.Namespace) -> str:
    log = r["call_log"]
    rows = [
        ("held slots (other integration) / slots left", f"{r['held_slots']} / {r['slots_left']} of {SIM_CAP}"),
        ("orders measured (first-time customers)", f"{r['orders']} ({r['new_customers']})"),
        ("intake: sent in / rate", f"{r['send']['send_s']} s / {r['send']['intake_per_s']} orders/s"),
        (
            "  intake answer p50 / p99 / max (16 senders)",
            " / ".join(f"{r['send']['latency_ms'][k]} ms" for k in ("p50", "p99", "max")),
        ),
        ("NetSuite calls (simulator, served)", r["calls"]),
        ("  by operation", ", ".join(f"{k} {v}" for k, v in sorted(r["calls_by_operation"].items()))),
        ("  call-log rows (attempts) cross-check", log["rows"]),
        ("window, first call start -> last call end", f"{r['window_s']} s"),
        ("achieved NetSuite calls/s", r["achieved_calls_per_s"]),
        ("  steady rate (10%..90% of the calls)", r["steady_calls_per_s_10_90"]),
        (
            "  while the intake was sending / after",
            f"{r['rates_split']['while_sending']} / {r['rates_split']['after_sending_to_90pct']} (until 90% of calls)",
        ),
        *[
            (
                f"  {name.replace('_', ' ').replace('pct', '%')}",
                f"machine {ph['machine_busy_pct']}% busy, limiter {ph['mean_in_use']} held (sim"
                f" {ph['mean_sim_in_flight']} in flight), callers waiting {_pct(ph['share_callers_waiting'])},"
                f" slot free while a caller waits {_pct(ph['share_free_slot_while_waiting'])} of samples",
            )
            for name, ph in r["phases"].items()
        ],
        ("ceiling = budget / mean latency", f"{BUDGET} / {LATENCY_MS / 1000:.3f} s = {r['ceiling_calls_per_s']}"),
        (
            "  ceiling with measured latency",
            f"sim p50 {r['sim_latency_ms_p50']} ms -> {r['ceiling_from_sim_p50']}; client mean"
            f" {log['mean_duration_ms']} ms -> {r['ceiling_from_client_mean']}",
        ),
        ("ratio achieved / ceiling", r["ratio"]),
        (
            "peak concurrency (sim: ours / with held)",
            f"{r['peak_concurrency_run']} / {r['peak_total_run']} (whole run); sampled in phase:"
            f" sim {r['peak_in_flight_sampled']}, limiter {r['peak_in_use_sampled']}",
        ),
        (
            "limiter: mean in use / budget full / callers waiting",
            f"{r['mean_in_use_in_window']} / {_pct(r['share_samples_budget_full'])} /"
            f" {_pct(r['share_samples_callers_waiting'])} of samples",
        ),
        (
            "429s received (sim phase / run / call log)",
            f"{r['rejections_429_phase']} / {r['rejections_429_run']} / {log['http_429_rows']}",
        ),
        ("NetSuite calls per order", r["calls_per_order"]),
        ("orders landed in NetSuite / duplicates", f"{r['orders_landed']} / {r['duplicate_sales_orders']}"),
        (
            "events done / dead / max attempts",
            f"{r['events'].get('done', 0)} / {r['events_dead']} / {r['timing']['max_attempts']}",
        ),
        (
            "end to end (first received -> last processed)",
            f"{r['timing']['received_to_processed_s']} s, {r['orders_per_s_end_to_end']} orders/s",
        ),
        (
            "budget: start / min / final / samples <= left",
            f"{r['budget_start']} / {r['budget_min']} / {r['budget_final']} /"
            f" {_pct(r['share_samples_budget_le_left'])} ({r['budget_changes']} changes)",
        ),
        (
            "machine busy (phase / in window / samples >= 90%)",
            f"{r['machine_busy_pct_phase']}% / {r['mean_machine_busy_pct_in_window']}% /"
            f" {_pct(r['share_samples_machine_over_90pct'])}",
        ),
        ("  of which the hypervisor's steal (phase)", f"{r.get('host_steal_pct_phase')}%"),
        ("CPU ms per order", ", ".join(f"{k} {v}" for k, v in r["cpu_ms_per_order"].items())),
        ("  worker_orders in all (parents + children)", r["worker_cpu_ms_per_order"]),
        (
            "worker_orders memory at the end (MiB)",
            "; ".join(
                f"{name}: {m.get('processes')} processes, {m.get('threads')} threads, PSS {m.get('pss_mib')},"
                f" USS {m.get('uss_mib')}, RSS summed {m.get('rss_mib')}"
                for name, m in r["worker_memory"].items()
            ),
        ),
        ("worker/web log warnings+errors", r["logs"]["problems"]),
    ]
    width = max(len(k) for k, _ in rows)
    pools = ", ".join(f"{p['pool']} x {p['concurrency']}" for n, p in sorted(r["worker_pools"].items()))
    shipped = "Procfile defaults" if args.concurrency is None and args.pool is None else "overridden"
    title = (
        f"held_slots={r['held_slots']}: {args.workers} worker_orders ({shipped}: {pools}), budget {BUDGET},"
        f" simulator cap {SIM_CAP}, {LATENCY_MS} +/- {JITTER_MS} ms uniform"
        + (f"; webhooks paced at {args.send_rate:g}/s" if args.send_rate else "")
    )
    lines = [title, "-" * len(title)]
    lines += [f"{k.ljust(width)}  {v}" for k, v in rows]
    if r["disturbed"]:
        lines.append(
            f"WARNING: disturbed: other processes used {r['other_cpu_pct_of_machine']}% of the machine during the"
            f" phase; other benchmarks/tests seen: {len(r['other_processes_during_phase'])}"
            + "".join(f"\n    at {t}s: {c}" for c, t in list(r["other_processes_during_phase"].items())[:3])
        )
    lines.append("")
    for name, ok, detail in verdicts(r):
        lines.append(f"{'PASS' if ok else 'MISS'}  {name}: {detail}")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.netsuite_throughput.run", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders in the measured phase")
    parser.add_argument("--warmup", type=int, default=300, help="orders in the warm-up phase")
    parser.add_argument("--workers", type=int, default=1, help="worker_orders processes (the Procfile runs one)")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="WORKER_CONCURRENCY of each (default: the Procfile's own)"
    )
    parser.add_argument(
        "--pool", choices=("prefork", "threads"), default=None, help="WORKER_POOL (default: the Procfile's own)"
    )
    parser.add_argument("--held-slots", default="0,3", help="comma-separated: one run per value")
    parser.add_argument("--seed", type=int, default=SIM_SEED)
    parser.add_argument(
        "--quiet-wait", type=float, default=common.QUIET_MAX_WAIT_S, help="s to wait for other benches/tests to end"
    )
    parser.add_argument("--log-level", help="LOG_LEVEL of web and workers (default: unset, the shipped INFO)")
    parser.add_argument(
        "--send-rate",
        type=float,
        help="measured webhooks a second (default: as fast as the intake takes them, the recorded figure)",
    )
    parser.add_argument(
        "--driver-nice",
        type=int,
        default=DRIVER_NICE,
        help=f"CPU nice of the bench's own session, its senders and sampler (default {DRIVER_NICE}, an equal share"
        " with each of the service's process groups; 19: the service's processes come first)",
    )
    args = parser.parse_args(argv)
    held_values = [int(v) for v in args.held_slots.split(",") if v.strip()]
    if not 1 <= args.orders <= 10_000:
        parser.error("--orders: between 1 and 10000")
    if not 0 <= args.warmup <= 5_000:
        parser.error("--warmup: between 0 and 5000")
    if not 1 <= args.workers <= 8 or not 1 <= (args.concurrency or 1) <= 64:
        parser.error("--workers 1..8, --concurrency 1..64")
    if not held_values or any(not 0 <= h < SIM_CAP for h in held_values):
        parser.error(f"--held-slots: values between 0 and {SIM_CAP - 1}")

    signal.signal(signal.SIGTERM, common.raise_exit)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = RESULTS_DIR / f"netsuite-throughput-{stamp}"
    run_dir.mkdir(parents=True, exist_ok=True)
    base_env = {**environ_copy(), **BENCH_ENV}
    base_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base_env.get('PATH', '')}"
    base_env.pop("LOG_LEVEL", None)
    if args.log_level:
        base_env["LOG_LEVEL"] = args.log_level.upper()

    quiet = wait_for_no_other_benchmarks(args.quiet_wait)
    previous_nice = common.yield_cpu_to_service(args.driver_nice)
    try:
        command = " ".join(sys.argv[1:] if argv is None else argv)
        return _measure(args, held_values, base_env, run_dir, stamp, quiet, previous_nice, command)
    finally:
        common.restore_cpu_priority(previous_nice)


def _measure(
    args: argparse.Namespace,
    held_values: list[int],
    base_env: dict[str, str],
    run_dir: Path,
    stamp: str,
    quiet: dict,
    previous_nice: int | None,
    command: str,
) -> int:
    print(rebuild_database(base_env), flush=True)
    info = machine_info()
    print(
        f"bench/netsuite_throughput on {info['nproc']} x {info['cpu_model']}, {info['date_utc']};"
        f" PostgreSQL {info['postgresql']}, Redis {info['redis']}, Python {info['python']};"
        f" load {' '.join(info['loadavg_before'])}; speed probes {info['speed_probes_ms']} ms (common.speed_probes)",
        flush=True,
    )
    print(
        f"LOG_LEVEL={base_env.get('LOG_LEVEL', 'unset (INFO, as shipped)')} in web and workers;"
        f" {args.workers} x worker_orders,"
        f" WORKER_CONCURRENCY {args.concurrency or 'unset'}, WORKER_POOL {args.pool or 'unset'};"
        f" customers: pool of {CUSTOMER_POOL} (the warm-up sends one order per pool customer first),"
        f" ~{NEW_CUSTOMER_SHARE:.0%} first-time customers in the measured phase; {len(CATALOG)} SKUs cached by"
        " `shopsync items refresh`",
        flush=True,
    )
    print(
        f"bench driver (senders, sampler): session nice {args.driver_nice}"
        + (
            " (not applied: no autogroups on this kernel, or not permitted)"
            if previous_nice is None
            else f" (was {previous_nice})"
        ),
        flush=True,
    )
    runs = []
    for n, held in enumerate(held_values):
        print(f"\nrun {n + 1}/{len(held_values)}: held_slots={held}", flush=True)
        runs.append(one_run(args, held, base_env, run_dir, n))
    redis.Redis.from_url(REDIS_URL).flushdb()

    tables = [table(r, args) for r in runs]
    for t in tables:
        print()
        print(t)
    for r in runs:
        if r["logs"]["top"]:
            print(f"\nheld_slots={r['held_slots']}: log warnings/errors ({r['logs']['problems']}):")
            for message, count in r["logs"]["top"]:
                print(f"  {count:>6} x {message}")
        if r["timing"]["last_errors"]:
            print(f"held_slots={r['held_slots']}: last_error on events: {r['timing']['last_errors']}")

    out = RESULTS_DIR / f"netsuite-throughput-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "command": f"python -m bench.netsuite_throughput.run {command}",
                "machine": info,
                "quiet_check": quiet,
                "args": vars(args),
                "runs": runs,
                "tables": tables,
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nraw results: {out.relative_to(ROOT)} (process logs in {run_dir.relative_to(ROOT)}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
