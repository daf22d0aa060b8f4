"""One NetSuite concurrency budget for the whole fleet, kept in Redis.

NetSuite counts concurrent requests per account, across every integration, so a per-process or per-worker
limit (Celery's `rate_limit`) cannot protect the pool. Every HTTP attempt, from any process on any machine,
holds one slot of this budget while it runs.

How the promises are kept:

* Never exceeded: slots are granted by one Lua script that counts holders atomically, using Redis's clock
  (no skew between machines).
* A dead holder's slot comes back by itself: each slot is a lease that the holding process renews from a
  heartbeat thread every `renew_every_s`. A process killed with SIGKILL stops renewing and its slots expire
  `lease_s` after the last renewal (default 35 s: longer than the client's read timeout, so NetSuite has
  finished with, or dropped, the dead process's request before anybody reuses its slot). A slow NetSuite never
  causes an overrun: a live holder keeps renewing for as long as its call takes.
* Adaptive (AIMD): a governance answer (429 CONCURRENCY_LIMIT_EXCEEDED and its RESTlet/SOAP forms) cuts the
  effective budget multiplicatively (at most once per `decrease_cooldown_s`, since many calls in flight see the
  same storm); every `increase_every_s` with successful calls and no governance answer adds one slot back, up
  to the configured maximum.
* Priority lanes: lanes with a share (bulk work: backfill, reconcile, inventory reads) may hold at most
  `share x budget` slots (at least one) and never take a slot while a live caller is waiting.
* Waiting: a caller polls for at most `max_wait_s[lane]` (live 5 s, bulk 1 s by default), then gets
  `SlotUnavailable`. A live caller waits between polls blocked on a wake list that every release pushes to while
  live callers wait, so a freed slot is taken at once (polls every ~50 ms still see slots freed by an expired
  lease or a budget increase); bulk callers sleep 5-10 ms between polls. The task layer reschedules itself with
  a short countdown instead of pinning a worker process that does nothing.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis

log = logging.getLogger("netsuite_client.limiter")

LIVE = "live"
WAKE_WAIT_S = 0.25  # a live waiter's longest pause blocked on the wake list before it polls again


class SlotUnavailable(Exception):
    """No slot within the caller's wait. Not a NetSuite error: nothing was sent. Reschedule and try later."""

    retryable = True

    def __init__(self, lane: str, waited_s: float, reason: str) -> None:
        self.lane = lane
        self.waited_s = waited_s
        self.reason = reason
        super().__init__(f"no NetSuite slot for lane {lane!r} within {waited_s:.1f}s ({reason})")


@dataclass(frozen=True)
class LimiterConfig:
    max_budget: int = 12
    min_budget: int = 1
    lane_shares: Mapping[str, float] = field(
        default_factory=lambda: {"backfill": 0.25, "reconcile": 0.25, "inventory": 0.25}
    )
    lease_s: float = 35.0
    renew_every_s: float = 5.0
    max_wait_s: Mapping[str, float] = field(default_factory=lambda: {LIVE: 5.0})
    default_bulk_wait_s: float = 1.0
    decrease_factor: float = 0.75
    decrease_cooldown_s: float = 1.0
    increase_every_s: float = 2.0
    key_prefix: str = "shopsync:nslimiter"

    def wait_for(self, lane: str) -> float:
        return self.max_wait_s.get(lane, self.max_wait_s.get(LIVE, 5.0) if lane == LIVE else self.default_bulk_wait_s)


# Members of the holders set are "<lane>|<token>", scored by lease expiry (ms, Redis clock).
# KEYS: holders, live waiters, budget; ARGV: member, lease_ms, is_live, share, max_budget, min_budget, lane prefix
# Returns {granted (1) or refusal code (0 full, -1 yielding to live, -2 lane share full), budget, in use}
# A live caller refused is marked waiting (for 1 s, renewed at each poll) so bulk lanes step aside; granted, its
# mark is removed. Both in the script: one round trip per poll instead of three.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local max_budget = tonumber(ARGV[5])
local min_budget = tonumber(ARGV[6])
local budget = tonumber(redis.call('GET', KEYS[3]) or max_budget)
if budget > max_budget then budget = max_budget end
if budget < min_budget then budget = min_budget end
local used = redis.call('ZCARD', KEYS[1])
if used >= budget then
  if ARGV[3] == '1' then redis.call('ZADD', KEYS[2], now + 1000, ARGV[1]) end
  return {0, budget, used}
end
if ARGV[3] == '0' then
  if redis.call('ZCARD', KEYS[2]) > 0 then return {-1, budget, used} end
  local cap = math.max(1, math.floor(budget * tonumber(ARGV[4])))
  local prefix = ARGV[7]
  local in_lane = 0
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if string.sub(member, 1, #prefix) == prefix then in_lane = in_lane + 1 end
  end
  if in_lane >= cap then return {-2, budget, used} end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if ARGV[3] == '1' then redis.call('ZREM', KEYS[2], ARGV[1]) end
return {1, budget, used + 1}
"""

# KEYS: holders, budget, last decrease, last change, live waiters, wake list; ARGV: member, outcome, max, min,
# factor, decrease cooldown ms, increase interval ms. Returns the budget after the outcome is applied.
# A live caller waiting is woken: one token on the wake list per released slot (at most one per waiter), which
# a waiter blocked on it (BLPOP) takes at once instead of finding the slot on its next poll.
_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
local waiters = redis.call('ZCOUNT', KEYS[5], now, '+inf')
if waiters > 0 then
  redis.call('RPUSH', KEYS[6], '1')
  redis.call('LTRIM', KEYS[6], -waiters, -1)
  redis.call('PEXPIRE', KEYS[6], 1000)
end
local max_budget = tonumber(ARGV[3])
local min_budget = tonumber(ARGV[4])
local budget = tonumber(redis.call('GET', KEYS[2]) or max_budget)
if budget > max_budget then budget = max_budget end
if ARGV[2] == 'governance' then
  local last = tonumber(redis.call('GET', KEYS[3]) or 0)
  if now - last >= tonumber(ARGV[6]) then
    local cut = math.min(budget - 1, math.floor(budget * tonumber(ARGV[5])))
    if cut < min_budget then cut = min_budget end
    budget = cut
    redis.call('SET', KEYS[2], budget)
    redis.call('SET', KEYS[3], now)
    redis.call('SET', KEYS[4], now)
  end
elseif ARGV[2] == 'ok' and budget < max_budget then
  local last = tonumber(redis.call('GET', KEYS[4]) or 0)
  if now - last >= tonumber(ARGV[7]) then
    budget = budget + 1
    redis.call('SET', KEYS[2], budget)
    redis.call('SET', KEYS[4], now)
  end
end
return budget
"""

# KEYS: holders; ARGV: lease_ms, members...  Renews the leases still held; returns the members not found.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local missing = {}
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
  else
    table.insert(missing, ARGV[i])
  end
end
return missing
"""


@dataclass
class _Held:
    lane: str
    acquired_at: float


class _Slot:
    """Handle given to the holder: the client reports what NetSuite answered, which drives the AIMD budget."""

    def __init__(self, member: str, lane: str) -> None:
        self.member = member
        self.lane = lane
        self.outcome = "error"

    def report(self, outcome: str) -> None:
        self.outcome = outcome


class RedisSlotLimiter:
    """The fleet-wide NetSuite slot limiter (see the module docstring for the guarantees)."""

    def __init__(
        self,
        client: redis.Redis,
        config: LimiterConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        # Leases live on Redis's clock (in the scripts); `clock` and `sleep` are only the caller's own waiting
        # (how long it has polled, the pauses between polls), injectable so tests need not wait in real time.
        # Without an injected `sleep`, a live caller pauses blocked on the wake list (woken by a release).
        self._redis = client
        self.config = config or LimiterConfig()
        self._clock = clock
        self._sleep = sleep if sleep is not None else time.sleep
        self._block_on_wake = sleep is None
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)
        self._held: dict[str, _Held] = {}
        self._held_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        self._stop = threading.Event()
        p = self.config.key_prefix
        self._k_holders = f"{p}:holders"
        self._k_waiting = f"{p}:waiting:{LIVE}"
        self._k_budget = f"{p}:budget"
        self._k_last_decrease = f"{p}:last_decrease"
        self._k_last_change = f"{p}:last_change"
        self._k_wake = f"{p}:wake:{LIVE}"

    # -- the protocol the client uses --

    @contextmanager
    def slot(self, lane: str = LIVE) -> Iterator[_Slot]:
        handle = self.acquire(lane)
        try:
            yield handle
        finally:
            self.release(handle)

    def acquire(self, lane: str = LIVE) -> _Slot:
        member = f"{lane}|{uuid.uuid4().hex}"
        is_live = lane not in self.config.lane_shares
        share = self.config.lane_shares.get(lane, 1.0)
        deadline_s = self.config.wait_for(lane)
        started = self._clock()
        sleep = 0.005
        reason = "budget full"
        lease_ms = int(self.config.lease_s * 1000)
        while True:
            granted, budget, used = self._acquire(
                keys=[self._k_holders, self._k_waiting, self._k_budget],
                args=[
                    member,
                    lease_ms,
                    1 if is_live else 0,
                    share,
                    self.config.max_budget,
                    self.config.min_budget,
                    f"{lane}|",
                ],
            )
            if granted == 1:
                with self._held_lock:
                    self._held[member] = _Held(lane, self._clock())
                self._ensure_heartbeat()
                return _Slot(member, lane)
            reason = {0: f"budget full ({used}/{budget})", -1: "yielding to live work", -2: "lane share full"}.get(
                granted, "refused"
            )
            waited = self._clock() - started
            if waited >= deadline_s:
                if is_live:
                    self._redis.zrem(self._k_waiting, member)
                raise SlotUnavailable(lane, waited, reason)
            # Short polls: a slot freed by one of 12 calls of ~150 ms comes back every ~12 ms at full load, and a
            # longer sleep leaves it idle (measured: up to 50 ms sleeps left a free slot in ~30% of samples).
            self._pause(sleep * random.uniform(0.5, 1.5), is_live)
            sleep = min(sleep * 2, 0.01)

    def _pause(self, seconds: float, is_live: bool) -> None:
        """Between two polls: blocked on the wake list for a live caller (a release ends the pause at once; the
        poll still runs after `seconds` if no token came), a plain sleep otherwise."""
        if is_live and self._block_on_wake:
            try:
                # Woken by a release; the timeout only bounds how late a slot freed another way is seen (a dead
                # holder's lease running out, the budget growing back), so it can be longer than the polls.
                self._redis.blpop([self._k_wake], timeout=WAKE_WAIT_S * random.uniform(0.5, 1.5))
                return
            except redis.RedisError:
                pass  # the poll that follows reports a real outage
        self._sleep(seconds)

    def release(self, handle: _Slot) -> int:
        with self._held_lock:
            self._held.pop(handle.member, None)
        return int(
            self._release(
                keys=[
                    self._k_holders,
                    self._k_budget,
                    self._k_last_decrease,
                    self._k_last_change,
                    self._k_waiting,
                    self._k_wake,
                ],
                args=[
                    handle.member,
                    handle.outcome,
                    self.config.max_budget,
                    self.config.min_budget,
                    self.config.decrease_factor,
                    int(self.config.decrease_cooldown_s * 1000),
                    int(self.config.increase_every_s * 1000),
                ],
            )
        )

    # -- leases --

    def _ensure_heartbeat(self) -> None:
        thread = self._heartbeat
        if thread is not None and thread.is_alive():
            return
        with self._held_lock:
            if self._heartbeat is None or not self._heartbeat.is_alive():
                self._stop.clear()
                self._heartbeat = threading.Thread(target=self._beat, name="netsuite-slot-heartbeat", daemon=True)
                self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.config.renew_every_s):
            self.renew_now()

    def renew_now(self) -> int:
        with self._held_lock:
            tokens = list(self._held)
        if not tokens:
            return 0
        try:
            missing = self._renew(keys=[self._k_holders], args=[int(self.config.lease_s * 1000), *tokens])
        except redis.RedisError as exc:
            log.warning("could not renew %d NetSuite slot lease(s): %s", len(tokens), exc.__class__.__name__)
            return 0
        missing = {m.decode() if isinstance(m, bytes) else m for m in missing}
        with self._held_lock:
            # A call that finished between the snapshot and the renewal released its slot: not an expiry.
            expired = [m for m in missing if m in self._held]
        if expired:
            # The process stalled for longer than a lease: its slots were reclaimed while calls still run.
            log.error("%d NetSuite slot lease(s) expired while their calls ran", len(expired))
        return len(tokens) - len(missing)

    def close(self) -> None:
        self._stop.set()

    # -- what operators and metrics see --

    def snapshot(self) -> dict[str, Any]:
        now = _redis_ms(self._redis)
        pipe = self._redis.pipeline()
        pipe.get(self._k_budget)
        pipe.zrangebyscore(self._k_holders, now, "+inf")
        pipe.zcount(self._k_waiting, now, "+inf")
        budget_raw, holders, live_waiting = pipe.execute()
        budget = min(self.config.max_budget, int(float(budget_raw))) if budget_raw else self.config.max_budget
        by_lane: dict[str, int] = {}
        for member in holders:
            lane = (member.decode() if isinstance(member, bytes) else member).split("|", 1)[0]
            by_lane[lane] = by_lane.get(lane, 0) + 1
        return {
            "budget": max(self.config.min_budget, budget),
            "max_budget": self.config.max_budget,
            "in_use": len(holders),
            "live_waiting": int(live_waiting),
            "by_lane": by_lane,
        }

    def reset(self) -> None:
        """Forget every holder and the adaptive state (tests, or an operator after a Redis mishap)."""
        keys = list(self._redis.scan_iter(match=f"{self.config.key_prefix}:*"))
        if keys:
            self._redis.delete(*keys)


def _redis_ms(client: redis.Redis) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000
