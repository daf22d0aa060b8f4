"""5 worker processes x 8 threads share one NetSuite budget through Redis while slot holders are SIGKILLed:
the simulator never sees more than the budget at once, and the fleet is back at the full budget after each
kill (once the dead process's leases have expired)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time

import requests

from simulators.netsuite.server import SimulatorConfig, start_in_thread
from tests.conftest import TEST_ENV

BUDGET = 12
LEASE = 1.0
PROCESSES = 5


def spawn(base_url: str, seconds: float, item_id: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.e2e.fleet_worker",
            "--base-url",
            base_url,
            "--redis-url",
            TEST_ENV["REDIS_URL"],
            "--budget",
            str(BUDGET),
            "--lease",
            str(LEASE),
            "--threads",
            "8",
            "--seconds",
            str(seconds),
            "--item-id",
            item_id,
        ],
        stdout=subprocess.DEVNULL,
    )


def test_sigkilled_slot_holders_never_push_netsuite_past_the_budget(redis_db):
    server, base_url = start_in_thread(SimulatorConfig(concurrency_limit=15, latency_ms=100))
    sim = base_url.split("/services/rest")[0]
    rng = random.Random(7)
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.monotonic(), requests.get(f"{sim}/_sim/stats", timeout=5).json()["in_flight"]))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    item_id = str(requests.get(f"{sim}/_sim/items", timeout=5).json()[0]["id"])
    procs = [spawn(base_url, 14, item_id) for _ in range(PROCESSES)]
    kills: list[float] = []
    try:
        time.sleep(2.0)
        sampler.start()
        for _ in range(4):
            victim = rng.randrange(len(procs))
            procs[victim].send_signal(signal.SIGKILL)  # it holds slots: 8 threads in a 100 ms call loop
            kills.append(time.monotonic())
            procs[victim].wait(timeout=5)
            procs[victim] = spawn(base_url, 14 - (time.monotonic() - kills[0]) - 2, item_id)
            time.sleep(2.2)
    finally:
        stop.set()
        sampler.join(timeout=5)
        stats = requests.get(f"{sim}/_sim/stats", timeout=5).json()
        for p in procs:
            p.kill()
            p.wait(timeout=5)
        server.shutdown()

    assert stats["peak_concurrency"] <= BUDGET
    assert stats["rejections"]["concurrency"] == 0
    assert stats["calls_by_operation"]["GET inventoryItem"] > 200
    # Each kill strands up to 8 slots until their leases expire; after that the fleet uses the whole budget.
    for killed_at in kills:
        window = [n for t, n in samples if killed_at + LEASE + 0.3 <= t <= killed_at + 2.1]
        assert window and max(window) == BUDGET, (killed_at, window)
