"""Flower runs from its Procfile line, behind basic auth, and sees the workers and their queues."""

from __future__ import annotations

import requests

from tests.e2e.conftest import E2E, FLOWER_AUTH, wait_until

AUTH = tuple(FLOWER_AUTH.split(":", 1))


def test_flower_requires_auth_and_lists_the_workers(e2e: E2E):
    wait_until(lambda: _status(f"{e2e.flower}/api/workers", None) in (401, 200), 30, what="flower up")
    assert _status(f"{e2e.flower}/api/workers", None) == 401
    assert _status(f"{e2e.flower}/api/workers", ("ops", "wrong")) == 401

    def workers() -> dict:
        resp = requests.get(f"{e2e.flower}/api/workers", auth=AUTH, params={"refresh": "true"}, timeout=10)
        resp.raise_for_status()
        found = resp.json()
        return (
            found if any(n.startswith("orders@") for n in found) and any(n.startswith("bulk@") for n in found) else {}
        )

    found = wait_until(workers, 30, interval=1, what="workers in flower")
    orders_worker = next(v for k, v in found.items() if k.startswith("orders@"))
    assert [q["name"] for q in orders_worker["active_queues"]] == ["orders"]


def _status(url: str, auth) -> int:
    try:
        return requests.get(url, auth=auth, timeout=5).status_code
    except requests.RequestException:
        return 0


def test_an_operator_requeues_a_dead_letter_from_flower(fresh: E2E):
    """Flower has no retry button: its authenticated task API runs shopsync.requeue_dead_letter instead."""
    import json

    from sqlalchemy import select

    from app.db.models import DeadLetter, DlqAudit
    from app.db.session import session_scope
    from tests.conftest import load_fixture
    from tests.helpers import shopify_headers

    payload = load_fixture("orders_create.json")
    payload["line_items"][0]["sku"] = "FLOWER-FIX-ME"
    body = json.dumps(payload).encode()
    assert fresh.post(body, shopify_headers(body)).status_code == 200

    def dead_letter():
        with session_scope() as s:
            return s.scalars(select(DeadLetter)).first()

    entry = wait_until(dead_letter, 20, what="the dead letter")
    requests.post(f"{fresh.sim}/_sim/items", json=[{"itemid": "FLOWER-FIX-ME"}], timeout=10).raise_for_status()
    wait_until(lambda: _status(f"{fresh.flower}/api/workers", AUTH) == 200, 30, what="flower")
    assert (
        requests.post(
            f"{fresh.flower}/api/task/async-apply/shopsync.requeue_dead_letter", json={"args": [entry.id]}, timeout=10
        ).status_code
        == 401
    )
    resp = requests.post(
        f"{fresh.flower}/api/task/async-apply/shopsync.requeue_dead_letter",
        json={"args": [entry.id]},
        auth=AUTH,
        timeout=10,
    )
    assert resp.status_code == 200, resp.text

    def landed():
        orders = requests.get(f"{fresh.sim}/_sim/records/salesOrder", timeout=10).json()
        return [o for o in orders if o.get("externalId") == "shopify-order-450789469"]

    assert len(wait_until(landed, 30, what="the requeued order in NetSuite")) == 1
    with session_scope() as s:
        assert s.get(DeadLetter, entry.id).status == "requeued"
        [audit] = s.scalars(select(DlqAudit)).all()
    assert audit.actor == "flower" and audit.dead_letter_ids == [entry.id]


def test_dlq_depth_is_the_same_in_the_cli_the_ops_api_metrics_and_flower(fresh: E2E):
    """Three dead letters while the normal workers are online: every surface an operator looks at says 3."""
    import json
    import os
    import re

    import redis

    from tests.conftest import TEST_ENV, load_fixture
    from tests.e2e.test_pipeline import shopsync
    from tests.helpers import metric_samples, shopify_headers

    for n in range(3):
        payload = load_fixture("orders_create.json")
        payload["id"] = 990000 + n
        payload["line_items"][0]["sku"] = f"DEPTH-UNKNOWN-{n}"
        body = json.dumps(payload).encode()
        assert fresh.post(body, shopify_headers(body, webhook_id=f"depth-{n}")).status_code == 200

    redis_client = redis.Redis(port=fresh.redis_port)
    wait_until(lambda: redis_client.llen("dead_letter") == 3, 30, what="three dead letters")

    # The workers are online in Flower, and none of them consumes dead_letter.
    def online_workers() -> dict:
        resp = requests.get(f"{fresh.flower}/api/workers", auth=AUTH, params={"refresh": "true"}, timeout=10)
        found = resp.json() if resp.status_code == 200 else {}
        return found if sum(1 for n in found if n.startswith(("orders@", "fulfillment@", "bulk@"))) == 3 else {}

    workers = wait_until(online_workers, 30, interval=1, what="workers online in flower")
    consumed = {q["name"] for w in workers.values() for q in w.get("active_queues") or []}
    assert "dead_letter" not in consumed and "orders" in consumed

    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{fresh.redis_port}/0"}
    listing = shopsync("dlq", "list", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    cli_depth = len(json.loads(listing.stdout))

    bearer = {"Authorization": f"Bearer {TEST_ENV['OPS_TOKEN']}"}
    api_depth = requests.get(f"{fresh.web}/ops/dlq", headers=bearer, timeout=10).json()["count"]
    status_dlq = requests.get(f"{fresh.web}/ops/status", headers=bearer, timeout=10).json()["dlq"]

    metric_depth = metric_samples(requests.get(f"{fresh.web}/metrics", timeout=10).text)[("shopsync_dlq_depth", ())]

    queues = requests.get(f"{fresh.flower}/api/queues/length", auth=AUTH, timeout=10).json()["active_queues"]
    flower_depth = {q["name"]: q["messages"] for q in queues}["dead_letter"]
    broker_page = requests.get(f"{fresh.flower}/broker", auth=AUTH, timeout=10)
    assert broker_page.status_code == 200
    row = re.search(r"<td>\s*dead_letter\s*</td>\s*<td[^>]*>\s*(\d+)\s*</td>", broker_page.text)
    assert row, "dead_letter row missing from Flower's Broker page"

    # The dead-lettered runs themselves are in Flower's task list, failed, with the reason.
    def failed_in_flower() -> list[str]:
        resp = requests.get(f"{fresh.flower}/api/tasks", auth=AUTH, params={"state": "FAILURE"}, timeout=10)
        found = [t.get("exception") or "" for t in resp.json().values()] if resp.status_code == 200 else []
        return [e for e in found if "DEPTH-UNKNOWN-" in e]

    assert len(wait_until(lambda: len(failed_in_flower()) == 3 and failed_in_flower(), 20, what="failed tasks")) == 3

    surfaces = {
        "cli": cli_depth,
        "ops_api": api_depth,
        "ops_status_open": status_dlq["open"],
        "ops_status_redis": status_dlq["redis_depth"],
        "metrics": metric_depth,
        "flower_api": flower_depth,
        "flower_broker_page": int(row.group(1)),
    }
    assert surfaces == dict.fromkeys(surfaces, 3)
