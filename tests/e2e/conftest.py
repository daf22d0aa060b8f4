"""Real processes, started once for the whole e2e session from the Procfile: the NetSuite simulator,
gunicorn, the orders and bulk workers, beat, and a private Redis that tests may stop and restart."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests
from sqlalchemy import text

from app.db.models import truncate_all_sql
from devtools.devstack import Stack, free_port, wait_for_http
from tests.conftest import FIXTURE_SKUS, SERVICE_ITEMS, SHOP, TEST_ENV

FLOWER_AUTH = "ops:flower-test-password"


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.2, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


@dataclass
class E2E:
    stack: Stack
    web: str
    sim: str
    redis_port: int
    run_dir: Path
    flower: str
    shopify: str

    # --- the private Redis ---------------------------------------------------------------------------
    def start_redis(self) -> None:
        self.stack.start(
            "redis",
            f"exec redis-server --bind 127.0.0.1 --port {self.redis_port} --save '' --appendonly no",
        )
        import redis

        client = redis.Redis(port=self.redis_port)
        wait_until(lambda: _ping(client), 10, what="private redis")

    def stop_redis(self) -> None:
        self.stack.stop("redis")

    # --- the simulator --------------------------------------------------------------------------------
    def sim_records(self, record_type: str) -> list[dict]:
        return requests.get(f"{self.sim}/_sim/records/{record_type}", timeout=10).json()

    def sim_stats(self) -> dict:
        return requests.get(f"{self.sim}/_sim/stats", timeout=10).json()

    def reset(self, catalog: list[dict]) -> None:
        """Idle queues, empty tables and Redis, both simulators reset without latency, NetSuite holding `catalog`."""
        import redis

        from app.db.session import get_engine

        client = redis.Redis(port=self.redis_port)
        wait_until(
            lambda: all(client.llen(q) == 0 for q in ("orders", "fulfillments", "refunds", "payments", "reconcile")),
            30,
            what="idle queues",
        )
        client.flushdb()
        with get_engine().begin() as conn:
            conn.execute(text(truncate_all_sql()))
        requests.post(f"{self.sim}/_sim/reset", json={"items": True}, timeout=10).raise_for_status()
        requests.post(f"{self.shopify}/_sim/reset", json={}, timeout=10).raise_for_status()
        self.sim_config(latency_ms=0, latency_jitter_ms=0)
        requests.post(f"{self.sim}/_sim/items", json=catalog, timeout=10).raise_for_status()

    def sim_config(self, **values: float) -> None:
        requests.post(f"{self.sim}/_sim/config", json=values, timeout=10).raise_for_status()

    def sim_items(self) -> dict[str, str]:
        rows = requests.get(f"{self.sim}/_sim/items", timeout=10).json()
        return {str(r["id"]): r["itemid"] for r in rows}

    def post(self, body: bytes, headers: dict[str, str]) -> requests.Response:
        return requests.post(f"{self.web}/webhooks/shopify", data=body, headers=headers, timeout=10)

    def orders_worker_children(self) -> list[psutil.Process]:
        main = psutil.Process(self.stack.processes["worker_orders"].pid)
        return main.children(recursive=True)


WORKERS = ("orders@", "fulfillment@", "bulk@")  # node name prefixes of the Procfile's workers


def workers_answering(redis_port: int) -> list[str]:
    """Node names of the Celery workers that answer a ping over the private Redis (consuming, not just started)."""
    from celery import Celery

    probe = Celery("e2e-probe", broker=f"redis://127.0.0.1:{redis_port}/0")
    try:
        return sorted(name for reply in probe.control.ping(timeout=1.0) or [] for name in reply)
    except Exception:  # noqa: BLE001 - the broker connection is not up yet: nobody answers
        return []
    finally:
        probe.close()


def queues_drained(redis_port: int) -> bool:
    """Every published task was taken and finished: no queue holds a message and none is unacknowledged (the
    tasks ack late, so a running task stays in `unacked` until it finishes)."""
    import redis

    client = redis.Redis(port=redis_port)
    queues = ("orders", "fulfillments", "refunds", "payments", "inventory", "reconcile", "backfill")
    return all(client.llen(q) == 0 for q in queues) and client.hlen("unacked") == 0


def _ping(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(scope="session")
def e2e(database: str):
    run_dir = Path(tempfile.mkdtemp(prefix="shopsync-e2e-"))
    sim_port, web_port, redis_port, flower_port = free_port(), free_port(), free_port(), free_port()
    shopify_port = free_port()
    env = {
        **os.environ,
        **TEST_ENV,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "NETSUITE_BASE_URL": f"http://127.0.0.1:{sim_port}/services/rest",
        "PORT": str(web_port),
        "WORKER_CONCURRENCY": "3",
        "OUTBOX_RELAY_INTERVAL_SECONDS": "2",
        "OUTBOX_RELAY_AFTER_SECONDS": "3",
        "TASK_RETRY_BACKOFF_MAX": "2",
        "SHOPIFY_ADMIN_URL": f"http://127.0.0.1:{shopify_port}/admin/api/2026-04/graphql.json",
        "FLOWER_PORT": str(flower_port),
        "FLOWER_BASIC_AUTH": FLOWER_AUTH,
        # The web's per-process metric files, where the tests can see them (gunicorn_conf empties it at start).
        "PROMETHEUS_MULTIPROC_DIR": str(run_dir / "prometheus"),
    }
    stack = Stack(env=env, run_dir=run_dir)
    ctx = E2E(
        stack,
        f"http://127.0.0.1:{web_port}",
        f"http://127.0.0.1:{sim_port}",
        redis_port,
        run_dir,
        f"http://127.0.0.1:{flower_port}",
        f"http://127.0.0.1:{shopify_port}",
    )
    try:
        ctx.start_redis()
        stack.start("netsuite", f"exec shopsync-dev simulate netsuite --port {sim_port}")
        wait_for_http(f"{ctx.sim}/_sim/stats")
        stack.start(
            "shopify",
            f"exec shopsync-dev simulate shopify --port {shopify_port} --shop {SHOP} "
            f"--access-token {TEST_ENV['SHOPIFY_ADMIN_TOKEN']}",
        )
        wait_for_http(f"{ctx.shopify}/_sim/stats")
        for name in ("web", "worker_orders", "worker_fulfillment", "worker_bulk", "beat", "flower"):
            stack.start(name)
        wait_for_http(f"{ctx.web}/healthz")
        wait_until(
            lambda: all(any(n.startswith(w) for n in workers_answering(redis_port)) for w in WORKERS),
            90,  # bounded; on a machine busy with a second stack, workers have answered late once
            interval=0.5,
            what=f"the Celery workers {', '.join(w + '*' for w in WORKERS)} to answer a ping on the private Redis",
        )
        stack.check_alive()
        yield ctx
    finally:
        stack.stop_all()
        for managed in stack.processes.values():
            print(managed.log_tail())


@pytest.fixture
def fresh(e2e: E2E, database: str) -> E2E:
    """Idle queues, empty tables, an empty simulator holding the fixture's SKUs."""
    e2e.reset([{"itemid": s, "displayname": d} for s, d in FIXTURE_SKUS] + SERVICE_ITEMS)
    e2e.stack.check_alive()
    return e2e
