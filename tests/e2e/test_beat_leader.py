"""Two beats started by mistake send every schedule once, and the standby takes over when the leader is killed.

Real processes: a private Redis and two `beat` processes from the Procfile's own line, with the outbox relay every
second, a 3 s lock and a 1 s loop. No worker runs, so every message beat sends stays on its queue to be counted;
each carries its `expires` time, which dates its send to the microsecond (expires - the entry's `expires` option).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import tempfile
import time
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest
import redis

from app.adapters.beat_leader import LOCK_KEY
from app.config import load_settings
from beat_schedule import build_schedule
from devtools.devstack import Managed, Stack, free_port, procfile_commands
from tests.conftest import TEST_ENV
from tests.e2e.conftest import wait_until

RELAY_EVERY = 1  # seconds, OUTBOX_RELAY_INTERVAL_SECONDS
LOCK_TIMEOUT = 3  # BEAT_LOCK_TIMEOUT_SECONDS
LOOP = 1  # BEAT_MAX_LOOP_INTERVAL_SECONDS
BEAT_ENV = {
    "OUTBOX_RELAY_INTERVAL_SECONDS": str(RELAY_EVERY),
    "BEAT_LOCK_TIMEOUT_SECONDS": str(LOCK_TIMEOUT),
    "BEAT_MAX_LOOP_INTERVAL_SECONDS": str(LOOP),
    "LOG_FORMAT": "json",
}
RELAY = "outbox-relay"
# Two sends of one entry closer than this are one tick sent twice (the relay's sends are >= RELAY_EVERY apart).
DOUBLE_SEND = 0.9 * RELAY_EVERY


def sends(beat: Managed, entry: str = RELAY) -> int:
    """How many times this beat logged sending the entry."""
    needle = f"Sending due task {entry} "
    return sum(needle in line for line in beat.log_path.read_text(errors="replace").splitlines())


def log_says(beat: Managed, message: str) -> int:
    return sum(message in line for line in beat.log_path.read_text(errors="replace").splitlines())


def sent_messages(client: redis.Redis, env: dict[str, str]) -> dict[str, list[float]]:
    """Task name -> send times (epoch seconds, sorted) of every message beat left on the queues."""
    expires_after = {e["task"]: float(e["options"]["expires"]) for e in build_schedule(load_settings(env)).values()}
    found: dict[str, list[float]] = {}
    for queue in ("reconcile", "inventory"):
        for raw in client.lrange(queue, 0, -1):
            message = json.loads(raw)
            headers = message["headers"]
            assert headers["expires"], f"a scheduled message without expires: {headers['task']}"
            json.loads(base64.b64decode(message["body"]))  # a well-formed Celery body
            sent = datetime.fromisoformat(headers["expires"]).timestamp() - expires_after[headers["task"]]
            found.setdefault(headers["task"], []).append(sent)
    return {task: sorted(times) for task, times in found.items()}


@pytest.fixture
def beats():
    run_dir = Path(tempfile.mkdtemp(prefix="shopsync-beats-"))
    port = free_port()
    env = {
        **os.environ,
        **TEST_ENV,
        **BEAT_ENV,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
    }
    stack = Stack(env=env, run_dir=run_dir)
    try:
        stack.start("redis", f"exec redis-server --bind 127.0.0.1 --port {port} --save '' --appendonly no")
        client = redis.Redis(port=port)
        wait_until(lambda: _ping(client), 10, what="private redis")
        yield stack, client, env
    finally:
        stack.stop_all()
        for managed in stack.processes.values():
            print(f"--- {managed.name}\n{managed.log_tail()}")


def _ping(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def relay_total(a: Managed, b: Managed) -> int:
    return sends(a) + sends(b)


def test_two_beats_send_each_tick_once_and_the_standby_takes_over_from_a_killed_leader(beats):
    stack, client, env = beats
    command = procfile_commands()["beat"]  # exactly what operators run
    a, b = stack.start("beat-a", command), stack.start("beat-b", command)
    # Both up (the standby too: it logs its start, then waits on the lock) and the relay sent at least once.
    wait_until(
        lambda: log_says(a, "beat: Starting") and log_says(b, "beat: Starting") and relay_total(a, b) >= 1,
        60,  # bounded; startup is a few seconds, slower on a loaded machine
        what="both beats started and a first relay sent",
    )
    both_up = relay_total(a, b)
    wait_until(lambda: relay_total(a, b) >= both_up + 5, 30, what="five more relay ticks with both beats up")
    stack.check_alive()
    leaders = [beat for beat in (a, b) if log_says(beat, "beat: Acquired lock")]
    assert len(leaders) == 1, "exactly one beat holds the lock"
    [leader] = leaders
    standby = b if leader is a else a
    assert sends(standby) == 0, "the standby sent nothing while the leader held the lock"

    os.kill(leader.pid, signal.SIGKILL)  # no chance to release the lock: it has to expire
    killed_at = time.time()
    leader.popen.wait(timeout=10)
    stack.processes.pop(leader.name)  # dead on purpose
    by_leader = sends(leader)
    wait_until(lambda: sends(standby) >= 5, 30, what="the standby to take over and send five relay ticks")
    stack.check_alive()
    assert log_says(standby, "beat: Acquired lock") == 1
    stack.stop(standby.name)
    assert client.exists(LOCK_KEY) == 0, "a graceful stop releases the lock"

    sent = sent_messages(client, env)
    relay = sent.pop("shopsync.outbox_relay")
    gaps = [later - earlier for earlier, later in pairwise(relay)]
    assert min(gaps) >= DOUBLE_SEND, f"a relay tick was sent twice: gaps {gaps}"
    for task, times in sent.items():  # a crontab entry whose minute came up during the test: once as well
        assert all(later - earlier >= DOUBLE_SEND for earlier, later in pairwise(times)), (task, times)

    before = [t for t in relay if t < killed_at]
    after = [t for t in relay if t >= killed_at]
    # Every send a beat logged is on the queue once; a beat logs just before it publishes, so one stopped between
    # the two (the leader is SIGKILLed at any point) may have logged a last send that never left.
    assert by_leader - 1 <= len(before) <= by_leader
    assert sends(standby) - 1 <= len(after) <= sends(standby)
    takeover = after[0] - killed_at
    silence = after[0] - before[-1]
    # The standby waited for the dead leader's lock to expire (renewed at its last tick, at or after its last send),
    # then sent within one poll of the lock and one relay period.
    assert silence >= LOCK_TIMEOUT - 0.5, f"the standby sent {silence:.2f}s after the leader's last send"
    assert takeover <= LOCK_TIMEOUT + LOOP + RELAY_EVERY + 2, f"takeover took {takeover:.2f}s"
    after_gaps = [later - earlier for earlier, later in pairwise(after)]
    print(
        f"relay sends: {len(before)} by the leader, {len(after)} by the standby after the kill; "
        f"takeover {takeover:.2f}s after SIGKILL ({silence:.2f}s without a send, lock {LOCK_TIMEOUT}s, loop {LOOP}s); "
        f"gaps min {min(gaps):.2f}s; after takeover {min(after_gaps):.2f}-{max(after_gaps):.2f}s"
    )
