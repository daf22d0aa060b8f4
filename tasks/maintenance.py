"""Beat-driven housekeeping tasks."""

from __future__ import annotations

from app.celery import celery_app
from app.routing import TASK_OUTBOX_RELAY
from app.services.outbox import relay_pending
from tasks.base import ShopsyncTask


@celery_app.task(name=TASK_OUTBOX_RELAY, base=ShopsyncTask, bind=True, max_retries=0)
def outbox_relay(self: ShopsyncTask) -> int:
    return relay_pending()
