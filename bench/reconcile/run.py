"""bench/reconcile: the nightly inventory reconciliation at 100,000 SKUs x 3 locations with 1% seeded drift.

Prints wall time, peak RSS of the reconciliation process, API calls and Shopify cost points, and the drift left
after the run. Not a test. Both simulators run as their own processes; the reconciliation runs as
`shopsync reconcile --json` in a process of its own so its memory is measured alone.

    .venv/bin/python -m bench.reconcile.run [--skus 100000] [--drift 0.01]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import redis
import requests

from devtools.devstack import ROOT, Stack, free_port, wait_for_http

DB = "shopsync_bench_reconcile"
REDIS_DB = 12
SHOPIFY_LOCATIONS = [71001, 71002, 71003]
NETSUITE_LOCATIONS = [1, 2, 3]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--drift", type=float, default=0.01, help="share of (SKU, location) levels that differ")
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()

    run_dir = ROOT / "bench" / "results" / f"reconcile-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    ns_port, sh_port = free_port(), free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "DATABASE_URL": f"postgresql://root@127.0.0.1:5432/{DB}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "SHOPIFY_SHOP": "bench-store.myshopify.com",
        "SHOPIFY_WEBHOOK_SECRETS": "bench-secret",
        "SHOPIFY_ADMIN_TOKEN": "shpat_bench",
        "SHOPIFY_ADMIN_URL": f"http://127.0.0.1:{sh_port}/admin/api/2026-04/graphql.json",
        "NETSUITE_ACCOUNT_ID": "1234567_SB1",
        "NETSUITE_CONSUMER_KEY": "sim-consumer-key",
        "NETSUITE_CONSUMER_SECRET": "sim-consumer-secret",
        "NETSUITE_TOKEN_ID": "sim-token-id",
        "NETSUITE_TOKEN_SECRET": "sim-token-secret",
        "NETSUITE_BASE_URL": f"http://127.0.0.1:{ns_port}/services/rest",
        "OPS_TOKEN": "bench",
        "LOCATION_MAP": ",".join(f"{s}={n}" for s, n in zip(SHOPIFY_LOCATIONS, NETSUITE_LOCATIONS, strict=True)),
        "LOG_LEVEL": "WARNING",
    }
    with psycopg.connect("postgresql://root@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    subprocess.run(["shopsync", "db", "upgrade"], env=env, check=True, capture_output=True)
    redis.Redis(db=REDIS_DB).flushdb()

    stack = Stack(env=env, run_dir=run_dir)
    ns, sh = f"http://127.0.0.1:{ns_port}", f"http://127.0.0.1:{sh_port}"
    try:
        stack.start("netsuite", f"exec shopsync-dev simulate netsuite --quiet --port {ns_port}")
        stack.start(
            "shopify", f"exec shopsync-dev simulate shopify --quiet --port {sh_port} --access-token shpat_bench"
        )
        wait_for_http(f"{ns}/_sim/stats")
        wait_for_http(f"{sh}/_sim/stats")
        print(
            f"seeding {args.skus:,} SKUs x {len(SHOPIFY_LOCATIONS)} locations, {args.drift:.1%} drift ...", flush=True
        )
        rng = random.Random(args.seed)
        pairs = [(n, loc) for n in range(1, args.skus + 1) for loc in range(3)]
        drifted = rng.sample(pairs, int(len(pairs) * args.drift))
        requests.post(f"{ns}/_sim/reset", json={"items": True}, timeout=30).raise_for_status()
        requests.post(
            f"{ns}/_sim/inventory/seed",
            json={
                "items": args.skus,
                "location_ids": NETSUITE_LOCATIONS,
                "available": 10,
                "sku_prefix": "SKU-",
                "sku_width": 6,
            },
            timeout=300,
        ).raise_for_status()
        requests.post(
            f"{sh}/_sim/inventory/seed",
            json={
                "items": args.skus,
                "locations": 3,
                "location_ids": SHOPIFY_LOCATIONS,
                "available": 10,
                "sku_prefix": "SKU-",
                "sku_width": 6,
            },
            timeout=300,
        ).raise_for_status()
        levels = [
            {"sku": f"SKU-{n:06d}", "location_id": SHOPIFY_LOCATIONS[loc], "available": rng.choice([0, 3, 14, 25])}
            for n, loc in drifted
        ]
        for start in range(0, len(levels), 5000):
            requests.post(
                f"{sh}/_sim/inventory/levels", json=levels[start : start + 5000], timeout=120
            ).raise_for_status()
        ns_before = requests.get(f"{ns}/_sim/stats", timeout=30).json()
        sh_before = requests.get(f"{sh}/_sim/stats", timeout=30).json()

        print("reconciling (shopsync reconcile --json) ...", flush=True)
        started = time.monotonic()
        proc = subprocess.Popen(
            ["shopsync", "reconcile", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        watched = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        out, err = proc.communicate()
        wall = time.monotonic() - started
        if proc.returncode != 0:
            print(err[-3000:])
            return 1
        report = json.loads(out)
        ns_after = requests.get(f"{ns}/_sim/stats", timeout=30).json()
        sh_after = requests.get(f"{sh}/_sim/stats", timeout=30).json()

        check = subprocess.run(
            ["shopsync", "reconcile", "--dry-run", "--json"], env=env, capture_output=True, text=True, check=True
        )
        after = json.loads(check.stdout)
        left = sum(1 for d in after["diffs"] if d["action"] == "corrected")

        ns_calls = sum(ns_after["calls_by_operation"].values()) - sum(ns_before["calls_by_operation"].values())
        sh_requests = sh_after["requests_total"] - sh_before["requests_total"]
        points = sh_after["points_spent"] - sh_before["points_spent"]
        rows = args.skus * len(NETSUITE_LOCATIONS)
        min_ns = -(-rows // 1000)
        corrections = report["corrections_applied"]
        lines = [
            ("SKUs x locations", f"{args.skus:,} x {len(SHOPIFY_LOCATIONS)} = {rows:,} levels"),
            ("seeded drift", f"{len(drifted):,} levels ({args.drift:.1%})"),
            ("wall time", f"{wall:.1f} s"),
            ("peak RSS of the reconciliation process", f"{peak / 2**20:.0f} MiB"),
            ("diffs found / corrected", f"{report['diffs_found']:,} / {corrections:,}"),
            ("NetSuite calls (SuiteQL pages)", f"{ns_calls} (minimum for {rows:,} rows at 1,000 a page: {min_ns})"),
            ("Shopify requests / cost points", f"{sh_requests} / {points:,.0f}"),
            ("Shopify mutations", json.dumps(sh_after.get("mutations_by_name", {}))),
            ("drift outside tolerance after the run", f"{left} (dry-run re-check: {after['diffs_found']} diffs)"),
        ]
        width = max(len(k) for k, _ in lines)
        print("\n".join(f"  {k.ljust(width)}  {v}" for k, v in lines))
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir.parent / f"{run_dir.name}.json").write_text(
            json.dumps(
                {
                    "args": vars(args),
                    "wall_s": wall,
                    "peak_rss": peak,
                    "report": report,
                    "netsuite_calls": ns_calls,
                    "shopify_requests": sh_requests,
                    "points": points,
                    "left_after": left,
                },
                default=str,
                indent=1,
            )
        )
        return 0
    finally:
        stack.stop_all()


if __name__ == "__main__":
    sys.exit(main())
