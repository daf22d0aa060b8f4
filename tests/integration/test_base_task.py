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


def test_a_busy_netsuite_budget_reschedules_without_spending_a_retry(sim, redis_db, monkeypatch):
    from app.adapters.counters import TASK_OUTCOMES
    from app.services import events
    from netsuite_client.limiter import SlotUnavailable

    def busy(session, event, settings):  # noqa: ANN001, ANN202
        raise SlotUnavailable("live", 5.0, "no slot within 5s")

    monkeypatch.setitem(events.HANDLERS, "order", busy)
    event_id = store_event(fixture_bytes("orders_create.json"))
    queued_before = redis_db.llen("orders")
    result = process_event.apply(args=[event_id], task_id="tid-busy")
    assert result.state == "IGNORED"  # not a failure, not a retry
    # The same task, again, on its queue; nothing dead-lettered, the event still waiting for it.
    assert redis_db.llen("orders") == queued_before + 1
    assert redis_db.hget(TASK_OUTCOMES, f"{process_event.name}|slot_wait") == b"1"
    assert redis_db.hget(TASK_OUTCOMES, f"{process_event.name}|retry") is None
    with session_scope() as s:
        assert s.scalars(select(DeadLetter)).all() == []
        assert s.get(WebhookEvent, event_id).status != "dead"


def test_work_that_asks_to_run_later_is_rescheduled_with_its_countdown_without_a_retry(sim, redis_db, monkeypatch):
    import json

    from app.adapters.counters import TASK_OUTCOMES
    from app.domain.errors import RunLater
    from app.services import events

    def not_yet(session, event, settings):  # noqa: ANN001, ANN202
        raise RunLater("waiting for the orders/updated", 9.0)

    monkeypatch.setitem(events.HANDLERS, "order", not_yet)
    event_id = store_event(fixture_bytes("orders_create.json"))
    queued_before = redis_db.llen("orders")
    result = process_event.apply(args=[event_id], task_id="tid-later")
    assert result.state == "IGNORED"
    assert redis_db.llen("orders") == queued_before + 1
    message = json.loads(redis_db.lindex("orders", 0))
    assert message["headers"]["id"] == "tid-later" and message["headers"]["retries"] == 0
    assert message["headers"]["eta"] is not None  # run again after the countdown, not at once
    assert redis_db.hget(TASK_OUTCOMES, f"{process_event.name}|deferred") == b"1"
    assert redis_db.hget(TASK_OUTCOMES, f"{process_event.name}|retry") is None
    with session_scope() as s:
        assert s.scalars(select(DeadLetter)).all() == []
        assert s.get(WebhookEvent, event_id).status == "received"
