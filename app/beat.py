"""The beat process's Celery app: the app of app.celery with the schedule of beat_schedule.py.

The Procfile's beat runs `celery -A app.beat:celery_app beat`. The two are wired here, outside both, so the Celery
app never imports the schedule and the schedule never imports the app (tests/unit/test_import_rules.py); workers,
the web and the CLI never load the schedule, which only beat reads.
"""

from __future__ import annotations

from app.celery import celery_app
from app.config import get_settings
from beat_schedule import build_schedule

celery_app.conf.beat_schedule = build_schedule(get_settings())

__all__ = ["celery_app"]
