"""The clock a simulator reads its time from: the real one by default, a `ManualClock` in tests so that token
expiry, fault windows, job delays and write lags can be stepped through without sleeping.

Only simulated time goes through it. Request latency (`latency_ms`, a fault's `delay_ms` or `slow_ms`) is a
real wait by design: it is what a client's timeouts and the concurrency cap are measured against."""

from __future__ import annotations

import threading
import time


class Clock:
    """The real clock: wall time, monotonic time and sleeping."""

    def time(self) -> float:
        """Seconds since the epoch (token expiry, timestamps shown to clients, fault windows)."""
        return time.time()

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (delays measured inside the simulator)."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        time.sleep(seconds)


REAL_CLOCK = Clock()


class ManualClock(Clock):
    """A clock that moves only when told: `advance(seconds)`. Wall and monotonic time move together; `sleep`
    blocks the calling thread until the clock has been advanced past its deadline."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._moved = threading.Condition()

    def time(self) -> float:
        with self._moved:
            return self._now

    def monotonic(self) -> float:
        return self.time()

    def sleep(self, seconds: float) -> None:
        with self._moved:
            deadline = self._now + seconds
            self._moved.wait_for(lambda: self._now >= deadline)

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` and wake the sleepers whose deadline has come."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._moved:
            self._now += seconds
            self._moved.notify_all()

    def catch_up(self) -> None:
        """Move forward to the real wall time if it is ahead: keeps a long-lived manual clock within the
        windows that compare it with times a client took from the real clock (TBA timestamps, JWT iat)."""
        self.advance(max(0.0, time.time() - self.time()))
