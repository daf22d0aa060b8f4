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
