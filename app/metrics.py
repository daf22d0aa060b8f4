"""Prometheus /metrics. Fleet-wide figures (NetSuite budget, slots, queue and DLQ depths, task and call counters,
Shopify throttle points) are read from Redis, and reconciliation results from PostgreSQL, at scrape time, so every
gunicorn process reports the same truth. The intake's own counters are per process (app.webhook_metrics)."""

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
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.adapters import counters
from app.adapters.netsuite import get_limiter
from app.adapters.redis_client import get_redis
from app.db.alert_repository import open_counts
from app.db.models import ReconciliationRun
from app.db.money_repository import dispute_figures, payout_figures
from app.db.session import session_scope
from app.services.checks import governance_give_ups, stuck_orders
from app.services.credentials import last_result
from app.services.money_status import payments_report
from app.services.status import queue_depths
from app.webhook_metrics import IntakeCollector

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)


class FleetCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("shopsync_redis_up", "1 if Redis answered this scrape")
        try:
            limiter = get_limiter()
            snap = limiter.snapshot()
            depths = queue_depths(get_redis())
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
                reconciliation = list(_reconciliation(session))  # read inside the transaction, yielded after
                alerts_open = open_counts(session)
                money = [*_money(session, now), *_payment_gaps(session, now)]
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
            yield from reconciliation
            gauge = GaugeMetricFamily("shopsync_alerts_open", "Alert conditions firing now, by kind", labels=["kind"])
            for kind, count in sorted(alerts_open.items()):
                gauge.add_metric([kind], count)
            yield gauge
            yield from money
        yield from _counters(get_redis())
        yield from _shopify(get_redis())
        checked = last_result(get_redis())
        if checked:
            creds = GaugeMetricFamily(
                "shopsync_credentials_ok", "1 if the last credentials check authenticated", labels=["system"]
            )
            for system in ("netsuite", "shopify"):
                creds.add_metric([system], 1.0 if checked.get(system) == "green" else 0.0)
            yield creds
            missing = GaugeMetricFamily(
                "shopsync_credentials_missing_permission",
                "1 per permission or scope the last credentials check found missing",
                labels=["system", "permission"],
            )
            for system, names in sorted((checked.get("missing") or {}).items()):
                for name in names:
                    missing.add_metric([system, name], 1.0)
            yield missing
            age = GaugeMetricFamily("shopsync_credentials_checked_timestamp", "When credentials were last checked")
            age.add_metric([], float(checked["checked_at"]))
            yield age


def _hash_counter(client: redis.Redis, key: str, name: str, doc: str, labels: list[str]) -> CounterMetricFamily:
    """A counter family from one of app.adapters.counters' Redis hashes: field = label values joined by "|"."""
    family = CounterMetricFamily(name, doc, labels=labels)
    for field, value in sorted(client.hgetall(key).items()):
        values = field.decode().split("|", len(labels) - 1)
        family.add_metric(values + [""] * (len(labels) - len(values)), int(value))
    return family


def _counters(client: redis.Redis) -> Iterator[Any]:
    yield _hash_counter(
        client, counters.TASK_OUTCOMES, "shopsync_task_outcomes", "Task runs by task and outcome", ["task", "outcome"]
    )
    yield _hash_counter(
        client,
        counters.NETSUITE_CALLS,
        "shopsync_netsuite_calls",
        "NetSuite HTTP attempts",
        ["operation", "status", "error_code"],
    )
    yield _hash_counter(
        client,
        counters.ALERT_SENDS,
        "shopsync_alert_sends",
        "Notifications sent to Slack / PagerDuty: sent, retry (an attempt tried again), failed",
        ["channel", "action", "outcome"],
    )
    evaluated = client.get(counters.ALERT_EVALUATED)
    if evaluated:
        gauge = GaugeMetricFamily("shopsync_alerts_last_evaluation_timestamp", "When alerts were last evaluated")
        gauge.add_metric([], float(evaluated))
        yield gauge
    raw = {k.decode(): v for k, v in client.hgetall(counters.NETSUITE_LATENCY).items()}
    if raw:
        buckets = [(str(b), int(raw.get(f"le={b}", 0))) for b in counters.LATENCY_BUCKETS]
        buckets.append(("+Inf", int(raw.get("count", 0))))
        histogram = HistogramMetricFamily("shopsync_netsuite_call_seconds", "NetSuite call latency")
        histogram.add_metric([], buckets, sum_value=float(raw.get("sum", 0)))
        yield histogram


def _shopify(client: redis.Redis) -> Iterator[Any]:
    yield _hash_counter(
        client,
        counters.SHOPIFY_CALLS,
        "shopsync_shopify_calls",
        "Shopify Admin API attempts",
        ["operation", "outcome", "error_code"],
    )
    cost = {k.decode(): float(v) for k, v in client.hgetall(counters.SHOPIFY_COST).items()}
    points = CounterMetricFamily(
        "shopsync_shopify_query_cost_points", "GraphQL query cost points, as requested and as charged", labels=["kind"]
    )
    for kind in ("requested", "actual"):
        points.add_metric([kind], cost.get(kind, 0.0))
    yield points
    bucket = {k.decode(): float(v) for k, v in client.hgetall(counters.SHOPIFY_THROTTLE).items()}
    if bucket:
        for name, key, doc in (
            ("available_points", "available", "Points left in Shopify's cost bucket at the last answer"),
            ("maximum_points", "maximum", "Size of Shopify's cost bucket"),
            ("restore_rate", "restore_rate", "Points per second Shopify restores"),
            ("observed_timestamp", "at", "When a Shopify answer last reported the bucket"),
        ):
            gauge = GaugeMetricFamily(f"shopsync_shopify_throttle_{name}", doc)
            gauge.add_metric([], bucket[key])
            yield gauge


def _reconciliation(session: Any) -> Iterator[Any]:
    """Totals over every applied run (counters) and the last finished run of each kind (gauges)."""
    done = (ReconciliationRun.status == "done", ReconciliationRun.dry_run.is_(False))
    totals = session.execute(
        select(
            func.coalesce(func.sum(ReconciliationRun.diffs_found), 0),
            func.coalesce(func.sum(ReconciliationRun.corrections_applied), 0),
            func.coalesce(func.sum(ReconciliationRun.mismatches), 0),
            func.coalesce(func.sum(ReconciliationRun.orders_healed), 0),
            func.count(),
        ).where(*done)
    ).one()
    for (name, doc), value in zip(
        (
            ("shopsync_reconciliation_diffs", "Inventory differences found by reconciliation runs"),
            ("shopsync_reconciliation_corrections", "Inventory corrections applied by reconciliation runs"),
            ("shopsync_reconciliation_order_mismatches", "Orders found missing or different in NetSuite"),
            ("shopsync_reconciliation_orders_healed", "Orders re-synced by reconciliation runs"),
            ("shopsync_reconciliation_runs", "Reconciliation runs finished (not dry runs)"),
        ),
        totals,
        strict=True,
    ):
        counter = CounterMetricFamily(name, doc)
        counter.add_metric([], int(value))
        yield counter
    latest = select(func.max(ReconciliationRun.id)).where(*done).group_by(ReconciliationRun.kind)
    runs = session.scalars(select(ReconciliationRun).where(ReconciliationRun.id.in_(latest))).all()
    for name, doc, value_of in (
        ("diffs", "Differences the last run of each kind found", lambda r: r.diffs_found),
        ("corrections", "Corrections the last run of each kind applied", lambda r: r.corrections_applied),
        ("order_mismatches", "Order mismatches the last run of each kind found", lambda r: r.mismatches),
        ("alert", "1 if the last run of each kind raised an alert", lambda r: 1 if r.alert else 0),
        ("finished_timestamp", "When the last run of each kind finished", lambda r: _finished(r).timestamp()),
    ):
        gauge = GaugeMetricFamily(f"shopsync_reconciliation_last_{name}", doc, labels=["kind"])
        for run in sorted(runs, key=lambda r: r.kind):
            gauge.add_metric([run.kind], float(value_of(run)))
        yield gauge


def _money(session: Any, now: datetime) -> Iterator[Any]:
    """Payouts by state, how long the oldest undeposited one has waited, variances on the books; open disputes and
    the soonest evidence deadline (app/db/money_repository.py)."""
    payouts = payout_figures(session)
    gauge = GaugeMetricFamily(
        "shopsync_payouts", "Shopify Payments payouts by state of their deposit", labels=["state"]
    )
    for state, figures in payouts.by_state.items():
        gauge.add_metric([state], figures.count)
    yield gauge
    oldest = payouts.oldest_unmatched
    gauge = GaugeMetricFamily(
        "shopsync_payout_oldest_unmatched_age_seconds",
        "Age (since issued) of the oldest payout with no deposit in NetSuite yet (waiting or failed); 0 if none",
    )
    gauge.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
    yield gauge
    count = GaugeMetricFamily(
        "shopsync_payouts_with_variance",
        "Payouts whose deposit carries a variance line, by currency",
        labels=["currency"],
    )
    amount = GaugeMetricFamily(
        "shopsync_payout_variance_amount",
        "Sum of the payouts' variance lines (signed), by currency",
        labels=["currency"],
    )
    for currency, variance in payouts.variance.items():
        count.add_metric([currency], variance.count)
        amount.add_metric([currency], float(variance.total))
    yield count
    yield amount
    disputes = dispute_figures(session)
    gauge = GaugeMetricFamily("shopsync_disputes_open", "Open Shopify Payments disputes, by status", labels=["status"])
    for status, number in disputes.by_status.items():
        gauge.add_metric([status.lower()], number)
    yield gauge
    if disputes.next_evidence_due is not None:
        gauge = GaugeMetricFamily(
            "shopsync_dispute_next_evidence_due_timestamp",
            "The soonest evidence deadline of a dispute that needs a response (absent when none does)",
        )
        gauge.add_metric([], disputes.next_evidence_due.timestamp())
        yield gauge


def _payment_gaps(session: Any, now: datetime) -> Iterator[Any]:
    """The last nightly payments ↔ receipts check: orders whose NetSuite receipts differ from Shopify's payments
    (0 when none did, or no run checked payments), and how old the oldest such order is."""
    payments = payments_report(session, now)
    gauge = GaugeMetricFamily(
        "shopsync_payment_gap_orders",
        "Orders whose NetSuite receipts − refunds differ from Shopify's payments on a gateway (last nightly check)",
    )
    gauge.add_metric([], float(payments.get("orders_with_gap") or 0))
    yield gauge
    gauge = GaugeMetricFamily(
        "shopsync_payment_gap_oldest_age_seconds",
        "Age (since created) of the oldest order with a payment gap at the last nightly check; 0 if none",
    )
    gauge.add_metric([], float(payments.get("oldest_age_hours") or 0) * 3600)
    yield gauge


def _finished(run: ReconciliationRun) -> datetime:
    return run.finished_at or run.started_at


REGISTRY = CollectorRegistry()
REGISTRY.register(IntakeCollector())
REGISTRY.register(FleetCollector())


@bp.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)
