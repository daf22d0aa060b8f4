"""Test helpers: signed Shopify deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import requests
from prometheus_client.parser import text_string_to_metric_families

from shopify_client.webhooks import sign
from tests.conftest import SECRET, SHOP


def shopify_headers(
    body: bytes,
    topic: str = "orders/create",
    webhook_id: str | None = None,
    secret: str = SECRET,
    shop: str = SHOP,
    **overrides: str,
) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-04",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-23T07:00:00.000Z",
    }
    headers.update(overrides)
    return headers


MetricSamples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metric_samples(text: str) -> MetricSamples:
    """Every sample of a /metrics page (parsed by prometheus_client), keyed by name and its sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(samples: MetricSamples, name: str, **labels: str) -> float:
    """One sample's value, 0.0 when the page does not have it."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def sim_calls(sim: str) -> dict[str, int]:
    """The NetSuite simulator's served calls by operation (`"PUT salesOrder"`: count) since its last reset."""
    return requests.get(f"{sim}/_sim/stats", timeout=5).json()["calls_by_operation"]


def sales_order_writes(calls_by_operation: Mapping[str, int]) -> int:
    """The sales order writes the NetSuite simulator served: a new order is created (POST), a known one upserted."""
    return calls_by_operation.get("POST salesOrder", 0) + calls_by_operation.get("PUT salesOrder", 0)
