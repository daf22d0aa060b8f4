"""The base Task's promises, run through Celery's own call path (apply) with the real Redis and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from app.config import get_settings
from app.db.models import DeadLetter, WebhookEvent
from app.db.session import session_scope
from tasks.events import process_event
from tests.conftest import fixture_bytes
from tests.integration.test_services import store_event


def test_task_that_keeps_killing_its_worker_ends_in_the_dlq(sim, redis_db):
    event_id = store_event(fixture_bytes("orders_create.json"))
    limit = get_settings().worker_lost_max
    # As if `limit` earlier deliveries started and never finished (each SIGKILLed its worker).
    redis_db.set("shopsync:task-starts:tid-killer:0", limit)
    process_event.apply(args=[event_id], task_id="tid-killer")
    with session_scope() as s:
        [entry] = s.scalars(select(DeadLetter)).all()
        assert entry.error_code == "WORKER_LOST" and entry.category == "bug"
        assert f"started {limit} times" in entry.error_message
        assert s.get(WebhookEvent, event_id).status == "dead"
    assert redis_db.get("shopsync:task-starts:tid-killer:0") is None


def test_counter_is_cleared_when_the_task_finishes(sim, redis_db):
    event_id = store_event(fixture_bytes("orders_create.json"))
    redis_db.set("shopsync:task-starts:tid-ok:0", 1)  # one earlier start was lost: below the limit
    result = process_event.apply(args=[event_id], task_id="tid-ok")
    assert result.get() == "synced order 450789469"
    assert redis_db.get("shopsync:task-starts:tid-ok:0") is None
    with session_scope() as s:
        assert s.scalars(select(DeadLetter)).all() == []
