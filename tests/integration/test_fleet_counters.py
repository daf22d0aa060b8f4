"""Task outcomes and NetSuite calls counted fleet-wide (Redis) and exported on /metrics."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from tasks.events import process_event
from tests.conftest import fixture_bytes, load_fixture
from tests.integration.test_services import store_event


def test_outcomes_calls_and_latency_reach_metrics(sim, redis_db):
    good = store_event(fixture_bytes("orders_create.json"), webhook_id="count-ok")
    process_event.apply(args=[good], task_id="count-ok")
    bad_payload = load_fixture("orders_create.json")
    bad_payload["id"] += 1
    bad_payload["line_items"][0]["sku"] = "NOPE"
    bad = store_event(json.dumps(bad_payload).encode(), webhook_id="count-bad")
    process_event.apply(args=[bad], task_id="count-bad")

    text = create_app().test_client().get("/metrics").get_data(as_text=True)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }
    assert samples[("shopsync_task_outcomes_total", (("outcome", "success"), ("task", "shopsync.process_event")))] == 1
    assert (
        samples[("shopsync_task_outcomes_total", (("outcome", "dead_letter:data"), ("task", "shopsync.process_event")))]
        == 1
    )

    def writes(operation: str) -> float:
        return samples[
            ("shopsync_netsuite_calls_total", (("error_code", ""), ("operation", operation), ("status", "204")))
        ]

    assert writes("upsert") == 1 and writes("create") == 1  # the customer upserted, the new sales order created
    count = samples[("shopsync_netsuite_call_seconds_count", ())]
    assert count >= 3  # the two writes and the SKU look-ups
    assert samples[("shopsync_netsuite_call_seconds_bucket", (("le", "+Inf"),))] == count


def test_a_call_lands_in_its_latency_buckets_and_counts_once(redis_db):
    from app.adapters import counters

    counters.netsuite_call("upsert", 204, None, 0.2)
    counters.netsuite_call("upsert", 204, None, 0.00001)  # a float Python spells in exponent notation
    counters.netsuite_call("upsert", None, "TIMEOUT", 45.0)  # slower than every bound: only count and sum
    latency = {k.decode(): float(v) for k, v in redis_db.hgetall(counters.NETSUITE_LATENCY).items()}
    assert latency["le=0.05"] == 1 and latency["le=0.1"] == 1
    assert all(latency[f"le={b}"] == 2 for b in counters.LATENCY_BUCKETS if b >= 0.25)
    assert latency["count"] == 3 and abs(latency["sum"] - 45.20001) < 1e-9
    calls = {k.decode(): int(v) for k, v in redis_db.hgetall(counters.NETSUITE_CALLS).items()}
    assert calls == {"upsert|204|": 2, "upsert|none|TIMEOUT": 1}
