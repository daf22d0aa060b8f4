"""process_event: one task for every webhook topic; the routing table picks its queue at publish time."""

from __future__ import annotations

from app.celery import celery_app
from app.routing import TASK_PROCESS_EVENT
from app.services import events
from tasks.base import ShopsyncTask


class EventTask(ShopsyncTask):
    def on_retryable_failure(self, args: tuple, kwargs: dict, exc: BaseException) -> None:
        events.note_failure(args[0], f"{exc.__class__.__name__}: {exc}")


@celery_app.task(name=TASK_PROCESS_EVENT, base=EventTask, bind=True)
def process_event(self: EventTask, event_id: int) -> str:
    return events.process_event(event_id)
