"""Fleet-wide counters kept in Redis (every worker process on every host adds to the same numbers; /metrics reads
them at scrape time). A lost Redis resets them, which Prometheus treats as a counter reset."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from app.adapters.redis_client import get_redis

log = logging.getLogger(__name__)

PREFIX = "shopsync:metrics"
TASK_OUTCOMES = f"{PREFIX}:task_outcomes"  # field "task|outcome"
NETSUITE_CALLS = f"{PREFIX}:netsuite_calls"  # field "operation|status|error_code"
NETSUITE_LATENCY = f"{PREFIX}:netsuite_latency"  # fields "le=<bound>", "count", "sum"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def task_outcome(task: str, outcome: str, *, forget: str | None = None) -> None:
    """Count a task's outcome; `forget` names a key to delete in the same round trip (the attempt counter)."""
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.hincrby(TASK_OUTCOMES, f"{task}|{outcome}", 1)
        if forget:
            pipe.delete(forget)
        pipe.execute()
    except redis.RedisError:
        pass  # a metric must never fail the work it describes


def netsuite_call(operation: str, status: int | None, error_code: str | None, seconds: float) -> None:
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.hincrby(NETSUITE_CALLS, f"{operation}|{status if status is not None else 'none'}|{error_code or ''}", 1)
        for bound in LATENCY_BUCKETS:
            if seconds <= bound:
                pipe.hincrby(NETSUITE_LATENCY, f"le={bound}", 1)
        pipe.hincrby(NETSUITE_LATENCY, "count", 1)
        pipe.hincrbyfloat(NETSUITE_LATENCY, "sum", seconds)
        pipe.execute()
    except redis.RedisError:
        pass


SHOPIFY_CALLS = f"{PREFIX}:shopify_calls"  # field "operation|outcome|error_code"
SHOPIFY_COST = f"{PREFIX}:shopify_cost"  # fields "requested", "actual"
SHOPIFY_THROTTLE = f"{PREFIX}:shopify_throttle"  # the bucket as Shopify last reported it, to any process


def shopify_call(record: Any, throttle: Any | None) -> None:
    """One Shopify Admin API attempt (shopify_client's ShopifyCallRecord) and the bucket it left behind.

    The bucket belongs to the app and store, not to a process: the latest report from any process is the truth.
    """
    try:
        pipe = get_redis().pipeline(transaction=False)
        field = f"{record.operation}|{record.outcome}|{record.error_code or ''}"
        pipe.hincrby(SHOPIFY_CALLS, field, 1)
        if record.cost_requested is not None:
            pipe.hincrbyfloat(SHOPIFY_COST, "requested", record.cost_requested)
        if record.cost_actual is not None:
            pipe.hincrbyfloat(SHOPIFY_COST, "actual", record.cost_actual)
        if throttle is not None:
            pipe.hset(
                SHOPIFY_THROTTLE,
                mapping={
                    "available": throttle.currently_available,
                    "maximum": throttle.maximum_available,
                    "restore_rate": throttle.restore_rate,
                    "at": time.time(),
                },
            )
        pipe.execute()
    except redis.RedisError:
        pass
