"""The intake's counters under gunicorn: each worker process counts its own requests, /metrics adds them up."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.conftest import E2E
from tests.helpers import MetricSamples, metric_samples, sample, shopify_headers


def intake_counters(e2e: E2E) -> MetricSamples:
    return metric_samples(requests.get(f"{e2e.web}/metrics", timeout=10).text)


def test_webhook_counters_add_up_across_gunicorn_processes(e2e: E2E):
    before = intake_counters(e2e)
    payload = {"id": 1, "title": "metrics"}
    deliveries = []
    for n in range(30):
        body = json.dumps({**payload, "n": n}).encode()
        deliveries.append((body, shopify_headers(body, topic="products/update", webhook_id=f"metrics-e2e-{n}")))
    for n in range(10):  # the same webhook ids again: duplicates
        deliveries.append(deliveries[n])
    for n in range(8):
        body = json.dumps({"n": n}).encode()
        deliveries.append((body, {**shopify_headers(body), "X-Shopify-Hmac-Sha256": "forged"}))

    # Concurrent, on fresh connections: gunicorn's three processes share the requests between them.
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(lambda d: e2e.post(*d).status_code, deliveries))
    assert codes.count(200) == 40 and codes.count(401) == 8

    after = intake_counters(e2e)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("shopsync_webhooks_received_total") == 48
    assert delta("shopsync_webhooks_stored_total", outcome="ignored") == 30
    assert delta("shopsync_webhooks_duplicate_total") == 10
    assert delta("shopsync_webhooks_rejected_total", reason="invalid_hmac") == 8
    files = sorted(p.name for p in (e2e.run_dir / "prometheus").glob("counter_*.db"))
    assert len(files) >= 2, f"expected several gunicorn processes to have counted, got {files}"
