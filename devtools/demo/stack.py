"""The demo's stack and what every step shares: the real processes (both simulators, gunicorn, the Procfile's
workers, beat and Flower), sending webhooks and waiting for them with a progress bar, and reading NetSuite back.

The stack is the chaos soak's (bench/soak/run.py: the same settings, seeds and start-up), without the chaos and on
the shared PostgreSQL and Redis: the database `shopsync_demo` (migrated, then emptied) and Redis db 1 (flushed),
with a payment model and payout accounts (`PAYMENT_ENV`) so the money reaches a bank deposit.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import requests

from bench import common
from bench.orders_realistic.run import SECRET, SHOP
from bench.soak import history as hist
from bench.soak import plan
from bench.soak import run as soak
from bench.soak.faults import FaultLog
from devtools.devstack import ROOT, Stack, free_port, wait_for_http

DEMO_DB = "shopsync_demo"
DEMO_REDIS_DB = 1
SEND_CHUNK = 25  # deliveries per progress-bar step
TABLES = ("webhook_events", "order_state", "dead_letters", "reconciliation_runs", "payouts")
PAYMENT_MODEL = "deposit"
# Money to the bank (docs/CONFIGURATION.md "Payments and payouts"): each capture a customer deposit in Undeposited
# Funds, each payout one bank deposit. Internal ids as the NetSuite simulator takes them (it holds no chart of
# accounts): payment methods, the USD bank account and the deposit lines' accounts.
PAYOUT_ACCOUNTS = {  # a deposit line's role -> its account
    "fees": "601",
    "disputes": "602",
    "reserves": "603",
    "adjustments": "604",
    "variance": "698",
    "suspense": "699",
}
PAYMENT_ENV = {
    "PAYMENT_MODEL": PAYMENT_MODEL,
    "NETSUITE_DEFAULT_PAYMENT_METHOD_ID": "9",
    "PAYMENT_METHOD_MAP": "shopify_payments=11,gift_card=12",
    "PAYOUT_BANK_ACCOUNTS": "USD=101",
    **{f"PAYOUT_{role.upper()}_ACCOUNT_ID": account for role, account in PAYOUT_ACCOUNTS.items()},
}


@dataclass
class DemoOptions:
    orders: int = 200
    duplicate_share: float = 0.1
    timeout_s: float = 900.0  # the whole run, start-up included
    keep: bool = False
    database: str = DEMO_DB
    redis_db: int = DEMO_REDIS_DB
    latency_ms: int = 60  # the NetSuite simulator's, +/- jitter_ms
    jitter_ms: int = 40
    seed: int = 20261123
    run_dir: Path = field(default_factory=lambda: ROOT / ".run" / "demo")


@dataclass
class Demo:
    """The running stack and the story so far: every lifecycle made in Shopify, which NetSuite must hold."""

    options: DemoOptions
    stack: Stack
    urls: dict[str, str]
    db: common.BenchDb
    soak_options: soak.Options
    deadline: soak.Deadline
    ops_token: str
    flower_auth: tuple[str, str]
    rng: random.Random
    prefix: str
    lifecycles: list[plan.Lifecycle] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return dict(self.stack.env)

    def shopsync(self, *args: str) -> str:
        """The production CLI, as an operator runs it on a host of the fleet."""
        return common.shopsync(self.env, *args, timeout=max(30, int(self.deadline.left())))

    def shopsync_json(self, *args: str, busy: str) -> dict:
        """`shopsync <args> --json`, again (up to 10 times, a second apart) while its report says `busy`: beat's own
        run of the same job held the lock at that moment."""
        for _ in range(10):
            report = json.loads(self.shopsync(*args, "--json"))
            if not report.get(busy):
                return report
            time.sleep(1.0)
        return report

    def ops(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The ops API with the OPS token, as the console and an operator's script call it."""
        headers = {"Authorization": f"Bearer {self.ops_token}"}
        resp = requests.request(method, f"{self.urls['web']}/ops{path}", headers=headers, timeout=30, **kwargs)
        resp.raise_for_status()
        return resp

    def send(self, deliveries: list[common.Delivery], label: str) -> dict[str, int]:
        """Deliver signed webhooks to the intake with a progress bar; every one must be accepted."""
        statuses: dict[str, int] = {}
        with click.progressbar(length=len(deliveries), label=label, show_pos=True) as bar:
            for first in range(0, len(deliveries), SEND_CHUNK):
                self.deadline.check(label)
                batch = deliveries[first : first + SEND_CHUNK]
                sent = common.send_webhooks(self.urls["web"], batch, secret=SECRET, shop=SHOP)
                if sent["failed"]:
                    raise RuntimeError(
                        f"{label}: the intake refused {len(sent['failed'])} deliveries {sent['statuses']}"
                    )
                for status, count in sent["statuses"].items():
                    statuses[status] = statuses.get(status, 0) + count
                bar.update(len(batch))
        return statuses

    def deliver(self, lifecycles: list[plan.Lifecycle], label: str, duplicate_share: float) -> plan.Stream:
        """Shopify's webhooks of these lifecycles (orders/paid with each orders/create: they are paid at checkout),
        some delivered more than once, all shuffled, none lost."""
        for life in lifecycles:
            life.paid = True
        stream = plan.stream(
            lifecycles,
            self.prefix,
            self.rng,
            FaultLog(),
            drop_share=0.0,
            duplicate_share=duplicate_share,
            bad_refunds=False,
        )
        self.send(stream.deliveries, label)
        return stream

    def settle(self, label: str) -> float:
        """Wait (progress bar) until every stored event is done or dead; seconds it took."""
        return soak.settle(self.soak_options, self.db, self.stack, self.deadline, label)

    def netsuite(self) -> dict[str, Any]:
        """What NetSuite (the simulator) holds, read from the simulator itself, and our dead letters."""
        return soak.collect(self.urls, self.db)

    def check(self, seen: dict[str, Any]) -> hist.History:
        """The soak's history check over every lifecycle so far: each order once, its lines, NetSuite's own total
        equal to Shopify's, fulfillments, credit memos and refunds once, cancelled lines closed, nothing more.
        Inventory levels and dead letters are the steps' own checks."""
        return hist.check(
            self.lifecycles,
            seen["netsuite"],
            seen["items"],
            peak=int(seen["stats"].get("peak_concurrency") or 0),
            budget=soak.BUDGET,
            shopify_levels={},
            netsuite_levels={},
            dead_letters=[],
            log=FaultLog(),
            payment_model=PAYMENT_MODEL,
        )


def prepare(options: DemoOptions) -> Demo:
    """The demo's settings, ports and tokens; nothing started yet."""
    soak_options = soak.Options(
        orders=options.orders,
        seed=options.seed,
        workers=1,
        concurrency=4,
        latency_ms=options.latency_ms,
        jitter_ms=options.jitter_ms,
        timeout_s=options.timeout_s,
        republish_s=20.0,
        progress=True,
    )
    db = common.BenchDb(options.database, options.redis_db)
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("sim", "shop", "web", "flower")}
    ops_token = secrets.token_urlsafe(18)
    flower_auth = ("demo", secrets.token_urlsafe(12))
    env = {
        **soak.service_env(soak_options, db, urls),
        **PAYMENT_ENV,
        "OPS_TOKEN": ops_token,
        "FLOWER_PORT": urls["flower"].rsplit(":", 1)[1],
        "FLOWER_BASIC_AUTH": ":".join(flower_auth),
    }
    stack = Stack(env=env, run_dir=options.run_dir)
    demo = Demo(
        options=options,
        stack=stack,
        urls=urls,
        db=db,
        soak_options=soak_options,
        deadline=soak.Deadline(options.timeout_s),
        ops_token=ops_token,
        flower_auth=flower_auth,
        rng=random.Random(options.seed),
        prefix=f"demo-{secrets.token_hex(3)}-",
    )
    return demo


def start(demo: Demo) -> None:
    """Migrate and empty the demo database, seed both simulators and start every process (the caller stops them:
    `demo.stack.stop_all()`, whatever happened)."""
    started = time.monotonic()
    click.echo(f"starting the stack (process logs in {demo.options.run_dir}/) ...")
    common.shopsync(demo.env, "db", "upgrade")
    common.reset_state(demo.db, TABLES)
    soak.start(demo.soak_options, demo.stack, demo.urls, demo.rng)  # both simulators seeded, web, workers, beat
    demo.stack.start("flower")
    wait_for_http(f"{demo.urls['flower']}/api/workers", timeout=60, auth=demo.flower_auth)
    demo.stack.check_alive()
    names = ", ".join(demo.stack.processes)
    click.echo(f"  up in {time.monotonic() - started:.0f} s: {names}")


def print_urls(demo: Demo) -> None:
    """Where to look while the stack runs (--keep)."""
    web, user, password = demo.urls["web"], *demo.flower_auth
    click.echo("the stack keeps running (Ctrl-C stops everything the demo started):")
    click.echo(f"  ops console  {web}/console/   (paste the OPS token: {demo.ops_token})")
    click.echo(f"  ops API      curl -H 'Authorization: Bearer {demo.ops_token}' {web}/ops/status")
    click.echo(f"  Flower       {demo.urls['flower']}/   (user {user}, password {password})")
    click.echo(f"  metrics      {web}/metrics")
    click.echo(f"  simulators   NetSuite {demo.urls['sim']}/_sim/stats, Shopify {demo.urls['shop']}/_sim/stats")
    click.echo(f"  logs         {demo.options.run_dir}/")


def keep_running(demo: Demo) -> bool:
    """Until Ctrl-C (or SIGTERM: KeyboardInterrupt or SystemExit), or until a process of the stack exits (False);
    the caller's `finally` then stops the rest."""
    while True:
        try:
            demo.stack.check_alive()
        except RuntimeError as exc:
            click.echo(f"the stack is no longer whole: {exc}", err=True)
            return False
        time.sleep(1.0)
