"""Where a worker's CPU goes for one order: `app.services.events.process_event` run in this process, in order,
against the NetSuite simulator without latency (waiting costs no CPU), first timed, then under cProfile. It
prints figures; it is not a test.

    .venv/bin/python -m bench.netsuite_throughput.profile_order [--orders 400]

Same data and isolation as bench.netsuite_throughput.run (database shopsync_bench_ns, Redis db 13, both emptied
first): a warm-up of one order per pool customer, then the profiled orders (98% returning customers). Celery is
not involved: the gap between this figure and the workers' CPU per order in run.py is Celery's own cost
(consuming, prefork hand-off, acks, task events) and the task wrapper's.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import requests

from app.config import environ_copy
from bench.netsuite_throughput.run import (
    BENCH_DSN,
    BENCH_ENV,
    CATALOG,
    RESULTS_DIR,
    SHOP,
    SIM_CAP,
    generate,
    rebuild_database,
    reset_state,
    shopsync,
    wait_for_no_other_benchmarks,
)
from devtools.demo import service_items
from devtools.devstack import Stack, free_port, wait_for_http

OWN_PACKAGES = ("app", "netsuite_client", "shopify_client", "schemas", "tasks")


def insert_events(orders: list[dict], prefix: str) -> list[int]:
    rows = [
        (f"{prefix}{uuid.uuid4()}", "orders/create", SHOP, "2026-04", json.dumps(o).encode(), o["id"], "received", 0)
        for o in orders
    ]
    ids = []
    with psycopg.connect(BENCH_DSN, autocommit=True, connect_timeout=5) as conn:
        for row in rows:
            ids.append(
                conn.execute(
                    "INSERT INTO webhook_events (webhook_id, topic, shop, api_version, raw_body, resource_id, status,"
                    " attempts) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    row,
                ).fetchone()[0]
            )
    return ids


def _callgrind_instrumentation(state: str) -> None:
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True)


def package_of(filename: str) -> str:
    """A profile entry's owner: a site-packages distribution, one of ours, the stdlib module, or a builtin."""
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C: sockets, hashing, json, ...)"
    parts = Path(filename).parts
    if "site-packages" in parts:
        i = parts.index("site-packages")
        return parts[i + 1].removesuffix(".py") if i + 1 < len(parts) else "site-packages"
    for own in OWN_PACKAGES:
        if f"/{own}/" in filename:
            return f"{own} (ours)"
    return f"stdlib {Path(filename).stem}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.netsuite_throughput.profile_order")
    parser.add_argument("--orders", type=int, default=400, help="orders timed, then as many profiled")
    parser.add_argument("--top", type=int, default=18)
    parser.add_argument("--save", type=Path, help="write the raw cProfile stats here (for pstats / snakeviz)")
    parser.add_argument("--quiet-wait", type=float, default=600, help="s to wait for other benches/tests to end")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="running under valgrind --tool=callgrind --instr-atstart=no (bench.netsuite_throughput.instructions):"
        " instrument the timed orders only, skip the cProfile pass",
    )
    args = parser.parse_args(argv)
    if not 10 <= args.orders <= 2000:
        parser.error("--orders: between 10 and 2000")

    wait_for_no_other_benchmarks(args.quiet_wait)
    sim_port = free_port()
    sim = f"http://127.0.0.1:{sim_port}"
    env = {**environ_copy(), **BENCH_ENV, "NETSUITE_BASE_URL": f"{sim}/services/rest"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # This process runs the service code: its settings come from the environment, read on first use.
    os.environ.update({k: v for k, v in env.items() if k in BENCH_ENV or k == "NETSUITE_BASE_URL"})
    run_dir = RESULTS_DIR / "netsuite-throughput-profile"
    stack = Stack(env=env, run_dir=run_dir)
    try:
        print(rebuild_database(env))
        reset_state()
        stack.start(
            "netsuite", f"exec shopsync-dev simulate netsuite --quiet --port {sim_port} --concurrency-limit {SIM_CAP}"
        )
        wait_for_http(f"{sim}/_sim/stats", timeout=30)
        requests.post(
            f"{sim}/_sim/items",
            json=[{"itemid": s, "displayname": t} for s, t, _ in CATALOG] + service_items(),  # docs/MAPPING.md
            timeout=10,
        ).raise_for_status()
        print(shopsync(env, "items", "refresh"))

        from app.services.events import process_event  # after os.environ is set

        warm, measured, new_customers = generate(random.Random(7), 300, 2 * args.orders, 9)
        for event_id in insert_events(warm, "profile-warm-"):
            process_event(event_id)
        timed_ids = insert_events(measured[: args.orders], "profile-timed-")
        profiled_ids = insert_events(measured[args.orders :], "profile-prof-")

        if args.callgrind:
            for event_id in profiled_ids[:20]:  # the first orders of a process warm its caches
                process_event(event_id)
            _callgrind_instrumentation("on")
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for event_id in timed_ids:
            process_event(event_id)
        cpu_ms = (time.process_time() - cpu0) * 1000 / len(timed_ids)
        wall_ms = (time.perf_counter() - wall0) * 1000 / len(timed_ids)
        if args.callgrind:
            _callgrind_instrumentation("off")
            print(f"instrumented orders: {len(timed_ids)}")
            return 0

        profile = cProfile.Profile(time.process_time)  # CPU, not wall: waiting on PostgreSQL or NetSuite is not cost
        profile.enable()
        for event_id in profiled_ids:
            process_event(event_id)
        profile.disable()
        stats = requests.get(f"{sim}/_sim/stats", timeout=10).json()
    finally:
        stack.stop_all()
        reset_state()

    ps = pstats.Stats(profile)
    if args.save:
        ps.dump_stats(args.save)
    total = sum(v[2] for v in ps.stats.values())  # tottime
    by_package: Counter[str] = Counter()
    for (filename, _line, _func), (_cc, _nc, tottime, _ct, _callers) in ps.stats.items():
        by_package[package_of(filename)] += tottime
    print(
        f"\nprocess_event, {len(timed_ids)} orders in order, no NetSuite latency:"
        f" {cpu_ms:.1f} ms CPU per order in this process ({wall_ms:.1f} ms wall)."
        f" Simulator calls so far: {stats.get('calls_by_operation')}"
    )
    print(f"\nunder cProfile ({len(profiled_ids)} orders), self time by package (share of the profiled CPU):")
    for package, seconds in by_package.most_common(args.top):
        print(f"  {100 * seconds / total:5.1f}%  {package}")

    print("\nour functions by cumulative time (share of the profiled total, per order):")
    rows = []
    for (filename, line, func), (_cc, nc, _tt, cumtime, _callers) in ps.stats.items():
        if any(f"/{own}/" in filename for own in OWN_PACKAGES):
            rows.append((cumtime, func, f"{'/'.join(Path(filename).parts[-2:])}:{line}", nc))
    for cumtime, func, where, nc in sorted(rows, reverse=True)[: args.top]:
        print(f"  {100 * cumtime / total:5.1f}%  {nc / len(profiled_ids):5.2f} calls/order  {func}  ({where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
