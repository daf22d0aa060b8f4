"""kombu's Redis transports with one publishing client per channel instead of one per message.

kombu's Redis channel builds a new `redis.Redis` object for every message it publishes (`_create_client` behind
`conn_or_acquire`): the intake's `send_task`, and the task events a worker sends for Flower (three per task, from
the prefork parent). The object is only a view over the channel's connection pool, but building one fills two
tables of ~80 response callbacks: about a tenth of the intake's CPU per webhook and a sixth of a worker parent's.
Here the channel keeps one such client over its pool and hands it out again; a `redis.Redis` over a connection pool
is safe to share between threads (every command checks a connection out of the pool), and the consuming side
(BRPOP, LISTEN: kombu's asynchronous client) is left as kombu makes it.

The subclasses are registered under kombu's own scheme names (redis, rediss, sentinel), so the broker URL picks
them as it picked kombu's, including when kombu switches to another of the URLs after a connection error.
"""

from __future__ import annotations

import redis
from kombu import transport as kombu_transports
from kombu.transport import redis as kombu_redis


class _OnePublishClient:
    """Channel mixin: the synchronous client is built once per connection pool, not once per call."""

    _publish_client: redis.Redis | None = None

    def _create_client(self, asynchronous: bool = False) -> redis.Redis:
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[misc]
        pool = self.pool  # type: ignore[attr-defined]
        client = self._publish_client
        if client is None or client.connection_pool is not pool:  # a new pool after a reconnect: a new client
            client = self._publish_client = super()._create_client()  # type: ignore[misc]
        return client


class Channel(_OnePublishClient, kombu_redis.Channel):
    pass


class SentinelChannel(_OnePublishClient, kombu_redis.SentinelChannel):
    pass


class Transport(kombu_redis.Transport):
    Channel = Channel


class SentinelTransport(kombu_redis.SentinelTransport):
    Channel = SentinelChannel


SCHEMES: dict[str, str] = {
    "redis": f"{__name__}:Transport",
    "rediss": f"{__name__}:Transport",
    "sentinel": f"{__name__}:SentinelTransport",
}


def register() -> None:
    """Make kombu resolve the Redis schemes to these transports (idempotent; before any broker connection)."""
    for scheme, path in SCHEMES.items():
        kombu_transports.TRANSPORT_ALIASES[scheme] = path
        # A scheme resolved before now resolves again (kombu caches what an alias resolved to).
        getattr(kombu_transports, "_transport_cache", {}).pop(scheme, None)
