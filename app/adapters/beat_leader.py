"""Beat's scheduler: exactly one beat sends, however many run (docs/ARCHITECTURE.md, "Exactly one beat sends").

celery-redbeat keeps the schedule and each entry's last run in Redis and holds a lock there: the beat that holds it
sends; any other waits on it (a standby) and takes over once the holder releases it (a graceful stop) or stops
renewing it (killed, its host gone: the lock expires after BEAT_LOCK_TIMEOUT_SECONDS). The holder renews it at every
tick, at least every BEAT_MAX_LOOP_INTERVAL_SECONDS. Since the last runs live in Redis, a beat that takes over sends
what is due from where the last one stopped, never again what it already sent.

`LeaderScheduler` is redbeat's scheduler with three changes, for what the broker's Redis may go through (an
outage, a restart without persistence, a FLUSHDB), where redbeat would end the process or go on with nothing:
- The lock is gone or someone else's (Redis lost it, or this beat stalled past the timeout): stand by until it is
  free again and carry on, instead of exiting (one process exiting stops a whole `honcho start`).
- The schedule is written to Redis by the beat that takes the lock, each time it takes it, not by every beat as it
  starts: a standby that wrote it at start and took over after a FLUSHDB would lead an empty schedule.
- Redis unreachable: send nothing, try again after a loop interval, instead of exiting.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

from redbeat.schedulers import RedBeatScheduler, acquire_distributed_beat_lock
from redis.exceptions import LockNotOwnedError, RedisError

from app.adapters.redis_client import primary_options
from app.config import Settings

log = logging.getLogger("celery.beat")

# Redis keys: `shopsync:beat:<entry name>` (definition and last run), `shopsync:beat::schedule` (when each entry is
# next due), `shopsync:beat::statics` (the entry names of the last schedule installed), `shopsync:beat::lock`.
KEY_PREFIX = "shopsync:beat:"
LOCK_KEY = f"{KEY_PREFIX}:lock"
SCHEDULER = f"{__name__}:LeaderScheduler"


def beat_config(settings: Settings) -> dict[str, Any]:
    """The Celery settings of the beat process that select this scheduler and configure redbeat."""
    return {
        "beat_scheduler": SCHEDULER,
        "beat_max_loop_interval": settings.beat_max_loop_interval_seconds,
        **_redbeat_redis(settings),
        "redbeat_key_prefix": KEY_PREFIX,
        "redbeat_lock_key": LOCK_KEY,
        "redbeat_lock_timeout": settings.beat_lock_timeout_seconds,
    }


def _redbeat_redis(settings: Settings) -> dict[str, Any]:
    # Options given explicitly, so redbeat neither falls back to the broker's transport options nor warns that it will.
    options: dict[str, Any] = {"socket_connect_timeout": 3, "socket_timeout": 10}
    if not settings.redis_sentinels:
        return {"redbeat_redis_url": settings.redis_url, "redbeat_redis_options": options}
    # redbeat asks the sentinels for the primary (`service_name`) each time it needs a connection.
    options |= {"sentinels": list(settings.redis_sentinels), "service_name": settings.redis_sentinel_master}
    options |= primary_options(settings)
    options["sentinel_kwargs"] = {"socket_connect_timeout": 3, "socket_timeout": 3}
    return {"redbeat_redis_url": "redis-sentinel://", "redbeat_redis_options": options}


class LeaderScheduler(RedBeatScheduler):
    # The lock token under which this beat last wrote the schedule to Redis: a new token means it just took the lock.
    _installed_under: bytes | None = None

    def setup_schedule(self) -> None:
        """Celery calls this as it builds the scheduler, before the lock is taken: a standby writes nothing."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            return self._tick_as_leader(*args, **kwargs)
        except RedisError as exc:
            log.warning(
                "beat: Redis unavailable (%s), nothing sent; trying again in %ss", type(exc).__name__, self.max_interval
            )
            return self.max_interval

    def _tick_as_leader(self, *args: Any, **kwargs: Any) -> float:
        if self.lock is None:  # taking the lock at start failed (Redis down then): redbeat left none
            acquire_distributed_beat_lock(sender=SimpleNamespace(scheduler=self))
        if self.lock.local.token != self._installed_under:
            super().setup_schedule()  # keeps the last runs already in Redis, drops entries no longer scheduled
            self._installed_under = self.lock.local.token
        try:
            return super().tick(*args, **kwargs)  # renews the lock before it sends anything
        except LockNotOwnedError:
            log.error("beat: lost the lock %s (it expired, or Redis lost it); standing by until it is free", LOCK_KEY)
            self.lock.acquire()
            log.info("beat: Acquired lock")
            return 0.0  # the next tick, at once, writes the schedule under the new token and sends what is due
