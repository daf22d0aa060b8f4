"""Helpers shared by the benchmarks that run a fresh stack against an isolated database and Redis db: the
database and Redis reset, which code ran, the quiet-machine checks, sending signed webhooks, waiting for the
events, the phase's timing and the warnings in the process logs. A benchmark names its own `BenchDb`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import psycopg
import redis
import urllib3

from devtools.devstack import ROOT, Stack, procfile_commands, wait_for_http
from shopify_client.webhooks import sign

ADMIN_DSN = "postgresql://root@127.0.0.1:5432/postgres"
QUIET_MAX_WAIT_S = 600
OTHER_BENCH_PATTERN = "bench.intake|bench.netsuite_throughput|bench.orders_realistic|bench.multihost|bench.soak|pytest"
SENDERS = 16


@dataclass(frozen=True)
class BenchDb:
    """A benchmark's own PostgreSQL database and Redis db (both emptied before each run)."""

    name: str
    redis_db: int
    pg_address: str = "127.0.0.1:5432"  # host:port; a bench's own server (bench/services.py) elsewhere
    redis_address: str = "127.0.0.1:6379"

    @property
    def dsn(self) -> str:
        return f"postgresql://root@{self.pg_address}/{self.name}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_address}/{self.redis_db}"

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=5)


# --- machine ----------------------------------------------------------------------------------------------


def other_benchmarks(pattern: str = OTHER_BENCH_PATTERN) -> list[str]:
    found = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True, check=False)
    mine = {os.getpid(), os.getppid()}
    return [ln for ln in found.stdout.splitlines() if ln.strip() and int(ln.split()[0]) not in mine]


def wait_for_no_other_benchmarks(max_wait: float = QUIET_MAX_WAIT_S) -> dict:
    """Wait (polling, at most max_wait s) while other benchmark or test processes run: 2 shared cores."""
    started = time.monotonic()
    seen = other_benchmarks()
    if seen:
        print(f"other benchmark/test processes are running ({len(seen)}), waiting up to {max_wait:.0f}s:")
        for line in seen[:5]:
            print(f"    {line[:150]}")
    found = seen
    while found and time.monotonic() - started < max_wait:
        time.sleep(5)
        found = other_benchmarks()
    waited = round(time.monotonic() - started, 1)
    if seen:
        state = "still running: figures may be disturbed" if found else "gone"
        print(f"    waited {waited:.0f}s; {state}", flush=True)
    return {"waited_s": waited, "seen": seen[:10], "still_running": found[:10]}


def _cpu_fields() -> list[int]:
    """/proc/stat's machine-wide `cpu` line: user nice system idle iowait irq softirq steal guest guest_nice."""
    return [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]


def cpu_ticks() -> tuple[int, int]:
    fields = _cpu_fields()
    return sum(fields) - fields[3] - fields[4], sum(fields)


def steal_ticks() -> int:
    """The machine's `steal` ticks so far: time the hypervisor ran someone else while this VM had work (counted as
    busy by `cpu_ticks`; a run during which the host took a share is slower for reasons outside the stack)."""
    return _cpu_fields()[7]


def busy_pct(seconds: float = 2.0) -> float:
    b0, t0 = cpu_ticks()
    time.sleep(seconds)
    b1, t1 = cpu_ticks()
    return round(100.0 * (b1 - b0) / max(t1 - t0, 1), 1)


def machine_info(db: BenchDb) -> dict:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    with db.connect() as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "postgresql": pg_version,
        "redis": redis.Redis.from_url(db.redis_url).info("server").get("redis_version"),
        "python": sys.version.split()[0],
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
        "speed_probes_ms": speed_probes(),
    }


def speed_probes(count: int = 5, gap_s: float = 0.3) -> list[float]:
    """`count` speed probes `gap_s` apart (sorted): an idle machine of this kind read 34.8-59.9 ms in one minute,
    two speeds a few seconds each, so one probe alone says little."""
    readings = []
    for n in range(count):
        if n:
            time.sleep(gap_s)
        readings.append(speed_probe_ms())
    return sorted(readings)


def speed_probe_ms() -> float:
    """CPU time of a fixed pure-Python workload (JSON and dict work, like a worker's), best of 5, in ms: machines of
    one kind, even one machine over an hour, ran the same code 15-25% faster or slower, so a figure is read beside
    the speed it was taken at. Lower is faster."""
    doc = {
        "line_items": [
            {"id": n, "sku": f"SKU-{n}", "price": f"{n}.00", "tax_lines": [{"rate": 0.05}]} for n in range(40)
        ]
    }
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(300):
            json.loads(json.dumps(doc))
            sorted(str(n) for n in range(300))
        best = min(best, time.process_time() - started)
    return round(best * 1000, 1)


# --- database, redis, code --------------------------------------------------------------------------------


def shopsync(env: dict[str, str], *args: str, timeout: int = 180) -> str:
    exe = ROOT / ".venv" / "bin" / "shopsync"
    cmd = [str(exe) if exe.exists() else "shopsync", *args]
    result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"shopsync {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


def rebuild_database(db: BenchDb, env: dict[str, str]) -> str:
    """Drop the bench database and migrate a new one: migrations may be edited in place while they are young,
    and a database stamped with an older edit of the head revision would miss its columns."""
    with psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db.name} WITH (FORCE)")
    return shopsync(env, "db", "upgrade")


def reset_state(db: BenchDb, required: tuple[str, ...]) -> list[str]:
    """Empty every table of the bench database (the required ones and any a newer migration added) and its
    Redis db (that db only)."""
    with db.connect() as conn:
        present = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            ).fetchall()
        ]
        missing = [t for t in required if t not in present]
        if missing:
            raise RuntimeError(f"tables missing from {db.name}: {missing}")
        conn.execute(f"TRUNCATE {', '.join(sorted(present))} RESTART IDENTITY CASCADE")
    redis.Redis.from_url(db.redis_url).flushdb()
    return sorted(present)


def code_state(db: BenchDb) -> dict:
    """Which code ran: HEAD plus a fingerprint of uncommitted changes (the tree may be edited between runs)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout

    status = [ln for ln in git("status", "--porcelain").splitlines() if "bench/" not in ln]
    diff = git("diff", "HEAD", "--", ".", ":(exclude)bench")
    with db.connect() as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return {
        "head": git("rev-parse", "--short", "HEAD").strip(),
        "uncommitted_paths": len(status),
        "diff_sha1": hashlib.sha1(diff.encode(), usedforsecurity=False).hexdigest()[:12],
        "alembic_head": row[0] if row else None,
    }


def event_counts(db: BenchDb, prefix: str) -> Counter:
    for attempt in range(60):  # a shared PostgreSQL may be out of connections for a while: poll again
        try:
            return _event_counts(db, prefix)
        except psycopg.OperationalError:
            if attempt == 59:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


def _event_counts(db: BenchDb, prefix: str) -> Counter:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM webhook_events WHERE webhook_id LIKE %s GROUP BY status", (prefix + "%",)
        ).fetchall()
    return Counter(dict(rows))


def phase_timing(db: BenchDb, prefix: str) -> dict:
    with db.connect() as conn:
        first_received, last_processed, max_attempts = conn.execute(
            "SELECT min(received_at), max(processed_at), max(attempts) FROM webhook_events WHERE webhook_id LIKE %s",
            (prefix + "%",),
        ).fetchone()
        dead_letters = conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
        errors = conn.execute(
            "SELECT left(last_error, 160), count(*) FROM webhook_events WHERE webhook_id LIKE %s"
            " AND last_error IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 5",
            (prefix + "%",),
        ).fetchall()
    span = (last_processed - first_received).total_seconds() if first_received and last_processed else None
    return {
        "first_received": first_received.isoformat() if first_received else None,
        "last_processed": last_processed.isoformat() if last_processed else None,
        "received_to_processed_s": round(span, 2) if span is not None else None,
        "max_attempts": max_attempts,
        "dead_letters_total": dead_letters,
        "last_errors": [f"{n} x {msg}" for msg, n in errors],
    }


def sim_calls(stats: dict) -> Counter:
    """Calls the simulator served on /services/rest (accepted: 429s are counted apart), by operation."""
    return Counter({k: v for k, v in (stats.get("calls_by_operation") or {}).items() if k != "POST oauth2/token"})


def start_web_and_order_workers(
    stack: Stack, web: str, workers: int, concurrency: int | None = None, pool: str | None = None
) -> dict[str, dict]:
    """`web` and `workers` x `worker_orders` from the Procfile (WORKER_ID=i; WORKER_CONCURRENCY and WORKER_POOL only
    when given: by default the Procfile's own defaults, the layout we ship), returning once the intake answers and
    every worker answers a Celery ping (at most 90 s). Returns each worker's pool as the worker reports it."""
    stack.start("web")
    extra: dict[str, str] = {}
    if concurrency is not None:
        extra["WORKER_CONCURRENCY"] = str(concurrency)
    if pool is not None:
        extra["WORKER_POOL"] = pool
    for i in range(1, workers + 1):
        stack.start(
            f"worker_orders-{i}", procfile_commands()["worker_orders"], extra_env={"WORKER_ID": str(i), **extra}
        )
    return wait_for_stack(stack, web, workers)


def wait_for_stack(stack: Stack, web: str, workers: int, timeout: float = 90) -> dict[str, dict]:
    """Once the intake answers and `workers` order workers answer a Celery ping (at most `timeout` s): each
    worker's pool as the worker reports it."""
    wait_for_http(f"{web}/healthz", timeout=60)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        layout = worker_pools(stack.env["REDIS_URL"])
        if len([n for n in layout if n.startswith("orders")]) >= workers:
            return layout
        time.sleep(0.5)
    raise RuntimeError(f"celery workers did not answer within {timeout:.0f}s")


def worker_pools(broker_url: str) -> dict[str, dict]:
    """Each answering worker's pool: implementation, max concurrency, pool processes (`celery inspect stats`)."""
    from celery import Celery

    probe = Celery("bench-probe", broker=broker_url)
    try:
        stats = probe.control.inspect(timeout=1.0).stats() or {}
    except Exception:  # noqa: BLE001 - the broker or the workers are not up yet
        return {}
    finally:
        probe.close()
    out = {}
    for node, st in stats.items():
        pool = st.get("pool") or {}
        impl = str(pool.get("implementation", "?")).rsplit(".", 1)[-1].split(":")[0]
        out[node] = {
            "pool": impl,
            "concurrency": pool.get("max-concurrency"),
            "processes": len(pool.get("processes", [])),
        }
    return out


def tree_memory(pid: int) -> dict[str, float]:
    """Memory of a process and its children (MiB): RSS summed (counts shared pages again per process), USS
    (pages only that process has) and PSS (shared pages split between their sharers) summed, and the count."""
    procs = []
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return {}
    rss = uss = pss = 0.0
    threads = 0
    for proc in procs:
        try:
            full = proc.memory_full_info()
            rss, uss, pss = rss + full.rss, uss + full.uss, pss + getattr(full, "pss", 0)
            threads += proc.num_threads()
        except psutil.Error:
            pass
    mib = 1024 * 1024
    return {
        "processes": len(procs),
        "threads": threads,
        "rss_mib": round(rss / mib, 1),
        "uss_mib": round(uss / mib, 1),
        "pss_mib": round(pss / mib, 1),
    }


# --- sending and waiting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One webhook to send: its topic, body and webhook id."""

    topic: str
    body: dict
    webhook_id: str


def send_webhooks(web: str, deliveries: list[Delivery], *, secret: str, shop: str, rate: float | None = None) -> dict:
    """Deliver signed webhooks to the intake from SENDERS threads, as fast as it takes them; a 5xx or a refused
    connection is delivered again, as Shopify would (up to 5 tries here: `failed` lists the webhook ids still not
    accepted, for a caller that delivers them again later, as Shopify's retry schedule does).

    Shopify's senders run on Shopify's machines; here they share the two cores with the service they measure.
    So every body is encoded and signed before the clock starts, and the requests go through one urllib3 pool
    (keep-alive, no requests.Session layers on top): the sending costs as little of the service's CPU as it can.
    `rate` paces them (webhooks a second, the n-th due at n / rate) instead."""
    requests_ready = [_signed_request(item, secret=secret, shop=shop) for item in deliveries]
    parts = urlsplit(web)
    pool = urllib3.HTTPConnectionPool(parts.hostname, parts.port, maxsize=SENDERS, block=True, timeout=30.0)
    path = f"{parts.path.rstrip('/')}/webhooks/shopify"

    latencies_ms = [0.0] * len(requests_ready)  # each delivery's accepted attempt, as Shopify's sender times it

    def deliver(index: int) -> int:
        if rate:
            time.sleep(max(0.0, started + index / rate - time.monotonic()))
        body, headers = requests_ready[index]
        status = -1
        for attempt in range(5):
            sent = time.monotonic()
            try:
                status = pool.urlopen("POST", path, body=body, headers=headers, retries=False).status
            except urllib3.exceptions.HTTPError:
                status = -1
            if 200 <= status < 300:
                latencies_ms[index] = (time.monotonic() - sent) * 1000
                return status
            time.sleep(0.2 * (attempt + 1))
        return status

    started = time.monotonic()
    with pool, ThreadPoolExecutor(max_workers=SENDERS) as senders:
        outcomes = list(senders.map(deliver, range(len(requests_ready))))
    elapsed = time.monotonic() - started
    statuses = Counter(outcomes)
    return {
        "sent": len(deliveries),
        "statuses": {str(k): v for k, v in statuses.items()},
        "failed": [d.webhook_id for d, status in zip(deliveries, outcomes, strict=True) if not 200 <= status < 300],
        "send_s": round(elapsed, 2),
        "intake_per_s": round(len(deliveries) / elapsed, 1) if elapsed else None,
        "latency_ms": latency_summary(
            [ms for ms, status in zip(latencies_ms, outcomes, strict=True) if 200 <= status < 300]
        ),
    }


def latency_summary(values_ms: list[float]) -> dict:
    """p50 / p99 / max of the intake's answer times (ms), as a sender waiting for each 200 sees them."""
    if not values_ms:
        return {"p50": None, "p99": None, "max": None}
    cuts = statistics.quantiles(values_ms * 2 if len(values_ms) == 1 else values_ms, n=100, method="inclusive")
    return {"p50": round(cuts[49], 1), "p99": round(cuts[98], 1), "max": round(max(values_ms), 1)}


AUTOGROUP = Path("/proc/self/autogroup")


def yield_cpu_to_service(nice: int) -> int | None:
    """Run this bench (its load generator and sampler) at CPU priority `nice` against the service it measures.

    Shopify's senders run on Shopify's machines; here they share the two cores with the service, and Linux gives
    each session (autogroup) an equal share: the bench's own session takes as much CPU during a burst as the
    orders worker's. Raised, the bench gets only what the service leaves. The service's processes run in sessions
    of their own (devtools.devstack), which keep nice 0. Returns the session's previous nice, for
    `restore_cpu_priority`; None where the kernel has no autogroups or lowering the nice is not permitted (nothing
    changed)."""
    try:
        previous = int(AUTOGROUP.read_text().split("nice")[1])
        if previous != nice:
            AUTOGROUP.write_text(str(nice))
    except (OSError, IndexError, ValueError):
        return None
    return previous


def restore_cpu_priority(previous: int | None) -> None:
    """Give the session back the priority it had before `yield_cpu_to_service` (only lowering needs no privilege;
    as root, or if it was not lowered, this puts it back)."""
    if previous is None:
        return
    try:
        AUTOGROUP.write_text(str(previous))
    except OSError:
        pass  # not permitted to raise it again: it ends with the terminal session


def _signed_request(item: Delivery, *, secret: str, shop: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(item.body, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": item.topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-04",
        "X-Shopify-Webhook-Id": item.webhook_id,
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
    }
    return body, headers


def wait_done(
    db: BenchDb, prefix: str, expected: int, timeout: float, stack: Stack, label: str
) -> tuple[Counter, bool]:
    """Poll until `expected` events of the prefix are done or dead (False when the timeout came first)."""
    deadline = time.monotonic() + timeout
    last_print = 0.0
    counts: Counter = Counter()
    while time.monotonic() < deadline:
        counts = event_counts(db, prefix)
        finished = counts["done"] + counts["dead"]
        if finished >= expected:
            return counts, True
        stack.check_alive()
        if time.monotonic() - last_print > 10:
            print(f"    {label}: {finished}/{expected} done or dead", flush=True)
            last_print = time.monotonic()
        time.sleep(0.5)
    return counts, False


# --- logs -------------------------------------------------------------------------------------------------

PROBLEM = re.compile(r"(WARNING|ERROR|CRITICAL|Traceback)")
_VARIABLE = re.compile(r"^\S+ \S+ |\b\d+(\.\d+)?\b|\[[0-9a-f-]{36}\]|corr=\S+|eid=\S+")


def scan_logs(run_dir: Path, names: list[str]) -> dict:
    counts: Counter[str] = Counter()
    lines = 0
    for name in names:
        path = run_dir / f"{name}.log"
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            lines += 1
            if PROBLEM.search(line):
                counts[_VARIABLE.sub("#", line)[:180]] += 1
    return {"lines": lines, "problems": sum(counts.values()), "top": counts.most_common(8)}


def raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
