"""The ops API: locked with the ops token; DLQ, requeue and status the same as the CLI and /metrics see them."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.domain.errors import UnknownSku
from app.services import dlq
from tests.conftest import TEST_ENV
from tests.integration.test_dlq_ops import dead

TOKEN = {"Authorization": f"Bearer {TEST_ENV['OPS_TOKEN']}"}


@pytest.fixture
def api(clean_db, redis_db):
    return create_app().test_client()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TEST_ENV['OPS_TOKEN']}"},
        {"Authorization": "Bearer"},
    ],
    ids=["none", "wrong", "wrong-scheme", "empty"],
)
def test_without_the_token_every_ops_endpoint_is_401(api, headers):
    for method, path in [
        ("get", "/ops/status"),
        ("get", "/ops/dlq"),
        ("get", "/ops/dlq/1"),
        ("post", "/ops/dlq/1/requeue"),
        ("post", "/ops/dlq/requeue"),
        ("get", "/ops/reconciliations"),
        ("get", "/ops/reconciliations/drift.svg"),
    ]:
        resp = getattr(api, method)(path, headers=headers)
        assert resp.status_code == 401, (method, path)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer") and resp.json["error"] == "unauthorized"


def test_dlq_depth_agrees_across_api_cli_and_metrics_and_requeue_works(api, redis_db):
    first = dead(UnknownSku(["A"]), "data", "UNKNOWN_SKU")
    dead(UnknownSku(["B"]), "data", "UNKNOWN_SKU")
    dead(UnknownSku(["C"]), "transient", "CONNECTION_ERROR")
    listing = api.get("/ops/dlq", headers=TOKEN).json
    metrics = {f.name: f for f in text_string_to_metric_families(api.get("/metrics").get_data(as_text=True))}
    depth = metrics["shopsync_dlq_depth"].samples[0].value
    assert (
        listing["count"]
        == len(dlq.list_entries())
        == depth
        == api.get("/ops/status", headers=TOKEN).json["dlq"]["open"]
        == 3
    )

    shown = api.get(f"/ops/dlq/{first}", headers=TOKEN).json
    assert shown["error_message"] == "unknown SKU A" and shown["category"] == "data"
    assert api.get("/ops/dlq/99999", headers=TOKEN).status_code == 404
    one = api.post(f"/ops/dlq/{first}/requeue", headers=TOKEN).json
    assert one["result"].startswith("requeued dead letter")
    assert "already requeued" in api.post(f"/ops/dlq/{first}/requeue", headers=TOKEN).json["result"]
    assert api.post("/ops/dlq/requeue", json={}, headers=TOKEN).status_code == 400
    matched = api.post("/ops/dlq/requeue", json={"error_code": "UNKNOWN_SKU"}, headers=TOKEN).json
    assert matched["requeued"] == 1
    assert api.get("/ops/dlq", headers=TOKEN).json["count"] == 1 == dlq.redis_depth(redis_db)
    audit = [(a["action"], a["actor"].split(":")[0]) for a in dlq.audit_log()]
    assert audit == [("requeue", "ops-api")] * 3  # every attempt, including the one that changed nothing
    assert api.get("/ops/reconciliations", headers=TOKEN).json == []
