"""bench/payouts: a month of a store's Shopify Payments payouts reconciled into NetSuite bank deposits.

    .venv/bin/python -m bench.payouts [--days 30] [--orders-per-day 2000] [--latency-ms 150] [--jitter-ms 50]
        [--shopify-latency-ms 100] [--seed N]

Both simulators run as their own processes (`shopsync-dev simulate netsuite|shopify`): NetSuite with the
throughput benchmark's setting (account cap 15, 150 +/- 50 ms uniform latency a call), Shopify answering each
GraphQL request after 100 ms with its default cost bucket (1,000 points, 100 a second). bench/payouts/seed.py puts
`days` x `orders-per-day` orders and their payments in Shopify (one payout a day) and the receipts the payments
flow writes in NetSuite. Then the payout job runs as `shopsync payouts sync --json` in a process of its own (what
beat's `payouts-sync` task calls, same function, same settings), with the shipped defaults but the accounts it
must be given (PAYOUT_BANK_ACCOUNTS and the PAYOUT_*_ACCOUNT_ID, PAYMENT_MODEL=deposit): timed, its peak RSS
taken. Then every deposit is read back from NetSuite and compared with its payout's net, and the job runs a second
time, which must write nothing.

Printed: seeding and job wall times, payouts posted, NetSuite calls per payout (simulator and netsuite_call_log),
Shopify requests and cost points per payout, variance per payout, the re-run's NetSuite writes, peak NetSuite
concurrency against the budget; then PASS/MISS lines. Isolation: its own database (dropped and migrated again)
and Redis db (flushed). Results: bench/results/payouts-<stamp>.json, process logs in bench/results/payouts-<stamp>/.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
import requests

from app.config import environ_copy
from bench import common
from bench.payouts.seed import Seeded, month, seed_netsuite, seed_shopify
from devtools.devstack import ROOT, Stack, free_port, wait_for_http

RESULTS_DIR = ROOT / "bench" / "results"
BUDGET = 12  # NETSUITE_CONCURRENCY's shipped default (not set here)
SIM_CAP = 15
WRITE_METHODS = ("PUT ", "PATCH ", "DELETE ")
ROLE_ACCOUNTS = {"FEES": 601, "DISPUTES": 602, "RESERVES": 603, "ADJUSTMENTS": 604, "SUSPENSE": 699, "VARIANCE": 698}
# What the job must be given (docs/CONFIGURATION.md "Payments and payouts"); every other setting is the shipped one.
ACCOUNTS = {
    "PAYMENT_MODEL": "deposit",
    "NETSUITE_DEFAULT_PAYMENT_METHOD_ID": "9",
    "PAYOUT_BANK_ACCOUNTS": "USD=101",
    **{f"PAYOUT_{role}_ACCOUNT_ID": str(account) for role, account in ROLE_ACCOUNTS.items()},
}
SUSPENSE, VARIANCE = ACCOUNTS["PAYOUT_SUSPENSE_ACCOUNT_ID"], ACCOUNTS["PAYOUT_VARIANCE_ACCOUNT_ID"]


@dataclass
class Options:
    days: int = 30
    orders_per_day: int = 2000
    latency_ms: int = 150
    jitter_ms: int = 50
    shopify_latency_ms: int = 100
    shopify_bucket: int = 1000  # the simulator's default: Shopify's Standard plan (Plus: 10,000 and 1,000/s)
    shopify_restore_rate: float = 100.0
    seed: int = 20261203
    db_name: str = "shopsync_bench_payouts"
    redis_db: int = 9
    job_timeout_s: float = 7200.0  # bounded: at Standard limits 30 payouts of 2,000 rows take ~65 min
    progress: bool = True


def _env(opts: Options, db: common.BenchDb, ns: str, sh: str) -> dict[str, str]:
    env = {
        **environ_copy(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": db.dsn,
        "REDIS_URL": db.redis_url,
        "SHOPIFY_SHOP": "bench-payouts.myshopify.com",
        "SHOPIFY_WEBHOOK_SECRETS": "bench-payouts-secret",
        "SHOPIFY_ADMIN_TOKEN": "shpat_bench_payouts",
        "SHOPIFY_API_VERSION": "2026-04",
        "SHOPIFY_ADMIN_URL": f"{sh}/admin/api/2026-04/graphql.json",
        "NETSUITE_ACCOUNT_ID": "1234567_SB1",
        # The simulator's development credentials (they exist only inside the simulator).
        "NETSUITE_CONSUMER_KEY": "sim-consumer-key",
        "NETSUITE_CONSUMER_SECRET": "sim-consumer-secret",
        "NETSUITE_TOKEN_ID": "sim-token-id",
        "NETSUITE_TOKEN_SECRET": "sim-token-secret",
        "NETSUITE_BASE_URL": f"{ns}/services/rest",
        "OPS_TOKEN": "bench-payouts",
        **ACCOUNTS,
    }
    for name in ("NETSUITE_CONCURRENCY", "PAYOUT_FEES", "PAYOUT_LAG_HOURS", "PAYOUT_TYPE_ACCOUNTS", "LOG_LEVEL"):
        env.pop(name, None)  # the shipped defaults
    return env


def run_job(env: dict[str, str], timeout: float) -> dict[str, Any]:
    """`shopsync payouts sync --json` in its own process: its report, wall time and peak RSS."""
    exe = ROOT / ".venv" / "bin" / "shopsync"
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(exe) if exe.exists() else "shopsync", "payouts", "sync", "--json"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    try:
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            if time.monotonic() - started > timeout:
                proc.kill()
                raise RuntimeError(f"the payout job ran over {timeout:.0f} s")
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.Error:
                break
            time.sleep(0.1)
    finally:
        if proc.poll() is None:  # interrupted (SIGTERM, timeout): the job goes with the benchmark
            proc.kill()
        out, err = proc.communicate()
    wall = time.monotonic() - started
    if proc.returncode != 0 or not out.strip().startswith("{"):
        raise RuntimeError(f"shopsync payouts sync exited {proc.returncode}:\n{out[-2000:]}\n{err[-3000:]}")
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(peak / 2**20, 1), "report": json.loads(out), "log": err}


def _stats(ns: str, sh: str) -> tuple[dict, dict]:
    return (requests.get(f"{ns}/_sim/stats", timeout=30).json(), requests.get(f"{sh}/_sim/stats", timeout=30).json())


def _delta(before: tuple[dict, dict], after: tuple[dict, dict]) -> dict[str, Any]:
    calls0, calls1 = common.sim_calls(before[0]), common.sim_calls(after[0])
    by_op = {k: calls1[k] - calls0.get(k, 0) for k in calls1 if calls1[k] - calls0.get(k, 0)}
    sh0, sh1 = before[1], after[1]
    return {
        "netsuite_calls": sum(by_op.values()),
        "netsuite_by_operation": by_op,
        "netsuite_writes": sum(n for op, n in by_op.items() if op.startswith(WRITE_METHODS) or _is_post_write(op)),
        "netsuite_429": sum((after[0].get("rejections") or {}).values())
        - sum((before[0].get("rejections") or {}).values()),
        "shopify_requests": sh1["requests_total"] - sh0["requests_total"],
        "shopify_points": sh1["points_spent"] - sh0["points_spent"],
        "shopify_points_requested": sh1["points_requested"] - sh0["points_requested"],
        "shopify_throttled": sh1["throttled"] - sh0["throttled"],
        "shopify_by_root_field": {
            k: v - (sh0["queries_by_root_field"] or {}).get(k, 0)
            for k, v in (sh1["queries_by_root_field"] or {}).items()
            if v - (sh0["queries_by_root_field"] or {}).get(k, 0)
        },
    }


def _is_post_write(operation: str) -> bool:
    return operation.startswith("POST ") and "suiteql" not in operation


def call_log(db: common.BenchDb, after_id: int) -> dict[str, Any]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT method || ' ' || coalesce(record_type, operation), coalesce(http_status, 0), count(*),"
            " round(avg(duration_ms)) FROM netsuite_call_log WHERE id > %s GROUP BY 1, 2 ORDER BY 1, 2",
            (after_id,),
        ).fetchall()
        last = conn.execute("SELECT coalesce(max(id), 0) FROM netsuite_call_log").fetchone()[0]
    return {
        "rows": sum(r[2] for r in rows),
        "by_kind": [f"{kind} {status}: {n} (mean {mean} ms)" for kind, status, n, mean in rows],
        "last_id": last,
    }


def read_back(ns: str, seeded: Seeded) -> list[dict[str, Any]]:
    """Every payout against the deposit NetSuite holds for it: NetSuite's own total, lines by kind."""
    deposits = {d.get("externalId"): d for d in requests.get(f"{ns}/_sim/records/deposit", timeout=120).json()}
    out = []
    for payout in seeded.payouts:
        found = deposits.get(f"shopify-payout-{payout['id']}")
        rows = [r for r in payout["balance_transactions"] if r["type"] != "TRANSFER"]
        lines = {name: (found or {}).get(name, {}).get("items", []) for name in ("payment", "other", "cashback")}
        accounts = [str((line.get("account") or {}).get("id")) for line in lines["other"] + lines["cashback"]]
        total = Decimal(str(found["total"])) if found and found.get("total") is not None else None
        out.append(
            {
                "payout_id": payout["id"],
                "issued_at": payout["issued_at"],
                "net": payout["net"],
                "rows": len(rows),
                "deposit_id": found.get("id") if found else None,
                "deposit_total": str(total) if total is not None else None,
                "variance": str(Decimal(payout["net"]) - total) if total is not None else None,
                "payment_lines": len(lines["payment"]),
                "payment_ids": [str((p.get("doc") or p).get("id")) for p in lines["payment"]],
                "other_lines": len(lines["other"]),
                "cashback_lines": len(lines["cashback"]),
                "variance_lines": accounts.count(VARIANCE),
                "suspense_lines": accounts.count(SUSPENSE),
            }
        )
    return out


def bench(opts: Options, run_dir: Path) -> dict[str, Any]:
    db = common.BenchDb(opts.db_name, opts.redis_db)
    ns_port, sh_port = free_port(), free_port()
    ns, sh = f"http://127.0.0.1:{ns_port}", f"http://127.0.0.1:{sh_port}"
    env = _env(opts, db, ns, sh)
    common.rebuild_database(db, env)
    tables = common.reset_state(db, ("payouts", "netsuite_call_log"))
    result: dict[str, Any] = {"options": asdict(opts), "code": common.code_state(db), "tables_truncated": len(tables)}
    stack = Stack(env=env, run_dir=run_dir)
    try:
        stack.start(
            "netsuite",
            f"exec shopsync-dev simulate netsuite --quiet --port {ns_port} --concurrency-limit {SIM_CAP}"
            f" --latency-ms {opts.latency_ms} --latency-jitter-ms {opts.jitter_ms}",
        )
        stack.start(
            "shopify",
            f"exec shopsync-dev simulate shopify --quiet --port {sh_port} --access-token shpat_bench_payouts"
            f" --latency-ms {opts.shopify_latency_ms} --bucket-size {opts.shopify_bucket}"
            f" --restore-rate {opts.shopify_restore_rate}",
        )
        wait_for_http(f"{ns}/_sim/stats")
        wait_for_http(f"{sh}/_sim/stats")
        config = {"latency_distribution": "uniform", "seed": opts.seed}  # as bench/netsuite_throughput sets it
        requests.post(f"{ns}/_sim/config", json=config, timeout=10).raise_for_status()
        days = month(opts.days)
        say = print if opts.progress else (lambda *_a, **_k: None)
        say(f"seeding {opts.days} days x {opts.orders_per_day:,} orders ({days[0]} .. {days[-1]}) ...", flush=True)
        started = time.monotonic()
        seeded = seed_shopify(sh, days, opts.orders_per_day, opts.seed, progress=opts.progress)
        seed_netsuite(ns, seeded)
        result["seed_wall_s"] = round(time.monotonic() - started, 2)
        result["seeded"] = seeded.as_dict()
        say(f"  seeded in {result['seed_wall_s']} s: {json.dumps(result['seeded'])}", flush=True)

        before = _stats(ns, sh)
        say("payout job: shopsync payouts sync --json ...", flush=True)
        first = run_job(env, opts.job_timeout_s)
        after = _stats(ns, sh)
        result["first"] = {**{k: v for k, v in first.items() if k != "log"}, **_delta(before, after)}
        result["first"]["call_log"] = call_log(db, 0)
        result["first"]["log_problems"] = _problems(first["log"])
        result["deposits"] = read_back(ns, seeded)

        say("again (must write nothing) ...", flush=True)
        before = _stats(ns, sh)
        second = run_job(env, opts.job_timeout_s)
        after = _stats(ns, sh)
        result["second"] = {**{k: v for k, v in second.items() if k != "log"}, **_delta(before, after)}
        result["second"]["call_log"] = call_log(db, result["first"]["call_log"]["last_id"])
        result["netsuite_peak_concurrency"] = after[0].get("peak_concurrency")
        result["netsuite_latency_ms_p50"] = after[0].get("latency_ms_p50")
        stack.check_alive()
    finally:
        stack.stop_all()
    return result


def _problems(log: str) -> list[str]:
    """The job's warnings and errors. `shopsync` leaves logging unconfigured, so only WARNING and above reach
    stderr, as bare messages (Python's last-resort handler): every line counts, up to 20 kept."""
    return [line[:200] for line in log.splitlines() if line.strip()][:20]


# --- report -----------------------------------------------------------------------------------------------


def verdicts(r: dict[str, Any]) -> list[tuple[str, bool, str]]:
    first, second, deposits = r["first"], r["second"], r["deposits"]
    payouts = len(deposits)
    report = first["report"]
    posted_ids = [p for d in deposits for p in d["payment_ids"]]
    variances = [Decimal(d["variance"]) for d in deposits if d["variance"] is not None]
    seeded = r["seeded"]
    receipts = seeded["netsuite_customer_deposits"] + seeded["netsuite_customer_refunds"]
    return [
        (
            "every payout posted, none waiting or failed",
            report["posted"] == payouts and report["waiting"] == 0 and report["errors"] == 0,
            f"{report['posted']}/{payouts} posted, {report['waiting']} waiting, {report['errors']} failed",
        ),
        (
            "deposit read back from NetSuite = payout net, every payout (variance 0)",
            len(variances) == payouts and not any(variances) and not any(d["variance_lines"] for d in deposits),
            f"{sum(1 for v in variances if v == 0)}/{payouts} exact, Σ|variance| {sum(abs(v) for v in variances)}, "
            f"variance lines {sum(d['variance_lines'] for d in deposits)}",
        ),
        (
            "every receipt deposited once",
            len(posted_ids) == len(set(posted_ids)) == receipts,
            f"{len(set(posted_ids)):,} payment lines ({len(posted_ids) - len(set(posted_ids))} repeated) of"
            f" {receipts:,} receipts",
        ),
        (
            "the unmapped type on the suspense account",
            sum(d["suspense_lines"] for d in deposits) == 1,
            f"{sum(d['suspense_lines'] for d in deposits)} suspense line(s)",
        ),
        (
            "a second run creates nothing",
            second["report"]["posted"] == 0 and second["netsuite_writes"] == 0,
            f"{second['report']['posted']} posted, {second['report']['unchanged']} unchanged,"
            f" {second['netsuite_writes']} NetSuite writes, {second['netsuite_calls']} calls",
        ),
        (
            f"peak NetSuite concurrency <= budget {BUDGET}",
            (r["netsuite_peak_concurrency"] or 0) <= BUDGET,
            f"{r['netsuite_peak_concurrency']} (simulator, whole run)",
        ),
    ]


def table(r: dict[str, Any]) -> str:
    o, first, second, seeded = r["options"], r["first"], r["second"], r["seeded"]
    n = max(len(r["deposits"]), 1)
    sizes = [d["rows"] for d in r["deposits"]]
    lines_per = [d["payment_lines"] + d["other_lines"] + d["cashback_lines"] for d in r["deposits"]]
    rows = [
        (
            "store",
            f"{o['days']} days x {o['orders_per_day']:,} orders/day = {seeded['orders']:,} orders"
            f" ({seeded['days'][0]} .. {seeded['days'][1]})",
        ),
        ("tenders", ", ".join(f"{k} {v:,}" for k, v in sorted(seeded["tenders"].items()))),
        (
            "refunds / disputes / other rows",
            f"{seeded['refunds']:,} / {seeded['disputes']} / {', '.join(seeded['extra_rows'])}",
        ),
        (
            "payouts / balance transactions",
            f"{seeded['payouts']} / {seeded['balance_transactions']:,}"
            f" (rows a payout: {min(sizes, default=0):,}..{max(sizes, default=0):,})",
        ),
        (
            "NetSuite receipts seeded (deposits / refunds)",
            f"{seeded['netsuite_customer_deposits']:,} / {seeded['netsuite_customer_refunds']:,}",
        ),
        (
            "seeding wall time",
            f"{r['seed_wall_s']} s ({', '.join(f'{k} {v} s' for k, v in seeded['timings_s'].items())})",
        ),
        (
            "latency",
            f"NetSuite {o['latency_ms']} +/- {o['jitter_ms']} ms uniform (sim p50 {r['netsuite_latency_ms_p50']} ms,"
            f" cap {SIM_CAP}); Shopify {o['shopify_latency_ms']} ms a request, bucket {o['shopify_bucket']:,}"
            f" points restoring {o['shopify_restore_rate']:,.0f}/s",
        ),
        (
            "payout job wall time (first run)",
            f"{first['wall_s']} s, {first['wall_s'] / n:.1f} s a payout; peak RSS {first['peak_rss_mib']} MiB",
        ),
        (
            "payouts posted / waiting / failed",
            f"{first['report']['posted']} / {first['report']['waiting']} / {first['report']['errors']}",
        ),
        ("deposit lines a payout", f"{min(lines_per, default=0):,}..{max(lines_per, default=0):,}"),
        ("NetSuite calls (simulator) / a payout", f"{first['netsuite_calls']} / {first['netsuite_calls'] / n:.2f}"),
        ("  by operation", ", ".join(f"{k} {v}" for k, v in sorted(first["netsuite_by_operation"].items()))),
        (
            "  netsuite_call_log rows (attempts)",
            f"{first['call_log']['rows']}; " + "; ".join(first["call_log"]["by_kind"]),
        ),
        ("  429s", first["netsuite_429"]),
        (
            "Shopify requests / a payout",
            f"{first['shopify_requests']} / {first['shopify_requests'] / n:.1f}"
            f" ({json.dumps(first['shopify_by_root_field'])})",
        ),
        (
            "Shopify cost points / a payout",
            f"{first['shopify_points']:,} / {first['shopify_points'] / n:,.0f}"
            f" (requested {first['shopify_points_requested']:,}; throttled {first['shopify_throttled']})",
        ),
        (
            "variance (payout net - NetSuite deposit total)",
            ", ".join(sorted({d["variance"] or "no deposit" for d in r["deposits"]})),
        ),
        (
            "second run: wall / NetSuite calls / writes",
            f"{second['wall_s']} s / {second['netsuite_calls']} / {second['netsuite_writes']}"
            f" ({json.dumps(second['netsuite_by_operation'])}); Shopify {second['shopify_requests']} requests,"
            f" {second['shopify_points']:,} points",
        ),
        ("peak NetSuite concurrency / budget", f"{r['netsuite_peak_concurrency']} / {BUDGET}"),
        (
            "job warnings/errors (its stderr)",
            f"{len(first['log_problems'])}" + (f": {first['log_problems'][:3]}" if first["log_problems"] else ""),
        ),
    ]
    width = max(len(k) for k, _ in rows)
    out = [f"{k.ljust(width)}  {v}" for k, v in rows]
    out.append("")
    out += [f"{'PASS' if ok else 'MISS'}  {name}: {detail}" for name, ok, detail in verdicts(r)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.payouts", description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--orders-per-day", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=150, help="NetSuite simulator latency (mean)")
    parser.add_argument("--jitter-ms", type=int, default=50, help="NetSuite simulator latency, +/- uniform")
    parser.add_argument("--shopify-latency-ms", type=int, default=100)
    parser.add_argument("--shopify-bucket", type=int, default=Options.shopify_bucket, help="cost bucket, points")
    parser.add_argument(
        "--shopify-restore-rate", type=float, default=Options.shopify_restore_rate, help="points/s (Plus: 1000)"
    )
    parser.add_argument("--db-name", default=Options.db_name, help="its own database (dropped and migrated)")
    parser.add_argument("--redis-db", type=int, default=Options.redis_db, help="its own Redis db (flushed)")
    parser.add_argument("--seed", type=int, default=Options.seed)
    parser.add_argument("--quiet-wait", type=float, default=common.QUIET_MAX_WAIT_S)
    args = parser.parse_args(argv)
    if not 1 <= args.days <= 60 or not 1 <= args.orders_per_day <= 5000:
        parser.error("--days 1..60, --orders-per-day 1..5000")
    signal.signal(signal.SIGTERM, common.raise_exit)
    opts = Options(
        args.days,
        args.orders_per_day,
        args.latency_ms,
        args.jitter_ms,
        args.shopify_latency_ms,
        args.shopify_bucket,
        args.shopify_restore_rate,
        args.seed,
        args.db_name,
        args.redis_db,
    )
    quiet = common.wait_for_no_other_benchmarks(args.quiet_wait)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = RESULTS_DIR / f"payouts-{stamp}"
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    result = bench(opts, run_dir)
    result.update({"command": "python -m bench.payouts " + " ".join(sys.argv[1:] if argv is None else argv)})
    result.update({"quiet_check": quiet, "loadavg_before": load_before, "date_utc": stamp, "nproc": os.cpu_count()})
    result["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
    text = table(result)
    print()
    print(text)
    result["table"] = text
    out = RESULTS_DIR / f"payouts-{stamp}.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"\nraw results: {out.relative_to(ROOT)} (process logs in {run_dir.relative_to(ROOT)}/)")
    return 0 if all(ok for _, ok, _ in verdicts(result)) else 1


if __name__ == "__main__":
    sys.exit(main())
