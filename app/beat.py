"""The beat process's Celery app: the app of app.celery with the schedule of beat_schedule.py and the scheduler that
lets exactly one beat send (app/adapters/beat_leader.py).

The Procfile's beat runs `celery -A app.beat:celery_app beat`. The two are wired here, outside both, so the Celery
app never imports the schedule and the schedule never imports the app (tests/unit/test_import_rules.py); workers,
the web and the CLI never load the schedule, which only beat reads. The scheduler is chosen here too, not on the
command line: any beat started from this app takes part in the lock.
"""

from __future__ import annotations

from app.adapters.beat_leader import beat_config
from app.celery import celery_app
from app.config import get_settings
from beat_schedule import build_schedule

celery_app.conf.update(beat_config(get_settings()), beat_schedule=build_schedule(get_settings()))

__all__ = ["celery_app"]
