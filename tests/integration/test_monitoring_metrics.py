"""Every metric the shipped alert rules and the Grafana dashboard read is one the service's /metrics exports: the
names come from a real scrape (app.metrics' registry), with every source that adds a family present, not from a list
kept by hand. A renamed metric would otherwise leave an alert that never fires and a panel that stays empty."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from app import create_app
from app.adapters import counters
from app.db.models import ReconciliationRun
from app.db.session import session_scope
from app.services.credentials import KEY as CREDENTIALS_KEY
from shopify_client.client import ThrottleStatus
from tests.money_rows import dispute, payout
from tests.monitoring import alert_rules, dashboard, dashboard_queries, exported_series_names, unknown_names


def scrape_with_every_source(redis_db) -> set[str]:
    """/metrics after a NetSuite call, a Shopify answer with its bucket, a credentials check, a reconciliation run,
    a payout with a variance and a dispute that needs a response: the families that appear only once such data
    exists are then on the page."""
    counters.netsuite_call("salesOrder.upsert", 200, None, 0.3)
    call = SimpleNamespace(operation="Probe", outcome="ok", error_code=None, cost_requested=10.0, cost_actual=2.0)
    counters.shopify_call(call, ThrottleStatus(1000.0, 990.0, 50.0, time.time()))
    check = {"checked_at": time.time(), "netsuite": "green", "shopify": "green", "missing": {}}
    redis_db.set(CREDENTIALS_KEY, json.dumps(check))
    now = datetime.now(UTC)
    with session_scope() as session:
        session.add(
            ReconciliationRun(
                kind="inventory",
                trigger="manual",
                run_date=now,
                dry_run=False,
                status="done",
                started_at=now - timedelta(minutes=2),
                finished_at=now,
                diffs_found=1,
            )
        )
        session.add_all([payout("1", variance="-0.42"), dispute(1, "NEEDS_RESPONSE")])
    text = create_app().test_client().get("/metrics").get_data(as_text=True)
    assert "shopsync_redis_up 1.0" in text  # Redis answered: its families are all on the page
    return exported_series_names(text)


def test_every_alert_and_dashboard_query_reads_a_metric_the_service_exports(clean_db, redis_db) -> None:
    exported = scrape_with_every_source(redis_db)
    for conditional in (
        "shopsync_netsuite_call_seconds_bucket",
        "shopsync_shopify_throttle_available_points",
        "shopsync_credentials_ok",
        "shopsync_stuck_orders",
        "shopsync_payout_variance_amount",
        "shopsync_dispute_next_evidence_due_timestamp",
    ):
        assert conditional in exported  # the seeding above reached each conditional source
    alerts = [(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()]
    panels = [(f"panel {title!r}", expr) for title, expr in dashboard_queries(dashboard())]
    assert unknown_names(alerts, exported) == []
    assert unknown_names(panels, exported) == []


def test_a_name_the_service_does_not_export_is_reported(clean_db, redis_db) -> None:
    exported = scrape_with_every_source(redis_db)
    exprs = [("renamed", "max(shopsync_dlq_depth) > 0 and rate(shopsync_webhooks_received[5m]) > 0")]
    # `shopsync_webhooks_received` is the counter's family name; Prometheus only ever sees `_total`.
    assert unknown_names(exprs, exported) == [("renamed", "shopsync_webhooks_received")]
