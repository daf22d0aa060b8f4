from app import create_app
from app.adapters.netsuite import get_limiter


def test_metrics_export_budget_slots_queue_and_dlq_depth(redis_db):
    limiter = get_limiter()
    limiter.reset()
    held = [limiter.acquire(), limiter.acquire("reconcile")]
    redis_db.rpush("orders", b"x", b"y")
    redis_db.rpush("dead_letter", b"z")
    text = create_app().test_client().get("/metrics").get_data(as_text=True)
    for s in held:
        limiter.release(s)
    assert "shopsync_netsuite_budget 12.0" in text
    assert 'shopsync_netsuite_slots_in_use{lane="live"} 1.0' in text
    assert 'shopsync_netsuite_slots_in_use{lane="reconcile"} 1.0' in text
    assert 'shopsync_queue_depth{queue="orders"} 2.0' in text
    assert "shopsync_dlq_depth 1.0" in text
    assert "shopsync_redis_up 1.0" in text
