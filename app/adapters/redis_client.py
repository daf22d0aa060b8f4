"""The process's Redis connection (broker host: limiter, DLQ mirror, counters, attempt counter, relay).

With REDIS_SENTINELS set, the client asks the sentinels which server is the primary, and asks again after a
failover (each new connection does), so the limiter, the DLQ mirror and the counters follow the broker to the
promoted replica."""

from __future__ import annotations

from typing import Any

import redis
from redis.sentinel import Sentinel

from app.config import Settings, get_settings
from app.once import built_once


def redis_for(settings: Settings, socket_connect_timeout: float = 3, socket_timeout: float = 10) -> redis.Redis:
    """A client of the broker's Redis: REDIS_URL's server, or the primary the sentinels name."""
    timeouts = {"socket_connect_timeout": socket_connect_timeout, "socket_timeout": socket_timeout}
    if not settings.redis_sentinels:
        return redis.Redis.from_url(settings.redis_url, **timeouts)
    sentinel = Sentinel(list(settings.redis_sentinels), sentinel_kwargs=dict(timeouts), **timeouts)
    return sentinel.master_for(settings.redis_sentinel_master, **primary_options(settings))


def primary_options(settings: Settings) -> dict[str, Any]:
    """What REDIS_URL says of the primary behind the sentinels: its db number and credentials."""
    params = redis.connection.parse_url(settings.redis_url)
    return {key: params[key] for key in ("db", "username", "password") if params.get(key) is not None}


@built_once
def get_redis() -> redis.Redis:
    # One client, one connection pool per process; short timeouts so a Redis outage fails fast, never hangs.
    return redis_for(get_settings())
