"""Prometheus /metrics. Fleet-wide gauges (NetSuite budget, slots, queue and DLQ depths) are read from Redis at
scrape time, so every gunicorn process reports the same truth without multiprocess bookkeeping."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from app.db.session import session_scope
from app.routing import QUEUES
from app.services import counters
from app.services.checks import governance_give_ups, stuck_orders
from app.services.credentials import last_result
from app.services.netsuite import get_limiter
from app.services.redis_client import get_redis

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)


class FleetCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("shopsync_redis_up", "1 if Redis answered this scrape")
        try:
            limiter = get_limiter()
            snap = limiter.snapshot()
            depths = _queue_depths(get_redis())
        except redis.RedisError as exc:
            log.warning("metrics: Redis unavailable (%s)", exc.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        budget = GaugeMetricFamily("shopsync_netsuite_budget", "Current adaptive NetSuite concurrency budget")
        budget.add_metric([], snap["budget"])
        yield budget
        maximum = GaugeMetricFamily("shopsync_netsuite_budget_max", "Configured NetSuite budget (NETSUITE_CONCURRENCY)")
        maximum.add_metric([], snap["max_budget"])
        yield maximum
        in_use = GaugeMetricFamily("shopsync_netsuite_slots_in_use", "NetSuite slots held, by lane", labels=["lane"])
        for lane, count in sorted(snap["by_lane"].items()):
            in_use.add_metric([lane], count)
        yield in_use
        waiting = GaugeMetricFamily("shopsync_netsuite_live_waiting", "Live callers waiting for a NetSuite slot")
        waiting.add_metric([], snap["live_waiting"])
        yield waiting
        queue = GaugeMetricFamily("shopsync_queue_depth", "Messages waiting in each Celery queue", labels=["queue"])
        for name, depth in depths.items():
            queue.add_metric([name], depth)
        yield queue
        dlq = GaugeMetricFamily("shopsync_dlq_depth", "Dead-lettered tasks waiting in the dead_letter queue")
        dlq.add_metric([], depths.get("dead_letter", 0))
        yield dlq
        try:
            with session_scope() as session:
                now = datetime.now(UTC)
                stuck, give_ups = stuck_orders(session, now), len(governance_give_ups(session, now))
        except SQLAlchemyError as exc:
            log.warning("metrics: PostgreSQL unavailable (%s)", exc.__class__.__name__)
        else:
            gauge = GaugeMetricFamily("shopsync_stuck_orders", "Orders over 7 days in created/partially_fulfilled")
            gauge.add_metric([], stuck)
            yield gauge
            gauge = GaugeMetricFamily(
                "shopsync_netsuite_governance_give_ups", "Records that gave up on governance in 24 h, never succeeded"
            )
            gauge.add_metric([], give_ups)
            yield gauge
        yield from _counters(get_redis())
        checked = last_result(get_redis())
        if checked:
            creds = GaugeMetricFamily(
                "shopsync_credentials_ok", "1 if the last credentials check authenticated", labels=["system"]
            )
            for system in ("netsuite", "shopify"):
                creds.add_metric([system], 1.0 if checked.get(system) == "green" else 0.0)
            yield creds
            age = GaugeMetricFamily("shopsync_credentials_checked_timestamp", "When credentials were last checked")
            age.add_metric([], float(checked["checked_at"]))
            yield age


def _counters(client: redis.Redis) -> Iterator[Any]:
    outcomes = CounterMetricFamily(
        "shopsync_task_outcomes", "Task runs by task and outcome", labels=["task", "outcome"]
    )
    for field, value in sorted(client.hgetall(counters.TASK_OUTCOMES).items()):
        task, _, outcome = field.decode().partition("|")
        outcomes.add_metric([task, outcome], int(value))
    yield outcomes
    calls = CounterMetricFamily(
        "shopsync_netsuite_calls", "NetSuite HTTP attempts", labels=["operation", "status", "error_code"]
    )
    for field, value in sorted(client.hgetall(counters.NETSUITE_CALLS).items()):
        operation, status, code = (field.decode().split("|") + ["", ""])[:3]
        calls.add_metric([operation, status, code], int(value))
    yield calls
    raw = {k.decode(): v for k, v in client.hgetall(counters.NETSUITE_LATENCY).items()}
    if raw:
        buckets = [(str(b), int(raw.get(f"le={b}", 0))) for b in counters.LATENCY_BUCKETS]
        buckets.append(("+Inf", int(raw.get("count", 0))))
        histogram = HistogramMetricFamily("shopsync_netsuite_call_seconds", "NetSuite call latency")
        histogram.add_metric([], buckets, sum_value=float(raw.get("sum", 0)))
        yield histogram


def _queue_depths(client: redis.Redis) -> dict[str, int]:
    pipe = client.pipeline()
    for name in QUEUES:
        pipe.llen(name)
    return dict(zip(QUEUES, (int(n) for n in pipe.execute()), strict=True))


REGISTRY = CollectorRegistry()
REGISTRY.register(FleetCollector())


@bp.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)
