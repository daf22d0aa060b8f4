"""The soak's faults: a log of everything injected (what, when, and for a fault meant to dead-letter, the webhook id
and the reason code it must carry), and the chaos schedule that injects them while the stream is sent.

Injected: NetSuite 5xx at 2% (500 and 503, the whole run) and two 429 bursts (the simulator's /_sim/faults); a
window where another integration holds half the account's slots (/_sim/config held_slots); two whole workers
SIGKILLed (the process group: parent and pool children) and started again from their Procfile line; a FLUSHDB of
the broker's Redis db; a PostgreSQL restart (the soak's own cluster). Each fires when the given share of the stream
has been sent, in a thread of its own, so the stream goes on meanwhile.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from bench.services import PrivatePostgres, PrivateRedis
from devtools.devstack import Stack


@dataclass
class Fault:
    at_s: float  # seconds since the soak started
    kind: str
    detail: str
    webhook_id: str | None = None  # a fault on one delivery
    expect_code: str | None = None  # the dead letter's error code this fault must produce
    until_s: float | None = None  # a window's end


class FaultLog:
    """Every injected fault, in order (thread-safe: chaos actions run in their own threads)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.entries: list[Fault] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def add(self, kind: str, detail: str, **extra: Any) -> Fault:
        fault = Fault(self.now(), kind, detail, **extra)
        with self._lock:
            self.entries.append(fault)
        return fault

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.kind for f in self.entries))

    def explaining(self, webhook_id: str | None, code: str | None) -> Fault | None:
        """The injected fault a dead letter of this webhook with this error code is the expected outcome of."""
        for fault in self.entries:
            if fault.webhook_id is not None and fault.webhook_id == webhook_id and fault.expect_code == code:
                return fault
        return None

    def as_list(self, kinds_without_webhooks: bool = True) -> list[dict[str, Any]]:
        """The log for the results file (per-delivery faults are summarised by `counts`)."""
        return [asdict(f) for f in self.entries if not kinds_without_webhooks or f.webhook_id is None]


@dataclass
class Worker:
    """How a process of the stack was started, so it can be started again the same way."""

    name: str
    command: str
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Chaos:
    """The stack's fault injectors and the schedule that fires them (by share of the stream sent)."""

    stack: Stack
    netsuite: str  # the NetSuite simulator's base URL
    postgres: PrivatePostgres
    redis: PrivateRedis
    log: FaultLog
    workers: dict[str, Worker]
    sim_cap: int
    scale: float = 1.0  # time-based phases (bursts, windows) scale with the run
    threads: list[threading.Thread] = field(default_factory=list)
    restarting: set[str] = field(default_factory=set)
    _schedule: list[tuple[float, str, Callable[[], None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        burst = max(2.0, 10.0 * self.scale)
        self._schedule = [
            (0.0, "netsuite 5xx at 2%", self.netsuite_errors),
            (0.10, "429 burst", lambda: self.burst_429(burst)),
            (0.20, "another integration holds half the slots", self.hold_half),
            (0.30, "SIGKILL worker_orders-1", lambda: self.kill("worker_orders-1")),
            (0.45, "FLUSHDB of the broker", self.flush_broker),
            (0.50, "the other integration lets go", self.release_slots),
            (0.60, "PostgreSQL restart", self.restart_postgres),
            (0.70, "SIGKILL worker_fulfillment", lambda: self.kill("worker_fulfillment")),
            (0.80, "429 burst", lambda: self.burst_429(burst)),
        ]

    def due(self, share_sent: float) -> list[str]:
        """Fire (each in its own thread) every scheduled fault whose share of the stream has been sent."""
        fired = []
        while self._schedule and self._schedule[0][0] <= share_sent:
            _, label, action = self._schedule.pop(0)
            thread = threading.Thread(target=action, name=f"chaos: {label}", daemon=True)
            thread.start()
            self.threads.append(thread)
            fired.append(label)
        return fired

    def finish(self, timeout: float = 120.0) -> None:
        """Fire what is left of the schedule and wait for every action (restarts included) to be over."""
        self.due(1.0)
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        if any(t.is_alive() for t in self.threads):
            raise RuntimeError(f"chaos actions still running after {timeout:.0f}s")

    # --- NetSuite ----------------------------------------------------------------------------------------------

    def _fault(self, body: dict[str, Any]) -> None:
        requests.post(f"{self.netsuite}/_sim/faults", json=body, timeout=10).raise_for_status()

    def netsuite_errors(self) -> None:
        for status in (500, 503):
            self._fault({"error_rate": 0.01, "status": status})
        self.log.add("netsuite_5xx", "1% 500 + 1% 503 on every NetSuite request until the end")

    def burst_429(self, seconds: float) -> None:
        self._fault({"burst_429_s": seconds})
        self.log.add("netsuite_429_burst", f"every request answered 429 for {seconds:.0f} s")

    def hold_half(self) -> None:
        held = self.sim_cap // 2
        requests.post(f"{self.netsuite}/_sim/config", json={"held_slots": held}, timeout=10).raise_for_status()
        self.log.add("held_slots", f"another integration holds {held} of the account's {self.sim_cap} slots")

    def release_slots(self) -> None:
        requests.post(f"{self.netsuite}/_sim/config", json={"held_slots": 0}, timeout=10).raise_for_status()
        self.log.add("held_slots_released", "the other integration's slots are free again")

    def clear_netsuite(self) -> None:
        requests.delete(f"{self.netsuite}/_sim/faults", timeout=10).raise_for_status()
        requests.post(f"{self.netsuite}/_sim/config", json={"held_slots": 0}, timeout=10).raise_for_status()

    # --- processes, broker, database -------------------------------------------------------------------------

    def kill(self, name: str, down_s: float = 2.0) -> None:
        """SIGKILL the worker's whole process group (parent and pool children), then start it again."""
        managed = self.stack.processes.pop(name)
        self.restarting.add(name)
        try:
            os.killpg(managed.pid, signal.SIGKILL)
            managed.popen.wait(timeout=30)
            self.log.add("worker_sigkill", f"{name} (process group {managed.pid}) SIGKILLed")
            time.sleep(down_s)
            worker = self.workers[name]
            self.stack.start(name, worker.command, extra_env=worker.env)
            self.log.add("worker_restart", f"{name} started again from its Procfile line")
        finally:
            self.restarting.discard(name)

    def flush_broker(self) -> None:
        self.redis.client(0).flushdb()
        self.log.add("redis_flushdb", "FLUSHDB of the broker's Redis db (queues, unacked, leases, counters)")

    def restart_postgres(self) -> None:
        self.log.add("postgres_restart", "PostgreSQL stopped (fast) and started again")
        self.postgres.restart()
        self.log.add("postgres_up", "PostgreSQL accepting connections again")
