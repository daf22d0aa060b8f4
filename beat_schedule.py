"""The one beat schedule. UTC; every entry has `expires` so a backlog never replays stale runs."""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import schedule

from app.config import Settings
from app.routing import TASK_OUTBOX_RELAY


def build_schedule(settings: Settings) -> dict:
    relay_every = settings.outbox_relay_interval_seconds
    return {
        # A 30-second cadence is finer than crontab's minute, hence a plain interval schedule.
        "outbox-relay": {
            "task": TASK_OUTBOX_RELAY,
            "schedule": schedule(timedelta(seconds=relay_every)),
            "options": {"queue": "reconcile", "expires": max(relay_every, 1.0)},
        },
    }
