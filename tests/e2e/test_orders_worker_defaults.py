"""worker_orders as shipped (the Procfile's own pool and concurrency, nothing overridden) fills the NetSuite budget
during a burst, and keeps its guarantees when pool processes are SIGKILLed mid-call: the killed tasks are rejected
and redelivered at once (acks late, reject on worker lost), their slots come back within the lease, every order
lands exactly once and none is dead-lettered."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from app.db.models import WebhookEvent
from app.db.session import session_scope
from bench.netsuite_throughput.run import CATALOG, generate
from simulators.shopify.webhooks import deliver_webhook
from tests.conftest import SECRET, SERVICE_ITEMS, SHOP
from tests.e2e.conftest import E2E, wait_until

BUDGET = 12  # NETSUITE_CONCURRENCY's default
LEASE = 2.0
ORDERS = 400
LATENCY_MS = 300


def statuses() -> dict[str, int]:
    with session_scope() as s:
        return dict(s.execute(select(WebhookEvent.status, func.count()).group_by(WebhookEvent.status)).all())


@pytest.fixture
def shipped_orders_worker(fresh: E2E):
    """worker_orders restarted without WORKER_CONCURRENCY (the session's stack sets 3) and with a short lease."""
    fresh.reset([{"itemid": sku, "displayname": title} for sku, title, _ in CATALOG] + SERVICE_ITEMS)
    fresh.stack.stop("worker_orders")
    fresh.stack.start("worker_orders", extra_env={"WORKER_CONCURRENCY": "", "NETSUITE_SLOT_LEASE_SECONDS": str(LEASE)})
    try:
        wait_until(lambda: len(fresh.orders_worker_children()) >= 16, 60, what="the shipped pool of 16 children")
        yield fresh
    finally:
        fresh.stack.stop("worker_orders")
        fresh.stack.start("worker_orders")


def test_shipped_worker_fills_the_budget_and_survives_sigkilled_children(shipped_orders_worker: E2E):
    e2e = shipped_orders_worker
    assert len(e2e.orders_worker_children()) == 16  # budget 12 x 4/3: the pool is sized from the budget
    e2e.sim_config(latency_ms=LATENCY_MS)
    _, orders, _ = generate(random.Random(12), 0, ORDERS, 7)
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.monotonic(), e2e.sim_stats()["in_flight"]))
            time.sleep(0.02)

    def send(order: dict) -> None:
        status, _ = deliver_webhook(f"{e2e.web}/webhooks/shopify", "orders/create", order, secret=SECRET, shop=SHOP)
        assert status == 200

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        senders = [threading.Thread(target=lambda part=orders[i::4]: [send(o) for o in part]) for i in range(4)]
        for t in senders:
            t.start()
        # Early in the burst, with most of the work still queued: kill a quarter of the pool mid-call.
        wait_until(lambda: e2e.sim_stats()["in_flight"] >= 8, 30, interval=0.02, what="calls in flight")
        victims = e2e.orders_worker_children()[:4]
        for child in victims:
            os.kill(child.pid, signal.SIGKILL)  # each holds a NetSuite slot or is about to
        killed_at = time.monotonic()
        for t in senders:
            t.join()
        wait_until(lambda: statuses().get("done", 0) + statuses().get("dead", 0) >= ORDERS, 180, what="all done")
    finally:
        stop.set()
        sampler.join(timeout=5)
        e2e.sim_config(latency_ms=0)

    stats = e2e.sim_stats()
    assert statuses() == {"done": ORDERS}  # none dead: the killed tasks were redelivered, not dead-lettered
    landed = [r["externalId"] for r in e2e.sim_records("salesOrder")]
    assert sorted(landed) == sorted(f"shopify-order-{o['id']}" for o in orders)  # each exactly once
    assert stats["peak_concurrency"] <= BUDGET and stats["rejections"]["concurrency"] == 0
    assert max(n for _, n in samples) == BUDGET  # the shipped layout reaches the whole budget
    # The killed children's slots came back: once their leases ran out, the budget was full again.
    assert any(n == BUDGET for t, n in samples if t >= killed_at + LEASE + 0.3), "budget never full after the kill"
    assert requests.get(f"{e2e.web}/healthz", timeout=5).status_code == 200
