"""The dead-letter holder. Nothing consumes the dead_letter queue in normal operation: its messages are
the DLQ. A worker pointed at it by mistake hands each message straight back; it never runs the work."""

from __future__ import annotations

import logging

from app.celery import celery_app
from app.routing import TASK_DEAD_LETTER, TASK_REQUEUE_DEAD_LETTER

log = logging.getLogger(__name__)


@celery_app.task(name=TASK_DEAD_LETTER, bind=True, acks_late=False, ignore_result=True)
def dead_letter(self, dead_letter_id: int, facts: dict | None = None) -> None:
    from celery.exceptions import Reject

    # Put it back where it was: consuming the DLQ must never resolve an entry by accident.
    log.warning("dead letter %s was consumed from the dead_letter queue; returning it", dead_letter_id)
    raise Reject("dead letters wait for an operator", requeue=True)


@celery_app.task(name=TASK_REQUEUE_DEAD_LETTER, bind=True, acks_late=True, ignore_result=False)
def requeue_dead_letter(self, dead_letter_id: int, actor: str = "flower") -> str:
    """Requeue one dead letter (idempotent: a second call sends nothing) and audit it. Called from Flower's
    authenticated API: POST /api/task/async-apply/shopsync.requeue_dead_letter {"args": [<id>]}."""
    from app.services import dlq

    return dlq.requeue_one(int(dead_letter_id), actor)
