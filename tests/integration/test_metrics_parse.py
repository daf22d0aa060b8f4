from prometheus_client.parser import text_string_to_metric_families

from app import create_app


def test_metrics_parse_with_prometheus_clients_parser(redis_db, clean_db):
    text = create_app().test_client().get("/metrics").get_data(as_text=True)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {
        "shopsync_netsuite_budget",
        "shopsync_netsuite_slots_in_use",
        "shopsync_queue_depth",
        "shopsync_dlq_depth",
        "shopsync_redis_up",
        "shopsync_webhooks_received",
        "shopsync_webhooks_duplicate",
        "shopsync_webhooks_rejected",
        "shopsync_webhooks_stored",
        "shopsync_task_outcomes",
        "shopsync_netsuite_calls",
        "shopsync_shopify_calls",
        "shopsync_shopify_query_cost_points",
        "shopsync_reconciliation_diffs",
        "shopsync_reconciliation_corrections",
        "shopsync_alerts_open",
        "shopsync_alert_sends",
    } <= set(families)
    assert families["shopsync_webhooks_rejected"].type == "counter"
    reasons = {s.labels["reason"] for s in families["shopsync_webhooks_rejected"].samples}
    assert reasons == {
        "body_too_large",
        "invalid_hmac",
        "missing_headers",
        "unknown_shop",
        "invalid_json",
        "unavailable",
    }
    queues = {s.labels["queue"]: s.value for s in families["shopsync_queue_depth"].samples}
    assert set(queues) == {
        "orders",
        "fulfillments",
        "refunds",
        "inventory",
        "reconcile",
        "backfill",
        "alerts",
        "dead_letter",
    }
