"""Publish event work to Celery by task name (app/ never imports tasks/)."""

from __future__ import annotations

import logging

from app.celery import celery_app
from app.routing import TASK_PROCESS_EVENT, TOPIC_QUEUES

log = logging.getLogger(__name__)


def queue_for_topic(topic: str) -> str | None:
    return TOPIC_QUEUES.get(topic)


def publish_event(event_id: int, topic: str) -> bool:
    """Send process_event(event_id) to the topic's queue. False (logged) if the broker is unreachable.

    No retry here: the request must answer Shopify quickly, and the outbox relay re-publishes what this missed.
    """
    queue = queue_for_topic(topic)
    if queue is None:
        raise ValueError(f"topic {topic!r} has no queue")
    try:
        celery_app.send_task(TASK_PROCESS_EVENT, args=[event_id], queue=queue, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure means the relay will pick it up
        log.warning("publish failed for event %s (%s); the outbox relay will re-publish it", event_id, exc)
        return False
    return True
