"""app/adapters/broker.py: the broker URL's Redis schemes resolve to kombu's transports with one publishing client
per channel, and messages published through it arrive as before."""

from __future__ import annotations

from kombu import Connection, Exchange, Producer, Queue
from kombu.transport import redis as kombu_redis

from app.adapters import broker
from app.celery import celery_app
from tests.conftest import TEST_ENV


def test_every_redis_scheme_resolves_to_the_shared_client_transports_even_after_a_failover_switch():
    assert celery_app.connection_for_write().transport_cls == "redis"
    assert isinstance(celery_app.connection_for_write().transport, broker.Transport)
    assert Connection("rediss://127.0.0.1:6380/0").get_transport_cls() is broker.Transport
    conn = Connection(
        "sentinel://127.0.0.1:26379/0;sentinel://127.0.0.1:26380/0", transport_options={"master_name": "m"}
    )
    assert conn.get_transport_cls() is broker.SentinelTransport
    conn.switch("sentinel://127.0.0.1:26380/0")  # kombu re-reads the scheme when it moves to the next URL
    assert conn.get_transport_cls() is broker.SentinelTransport
    # The mixin comes first in the sentinel channel's MRO: its publishing client is ours, not kombu's per call.
    assert conn.get_transport_cls().Channel._create_client is broker.SentinelChannel._create_client
    assert broker.SentinelChannel._create_client is not kombu_redis.SentinelChannel._create_client


def test_a_channel_publishes_through_one_client_until_its_pool_changes(redis_db):
    queue = Queue("broker-transport-test", Exchange("broker-transport-test"), routing_key="t")
    with Connection(TEST_ENV["REDIS_URL"]) as conn:
        channel = conn.default_channel
        producer = Producer(channel)
        for n in range(5):
            producer.publish({"n": n}, exchange=queue.exchange, routing_key="t", declare=[queue])
        client = channel._create_client()
        assert channel._create_client() is client  # the same client for every publish
        assert channel._create_client(asynchronous=True) is not client  # the consuming client is kombu's own
        assert redis_db.llen("broker-transport-test") == 5
        bound = queue(channel)
        assert sorted(bound.get(no_ack=True).payload["n"] for _ in range(5)) == [0, 1, 2, 3, 4]

        channel._pool = None  # what kombu does when it drops its pools (a reconnect): the next client is new
        renewed = channel._create_client()
        assert renewed is not client and renewed.connection_pool is channel.pool
        producer.publish({"n": 5}, exchange=queue.exchange, routing_key="t", declare=[queue])
        assert bound.get(no_ack=True).payload == {"n": 5}
