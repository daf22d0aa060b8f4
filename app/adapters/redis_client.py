"""The process's Redis connection (broker host: limiter, DLQ mirror, counters, attempt counter, relay)."""

from __future__ import annotations

import redis

from app.config import get_settings
from app.once import built_once


@built_once
def get_redis() -> redis.Redis:
    # One client, one connection pool per process; short timeouts so a Redis outage fails fast, never hangs.
    return redis.Redis.from_url(get_settings().redis_url, socket_connect_timeout=3, socket_timeout=10)
