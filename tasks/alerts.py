"""Alerts that reach a person: the beat-driven evaluation and the daily digest (queue `alerts`)."""

from __future__ import annotations

from app.celery import celery_app
from app.routing import TASK_DAILY_DIGEST, TASK_EVALUATE_ALERTS
from tasks.base import ShopsyncTask


@celery_app.task(name=TASK_EVALUATE_ALERTS, base=ShopsyncTask, bind=True, max_retries=0)
def evaluate_alerts(self: ShopsyncTask) -> dict:
    # No task retries: the next evaluation is the retry, and what was not delivered is still owed then.
    from app.services.alerts import evaluate

    return evaluate().as_dict()


@celery_app.task(name=TASK_DAILY_DIGEST, base=ShopsyncTask, bind=True, max_retries=0)
def daily_digest(self: ShopsyncTask) -> dict:
    from app.services.digest import post_digest

    return post_digest()
