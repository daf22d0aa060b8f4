from celery.schedules import crontab

from app.config import load_settings
from app.routing import TASK_ROUTES
from beat_schedule import build_schedule
from tests.unit.test_config import BASE


def test_every_entry_expires_is_routed_and_periodic_jobs_use_crontab():
    schedule = build_schedule(load_settings({**BASE, "INVENTORY_PUSH_EVERY_MINUTES": "10"}))
    for name, entry in schedule.items():
        assert entry["options"]["expires"] > 0, name
        assert entry["options"]["queue"] == TASK_ROUTES[entry["task"]]["queue"], name
    push = schedule["inventory-push"]["schedule"]
    assert isinstance(push, crontab) and push.minute == {0, 10, 20, 30, 40, 50}
