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


RECOVERY_WAIT = 15.0  # bound on waiting for the fleet to be back at the full budget after a kill
WORKER_SECONDS = 4 * (RECOVERY_WAIT + 1) + 10  # outlives the whole test; killed at the end


def test_sigkilled_slot_holders_never_push_netsuite_past_the_budget(redis_db):
    server, base_url = start_in_thread(SimulatorConfig(concurrency_limit=15, latency_ms=100))
    sim = base_url.split("/services/rest")[0]
    rng = random.Random(7)
    samples: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            in_flight = requests.get(f"{sim}/_sim/stats", timeout=5).json()["in_flight"]
            with lock:
                samples.append((time.monotonic(), in_flight))
            time.sleep(0.02)

    def back_at_budget_after(killed_at: float) -> bool:
        # Once the dead process's leases have expired (one lease after the kill), its slots are free again.
        with lock:
            return any(n == BUDGET for t, n in samples if t >= killed_at + LEASE + 0.3)

    sampler = threading.Thread(target=sample, daemon=True)
    item_id = str(requests.get(f"{sim}/_sim/items", timeout=5).json()[0]["id"])
    procs = [spawn(base_url, WORKER_SECONDS, item_id) for _ in range(PROCESSES)]
    kills: list[float] = []
    recovered: list[float | None] = []
    try:
        time.sleep(2.0)
        sampler.start()
        for _ in range(4):
            victim = rng.randrange(len(procs))
            procs[victim].send_signal(signal.SIGKILL)  # it holds slots: 8 threads in a 100 ms call loop
            killed_at = time.monotonic()
            kills.append(killed_at)
            procs[victim].wait(timeout=5)
            procs[victim] = spawn(base_url, WORKER_SECONDS, item_id)
            # Wait for the fleet to use the whole budget again (bounded: on a loaded machine it takes longer
            # than the lease, but it must come back).
            deadline = killed_at + LEASE + RECOVERY_WAIT
            while not back_at_budget_after(killed_at) and time.monotonic() < deadline:
                time.sleep(0.05)
            recovered.append(round(time.monotonic() - killed_at, 2) if back_at_budget_after(killed_at) else None)
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
    assert None not in recovered, (
        f"the fleet never got back to the full budget of {BUDGET} within {RECOVERY_WAIT}s after a kill"
        f" (seconds to recover per kill, None = never: {recovered})"
    )
    with lock:
        assert max(n for _, n in samples) <= BUDGET
