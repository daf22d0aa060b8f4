"""Intake counters: webhooks received, duplicates, and rejections by reason.

They are counted where they happen, in the gunicorn process that answered, with prometheus_client (no network round
trip on the hot path). Under gunicorn (app.gunicorn_conf) PROMETHEUS_MULTIPROC_DIR is set before anything imports
prometheus_client, so every process writes its own mmap file and /metrics adds them up across processes (and
across processes that have since exited). Outside gunicorn (Flask's test client, `flask run`) they are plain
in-process counters.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Metric, disable_created_metrics
from prometheus_client.registry import Collector

from app.config import prometheus_multiproc_dir

# `_created` samples exist only in single-process mode: without them /metrics has the same series either way.
disable_created_metrics()

# Registered here, not on the default registry: /metrics decides how to read them (files or memory).
LOCAL = CollectorRegistry(auto_describe=True)

# The reasons a delivery is turned away (the `error` field of the response); a fixed set, so the label stays small.
REJECT_REASONS = ("body_too_large", "invalid_hmac", "missing_headers", "unknown_shop", "invalid_json", "unavailable")

RECEIVED = Counter(
    "shopsync_webhooks_received", "Webhook deliveries POSTed to the intake, whatever came of them", registry=LOCAL
)
DUPLICATE = Counter(
    "shopsync_webhooks_duplicate", "Deliveries whose X-Shopify-Webhook-Id was already stored", registry=LOCAL
)
REJECTED = Counter("shopsync_webhooks_rejected", "Deliveries refused, by reason", ["reason"], registry=LOCAL)
STORED = Counter(
    "shopsync_webhooks_stored",
    "New deliveries stored, by outcome (accepted or ignored topic)",
    ["outcome"],
    registry=LOCAL,
)
for _reason in REJECT_REASONS:
    REJECTED.labels(_reason)  # every reason present from the first scrape, at 0
for _outcome in ("accepted", "ignored"):
    STORED.labels(_outcome)


class IntakeCollector(Collector):
    """The intake counters as /metrics should read them: summed from every process's file, or from memory."""

    def collect(self) -> Iterable[Metric]:
        path = prometheus_multiproc_dir()
        if path:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=path)
            return registry.collect()
        return LOCAL.collect()
