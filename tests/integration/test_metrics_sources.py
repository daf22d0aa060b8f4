"""What /metrics says about the intake, Shopify's cost bucket, reconciliation runs and the credentials check."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from app import create_app
from app.db.models import ReconciliationRun
from app.db.session import session_scope
from app.services.credentials import KEY as CREDENTIALS_KEY
from tests.conftest import fixture_bytes
from tests.helpers import MetricSamples, metric_samples, shopify_headers
from tests.helpers import sample as value


def scrape(client) -> MetricSamples:
    return metric_samples(client.get("/metrics").get_data(as_text=True))


def test_intake_counts_received_duplicates_and_rejections_by_reason(clean_db, redis_db):
    client = create_app().test_client()
    before = scrape(client)
    body = fixture_bytes("orders_create.json")
    post = lambda data, headers: client.post("/webhooks/shopify", data=data, headers=headers)  # noqa: E731
    assert post(body, shopify_headers(body, webhook_id="m-1")).status_code == 200
    assert post(body, shopify_headers(body, webhook_id="m-1")).json["status"] == "duplicate"
    assert post(body, shopify_headers(body, webhook_id="m-2", topic="products/update")).json["status"] == "ignored"
    assert post(body, {**shopify_headers(body), "X-Shopify-Hmac-Sha256": "AAAA"}).status_code == 401
    assert post(body, {**shopify_headers(body), "X-Shopify-Hmac-Sha256": "BBBB"}).status_code == 401
    assert post(body, shopify_headers(body, shop="other.myshopify.com")).status_code == 400
    assert post(b"not json", shopify_headers(b"not json")).status_code == 400
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("shopsync_webhooks_received_total") == 7
    assert delta("shopsync_webhooks_duplicate_total") == 1
    assert delta("shopsync_webhooks_stored_total", outcome="accepted") == 1
    assert delta("shopsync_webhooks_stored_total", outcome="ignored") == 1
    assert delta("shopsync_webhooks_rejected_total", reason="invalid_hmac") == 2
    assert delta("shopsync_webhooks_rejected_total", reason="unknown_shop") == 1
    assert delta("shopsync_webhooks_rejected_total", reason="invalid_json") == 1
    assert delta("shopsync_webhooks_rejected_total", reason="body_too_large") == 0
    assert ("shopsync_webhooks_rejected_total", (("reason", "unavailable"),)) in after  # present at 0


def test_shopify_cost_bucket_and_calls_as_the_service_client_saw_them(shopify_server, redis_db):
    from app.adapters.shopify import get_shopify

    shopify = get_shopify()
    shopify.execute("query MetricsProbe { shop { name } }", operation_name="MetricsProbe")
    shopify.execute("query MetricsProbe { shop { name } }", operation_name="MetricsProbe")
    bucket = shopify.throttle_status
    samples = scrape(create_app().test_client())
    assert value(samples, "shopsync_shopify_calls_total", operation="MetricsProbe", outcome="ok", error_code="") == 2
    assert value(samples, "shopsync_shopify_throttle_maximum_points") == bucket.maximum_available
    assert value(samples, "shopsync_shopify_throttle_restore_rate") == bucket.restore_rate
    available = value(samples, "shopsync_shopify_throttle_available_points")
    assert 0 < available <= bucket.maximum_available
    assert value(samples, "shopsync_shopify_query_cost_points_total", kind="actual") >= 2
    assert abs(value(samples, "shopsync_shopify_throttle_observed_timestamp") - time.time()) < 60


def test_reconciliation_totals_and_last_run_of_each_kind(clean_db, redis_db):
    now = datetime.now(UTC)

    def run(kind: str, minutes_ago: int, *, status: str = "done", dry_run: bool = False, **counts: int | str):
        return ReconciliationRun(
            kind=kind,
            trigger="manual",
            run_date=now,
            dry_run=dry_run,
            status=status,
            started_at=now - timedelta(minutes=minutes_ago + 1),
            finished_at=None if status == "running" else now - timedelta(minutes=minutes_ago),
            **counts,
        )

    with session_scope() as s:
        s.add_all(
            [
                run("inventory", 60, diffs_found=5, corrections_applied=4, alert="spike"),
                run("orders", 50, orders_checked=40, mismatches=3, orders_healed=3),
                run("inventory", 30, diffs_found=100, dry_run=True),  # a dry run corrects nothing: not counted
                run("inventory", 20, diffs_found=2, corrections_applied=2),
                run("inventory", 1, status="running", diffs_found=9),  # not finished: not counted
            ]
        )
    samples = scrape(create_app().test_client())
    assert value(samples, "shopsync_reconciliation_diffs_total") == 7
    assert value(samples, "shopsync_reconciliation_corrections_total") == 6
    assert value(samples, "shopsync_reconciliation_order_mismatches_total") == 3
    assert value(samples, "shopsync_reconciliation_orders_healed_total") == 3
    assert value(samples, "shopsync_reconciliation_runs_total") == 3
    assert value(samples, "shopsync_reconciliation_last_diffs", kind="inventory") == 2
    assert value(samples, "shopsync_reconciliation_last_corrections", kind="inventory") == 2
    assert value(samples, "shopsync_reconciliation_last_alert", kind="inventory") == 0
    assert value(samples, "shopsync_reconciliation_last_order_mismatches", kind="orders") == 3
    finished = value(samples, "shopsync_reconciliation_last_finished_timestamp", kind="inventory")
    assert abs(finished - (now - timedelta(minutes=20)).timestamp()) < 1


def test_credentials_check_names_missing_permissions_on_metrics(clean_db, redis_db):
    redis_db.set(
        CREDENTIALS_KEY,
        json.dumps(
            {
                "checked_at": time.time(),
                "netsuite": "red: missing permission(s): Customers (Lists)",
                "shopify": "green",
                "missing": {"netsuite": ["Customers (Lists)"], "shopify": []},
            }
        ),
    )
    samples = scrape(create_app().test_client())
    assert value(samples, "shopsync_credentials_ok", system="netsuite") == 0
    assert value(samples, "shopsync_credentials_ok", system="shopify") == 1
    missing = {k[1] for k in samples if k[0] == "shopsync_credentials_missing_permission"}
    assert missing == {(("permission", "Customers (Lists)"), ("system", "netsuite"))}
