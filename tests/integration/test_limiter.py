"""The fleet-wide NetSuite slot limiter against the real Redis."""

from __future__ import annotations

import threading
import time

import pytest

from netsuite_client.limiter import LimiterConfig, RedisSlotLimiter, SlotUnavailable

CREATED: list[RedisSlotLimiter] = []


@pytest.fixture(autouse=True)
def _stop_heartbeats():
    # A limiter's heartbeat thread outlives the test otherwise, and logs into closed streams at exit.
    yield
    while CREATED:
        CREATED.pop().close()


def make(redis_db, **overrides) -> RedisSlotLimiter:
    values = {
        "max_budget": 4,
        "lease_s": 30.0,
        "renew_every_s": 10.0,
        "max_wait_s": {"live": 0.2},
        "default_bulk_wait_s": 0.1,
        "key_prefix": "test:limiter",
    }
    values.update(overrides)
    limiter = RedisSlotLimiter(redis_db, LimiterConfig(**values))
    CREATED.append(limiter)
    return limiter


def test_budget_is_never_exceeded_and_released_slots_come_back(redis_db):
    limiter = make(redis_db)
    held = [limiter.acquire() for _ in range(4)]
    with pytest.raises(SlotUnavailable, match="budget full"):
        limiter.acquire()
    limiter.release(held.pop())
    held.append(limiter.acquire())
    assert limiter.snapshot()["in_use"] == 4


def test_threads_in_a_burst_never_hold_more_than_the_budget(redis_db):
    limiter = make(redis_db, max_budget=3, max_wait_s={"live": 5.0})
    current, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        for _ in range(5):
            with limiter.slot():
                with lock:
                    current[0] += 1
                    peak[0] = max(peak[0], current[0])
                time.sleep(0.01)
                with lock:
                    current[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert peak[0] == 3
    assert limiter.snapshot()["in_use"] == 0


class FakeClock:
    """The caller-side clock and sleep of a limiter: sleeping advances the clock, nothing waits in real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep = lambda: None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.on_sleep()


def make_faked(redis_db, clock: FakeClock, **overrides) -> RedisSlotLimiter:
    limiter = make(redis_db, **overrides)
    faked = RedisSlotLimiter(redis_db, limiter.config, clock=clock, sleep=clock.sleep)
    CREATED.append(faked)
    return faked


def test_a_live_caller_polls_in_short_sleeps_for_its_wait_then_gives_up(redis_db):
    clock = FakeClock()
    full = make(redis_db, max_budget=1)
    full.acquire()
    waiter = make_faked(redis_db, clock, max_budget=1, max_wait_s={"live": 5.0})
    announced: list[bool] = []
    clock.on_sleep = lambda: announced.append(bool(redis_db.zcard("test:limiter:waiting:live")))
    with pytest.raises(SlotUnavailable, match="budget full") as err:
        waiter.acquire()
    assert 5.0 <= err.value.waited_s < 5.02  # the whole wait on the injected clock, none in real time
    # Jittered polls of 5 ms doubling to at most 10 ms (x 0.5..1.5): a freed slot is seen within ~15 ms.
    assert all(0.0025 <= s <= 0.015 for s in clock.sleeps) and len(clock.sleeps) > 300
    assert all(announced)  # bulk lanes see the live caller waiting for as long as it waits ...
    assert redis_db.zcard("test:limiter:waiting:live") == 0  # ... and not after it gave up


def test_a_bulk_caller_waits_its_own_shorter_time(redis_db):
    clock = FakeClock()
    make(redis_db, max_budget=1, lane_shares={"backfill": 0.5}).acquire()
    bulk = make_faked(redis_db, clock, max_budget=1, lane_shares={"backfill": 0.5}, default_bulk_wait_s=1.0)
    with pytest.raises(SlotUnavailable) as err:
        bulk.acquire("backfill")
    assert 1.0 <= err.value.waited_s < 1.02 and err.value.lane == "backfill"


def test_a_waiting_caller_gets_the_slot_freed_while_it_waits(redis_db):
    clock = FakeClock()
    holder = make(redis_db, max_budget=1)
    held = holder.acquire()
    waiter = make_faked(redis_db, clock, max_budget=1, max_wait_s={"live": 5.0})

    def free_after_a_second() -> None:
        if clock.now >= 1001.0 and holder.snapshot()["in_use"]:
            holder.release(held)

    clock.on_sleep = free_after_a_second
    slot = waiter.acquire()
    assert slot.lane == "live" and 1.0 <= clock.now - 1000.0 < 1.02
    waiter.release(slot)


def test_a_dead_holders_slot_expires_on_redis_time(redis_db):
    # Leases run on Redis's clock, so this one waits in real time: about one (short) lease, bounded.
    dead = make(redis_db, max_budget=1, lease_s=0.5, renew_every_s=60)
    dead.acquire()  # never released, never renewed: as if SIGKILLed
    other = make(redis_db, max_budget=1, lease_s=0.5, renew_every_s=60, max_wait_s={"live": 2.0})
    started = time.monotonic()
    slot = other.acquire()
    assert 0.3 < time.monotonic() - started < 2.0  # came back by itself, after about one lease
    other.release(slot)


def test_a_live_holder_keeps_its_slot_past_the_lease_by_renewing(redis_db):
    holder = make(redis_db, max_budget=1, lease_s=0.5, renew_every_s=0.1)
    slot = holder.acquire()
    first_expiry = redis_db.zscore("test:limiter:holders", slot.member)

    def redis_ms() -> int:
        seconds, micros = redis_db.time()
        return seconds * 1000 + micros // 1000

    # Wait (bounded) until the first lease would have run out on Redis's clock: the heartbeat renewed it.
    deadline = time.monotonic() + 3.0
    while redis_ms() <= first_expiry + 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert redis_ms() > first_expiry
    assert redis_db.zscore("test:limiter:holders", slot.member) > first_expiry
    with pytest.raises(SlotUnavailable):
        make(redis_db, max_budget=1).acquire()
    assert holder.renew_now() == 1  # renewing by hand finds it still held
    holder.release(slot)


def test_governance_shrinks_the_budget_and_success_grows_it_back(redis_db):
    limiter = make(redis_db, max_budget=12, decrease_cooldown_s=0.2, increase_every_s=0.1)
    slot = limiter.acquire()
    slot.report("governance")
    assert limiter.release(slot) == 9
    slot = limiter.acquire()
    slot.report("governance")
    assert limiter.release(slot) == 9  # same storm, within the cooldown: one cut
    time.sleep(0.25)
    slot = limiter.acquire()
    slot.report("governance")
    assert limiter.release(slot) == 6
    assert limiter.snapshot()["budget"] == 6
    budgets = []
    for _ in range(4):
        time.sleep(0.12)
        slot = limiter.acquire()
        slot.report("ok")
        budgets.append(limiter.release(slot))
    assert budgets == [7, 8, 9, 10]


def test_shrunk_budget_refuses_new_slots(redis_db):
    limiter = make(redis_db, max_budget=4, decrease_factor=0.5, decrease_cooldown_s=0)
    slot = limiter.acquire()
    slot.report("governance")
    limiter.release(slot)  # budget 4 -> 2
    held = [limiter.acquire(), limiter.acquire()]
    with pytest.raises(SlotUnavailable):
        limiter.acquire()
    for s in held:
        limiter.release(s)


def test_bulk_lanes_keep_to_their_share_and_yield_to_waiting_live_work(redis_db):
    limiter = make(redis_db, max_budget=8, lane_shares={"backfill": 0.25})
    bulk = [limiter.acquire("backfill"), limiter.acquire("backfill")]
    with pytest.raises(SlotUnavailable, match="lane share full"):
        limiter.acquire("backfill")
    for _ in range(6):
        limiter.acquire()
    assert limiter.snapshot()["by_lane"] == {"backfill": 2, "live": 6}

    # A live caller waits for a slot; a bulk slot freed meanwhile must go to it, not to bulk.
    got = []
    waiter = threading.Thread(target=lambda: got.append(make(redis_db, max_budget=8, max_wait_s={"live": 3}).acquire()))
    waiter.start()
    time.sleep(0.1)
    limiter.release(bulk.pop())
    with pytest.raises(SlotUnavailable, match="yielding to live|budget full"):
        limiter.acquire("backfill")
    waiter.join(timeout=5)
    assert len(got) == 1 and got[0].lane == "live"


def test_work_from_a_bulk_queue_takes_slots_from_its_lane(redis_db):
    from app.adapters.netsuite import LaneAwareLimiter, netsuite_lane

    limiter = LaneAwareLimiter(make(redis_db, lane_shares={"backfill": 0.25}))
    with netsuite_lane("backfill"), limiter.slot() as slot:
        assert slot.lane == "backfill"
    with limiter.slot() as slot:
        assert slot.lane == "live"
    with netsuite_lane("backfill"), limiter.slot("reconcile") as slot:
        assert slot.lane == "reconcile"  # an explicit lane is kept


def test_a_release_wakes_a_blocked_live_waiter_and_leaves_no_token_when_nobody_waits(redis_db):
    limiter = make(redis_db, max_budget=1, max_wait_s={"live": 5.0})
    wake, waiting = "test:limiter:wake:live", "test:limiter:waiting:live"
    limiter.release(limiter.acquire())
    assert redis_db.llen(wake) == 0  # nobody waited: no token

    held = limiter.acquire()
    got: list[float] = []

    def wait_for_a_slot() -> None:
        slot = limiter.acquire()  # blocks on the wake list between polls (no injected sleep)
        got.append(time.monotonic())
        limiter.release(slot)

    waiter = threading.Thread(target=wait_for_a_slot)
    waiter.start()
    deadline = time.monotonic() + 5
    while not redis_db.zcard(waiting) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert redis_db.zcard(waiting) == 1  # the waiter announced itself on its first refusal
    limiter.release(held)
    waiter.join(timeout=10)
    assert got, "the waiter never got the released slot"
    assert redis_db.zcard(waiting) == 0  # granted: its mark went with the grant, in the same script
    assert redis_db.llen(wake) == 0  # the token was taken by the waiter; its own release found nobody waiting

    # Tokens never pile up past the number of waiters: three releases with one (simulated) waiter leave one.
    redis_db.zadd(waiting, {"live|someone": int(time.time() * 1000) + 60_000})
    for _ in range(3):
        limiter.release(limiter.acquire())
    assert redis_db.llen(wake) == 1
