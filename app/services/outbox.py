"""Outbox relay: re-publish events the broker never got (Redis down at intake, or lost since)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import or_, select, update

from app.adapters.redis_client import get_redis
from app.config import get_settings
from app.db.models import EventStatus, WebhookEvent
from app.db.session import session_scope
from app.publish import publish_event, queue_for_topic

log = logging.getLogger(__name__)

BATCH = 500


def relay_pending(now: datetime | None = None, redis_client: redis.Redis | None = None) -> int:
    """Publish events still `received` after OUTBOX_RELAY_AFTER_SECONDS. Returns how many were published.

    An event is relayed once, then again only after OUTBOX_REPUBLISH_AFTER_SECONDS. While its queue still
    holds messages, a young event is most likely waiting in it (a backlog, not a loss), so it is left alone
    until the republish age: a flash-sale backlog is not doubled by the relay.
    """
    s = get_settings()
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(seconds=s.outbox_relay_after_seconds)
    stale = now - timedelta(seconds=s.outbox_republish_after_seconds)
    client = redis_client or get_redis()
    depths: dict[str, int] = {}
    due: list[tuple[int, str]] = []
    with session_scope() as session:
        rows = session.scalars(
            select(WebhookEvent)
            .where(
                WebhookEvent.status == EventStatus.RECEIVED,
                WebhookEvent.received_at < cutoff,
                or_(WebhookEvent.published_at.is_(None), WebhookEvent.published_at < stale),
                or_(WebhookEvent.attempts == 0, WebhookEvent.received_at < stale),
            )
            .order_by(WebhookEvent.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for event in rows:
            queue = queue_for_topic(event.topic)
            if queue is None:
                continue
            if queue not in depths:
                depths[queue] = int(client.llen(queue))
            if depths[queue] > 0 and event.received_at >= stale:
                continue
            event.published_at = now
            due.append((event.id, event.topic))
    # Publish only after the commit: a worker must never receive an event whose row the relay still locks.
    published = 0
    for position, (event_id, topic) in enumerate(due):
        if not publish_event(event_id, topic):
            _unmark([eid for eid, _ in due[position:]])
            break
        published += 1
    if published:
        log.warning("outbox relay re-published %d event(s)", published)
    return published


def _unmark(event_ids: list[int]) -> None:
    """The broker refused: clear the marks so the next run tries these again at once."""
    with session_scope() as session:
        session.execute(update(WebhookEvent).where(WebhookEvent.id.in_(event_ids)).values(published_at=None))
