import json
from pathlib import Path

import pytest
from celery.schedules import crontab
from redbeat.decoder import RedBeatJSONDecoder, RedBeatJSONEncoder

from app.adapters.beat_leader import SCHEDULER
from app.config import ConfigError, get_settings, load_settings
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


def test_the_procfiles_beat_runs_the_app_that_carries_the_schedule_and_the_leader_lock():
    # The schedule is wired in app.beat, outside both app.celery and beat_schedule (they never import each other).
    from app.beat import celery_app as beat_app
    from app.celery import celery_app

    assert beat_app is celery_app
    assert set(beat_app.conf.beat_schedule) == set(build_schedule(get_settings()))
    # The scheduler comes with the app, so any beat started from it takes part in the lock ...
    assert beat_app.conf.beat_scheduler == SCHEDULER
    assert beat_app.conf.redbeat_redis_url == get_settings().redis_url
    assert beat_app.conf.redbeat_lock_timeout == get_settings().beat_lock_timeout_seconds == 30
    assert beat_app.conf.beat_max_loop_interval == get_settings().beat_max_loop_interval_seconds == 5
    [beat] = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("beat:")]
    assert " -A app.beat:celery_app beat " in beat
    # ... and the Procfile's line (which the dev stack, the demo and the e2e tests start) does not swap it out.
    assert not {"-S", "--scheduler", "-s", "--schedule"} & set(beat.split())


def test_every_entry_survives_redbeats_storage_unchanged():
    # redbeat keeps each entry in Redis as JSON: the crontabs, the relay's interval and every `expires` come back.
    schedule = build_schedule(load_settings({**BASE, "RECONCILE_HOUR_UTC": "4", "OUTBOX_RELAY_INTERVAL_SECONDS": "7"}))
    for name, entry in schedule.items():
        stored = json.loads(json.dumps(entry, cls=RedBeatJSONEncoder), cls=RedBeatJSONDecoder)
        assert stored["task"] == entry["task"] and stored["options"] == entry["options"], name
        assert stored["schedule"] == entry["schedule"], name
    assert json.loads(json.dumps(schedule["nightly-reconciliation"], cls=RedBeatJSONEncoder))["schedule"]["hour"] == 4


def test_the_lock_must_outlast_a_few_loops():
    assert load_settings({**BASE, "BEAT_LOCK_TIMEOUT_SECONDS": "6", "BEAT_MAX_LOOP_INTERVAL_SECONDS": "2"})
    with pytest.raises(ConfigError, match="BEAT_LOCK_TIMEOUT_SECONDS"):
        load_settings({**BASE, "BEAT_LOCK_TIMEOUT_SECONDS": "10"})  # the default loop is 5 s
    with pytest.raises(ConfigError, match="BEAT_MAX_LOOP_INTERVAL_SECONDS must be >= 1"):
        load_settings({**BASE, "BEAT_MAX_LOOP_INTERVAL_SECONDS": "0"})


def test_alerts_are_evaluated_and_digested_on_their_own_queue_which_a_procfile_worker_consumes():
    from app.routing import QUEUES, WORKER_GROUPS

    schedule = build_schedule(
        load_settings({**BASE, "ALERT_EVALUATE_EVERY_MINUTES": "10", "ALERT_DIGEST_HOUR_UTC": "6"})
    )
    evaluate, digest = schedule["alerts-evaluate"], schedule["daily-digest"]
    assert evaluate["schedule"].minute == {0, 10, 20, 30, 40, 50} and evaluate["options"]["expires"] == 600
    assert digest["schedule"].hour == {6} and digest["options"]["queue"] == evaluate["options"]["queue"] == "alerts"
    # Every queue but the DLQ is consumed, each by the Procfile line of its group; no order worker takes alerts.
    consumed = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if " -Q " in command:
            consumed[name.removeprefix("worker_")] = tuple(command.split(" -Q ")[1].split()[0].split(","))
    assert consumed == dict(WORKER_GROUPS)
    assert {q for group in consumed.values() for q in group} == set(QUEUES) - {"dead_letter"}
    assert "alerts" not in consumed["orders"]
