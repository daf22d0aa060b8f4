import dataclasses

from app import create_app
from app.config import get_settings


def test_healthz_and_readyz(clean_db, redis_db):
    client = create_app().test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ok", "database": "ok", "migrations": "ok", "redis": "ok"}


def test_readyz_is_503_naming_what_is_down():
    broken = dataclasses.replace(
        get_settings(),
        database_url="postgresql://root@127.0.0.1:1/shopsync_test",
        redis_url="redis://127.0.0.1:1/0",
    )
    resp = create_app(broken).test_client().get("/readyz")
    assert resp.status_code == 503 and resp.json["status"] == "unavailable"
    assert resp.json["database"] == "OperationalError" and resp.json["redis"] == "ConnectionError"
