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
