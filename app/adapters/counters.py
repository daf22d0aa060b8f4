"""Fleet-wide counters kept in Redis (every worker process on every host adds to the same numbers; /metrics reads
them at scrape time). A lost Redis resets them, which Prometheus treats as a counter reset."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from app.adapters.redis_client import get_redis
from app.once import built_once

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


# KEYS: calls, latency; ARGV: the calls field, seconds, then every bucket bound as the field names spell it.
# One command per NetSuite call: the same increments as a pipeline of up to 12, without packing each of them.
_COUNT_CALL = """
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local seconds = tonumber(ARGV[2])
for i = 3, #ARGV do
  if seconds <= tonumber(ARGV[i]) then redis.call('HINCRBY', KEYS[2], 'le=' .. ARGV[i], 1) end
end
redis.call('HINCRBY', KEYS[2], 'count', 1)
redis.call('HINCRBYFLOAT', KEYS[2], 'sum', ARGV[2])
"""
_BOUNDS = [str(bound) for bound in LATENCY_BUCKETS]  # "0.05", "1.0": the `le=` fields /metrics reads


@built_once
def _count_call_script() -> Any:
    return get_redis().register_script(_COUNT_CALL)


def netsuite_call(operation: str, status: int | None, error_code: str | None, seconds: float) -> None:
    field = f"{operation}|{status if status is not None else 'none'}|{error_code or ''}"
    try:
        _count_call_script()(keys=[NETSUITE_CALLS, NETSUITE_LATENCY], args=[field, repr(float(seconds)), *_BOUNDS])
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


ALERT_SENDS = f"{PREFIX}:alert_sends"  # field "channel|action|outcome"
ALERT_EVALUATED = f"{PREFIX}:alerts_evaluated_at"  # when the last alert evaluation finished (epoch seconds)


def alert_send(channel: str, action: str, outcome: str) -> None:
    """One notification send to Slack or PagerDuty: `sent`, `retry` (an attempt that will be tried again), `failed`."""
    try:
        get_redis().hincrby(ALERT_SENDS, f"{channel}|{action}|{outcome}", 1)
    except redis.RedisError:
        pass


def alerts_evaluated() -> None:
    try:
        get_redis().set(ALERT_EVALUATED, time.time())
    except redis.RedisError:
        pass
