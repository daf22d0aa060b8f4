from prometheus_client.parser import text_string_to_metric_families

from app import create_app


def test_metrics_parse_with_prometheus_clients_parser(redis_db):
    text = create_app().test_client().get("/metrics").get_data(as_text=True)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {
        "shopsync_netsuite_budget",
        "shopsync_netsuite_slots_in_use",
        "shopsync_queue_depth",
        "shopsync_dlq_depth",
        "shopsync_redis_up",
    } <= set(families)
    queues = {s.labels["queue"]: s.value for s in families["shopsync_queue_depth"].samples}
    assert set(queues) == {"orders", "fulfillments", "refunds", "inventory", "reconcile", "backfill", "dead_letter"}
