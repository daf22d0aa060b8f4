"""Beat's leader scheduler against a real Redis, in this process: what the broker's Redis may go through (a FLUSHDB,
a lock lost while the leader stalled, an outage and a restart without its data) never ends beat, never lets two
beats send, and never leaves the leader with an empty schedule. (Two real beat processes: tests/e2e.)"""

from __future__ import annotations

import subprocess
import threading
import time

import pytest
import redis
from celery import Celery

from app.adapters.beat_leader import KEY_PREFIX, LOCK_KEY, LeaderScheduler, beat_config
from app.celery import celery_config
from app.config import load_settings
from beat_schedule import build_schedule
from devtools.devstack import free_port
from tests.conftest import TEST_ENV

RELAY_EVERY = 1
FAST = {"OUTBOX_RELAY_INTERVAL_SECONDS": str(RELAY_EVERY), "BEAT_LOCK_TIMEOUT_SECONDS": "3"}
FAST["BEAT_MAX_LOOP_INTERVAL_SECONDS"] = "1"


def beat(redis_url: str = TEST_ENV["REDIS_URL"]) -> LeaderScheduler:
    """A beat's scheduler as `celery beat` builds it, on its own app (as in its own process)."""
    settings = load_settings({**TEST_ENV, **FAST, "REDIS_URL": redis_url})
    app = Celery("beat-test", set_as_current=False)
    app.conf.update(celery_config(settings))
    app.conf.update(beat_config(settings), beat_schedule=build_schedule(settings))
    return LeaderScheduler(app=app)


def relay_sent(client: redis.Redis) -> int:
    return sum(b"shopsync.outbox_relay" in raw for raw in client.lrange("reconcile", 0, -1))


def schedule_keys(client: redis.Redis) -> list[bytes]:
    return [k for k in client.keys(f"{KEY_PREFIX}*") if k != LOCK_KEY.encode()]


def tick_until_relay_sent(scheduler: LeaderScheduler, client: redis.Redis, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while relay_sent(client) < count:
        assert time.monotonic() < deadline, f"the relay was not sent {count} time(s) within {timeout}s"
        time.sleep(min(scheduler.tick(), 0.5))


def test_a_starting_beat_writes_nothing_until_it_leads_then_installs_the_schedule(redis_db):
    scheduler = beat()
    assert schedule_keys(redis_db) == [], "a beat that does not hold the lock wrote the schedule"
    scheduler.tick()
    assert redis_db.get(LOCK_KEY) is not None
    names = {k.decode().removeprefix(KEY_PREFIX) for k in redis_db.smembers(f"{KEY_PREFIX}:statics")}
    assert set(build_schedule(load_settings({**TEST_ENV, **FAST}))) <= names
    tick_until_relay_sent(scheduler, redis_db, 1)


def test_after_a_flushdb_the_leader_takes_the_lock_again_reinstalls_and_sends(redis_db):
    leader, standby = beat(), beat()
    tick_until_relay_sent(leader, redis_db, 1)
    redis_db.flushdb()  # the lock, the schedule and the last runs are gone
    assert leader.tick() == 0.0  # lost the lock: took it again (it was free), nothing sent in this tick
    assert relay_sent(redis_db) == 0
    tick_until_relay_sent(leader, redis_db, 2)
    assert schedule_keys(redis_db), "the schedule was installed again"
    leader.close()
    # The standby, built before the flush, leads the schedule that is in Redis now: it is not empty.
    tick_until_relay_sent(standby, redis_db, 3)


def test_a_leader_that_lost_its_lock_to_another_stands_by_until_it_is_free(redis_db):
    first, second = beat(), beat()
    tick_until_relay_sent(first, redis_db, 1)
    redis_db.delete(LOCK_KEY)  # as if `first` had stalled longer than the lock timeout
    tick_until_relay_sent(second, redis_db, 2)  # `second` took the lock and sends
    # `second` dies 2.5 s from now: its lock is gone (as when it expires). Until then `first` waits on it.
    threading.Timer(2.5, redis_db.delete, args=(LOCK_KEY,)).start()
    started = time.monotonic()
    assert first.tick() == 0.0, "the beat that lost its lock took it again once free"
    assert time.monotonic() - started >= 2.4, "it did not wait on the lock held by the other beat"
    assert relay_sent(redis_db) == 2, "nothing sent while it waited"
    tick_until_relay_sent(first, redis_db, 3)


@pytest.fixture
def private_redis():
    """A Redis of its own that the test may stop and start again empty."""
    port = free_port()
    command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    server: dict[str, subprocess.Popen] = {}

    def start() -> redis.Redis:
        server["p"] = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "private redis did not start"
                time.sleep(0.05)

    def stop() -> None:
        server["p"].terminate()
        server["p"].wait(timeout=10)

    yield port, start, stop
    if server["p"].poll() is None:
        stop()


def test_redis_down_then_back_empty_beat_keeps_running_and_sends_again(private_redis):
    port, start, stop = private_redis
    scheduler = beat(f"redis://127.0.0.1:{port}/0")
    assert scheduler.tick() == 1, "Redis down at start: nothing sent, try again after a loop"
    client = start()
    tick_until_relay_sent(scheduler, client, 1)
    stop()
    assert scheduler.tick() == 1, "Redis down: nothing sent, try again after a loop"
    client = start()  # back without its data: no lock, no schedule
    tick_until_relay_sent(scheduler, client, 1)
    assert client.get(LOCK_KEY) is not None
