from pathlib import Path

from celery.schedules import crontab

from app.config import get_settings, load_settings
from app.routing import TASK_ROUTES
from beat_schedule import build_schedule
from tests.unit.test_config import BASE

ROOT = Path(__file__).resolve().parents[2]


def test_every_entry_expires_is_routed_and_periodic_jobs_use_crontab():
    schedule = build_schedule(load_settings({**BASE, "INVENTORY_PUSH_EVERY_MINUTES": "10"}))
    for name, entry in schedule.items():
        assert entry["options"]["expires"] > 0, name
        assert entry["options"]["queue"] == TASK_ROUTES[entry["task"]]["queue"], name
    push = schedule["inventory-push"]["schedule"]
    assert isinstance(push, crontab) and push.minute == {0, 10, 20, 30, 40, 50}


def test_the_procfiles_beat_runs_the_app_that_carries_the_schedule():
    # The schedule is wired in app.beat, outside both app.celery and beat_schedule (they never import each other).
    from app.beat import celery_app as beat_app
    from app.celery import celery_app

    assert beat_app is celery_app
    assert set(beat_app.conf.beat_schedule) == set(build_schedule(get_settings()))
    [beat] = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("beat:")]
    assert " -A app.beat:celery_app beat " in beat
