"""Publish work to Celery by task name (app/ never imports tasks/): the one place that calls send_task."""

from __future__ import annotations

import logging
from typing import Any

from app.celery import celery_app
from app.routing import TASK_PROCESS_EVENT, TOPIC_QUEUES

log = logging.getLogger(__name__)


def queue_for_topic(topic: str) -> str | None:
    return TOPIC_QUEUES.get(topic)


def send(
    task_name: str,
    *,
    queue: str,
    args: list[Any] | tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    task_id: str | None = None,
) -> None:
    """Send the task to its queue; a broker failure raises (no retry here: every caller has its own fallback)."""
    celery_app.send_task(task_name, args=list(args), kwargs=kwargs, queue=queue, task_id=task_id, retry=False)


def try_send(task_name: str, *, queue: str, what: str, fallback: str, **options: Any) -> bool:
    """send(), but a broker failure is logged with what was not sent and what will make up for it: False."""
    try:
        send(task_name, queue=queue, **options)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the caller's fallback covers it
        log.warning("publish failed for %s (%s); %s", what, exc.__class__.__name__, fallback)
        return False
    return True


def publish_event(event_id: int, topic: str) -> bool:
    """Send process_event(event_id) to the topic's queue. False (logged) if the broker is unreachable.

    No retry here: the request must answer Shopify quickly, and the outbox relay re-publishes what this missed.
    """
    queue = queue_for_topic(topic)
    if queue is None:
        raise ValueError(f"topic {topic!r} has no queue")
    return publish_event_to(event_id, queue)


def publish_event_to(event_id: int, queue: str) -> bool:
    """Send process_event(event_id) to a named queue (backfill, healing). False (logged) if the broker refused."""
    return try_send(
        TASK_PROCESS_EVENT,
        queue=queue,
        args=[event_id],
        what=f"event {event_id}",
        fallback="the outbox relay will re-publish it",
    )
