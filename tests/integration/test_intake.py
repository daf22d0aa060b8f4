"""POST /webhooks/shopify against the real PostgreSQL and Redis: every branch of the intake."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import get_settings
from app.db.models import WebhookEvent
from app.db.session import session_scope
from tests.conftest import fixture_bytes
from tests.helpers import shopify_headers


@pytest.fixture
def client(clean_db, redis_db):
    return create_app().test_client()


def stored() -> list[WebhookEvent]:
    with session_scope() as s:
        return list(s.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


def queued(redis_db, queue: str = "orders") -> list[dict]:
    messages = [json.loads(raw) for raw in redis_db.lrange(queue, 0, -1)]
    return [{"task": m["headers"]["task"], "args": m["headers"]["argsrepr"]} for m in messages]


def test_signed_delivery_is_stored_then_published(client, redis_db):
    body = fixture_bytes("orders_create.json")
    resp = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body, webhook_id="wh-1"))
    assert resp.status_code == 200
    assert resp.json["status"] == "accepted" and resp.json["published"] is True
    [event] = stored()
    assert event.webhook_id == "wh-1" and event.topic == "orders/create" and event.status == "received"
    assert event.raw_body == body and event.resource_id == 450789469 and event.api_version == "2026-04"
    assert event.triggered_at is not None
    assert queued(redis_db) == [{"task": "shopsync.process_event", "args": f"[{event.id}]"}]


def test_old_secret_is_accepted_during_rotation(client):
    body = fixture_bytes("orders_create.json")
    resp = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body, secret="test-secret-old"))
    assert resp.status_code == 200


def test_duplicate_delivery_is_acknowledged_and_not_published_again(client, redis_db):
    body = fixture_bytes("orders_create.json")
    for _ in range(3):
        resp = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body, webhook_id="wh-dup"))
        assert resp.status_code == 200
    assert resp.json["status"] == "duplicate"
    assert len(stored()) == 1
    assert len(queued(redis_db)) == 1


def test_bad_signature_is_401_and_nothing_is_stored(client, redis_db, caplog):
    body = fixture_bytes("orders_create.json")
    headers = shopify_headers(body, secret="not-the-secret")
    resp = client.post("/webhooks/shopify", data=body, headers=headers)
    assert resp.status_code == 401 and resp.json["error"] == "invalid_hmac"
    assert stored() == [] and queued(redis_db) == []
    assert "invalid_hmac" in caplog.text
    assert "bob.norman" not in caplog.text and headers["X-Shopify-Hmac-Sha256"] not in caplog.text


def test_wrong_shop_is_400(client):
    body = fixture_bytes("orders_create.json")
    resp = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body, shop="evil.myshopify.com"))
    assert resp.status_code == 400 and resp.json["error"] == "unknown_shop"
    assert stored() == []


@pytest.mark.parametrize(
    "header", ["X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id", "X-Shopify-API-Version"]
)
def test_missing_envelope_header_is_400_naming_it(client, header):
    body = fixture_bytes("orders_create.json")
    headers = shopify_headers(body)
    del headers[header]
    resp = client.post("/webhooks/shopify", data=body, headers=headers)
    assert resp.status_code == 400 and resp.json["missing"] == [header]
    assert stored() == []


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2, 3]", b"\xff\xfe"])
def test_malformed_or_non_object_json_is_400(client, body):
    resp = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body))
    assert resp.status_code == 400 and resp.json["error"] == "invalid_json"
    assert stored() == []


def test_oversized_body_is_413_before_anything_else(client):
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    resp = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body))
    assert resp.status_code == 413 and resp.json["error"] == "body_too_large"
    # even unsigned: the size check comes first
    resp = client.post("/webhooks/shopify", data=body, headers={"X-Shopify-Hmac-Sha256": "x"})
    assert resp.status_code == 413
    assert stored() == []


def test_unhandled_topic_is_acknowledged_and_ignored(client, redis_db):
    body = b'{"id": 5}'
    resp = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body, topic="products/create"))
    assert resp.status_code == 200 and resp.json["status"] == "ignored"
    [event] = stored()
    assert event.status == "ignored"
    assert all(redis_db.llen(q) == 0 for q in ("orders", "fulfillments", "refunds", "inventory"))


def test_other_topics_route_to_their_queues(client, redis_db):
    for name, topic, queue in [
        ("fulfillments_create.json", "fulfillments/create", "fulfillments"),
        ("refunds_create.json", "refunds/create", "refunds"),
        ("inventory_levels_update.json", "inventory_levels/update", "inventory"),
    ]:
        body = fixture_bytes(name)
        assert (
            client.post("/webhooks/shopify", data=body, headers=shopify_headers(body, topic=topic)).status_code == 200
        )
        assert len(queued(redis_db, queue)) == 1


def test_database_down_is_503_never_200(clean_db):
    settings = dataclasses.replace(get_settings(), database_url="postgresql://root@127.0.0.1:1/shopsync_test")
    client = create_app(settings).test_client()
    body = fixture_bytes("orders_create.json")
    resp = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body))
    assert resp.status_code == 503
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(WebhookEvent)) == 0
