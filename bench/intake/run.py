"""Webhook intake benchmark: the real `POST /webhooks/shopify` against a floor, under gunicorn, with real
PostgreSQL and Redis on this machine. It prints figures; it is not a test.

    .venv/bin/python -m bench.intake.run [--duration 20] [--connections 8,32] [--orders-body path]

Load: wrk (bench/intake/intake.lua) sends signed orders/create deliveries, a new X-Shopify-Webhook-Id on each
request and every 10th request a duplicate of the previous one. For each connection count and each app (the
floor first, then the real intake): a short warm-up, then TRUNCATE webhook_events, FLUSHDB on Redis db 14, a
bounded measured run, and a count of rows stored against the unique webhook ids sent.

Isolation: database shopsync_bench (dropped and rebuilt by `shopsync db upgrade`), Redis db 14 only. No Celery
worker runs, so every published task stays in Redis and is counted too. Raw results and the gunicorn logs go
to bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import redis

from app.config import environ_copy
from devtools.devstack import ROOT, Stack, free_port, procfile_commands, wait_for_http
from shopify_client.webhooks import sign
from simulators.shopify import order_factory as of

HERE = Path(__file__).resolve().parent
LUA_SCRIPT = HERE / "intake.lua"
RESULTS_DIR = ROOT / "bench" / "results"

BENCH_DB = "shopsync_bench"
ADMIN_DSN = "postgresql://root@127.0.0.1:5432/postgres"
BENCH_DSN = f"postgresql://root@127.0.0.1:5432/{BENCH_DB}"
REDIS_DB = 14
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
SECRET = "bench-webhook-secret"
SHOP = "bench-store.myshopify.com"

BENCH_ENV = {
    "DATABASE_URL": BENCH_DSN,
    "REDIS_URL": REDIS_URL,
    "SHOPIFY_SHOP": SHOP,
    "SHOPIFY_WEBHOOK_SECRETS": f"{SECRET},bench-webhook-secret-old",
    "SHOPIFY_ADMIN_TOKEN": "shpat_bench",
    "SHOPIFY_API_VERSION": "2026-04",
    "NETSUITE_ACCOUNT_ID": "1234567_SB1",
    "NETSUITE_CONSUMER_KEY": "bench-consumer-key",
    "NETSUITE_CONSUMER_SECRET": "bench-consumer-secret",
    "NETSUITE_TOKEN_ID": "bench-token-id",
    "NETSUITE_TOKEN_SECRET": "bench-token-secret",
    "NETSUITE_BASE_URL": "http://127.0.0.1:9/services/rest",  # never called by the intake
    "OPS_TOKEN": "bench-ops-token",
    "LOG_LEVEL": "INFO",
}

# What the measured request goes through (for the commit check): app code, gunicorn settings, Procfile.
INTAKE_PATH = (
    "Procfile",
    "app/__init__.py",
    "app/webhooks.py",
    "app/publish.py",
    "app/celery.py",
    "app/routing.py",
    "app/config.py",
    "app/logging_setup.py",
    "app/gunicorn_conf.py",
    "app/db",
    "shopify_client/webhooks.py",
    "schemas/shopify.py",
)
REAL_APP_SPEC = "'app:create_app()'"
FLOOR_APP_SPEC = "'bench.intake.floor_app:create_floor_app()'"

TARGET_THROUGHPUT = 0.8  # real >= 0.8 x floor webhooks/s
TARGET_P99 = 2.0  # real p99 <= 2 x floor p99
WARMUP_SECONDS = 3
DISTURBED_PCT = 10.0  # other processes using more than this share of the machine during a run skew it
WRK_TIMEOUT = "10s"  # wrk's default (2 s) would drop slow responses from the latency figures
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the request body -------------------------------------------------------------------------------------


ADA = of.Customer(
    id=7123456789012,
    first_name="Ada",
    last_name="Lovelace",
    email="ada.lovelace@example.com",
    address=of.Address(
        "Ada",
        "Lovelace",
        "100 Main Street",
        "Portland",
        "OR",
        "97205",
        address2="Suite 400",
        phone="+1 555-010-0199",
        latitude=45.5231,
        longitude=-122.6765,
    ),
)


def make_order_body() -> bytes:
    """A realistic Shopify orders/create payload (REST shape, API 2026-04), compact as Shopify sends it."""
    items = [
        ("IPOD2008GREEN", "iPod Nano - 8GB", "Green", 2, "199.00", 4123456789011, 8123456789011),
        ("IPOD2008RED", "iPod Nano - 8GB", "Red", 1, "199.00", 4123456789011, 8123456789012),
        ("CASE-LEATHER-BLK", "Leather case", "Black", 3, "24.50", 4123456789022, 8123456789033),
    ]
    lines = [
        of.Line(sku, title, price, qty, variant_id, product_id, variant_title=variant, vendor="Apple", grams=567)
        for sku, title, variant, qty, price, product_id, variant_id in items
    ]
    order = of.build_order(
        order_id=6123456789012345678,
        number=1042,
        customer=ADA,
        lines=lines,
        created_at="2026-04-01T08:00:00-04:00",
        tax_rate="0.06",
        tax_title="State tax",
        shipping=of.Shipping("Standard Shipping", "12.00", code="Standard"),
        shipping_address=replace(ADA.address, address1="200 Harbour Way", zip="97209"),
        line_id_base=15123456789012300,
        extras=of.Extras(
            note="Please leave at the front desk.",
            note_attributes=[{"name": "gift_wrap", "value": "no"}],
            landing_site="/products/ipod-nano",
            referring_site="https://www.example.com/",
            browser_ip="203.0.113.7",
            shop=SHOP,
        ),
    )
    return json.dumps(order, separators=(",", ":")).encode("utf-8")


# --- machine and process helpers --------------------------------------------------------------------------


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        sys.exit("wrk is not installed: run `apt-get install -y wrk` (Debian package wrk) as root, then retry")
    print("wrk not found; installing the Debian package wrk ...", flush=True)
    for cmd in (["apt-get", "install", "-y", "wrk"], ["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        subprocess.run(cmd, check=False, timeout=600, stdout=subprocess.DEVNULL)
        path = shutil.which("wrk")
        if path:
            return path
    sys.exit("could not install wrk (`apt-get install -y wrk` failed); install it and retry")


def background_busy_pct(seconds: float = 3.0) -> float:
    """How busy the machine is before the bench starts anything (other work skews every figure)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(fields) - fields[3] - fields[4], sum(fields)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return round(100.0 * (busy1 - busy0) / max(total1 - total0, 1), 1)


def wait_for_quiet(max_wait: float, below: float) -> tuple[float, float]:
    """Wait (at most max_wait s) until the machine is less than `below`% busy; returns (busy %, waited s)."""
    started = time.monotonic()
    busy = background_busy_pct()
    while busy >= below and time.monotonic() - started < max_wait:
        busy = background_busy_pct()
    return busy, round(time.monotonic() - started, 1)


def machine_info() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout
    with psycopg.connect(ADMIN_DSN, connect_timeout=5) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url(REDIS_URL).info("server").get("redis_version")
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "postgresql": pg_version,
        "redis": redis_version,
        "wrk": wrk_version.splitlines()[0].strip() if wrk_version else "unknown",
        "python": sys.version.split()[0],
        "gunicorn_cmd_args_env": os.environ.get("GUNICORN_CMD_ARGS", ""),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        # uncommitted changes to the files on the intake's path (empty: the figures are those of the commit)
        "git_uncommitted": _git("status", "--porcelain", "--", *INTAKE_PATH),
    }


def _git(*args: str) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def _proc_stat(pid: str) -> tuple[str, int, int] | None:
    """(comm, process group, CPU ticks) of one process, or None if it is gone.

    The ticks include the children it has reaped (cutime, cstime): PostgreSQL's postmaster thereby carries the
    CPU of backends that have exited, such as those of connections a pool opened and closed during a run.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2 :].split()
    return comm, int(rest[2]), sum(int(x) for x in rest[11:15])


def cpu_snapshot(app_pgid: int) -> dict:
    """CPU ticks so far: the machine (busy, irq+softirq, steal, total), the app's process group, PostgreSQL,
    Redis and this process."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    )
    me = resource.getrusage(resource.RUSAGE_SELF)
    snap = {
        "machine_busy": user + nice + system + irq + softirq,
        "machine_irq": irq + softirq,
        "machine_steal": steal,
        "machine_total": user + nice + system + idle + iowait + irq + softirq + steal,
        "app": 0,
        "postgres": 0,
        "redis": 0,
        "bench": (me.ru_utime + me.ru_stime) * CLK_TCK,
    }
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        stat = _proc_stat(pid)
        if stat is None:
            continue
        comm, pgrp, ticks = stat
        if pgrp == app_pgid:
            snap["app"] += ticks
        elif comm == "postgres":
            snap["postgres"] += ticks
        elif comm.startswith("redis-server"):
            snap["redis"] += ticks
    return snap


def cpu_report(before: dict, after: dict, wrk_cpu_s: float, seconds: float, requests: int) -> dict:
    delta = {key: after[key] - before[key] for key in before}
    total = delta["machine_total"]

    def pct(ticks: float) -> float | None:
        return round(100.0 * ticks / total, 1) if total else None

    def ms_per_req(ticks: float) -> float | None:
        return round(ticks / CLK_TCK * 1000 / requests, 3) if requests else None

    known = sum(delta[k] for k in ("app", "postgres", "redis", "bench")) + wrk_cpu_s * CLK_TCK
    return {
        "machine_busy_pct": pct(delta["machine_busy"]),
        # CPU used by anything but this app, PostgreSQL, Redis, wrk and this script: other work on the machine
        # (plus the part of interrupt handling, i.e. loopback networking, the kernel charges to no process).
        "other_busy_pct": pct(max(delta["machine_busy"] - known, 0)),
        "irq_softirq_pct": pct(delta["machine_irq"]),
        "steal_pct": pct(delta["machine_steal"]),
        "app_cpu_s": round(delta["app"] / CLK_TCK, 2),
        "postgres_cpu_s": round(delta["postgres"] / CLK_TCK, 2),
        "redis_cpu_s": round(delta["redis"] / CLK_TCK, 2),
        "wrk_cpu_s": round(wrk_cpu_s, 2),
        "app_cpu_ms_per_request": ms_per_req(delta["app"]),
        "postgres_cpu_ms_per_request": ms_per_req(delta["postgres"]),
        "seconds": round(seconds, 2),
    }


# --- database and redis -----------------------------------------------------------------------------------


def prepare_database(env: dict[str, str]) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    shopsync = ROOT / ".venv" / "bin" / "shopsync"
    cmd = [str(shopsync) if shopsync.exists() else "shopsync", "db", "upgrade"]
    result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"shopsync db upgrade failed:\n{result.stdout}\n{result.stderr}")
    print(result.stdout.strip(), flush=True)


def reset_state(redis_client: redis.Redis) -> None:
    with psycopg.connect(BENCH_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute("TRUNCATE webhook_events RESTART IDENTITY CASCADE")
    redis_client.flushdb()  # db 14 only


def count_rows() -> int:
    with psycopg.connect(BENCH_DSN, autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0]


def db_sessions(conn: psycopg.Connection) -> int:
    """Sessions PostgreSQL has seen on the bench database (a backend counts itself once it reports)."""
    return conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", (BENCH_DB,)).fetchone()[0]


def probe_stored(tag: str) -> bool:
    """Whether wrk's check request (see intake.lua) reached the server after all: then it counts as sent."""
    with psycopg.connect(BENCH_DSN, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute("SELECT 1 FROM webhook_events WHERE webhook_id = %s", (f"{tag}-t1-probe",)).fetchone()
        return row is not None


def settled_row_count(timeout: float = 15.0) -> int:
    """Rows stored once the server has finished the requests still in flight when wrk stopped."""
    deadline = time.monotonic() + timeout
    last = count_rows()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = count_rows()
        if now == last:
            return now
        last = now
    return last


def queued_messages(redis_client: redis.Redis) -> int:
    """Messages waiting in Redis db 14 (no worker runs, so every publish stays in a queue list)."""
    total = 0
    for key in redis_client.scan_iter(count=1000):
        if redis_client.type(key) == b"list":
            total += redis_client.llen(key)
    return total


# --- load -------------------------------------------------------------------------------------------------


def run_wrk(port: int, connections: int, seconds: int, body_path: Path, signature: str, tag: str) -> dict:
    threads = min(2, connections)
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(LUA_SCRIPT),
        f"http://127.0.0.1:{port}/webhooks/shopify",
        "--",
        str(body_path),
        signature,
        SHOP,
        tag,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    data = json.loads(line[len("BENCH_JSON ") :])
    data["wrk_stdout"] = result.stdout
    return data


def measure(
    app: str,
    port: int,
    connections: int,
    seconds: int,
    body_path: Path,
    signature: str,
    redis_client: redis.Redis,
    stack: Stack,
    app_pgid: int,
    stamp: str,
    quiet: tuple[float, float],
) -> dict:
    busy, waited = wait_for_quiet(quiet[0], quiet[1])
    note = f" after waiting {waited:.0f}s" if waited > 4 else ""
    print(f"  {app:5} c={connections:<3} machine {busy}% busy{note}; warm-up ...", end="", flush=True)
    run_wrk(port, connections, WARMUP_SECONDS, body_path, signature, f"warm-{app}-c{connections}-{stamp}")
    settled_row_count()
    reset_state(redis_client)
    print(f" measuring {seconds}s ...", end="", flush=True)
    tag = f"{app}-c{connections}-{stamp}"
    with psycopg.connect(BENCH_DSN, autocommit=True, connect_timeout=5) as stats_conn:
        sessions_before = db_sessions(stats_conn)
        rusage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_before = cpu_snapshot(app_pgid)
        started = time.monotonic()
        wrk = run_wrk(port, connections, seconds, body_path, signature, tag)
        elapsed = time.monotonic() - started
        cpu_after = cpu_snapshot(app_pgid)
        rusage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        time.sleep(1.0)  # let the server finish what was in flight (and close its overflow connections)
        sessions_after = db_sessions(stats_conn)
    rows = settled_row_count()
    queued = queued_messages(redis_client)
    probe_sent = probe_stored(tag)
    if probe_sent:
        print(" (wrk's check request was sent after all; counted)", end="")
        wrk["unique"] += 1
    stack.check_alive()
    wrk_cpu = (rusage_after.ru_utime - rusage_before.ru_utime) + (rusage_after.ru_stime - rusage_before.ru_stime)
    duration_s = wrk["duration_us"] / 1e6
    socket_errors = sum(v for k, v in wrk["errors"].items() if k != "status")
    result = {
        "app": app,
        "connections": connections,
        "wrk_threads": wrk["threads"],
        "duration_s": round(duration_s, 3),
        "requests_sent": wrk["sent"],
        "responses": wrk["requests"],
        "responses_2xx": wrk["ok"],
        "accepted_per_s": round(wrk["ok"] / duration_s, 1),
        "new_accepted_responses": wrk["accepted"],
        "duplicate_responses": wrk["duplicate"],
        "unpublished_responses": wrk["unpublished"],
        "p50_ms": round(wrk["latency_us"]["p50"] / 1000, 1),
        "p90_ms": round(wrk["latency_us"]["p90"] / 1000, 1),
        "p99_ms": round(wrk["latency_us"]["p99"] / 1000, 1),
        "p999_ms": round(wrk["latency_us"]["p999"] / 1000, 1),
        "max_ms": round(wrk["latency_us"]["max"] / 1000, 1),
        "mean_ms": round(wrk["latency_us"]["mean"] / 1000, 1),
        "non_2xx": wrk["non2xx"],
        "socket_errors": socket_errors,
        "wrk_errors": wrk["errors"],
        "unique_sent": wrk["unique"],
        "duplicates_sent": wrk["dups"],
        "rows_stored": rows,
        "queued_in_redis": queued,
        "lost": wrk["unique"] - rows,
        "machine_busy_before_pct": busy,
        "waited_for_quiet_s": waited,
        "probe_request_stored": probe_sent,
        "cpu": cpu_report(cpu_before, cpu_after, wrk_cpu, elapsed, wrk["requests"]),
        # New PostgreSQL sessions during the run: a pool that keeps its connections opens none.
        "db_sessions_opened": sessions_after - sessions_before,
        "wrk_stdout": wrk["wrk_stdout"],
    }
    print(
        f" {result['accepted_per_s']}/s p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms"
        f" rows {rows}/{wrk['unique']}",
        flush=True,
    )
    return result


# --- report -----------------------------------------------------------------------------------------------

COLUMNS = [
    ("app", "app", "<"),
    ("conns", "connections", ">"),
    ("accepted/s", "accepted_per_s", ">"),
    ("p50 ms", "p50_ms", ">"),
    ("p99 ms", "p99_ms", ">"),
    ("max ms", "max_ms", ">"),
    ("non-2xx", "non_2xx", ">"),
    ("sock err", "socket_errors", ">"),
    ("unique sent", "unique_sent", ">"),
    ("dups sent", "duplicates_sent", ">"),
    ("rows stored", "rows_stored", ">"),
    ("queued", "queued_in_redis", ">"),
    ("lost", "lost", ">"),
    ("db sessions", "db_sessions_opened", ">"),
    ("app CPU ms/req", "app_cpu_ms", ">"),
    ("pg CPU ms/req", "pg_cpu_ms", ">"),
    ("CPU busy %", "busy", ">"),
    ("other %", "other", ">"),
]


def format_table(results: list[dict]) -> str:
    if not results:
        return "(no measurement completed)"
    rows = []
    for r in results:
        row = {key: r.get(key) for _, key, _ in COLUMNS}
        row["app_cpu_ms"] = r["cpu"]["app_cpu_ms_per_request"]
        row["pg_cpu_ms"] = r["cpu"]["postgres_cpu_ms_per_request"]
        row["busy"] = r["cpu"]["machine_busy_pct"]
        row["other"] = r["cpu"]["other_busy_pct"]
        rows.append(row)
    widths = [max(len(title), *(len(str(row[key])) for row in rows)) for title, key, _ in COLUMNS]
    lines = [
        "  ".join(
            title.ljust(w) if a == "<" else title.rjust(w) for (title, _, a), w in zip(COLUMNS, widths, strict=True)
        ),
        "  ".join("-" * w for w in widths),
    ]
    for row in rows:
        cells = []
        for (_, key, align), w in zip(COLUMNS, widths, strict=True):
            text = str(row[key])
            cells.append(text.ljust(w) if align == "<" else text.rjust(w))
        lines.append("  ".join(cells))
    return "\n".join(lines)


def compare(results: list[dict]) -> list[dict]:
    out = []
    for c in sorted({r["connections"] for r in results}):
        floor = next((r for r in results if r["app"] == "floor" and r["connections"] == c), None)
        real = next((r for r in results if r["app"] == "real" and r["connections"] == c), None)
        if floor is None or real is None:
            continue
        tput = real["accepted_per_s"] / floor["accepted_per_s"] if floor["accepted_per_s"] else 0.0
        p99 = real["p99_ms"] / floor["p99_ms"] if floor["p99_ms"] else float("inf")
        nothing_lost = real["lost"] == 0 and real["non_2xx"] == 0 and real["socket_errors"] == 0
        out.append(
            {
                "connections": c,
                "throughput_ratio": round(tput, 3),
                "throughput_pass": tput >= TARGET_THROUGHPUT,
                "p99_ratio": round(p99, 3),
                "p99_pass": p99 <= TARGET_P99,
                "nothing_lost": nothing_lost,
                "all_published": real["queued_in_redis"] == real["rows_stored"],
                "disturbed_by_other_work": [
                    f"{r['app']} ({r['cpu']['other_busy_pct']}% of the machine)"
                    for r in (floor, real)
                    if (r["cpu"]["other_busy_pct"] or 0) > DISTURBED_PCT
                ]
                + [
                    f"{r['app']} (hypervisor steal {r['cpu']['steal_pct']}%)"
                    for r in (floor, real)
                    if (r["cpu"]["steal_pct"] or 0) > DISTURBED_PCT / 2
                ],
            }
        )
    return out


def format_comparison(comparison: list[dict]) -> str:
    lines = []
    for c in comparison:
        lines.append(
            f"c={c['connections']:<3} throughput real/floor {c['throughput_ratio']:.3f}x"
            f" (target >= {TARGET_THROUGHPUT}x: {'PASS' if c['throughput_pass'] else 'MISS'})"
            f" | p99 real/floor {c['p99_ratio']:.3f}x"
            f" (target <= {TARGET_P99}x: {'PASS' if c['p99_pass'] else 'MISS'})"
            f" | nothing lost: {'PASS' if c['nothing_lost'] else 'MISS'}"
            + ("" if c["all_published"] else " (real: queued messages != rows stored)")
        )
        if c["disturbed_by_other_work"]:
            lines.append(
                f"      WARNING: other work ran during {', '.join(c['disturbed_by_other_work'])}:"
                " these figures are disturbed; rerun on a quiet machine"
            )
    return "\n".join(lines)


NOISE = re.compile(r"duplicate delivery webhook_id=")
PROBLEM = re.compile(r"(ERROR|CRITICAL|WARNING|Traceback|WORKER TIMEOUT|\[ERROR\]|\[CRITICAL\]|\[WARNING\])")
_VARIABLE = re.compile(r"^\S+ \S+ |\b\d+\b|webhook_id=\S+|pid: \d+")


def scan_log(path: Path) -> dict:
    """Count problem lines in a gunicorn log (timestamps and numbers folded so repeats group together)."""
    counts: Counter[str] = Counter()
    total_lines = 0
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return {"lines": 0, "problems": 0, "top": []}
    for line in text.splitlines():
        total_lines += 1
        if NOISE.search(line) or not PROBLEM.search(line):
            continue
        counts[_VARIABLE.sub("#", line)[:200]] += 1
    return {"lines": total_lines, "problems": sum(counts.values()), "top": counts.most_common(8)}


# --- main -------------------------------------------------------------------------------------------------


def _raise_exit(signum, _frame):  # noqa: ANN001
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.intake.run",
        description="Webhook intake benchmark: the real intake against a floor endpoint, under gunicorn.",
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds of measured load per app and count")
    parser.add_argument("--connections", default="8,32", help="comma-separated connection counts")
    parser.add_argument("--orders-body", type=Path, help="an orders/create JSON body to send instead")
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=25.0,
        help="before each measurement, wait until the machine is less than this %% busy (other work skews it)",
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=30.0, help="at most this many seconds of that wait per measurement"
    )
    args = parser.parse_args(argv)
    connections = [int(c) for c in args.connections.split(",") if c.strip()]
    if not connections or any(c < 1 or c > 512 for c in connections):
        parser.error("--connections: counts between 1 and 512")
    if not 1 <= args.duration <= 120:
        parser.error("--duration: between 1 and 120 seconds")
    if not 0 <= args.quiet_wait <= 300:
        parser.error("--quiet-wait: between 0 and 300 seconds")

    signal.signal(signal.SIGTERM, _raise_exit)
    ensure_wrk()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = RESULTS_DIR / f"intake-{stamp}"
    run_dir.mkdir(parents=True, exist_ok=True)

    if args.orders_body:
        body = args.orders_body.read_bytes()
        if not isinstance(json.loads(body), dict):
            parser.error("--orders-body: not a JSON object")
    else:
        body = make_order_body()
    body_path = run_dir / "orders-create.json"
    body_path.write_bytes(body)
    signature = sign(body, SECRET)

    env = {**environ_copy(), **BENCH_ENV}
    # The Procfile line runs `gunicorn` by name: the venv's bin must come first on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    info = machine_info()
    print(
        f"bench/intake on {info['nproc']} x {info['cpu_model']}, {info['date_utc']}; PostgreSQL {info['postgresql']},"
        f" Redis {info['redis']}, {info['wrk'].split(' Copyright')[0]}; body {len(body)} bytes;"
        f" {args.duration}s per run; commit {info['git_commit']}"
        + (f" with uncommitted changes: {info['git_uncommitted']!r}" if info["git_uncommitted"] else ""),
        flush=True,
    )
    prepare_database(env)
    redis_client = redis.Redis.from_url(REDIS_URL)

    web_command = procfile_commands()["web"]
    if REAL_APP_SPEC not in web_command:
        raise SystemExit(f"the Procfile web line no longer names {REAL_APP_SPEC}: {web_command}")
    floor_command = web_command.replace(REAL_APP_SPEC, FLOOR_APP_SPEC)
    ports = {"real": free_port(), "floor": free_port()}

    stack = Stack(env=env, run_dir=run_dir)
    pgids: list[int] = []
    results: list[dict] = []
    logs: dict[str, dict] = {}
    error: str | None = None
    try:
        real = stack.start("web", extra_env={"PORT": str(ports["real"])})
        floor = stack.start("floor", command=floor_command, extra_env={"PORT": str(ports["floor"])})
        pgids = [real.pid, floor.pid]
        app_pgid = {"real": real.pid, "floor": floor.pid}
        for name in ("real", "floor"):
            wait_for_http(f"http://127.0.0.1:{ports[name]}/healthz", timeout=60)
        stack.check_alive()
        print(f"real intake on :{ports['real']}, floor on :{ports['floor']} ({floor_command})", flush=True)
        for c in connections:
            for name in ("floor", "real"):
                results.append(
                    measure(
                        name,
                        ports[name],
                        c,
                        args.duration,
                        body_path,
                        signature,
                        redis_client,
                        stack,
                        app_pgid[name],
                        stamp,
                        (args.quiet_wait, args.quiet_below),
                    )
                )
    except Exception as exc:  # noqa: BLE001 - report what was measured, then fail
        error = f"{exc.__class__.__name__}: {exc}"
        print(f"\nRUN FAILED: {error}", file=sys.stderr)
    finally:
        stack.stop_all()
        for log_name in ("web", "floor"):
            logs[log_name] = scan_log(run_dir / f"{log_name}.log")
        leftovers = []
        for pgid in pgids:
            try:
                os.killpg(pgid, 0)
                leftovers.append(pgid)
            except ProcessLookupError:
                pass
        if leftovers:
            print(f"WARNING: process group(s) still alive after stop: {leftovers}", file=sys.stderr)
        try:
            redis_client.flushdb()  # db 14 only: leave nothing of the bench behind
        except redis.RedisError:
            pass

    comparison = compare(results)
    table = format_table(results)
    print()
    print(table)
    print()
    print(format_comparison(comparison))
    print()
    for log_name, scan in logs.items():
        print(f"{log_name}.log: {scan['lines']} lines, {scan['problems']} warning/error lines")
        for message, count in scan["top"]:
            print(f"  {count:>6} x {message}")

    out = RESULTS_DIR / f"intake-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "command": "python -m bench.intake.run " + " ".join(sys.argv[1:] if argv is None else argv),
                "machine": info,
                "duration_s": args.duration,
                "connections": connections,
                "body_bytes": len(body),
                "gunicorn": {"real": web_command, "floor": floor_command},
                "results": results,
                "comparison": comparison,
                "logs": logs,
                "table": table,
                "error": error,
            },
            indent=2,
        )
    )
    print(f"\nraw results: {out.relative_to(ROOT)} (gunicorn logs in {run_dir.relative_to(ROOT)}/)")
    if error:
        print(f"INCOMPLETE: the run failed ({error})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
