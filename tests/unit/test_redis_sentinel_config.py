"""REDIS_SENTINELS: the broker, beat's lock and the service's own Redis client all ask the same sentinels."""

import pytest
from redis.sentinel import SentinelConnectionPool

from app.adapters.beat_leader import beat_config
from app.adapters.redis_client import redis_for
from app.celery import celery_config
from app.config import ConfigError, load_settings
from tests.unit.test_config import BASE

SENTINEL_ENV = {
    **BASE,
    "REDIS_URL": "redis://:s3cret@ignored:6379/4",
    "REDIS_SENTINELS": "10.0.0.1:26379, 10.0.0.2:26380,sentinel-3:26381",
    "REDIS_SENTINEL_MASTER": "shopsync",
}


def test_without_sentinels_everything_uses_redis_url():
    settings = load_settings({**BASE, "REDIS_URL": "redis://127.0.0.1:6390/2"})
    assert settings.redis_sentinels == () and settings.broker_url == "redis://127.0.0.1:6390/2"
    assert "master_name" not in celery_config(settings)["broker_transport_options"]
    assert beat_config(settings)["redbeat_redis_url"] == "redis://127.0.0.1:6390/2"
    assert redis_for(settings).connection_pool.connection_kwargs["port"] == 6390


def test_sentinels_give_kombu_one_sentinel_url_each_with_the_db_and_password_of_redis_url():
    settings = load_settings(SENTINEL_ENV)
    assert settings.redis_sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26380), ("sentinel-3", 26381))
    assert settings.broker_url == (
        "sentinel://:s3cret@10.0.0.1:26379/4;sentinel://:s3cret@10.0.0.2:26380/4;sentinel://:s3cret@sentinel-3:26381/4"
    )
    options = celery_config(settings)["broker_transport_options"]
    assert options["master_name"] == "shopsync" and options["visibility_timeout"] >= 3600


def test_sentinels_reach_redbeat_and_the_service_client():
    settings = load_settings(SENTINEL_ENV)
    conf = beat_config(settings)
    options = conf["redbeat_redis_options"]
    assert conf["redbeat_redis_url"].startswith("redis-sentinel://")
    assert options["sentinels"] == list(settings.redis_sentinels) and options["service_name"] == "shopsync"
    assert options["db"] == 4 and options["password"] == "s3cret"
    client = redis_for(settings)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "shopsync"
    assert pool.connection_kwargs["db"] == 4 and pool.connection_kwargs["password"] == "s3cret"


@pytest.mark.parametrize("bad", ["10.0.0.1", "10.0.0.1:port", ":26379"])
def test_malformed_sentinels_are_refused(bad):
    with pytest.raises(ConfigError, match="REDIS_SENTINELS"):
        load_settings({**SENTINEL_ENV, "REDIS_SENTINELS": bad})
