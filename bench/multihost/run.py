"""Several machines, one NetSuite budget: the fleet run as several hosts on this machine (network namespaces,
bench/multihost/network.py). It prints figures; it is not a test.

    .venv/bin/python -m bench.multihost [--hosts 1,2,3] [--orders 1000] [--warmup 300]
        [--kill-hosts 2] [--kill-orders 2500] [--kill-at 0.15] [--after-orders 300] [--kill-mode sigkill|power]
        [--settle-timeout 400] [--env KEY=VALUE] [--no-kill] [--quiet-wait 600] [--step-timeout 900] [--cleanup]

Layout: PostgreSQL and Redis (the bench's own, bench/services.py) and the NetSuite simulator (cap 15, 150 +/- 50 ms
uniform, as bench/netsuite_throughput) on host ss-infra; `web` from the Procfile on ss-web; on each worker host
ss-w1..3 the Procfile's `worker_orders` exactly as shipped (nothing overridden: each host has its own host name,
so Celery names the workers orders@ss-w1 ...), all against one budget NETSUITE_CONCURRENCY=12. The driver (senders,
sampler) runs in the root namespace, linked to the hosts' subnet. Orders, warm-up and the simulator's setup are
bench/netsuite_throughput's.

Steps (`--hosts`): per number of worker hosts, fresh state (every table truncated, Redis flushed, a new simulator),
the warm-up (one order per pool customer), then a burst of `--orders`, waited on until every event is done or dead.
Which host did the work: the simulator counts the calls it served by client address, one address per host.

Host kill (`--kill-hosts` worker hosts, plus `beat` and `worker_bulk` on ss-web for the outbox relay, as shipped):
mid-burst (after `--kill-at` of the orders are done) every process in the last worker host's namespace is
SIGKILLed. Measured: the limiter's holders that host left behind (slots held at the kill that outlive every live
call) until their leases expire, the limiter back to the full budget, every order landed exactly once (the
simulator's sales orders by externalId) with none dead; then that host's worker is started again, the others are
left running, and a second burst (`--after-orders`) shows it takes work. `--kill-mode power`: the host's link is cut
before its processes die and its namespace is deleted, so nobody sees its connections close (a machine losing
power); it comes back as a new namespace with the same address. `--env KEY=VALUE` sets a setting in every process
(e.g. DATABASE_KEEPALIVE_SECONDS=0 shows that run before the keepalive fix).

Everything is bounded (`--step-timeout` per step, SIGALRM). The namespaces are removed in `finally` and on
SIGINT/SIGTERM; `--cleanup` removes a crashed run's leftovers. Raw results go to bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import requests

from app.config import environ_copy
from bench import common
from bench.multihost.network import Host, Network, cleanup, existing_namespaces
from bench.netsuite_throughput import run as nst
from bench.services import PrivatePostgres, PrivateRedis, require_root
from devtools.devstack import ROOT, Stack, procfile_commands, wait_for_http

RESULTS_DIR = ROOT / "bench" / "results"
DB_NAME = "shopsync_multihost"
PG_PORT, REDIS_PORT, SIM_PORT, WEB_PORT = 55432, 56379, 8090, 8000
HOLDERS_KEY = "shopsync:nslimiter:holders"  # netsuite_client/limiter.py: members "<lane>|<token>", score = expiry
LEASE_S = 35.0  # LimiterConfig.lease_s, the default the workers run with
BUDGET, LATENCY_MS = nst.BUDGET, nst.LATENCY_MS
CEILING = BUDGET / (LATENCY_MS / 1000)
SEED = 20261203
LIVE_CALL_MAX_S = 2.0  # a live call holds its slot for one attempt (<= 200 ms here): held longer = a dead holder
RELAY_WAIT_S = (
    400  # the outbox relay republishes a lost event >= 60 s after receipt, every 30 s, once the queue is empty
)
RELAY_LOG = re.compile(r"outbox relay re-published (\d+) event")


@dataclass
class Ctx:
    args: argparse.Namespace
    net: Network
    db: common.BenchDb
    env: dict[str, str]
    run_dir: Path

    @property
    def sim(self) -> str:
        return f"http://{self.net.infra.address}:{SIM_PORT}"

    @property
    def web(self) -> str:
        return f"http://{self.net.web.address}:{WEB_PORT}"

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.db.redis_url, socket_timeout=5)

    def host_of(self, address: str) -> str:
        return next((h.netns for h in self.net.hosts if h.address == address), address)


def bench_env(net: Network, db: common.BenchDb) -> dict[str, str]:
    infra = net.infra.address
    env = {
        **environ_copy(),
        **nst.BENCH_ENV,
        "DATABASE_URL": db.dsn,
        "REDIS_URL": db.redis_url,
        "NETSUITE_BASE_URL": f"http://{infra}:{SIM_PORT}/services/rest",
        # Nothing here reads Shopify; should anything try, a closed port on the infra host refuses it at once.
        "SHOPIFY_ADMIN_URL": f"http://{infra}:9/admin/api/2026-04/graphql.json",
        "PORT": str(WEB_PORT),
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


# --- stack ------------------------------------------------------------------------------------------------


def worker_name(host: Host) -> str:
    return f"worker_orders@{host.netns}"


def start_worker(stack: Stack, host: Host) -> None:
    stack.start(worker_name(host), host.wrap(procfile_commands()["worker_orders"]))


def start_stack(ctx: Ctx, stack: Stack, hosts: list[Host], seed: int, relay: bool) -> dict:
    procfile = procfile_commands()
    infra, web = ctx.net.infra, ctx.net.web
    stack.start("netsuite", infra.wrap(nst.simulator_command(SIM_PORT, infra.address)))
    wait_for_http(f"{ctx.sim}/_sim/stats", timeout=30)
    config = nst.prepare_simulator(ctx.sim, ctx.env, 0, seed)
    stack.start("web", web.wrap(procfile["web"]))
    for host in hosts:
        start_worker(stack, host)
    if relay:  # the outbox relay: beat sends it every 30 s, worker_bulk runs it (both as shipped)
        stack.start("beat", web.wrap(procfile["beat"]))
        stack.start("worker_bulk", web.wrap(procfile["worker_bulk"]))
    pools = common.wait_for_stack(stack, ctx.web, len(hosts))
    return {"sim_config": config, "worker_pools": pools}


def send(ctx: Ctx, orders: list[dict], prefix: str) -> dict:
    deliveries = [common.Delivery("orders/create", o, f"{prefix}{uuid.uuid4()}") for o in orders]
    return common.send_webhooks(ctx.web, deliveries, secret=nst.SECRET, shop=nst.SHOP)


def warm_up(ctx: Ctx, stack: Stack, orders: list[dict]) -> None:
    prefix = f"mh-warm-{uuid.uuid4().hex[:8]}-"
    print(f"  warm-up: {len(orders)} orders ...", flush=True)
    send(ctx, orders, prefix)
    counts, ok = common.wait_done(ctx.db, prefix, len(orders), nst.WARMUP_TIMEOUT_S, stack, "warm-up")
    if not ok or counts.get("dead"):
        raise RuntimeError(f"warm-up failed (in time: {ok}): {dict(counts)}")


def sim_stats(ctx: Ctx) -> dict:
    return requests.get(f"{ctx.sim}/_sim/stats", timeout=10).json()


def by_host(ctx: Ctx, before: dict, after: dict) -> dict[str, dict[str, int]]:
    """Calls and sales-order writes (created or upserted) the simulator served per client address (= host)
    between two stats."""
    out: dict[str, dict[str, int]] = {}
    old = before.get("calls_by_client") or {}
    for address, calls in sorted((after.get("calls_by_client") or {}).items()):
        prev = old.get(address, {})
        delta = {op: n - prev.get(op, 0) for op, n in calls.items() if op != "POST oauth2/token"}
        out[ctx.host_of(address)] = {
            "calls": sum(delta.values()),
            "sales_order_upserts": delta.get("POST salesOrder", 0) + delta.get("PUT salesOrder", 0),
        }
    return out


def landed(ctx: Ctx, orders: list[dict]) -> dict:
    """Each order's sales order in the simulator, by externalId: exactly once, missing, or more than once."""
    records = requests.get(f"{ctx.sim}/_sim/records/salesOrder", timeout=60).json()
    wanted = {f"shopify-order-{o['id']}" for o in orders}
    seen = Counter(r.get("externalId") for r in records if r.get("externalId") in wanted)
    return {
        "orders": len(wanted),
        "landed_once": sum(1 for n in seen.values() if n == 1),
        "missing": len(wanted - set(seen)),
        "duplicates": sum(n - 1 for n in seen.values() if n > 1),
    }


def phase_figures(
    ctx: Ctx, orders: list[dict], prefix: str, base: dict, end: dict, sampler: nst.Sampler | None
) -> dict:
    samples = sampler.samples if sampler is not None else []
    calls = common.sim_calls(end) - common.sim_calls(base)
    total = sum(calls.values())
    log = nst.call_log_figures(base["call_log_id"], ctx.db.dsn)
    per_s = total / log["window_s"] if log["window_s"] else 0.0
    timing = common.phase_timing(ctx.db, prefix)
    e2e = timing["received_to_processed_s"]
    events = common.event_counts(ctx.db, prefix)
    return {
        "orders": len(orders),
        "events": dict(events),
        "orders_per_s": round(len(orders) / e2e, 1) if e2e else None,
        "received_to_processed_s": e2e,
        "calls": total,
        "calls_by_operation": dict(calls),
        "calls_per_s": round(per_s, 1),
        "steady_calls_per_s_10_90": nst.steady_rate(samples, sum(common.sim_calls(base).values())),
        "utilization": round(per_s / CEILING, 3),
        "peak_concurrency_sim": end.get("peak_concurrency"),
        "peak_in_use_limiter_sampled": max((s["in_use"] for s in samples), default=None),
        "rejections_429": (end.get("rejections") or {}).get("concurrency", 0)
        - (base.get("rejections") or {}).get("concurrency", 0),
        "calls_per_order": round(total / len(orders), 3) if orders else None,
        "call_log": {k: log[k] for k in ("rows", "window_s", "mean_duration_ms", "http_429_rows")},
        "by_host": by_host(ctx, base, end),
        "landed": landed(ctx, orders),
        "dead": events.get("dead", 0),
        "dead_letters_total": timing["dead_letters_total"],
        "dead_letters_by_task": dead_letters_by_task(ctx.db),
        "max_attempts": timing["max_attempts"],
        "last_errors": timing["last_errors"],
        # Another benchmark or test seen during the phase (2 shared cores): its figures are disturbed.
        "other_processes_during_phase": sampler.intruders if sampler is not None else {},
        "mean_machine_busy_pct": round(sum(s["machine_busy_pct"] for s in samples) / len(samples), 1)
        if samples
        else None,
    }


def dead_letters_by_task(db: common.BenchDb) -> dict[str, int]:
    with db.connect() as conn:
        return dict(conn.execute("SELECT task_name, count(*) FROM dead_letters GROUP BY 1 ORDER BY 1").fetchall())


def base_point(ctx: Ctx) -> dict:
    return {**sim_stats(ctx), "call_log_id": nst.max_call_log_id(ctx.db.dsn)}


def make_orders(run_no: int, warmup: int, orders: int) -> tuple[list[dict], list[dict]]:
    warm, measured, _new = nst.generate(random.Random(SEED + run_no), warmup, orders, run_no)
    return warm, measured


# --- one step: n worker hosts -----------------------------------------------------------------------------


def step(ctx: Ctx, hosts: int, run_no: int) -> dict:
    common.reset_state(ctx.db, nst.TABLES)
    stack = Stack(env=ctx.env, run_dir=ctx.run_dir / f"hosts-{hosts}")
    warm, measured = make_orders(run_no, ctx.args.warmup, ctx.args.orders)
    prefix = f"mh-burst-{uuid.uuid4().hex[:8]}-"
    worker_hosts = ctx.net.workers[:hosts]
    try:
        setup = start_stack(ctx, stack, worker_hosts, SEED + run_no, relay=False)
        print(f"  workers: {setup['worker_pools']}", flush=True)
        warm_up(ctx, stack, warm)
        quiet = common.wait_for_no_other_benchmarks(ctx.args.quiet_wait)
        base = base_point(ctx)
        sampler = nst.Sampler(ctx.sim, ctx.db.redis_url)
        print(f"  burst: {len(measured)} orders over {hosts} worker host(s) ...", flush=True)
        sampler.start()
        try:
            sent = send(ctx, measured, prefix)
            _counts, finished = common.wait_done(ctx.db, prefix, len(measured), nst.MEASURE_TIMEOUT_S, stack, "burst")
        finally:
            sampler.stop()
        end = sim_stats(ctx)
        figures = phase_figures(ctx, measured, prefix, base, end, sampler)
        stack.check_alive()
    finally:
        stack.stop_all()
    result = {"worker_hosts": hosts, **setup, "quiet_check": quiet, "send": sent, "finished_in_time": finished}
    result.update(figures)
    result["logs"] = common.scan_logs(stack.run_dir, ["web", *[worker_name(h) for h in worker_hosts]])
    return result


# --- the host kill ----------------------------------------------------------------------------------------


def holders(client: redis.Redis) -> dict[str, float]:
    """The limiter's live holders: member -> seconds left on its lease (Redis's clock, as the limiter's)."""
    seconds, micros = client.time()
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    members = client.zrangebyscore(HOLDERS_KEY, now_ms, "+inf", withscores=True)
    return {m.decode(): round((score - now_ms) / 1000, 2) for m, score in members}


def watch_dead_holders(client: redis.Redis, killed_at: float, held_at_kill: dict[str, float]) -> dict:
    """After the kill: which holders outlive every live call (the dead host's), when the last of them is gone,
    and when the limiter is back at the full budget."""
    dead: dict[str, float] | None = None
    returned_at = full_at = None
    trace = []
    deadline = killed_at + LEASE_S + 20
    while time.monotonic() < deadline:
        now = holders(client)
        t = round(time.monotonic() - killed_at, 2)
        if dead is None and t >= LIVE_CALL_MAX_S:
            dead = {m: left for m, left in held_at_kill.items() if m in now}
        alive_dead = [m for m in (dead or {}) if m in now]
        trace.append((t, len(now), len(alive_dead) if dead is not None else None))
        if dead is not None and returned_at is None and not alive_dead:
            returned_at = t
        if returned_at is not None and len(now) >= BUDGET:
            full_at = t
            break
        if returned_at is not None and t > returned_at + 15:
            break
        time.sleep(0.1)
    return {
        "held_at_kill": len(held_at_kill),
        "dead_holders": len(dead or {}),
        "dead_lease_left_at_kill_s": sorted((dead or {}).values()),
        "dead_holders_gone_after_s": returned_at,
        "limiter_full_budget_again_after_s": full_at,
        "trace_in_use_dead": trace[:: max(1, len(trace) // 60)],
    }


def kill_run(ctx: Ctx, run_no: int) -> dict:
    args = ctx.args
    hosts = ctx.net.workers[: args.kill_hosts]
    victim, survivors = hosts[-1], hosts[:-1]
    common.reset_state(ctx.db, nst.TABLES)
    stack = Stack(env=ctx.env, run_dir=ctx.run_dir / f"kill-{args.kill_hosts}")
    warm, measured = make_orders(run_no, args.warmup, args.kill_orders + args.after_orders)
    burst, after = measured[: args.kill_orders], measured[args.kill_orders :]  # the same customers
    prefix, after_prefix = f"mh-kill-{uuid.uuid4().hex[:8]}-", f"mh-after-{uuid.uuid4().hex[:8]}-"
    client = ctx.redis()
    result: dict[str, Any] = {"worker_hosts": args.kill_hosts, "victim": victim.netns, "kill_mode": args.kill_mode}
    try:
        result.update(start_stack(ctx, stack, hosts, SEED + run_no, relay=True))
        print(f"  workers: {result['worker_pools']}", flush=True)
        warm_up(ctx, stack, warm)
        result["quiet_check"] = common.wait_for_no_other_benchmarks(args.quiet_wait)
        base = base_point(ctx)
        survivor_pids = {h.netns: stack.processes[worker_name(h)].pid for h in survivors}
        sampler = nst.Sampler(ctx.sim, ctx.db.redis_url)
        sender_out: dict = {}
        sender = threading.Thread(target=lambda: sender_out.update(send(ctx, burst, prefix)), daemon=True)
        print(f"  burst: {len(burst)} orders over {len(hosts)} worker hosts; {victim.netns} killed at ...", flush=True)
        started = time.monotonic()
        sampler.start()
        sender.start()
        try:
            while common.event_counts(ctx.db, prefix)["done"] < args.kill_at * len(burst):
                if time.monotonic() - started > nst.MEASURE_TIMEOUT_S:
                    raise RuntimeError("the burst did not reach the kill point in time")
                time.sleep(0.05)
            before_kill = sim_stats(ctx)
            killed = ctx.net.power_off(victim) if args.kill_mode == "power" else victim.kill_all()
            killed_at = time.monotonic()
            held_at_kill = holders(client)
            stack.processes.pop(worker_name(victim))  # dead on purpose: not a failure of the stack
            done_at_kill = common.event_counts(ctx.db, prefix)["done"]
            print(
                f"    SIGKILLed {len(killed)} processes of {victim.netns} at {killed_at - started:.1f}s"
                f" ({done_at_kill}/{len(burst)} done); {len(held_at_kill)} slots held",
                flush=True,
            )
            watch = watch_dead_holders(client, killed_at, held_at_kill)
            print(
                f"    dead holders {watch['dead_holders']}, gone after {watch['dead_holders_gone_after_s']} s;"
                f" limiter at {BUDGET} again after {watch['limiter_full_budget_again_after_s']} s",
                flush=True,
            )
            at_restart = sim_stats(ctx)
            if args.kill_mode == "power":
                ctx.net.power_on(victim)
            start_worker(stack, victim)
            restarted_at = time.monotonic()
            common.wait_for_stack(stack, ctx.web, len(hosts))
            rejoined_s = round(time.monotonic() - restarted_at, 1)
            sender.join(timeout=nst.MEASURE_TIMEOUT_S)
            counts, finished = common.wait_done(
                ctx.db, prefix, len(burst), args.settle_timeout, stack, "burst (lost tasks wait for the relay)"
            )
        finally:
            sampler.stop()
        end = sim_stats(ctx)
        result["survivors_not_restarted"] = {
            n: stack.processes[worker_name(h)].pid == survivor_pids[n] and stack.processes[worker_name(h)].alive()
            for h in survivors
            for n in [h.netns]
        }
        print(f"  after the restart: {len(after)} more orders ...", flush=True)
        after_base = base_point(ctx)
        send(ctx, after, after_prefix)
        after_counts, after_finished = common.wait_done(
            ctx.db, after_prefix, len(after), nst.MEASURE_TIMEOUT_S, stack, "after"
        )
        after_end = sim_stats(ctx)
        figures = {
            "burst": phase_figures(ctx, burst, prefix, base, end, sampler),
            "after": phase_figures(ctx, after, after_prefix, after_base, after_end, None),
        }
        stack.check_alive()
    finally:
        stack.stop_all()
    result.update(
        {
            "send": sender_out,
            "finished_in_time": finished and after_finished,
            "killed_processes": len(killed),
            "killed_at_s": round(killed_at - started, 1),
            "done_at_kill": done_at_kill,
            "victim_calls_before_kill": by_host(ctx, base, before_kill).get(victim.netns, {}),
            "victim_calls_after_restart_in_burst": by_host(ctx, at_restart, end).get(victim.netns, {}),
            "worker_rejoined_s": rejoined_s,
            "holders": watch,
            **figures,
            "relay_republished": sum(
                int(m) for m in RELAY_LOG.findall((stack.run_dir / "worker_bulk.log").read_text(errors="replace"))
            ),
            "events_burst": dict(counts),
            "events_after": dict(after_counts),
        }
    )
    result["logs"] = common.scan_logs(stack.run_dir, ["web", "beat", "worker_bulk", *[worker_name(h) for h in hosts]])
    return result


# --- report -----------------------------------------------------------------------------------------------


def steps_table(steps: list[dict]) -> str:
    def row(label: str, fn) -> str:
        return f"| {label} | " + " | ".join(str(fn(s)) for s in steps) + " |"

    def hosts_cell(s: dict) -> str:
        return ", ".join(
            f"{h} {v['sales_order_upserts']}/{v['calls']}" for h, v in s["by_host"].items() if h.startswith("ss-w")
        )

    lines = [
        "| worker hosts | " + " | ".join(str(s["worker_hosts"]) for s in steps) + " |",
        "| --- |" + " --- |" * len(steps),
        row("orders (burst)", lambda s: s["orders"]),
        row("orders/s (first received -> last processed)", lambda s: s["orders_per_s"]),
        row(
            "NetSuite calls/s (call window) / steady 10-90%",
            lambda s: f"{s['calls_per_s']} / {s['steady_calls_per_s_10_90']}",
        ),
        row(f"utilization = calls/s / ({BUDGET} / {LATENCY_MS / 1000:.2f} s)", lambda s: s["utilization"]),
        row(
            "peak concurrency (simulator) / limiter sampled",
            lambda s: f"{s['peak_concurrency_sim']} / {s['peak_in_use_limiter_sampled']}",
        ),
        row("429s", lambda s: s["rejections_429"]),
        row(
            "machine busy (sampled) / other benches or tests seen",
            lambda s: f"{s['mean_machine_busy_pct']}% / {len(s['other_processes_during_phase'])}",
        ),
        row("calls per order", lambda s: s["calls_per_order"]),
        row("per worker host: sales orders / calls", hosts_cell),
        row(
            "landed once / missing / duplicates / dead",
            lambda s: (
                f"{s['landed']['landed_once']} / {s['landed']['missing']} / {s['landed']['duplicates']} / {s['dead']}"
            ),
        ),
    ]
    return "\n".join(lines)


def kill_report(k: dict) -> str:
    b, a, h = k["burst"], k["after"], k["holders"]
    hosts = ", ".join(
        f"{n} {v['sales_order_upserts']}/{v['calls']}" for n, v in b["by_host"].items() if n.startswith("ss-w")
    )
    after_hosts = ", ".join(
        f"{n} {v['sales_order_upserts']}/{v['calls']}" for n, v in a["by_host"].items() if n.startswith("ss-w")
    )
    rows = [
        (
            "worker hosts / killed",
            f"{k['worker_hosts']} / {k['victim']} (all {k['killed_processes']} processes, "
            + ("SIGKILL)" if k["kill_mode"] == "sigkill" else "link cut first, SIGKILL, namespace deleted)"),
        ),
        ("killed at", f"{k['killed_at_s']} s into the burst, {k['done_at_kill']}/{b['orders']} orders done"),
        (
            "slots held at the kill / by the dead host",
            f"{h['held_at_kill']} / {h['dead_holders']} (lease left: {h['dead_lease_left_at_kill_s']} s)",
        ),
        (
            "dead host's slots returned after",
            f"{h['dead_holders_gone_after_s']} s (lease {LEASE_S:.0f} s, renewed every 5 s)",
        ),
        ("limiter at the full budget again after", f"{h['limiter_full_budget_again_after_s']} s"),
        (
            "peak concurrency (simulator, whole run) / limiter sampled",
            f"{b['peak_concurrency_sim']} / {b['peak_in_use_limiter_sampled']}",
        ),
        ("429s", b["rejections_429"]),
        ("events republished by the outbox relay", k["relay_republished"]),
        ("burst events at the end, by status", k["events_burst"]),
        (
            "burst: orders/s, calls/s, calls per order",
            f"{b['orders_per_s']}, {b['calls_per_s']}, {b['calls_per_order']}",
        ),
        ("burst: per worker host sales orders / calls", hosts),
        (
            "burst: landed once / missing / duplicates / dead",
            f"{b['landed']['landed_once']} / {b['landed']['missing']} / {b['landed']['duplicates']} / {b['dead']}",
        ),
        (
            "restarted host: answering after / calls in the rest of the burst",
            f"{k['worker_rejoined_s']} s / {k['victim_calls_after_restart_in_burst']}",
        ),
        ("other hosts left running (same pid, alive)", k["survivors_not_restarted"]),
        (f"after the restart, {a['orders']} orders: per host sales orders / calls", after_hosts),
        (
            "after: landed once / missing / duplicates / dead",
            f"{a['landed']['landed_once']} / {a['landed']['missing']} / {a['landed']['duplicates']} / {a['dead']}",
        ),
        ("dead letters (whole run), by task", f"{a['dead_letters_total']} {a['dead_letters_by_task'] or ''}"),
        (
            "machine busy (sampled) / other benches or tests seen in the burst",
            f"{b['mean_machine_busy_pct']}% / {len(b['other_processes_during_phase'])}",
        ),
    ]
    return "\n".join(["| host kill | |", "| --- | --- |", *[f"| {k_} | {v} |" for k_, v in rows]])


def verdicts(out: dict) -> list[tuple[str, bool, str]]:
    checks = []
    for s in out.get("steps", []):
        n, lt = s["worker_hosts"], s["landed"]
        checks += [
            (
                f"{n} host(s): peak <= budget {BUDGET}",
                (s["peak_concurrency_sim"] or 0) <= BUDGET and (s["peak_in_use_limiter_sampled"] or 0) <= BUDGET,
                f"simulator {s['peak_concurrency_sim']}, limiter {s['peak_in_use_limiter_sampled']},"
                f" {s['rejections_429']} 429s",
            ),
            (
                f"{n} host(s): every order once",
                lt["landed_once"] == lt["orders"]
                and not lt["duplicates"]
                and s["events"].get("done", 0) == lt["orders"],
                f"{lt['landed_once']}/{lt['orders']}, {lt['missing']} missing, {lt['duplicates']} duplicates,"
                f" {s['dead']} dead",
            ),
        ]
    k = out.get("kill")
    if k:
        b, a, h = k["burst"], k["after"], k["holders"]
        gone = h["dead_holders_gone_after_s"]
        checks += [
            (
                f"host kill: the dead host's slots back within the lease ({LEASE_S:.0f} s)",
                gone is not None and gone <= LEASE_S + 1,
                f"{h['dead_holders']} slots, gone after {gone} s",
            ),
            (
                f"host kill: peak <= budget {BUDGET}",
                max(b["peak_concurrency_sim"] or 0, a["peak_concurrency_sim"] or 0) <= BUDGET
                and (b["peak_in_use_limiter_sampled"] or 0) <= BUDGET,
                f"simulator {a['peak_concurrency_sim']} (whole run), limiter {b['peak_in_use_limiter_sampled']}",
            ),
            (
                "host kill: every order once, every event done, none dead",
                all(
                    p["landed"]["landed_once"] == p["orders"]
                    and not p["landed"]["duplicates"]
                    and p["events"].get("done", 0) == p["orders"]
                    for p in (b, a)
                ),
                f"{b['landed']['landed_once'] + a['landed']['landed_once']}/{b['orders'] + a['orders']} once,"
                f" events {b['events']} + {a['events']}",
            ),
            (
                "host kill: the host rejoins, the others untouched",
                (a["by_host"].get(k["victim"], {}).get("calls", 0) > 0) and all(k["survivors_not_restarted"].values()),
                f"{k['victim']} {a['by_host'].get(k['victim'])} after the restart;"
                f" others {k['survivors_not_restarted']}",
            ),
        ]
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.multihost", description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", default="1,2,3", help="comma-separated worker host counts, one step each")
    parser.add_argument("--orders", type=int, default=1000, help="orders in each step's burst")
    parser.add_argument("--warmup", type=int, default=300, help="warm-up orders (one per pool customer first)")
    parser.add_argument("--kill-hosts", type=int, default=2, help="worker hosts in the kill run (the last is killed)")
    parser.add_argument("--kill-orders", type=int, default=2500, help="orders in the kill run's burst")
    parser.add_argument("--kill-at", type=float, default=0.15, help="share of the burst done when the host is killed")
    parser.add_argument("--after-orders", type=int, default=300, help="orders sent after the host is back")
    parser.add_argument(
        "--kill-mode",
        choices=("sigkill", "power"),
        default="sigkill",
        help="sigkill: every process of the host SIGKILLed (the kernel closes its sockets); power: the host's link"
        " cut first, then the processes killed and the namespace deleted (nobody sees its connections close)",
    )
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=400,
        help="s to wait for the kill run's burst to finish (the outbox relay republishes a lost event >= 60 s after"
        " receipt, every 30 s, once the queue is empty)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for every process (default: none, the shipped configuration)",
    )
    parser.add_argument("--no-kill", action="store_true", help="skip the host-kill run")
    parser.add_argument("--step-timeout", type=int, default=900, help="hard limit (s) of each step and the kill run")
    parser.add_argument("--quiet-wait", type=float, default=common.QUIET_MAX_WAIT_S)
    parser.add_argument("--cleanup", action="store_true", help="remove a crashed run's namespaces and links, exit")
    args = parser.parse_args(argv)
    require_root()
    if args.cleanup:
        print(f"removed: {cleanup() or 'nothing'}")
        return 0
    steps = [int(v) for v in args.hosts.split(",") if v.strip()]
    if any(not 1 <= n <= 3 for n in steps) or not 2 <= args.kill_hosts <= 3:
        parser.error("--hosts values 1..3, --kill-hosts 2..3")
    if not 1 <= args.orders <= 5000 or not 1 <= args.kill_orders <= 10000 or not 0 < args.kill_at < 1:
        parser.error("--orders 1..5000, --kill-orders 1..10000, --kill-at between 0 and 1")

    for sig in (signal.SIGTERM, signal.SIGALRM):
        signal.signal(sig, common.raise_exit)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = RESULTS_DIR / f"multihost-{stamp}"
    run_dir.mkdir(parents=True, exist_ok=True)
    net = Network(max([*steps, 0 if args.no_kill else args.kill_hosts]))
    pg = rds = None
    out: dict[str, Any] = {"command": "python -m bench.multihost " + " ".join(sys.argv[1:] if argv is None else argv)}
    out["quiet_check_start"] = common.wait_for_no_other_benchmarks(args.quiet_wait)
    try:
        net.create()
        print(f"network: {', '.join(f'{h.netns} {h.address}' for h in net.hosts)}; driver {net.root_address}")
        pg = PrivatePostgres(host=net.infra.address, port=PG_PORT, netns=net.infra.netns).init().start()
        rds = PrivateRedis(host=net.infra.address, port=REDIS_PORT, netns=net.infra.netns).start()
        db = common.BenchDb(DB_NAME, 0, f"{net.infra.address}:{PG_PORT}", f"{net.infra.address}:{REDIS_PORT}")
        pg.create_database(DB_NAME)
        env = {**bench_env(net, db), **dict(item.split("=", 1) for item in args.env)}
        if args.env:
            print(f"settings overridden for every process: {', '.join(args.env)}", flush=True)
        print(common.shopsync(env, "db", "upgrade"), flush=True)
        ctx = Ctx(args, net, db, env, run_dir)
        out["machine"] = common.machine_info(db)
        out["code"] = common.code_state(db)
        m, c = out["machine"], out["code"]
        print(
            f"bench/multihost on {m['nproc']} x {m['cpu_model']}, {m['date_utc']}; PostgreSQL {m['postgresql']},"
            f" Redis {m['redis']}; load {' '.join(m['loadavg_before'])}; code {c['head']}"
            f" + {c['uncommitted_paths']} uncommitted path(s) (diff {c['diff_sha1']})",
            flush=True,
        )
        out["steps"] = []
        for n, hosts in enumerate(steps):
            print(f"\nstep {n + 1}/{len(steps)}: {hosts} worker host(s)", flush=True)
            signal.alarm(args.step_timeout)
            out["steps"].append(step(ctx, hosts, n))
            signal.alarm(0)
        if not args.no_kill:
            print(f"\nhost kill: {args.kill_hosts} worker hosts", flush=True)
            signal.alarm(args.step_timeout)
            out["kill"] = kill_run(ctx, len(steps) + 1)
            signal.alarm(0)
    finally:
        signal.alarm(0)
        if rds is not None:
            rds.stop()
        if pg is not None:
            pg.remove()
        removed = net.remove()
        left = existing_namespaces()
        print(f"\nremoved {', '.join(removed)}; namespaces left: {left or 'none'}", flush=True)
        path = RESULTS_DIR / f"multihost-{stamp}.json"
        path.write_text(json.dumps(out, indent=2, default=str))
        print(f"raw results: {path.relative_to(ROOT)} (process logs in {run_dir.relative_to(ROOT)}/)")
    if out.get("steps"):
        print("\n" + steps_table(out["steps"]))
    if out.get("kill"):
        print("\n" + kill_report(out["kill"]))
    checks = verdicts(out)
    print()
    for name, ok, detail in checks:
        print(f"{'PASS' if ok else 'MISS'}  {name}: {detail}")
    return 0 if checks and all(ok for _, ok, _ in checks) else 1
