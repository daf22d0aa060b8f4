"""POST /webhooks/shopify: verify, validate, record, publish after commit. Never calls Shopify or NetSuite."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import RequestEntityTooLarge

from app.db.models import EventStatus
from app.db.session import intake_engine_for
from app.logging_setup import correlation_id
from app.publish import publish_event, queue_for_topic
from app.webhook_metrics import DUPLICATE, RECEIVED, REJECTED, STORED
from schemas.shopify import envelope_resource_id
from shopify_client.webhooks import verify

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)

# The hot path of every delivery: plain SQL on the driver (no ORM, no statement compilation). One statement,
# autocommitted: the row is durable before the 200, and a duplicate webhook id inserts nothing.
INSERT_EVENT = """
INSERT INTO webhook_events
    (webhook_id, event_id, topic, shop, api_version, triggered_at, raw_body, resource_id, status, attempts)
VALUES
    (%(webhook_id)s, %(event_id)s, %(topic)s, %(shop)s, %(api_version)s, %(triggered_at)s, %(raw_body)s,
     %(resource_id)s, %(status)s, %(attempts)s)
ON CONFLICT (webhook_id) DO NOTHING
RETURNING id
"""

REQUIRED_HEADERS = (
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-Webhook-Id",
    "X-Shopify-API-Version",
)


def _reject(status: int, reason: str, message: str, **extra: str):
    REJECTED.labels(reason).inc()
    # The log names the reason and the delivery; never the body, never the signature.
    log.warning(
        "webhook rejected status=%s reason=%s webhook_id=%s topic=%s",
        status,
        reason,
        request.headers.get("X-Shopify-Webhook-Id", "-")[:100],
        request.headers.get("X-Shopify-Topic", "-")[:100],
    )
    return jsonify({"error": reason, "message": message, **extra}), status


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@bp.post("/webhooks/shopify")
def receive_shopify_webhook():
    RECEIVED.inc()
    settings = current_app.config["SETTINGS"]
    limit = settings.webhook_max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return _reject(413, "body_too_large", f"body exceeds {limit} bytes")
    try:
        body = request.get_data(cache=False)  # honours MAX_CONTENT_LENGTH for chunked bodies too
    except RequestEntityTooLarge:
        return _reject(413, "body_too_large", f"body exceeds {limit} bytes")
    if len(body) > limit:
        return _reject(413, "body_too_large", f"body exceeds {limit} bytes")

    if not verify(body, request.headers.get("X-Shopify-Hmac-Sha256"), settings.shopify_webhook_secrets):
        return _reject(401, "invalid_hmac", "X-Shopify-Hmac-Sha256 does not match the body")

    missing = [h for h in REQUIRED_HEADERS if not request.headers.get(h, "").strip()]
    if missing:
        return _reject(400, "missing_headers", "missing header(s): " + ", ".join(missing), missing=missing)
    shop = request.headers["X-Shopify-Shop-Domain"].strip().lower()
    if shop != settings.shopify_shop:
        return _reject(400, "unknown_shop", f"shop {shop!r} is not the configured SHOPIFY_SHOP")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return _reject(400, "invalid_json", f"body is not valid JSON: {exc.__class__.__name__}")
    if not isinstance(payload, dict):
        return _reject(400, "invalid_json", "body is not a JSON object")

    topic = request.headers["X-Shopify-Topic"].strip()
    webhook_id = request.headers["X-Shopify-Webhook-Id"].strip()
    correlation_id.set(webhook_id[:64])  # every later log line of this request carries the delivery's id
    handled = queue_for_topic(topic) is not None
    row = {
        "webhook_id": webhook_id[:255],
        "event_id": (request.headers.get("X-Shopify-Event-Id") or None),
        "topic": topic[:100],
        "shop": shop,
        "api_version": request.headers["X-Shopify-API-Version"].strip()[:20],
        "triggered_at": _parse_time(request.headers.get("X-Shopify-Triggered-At")),
        "raw_body": body,
        "resource_id": envelope_resource_id(topic, payload),
        "status": EventStatus.RECEIVED if handled else EventStatus.IGNORED,
        "attempts": 0,
    }
    try:
        with intake_engine_for(settings.sqlalchemy_url).connect() as conn:
            event_id = conn.exec_driver_sql(INSERT_EVENT, row).scalar()
    except (OperationalError, PoolTimeout, DBAPIError) as exc:
        log.error("webhook not stored, database unavailable: %s", exc.__class__.__name__)
        REJECTED.labels("unavailable").inc()
        return jsonify({"error": "unavailable", "message": "database unavailable, retry later"}), 503

    if event_id is None:
        DUPLICATE.inc()
        log.info("duplicate delivery webhook_id=%s topic=%s", webhook_id[:100], topic)
        return jsonify({"status": "duplicate"}), 200
    STORED.labels("accepted" if handled else "ignored").inc()
    if not handled:
        log.info("ignored topic %s event=%s", topic, event_id)
        return jsonify({"status": "ignored", "event": event_id}), 200
    published = publish_event(event_id, topic)
    return jsonify({"status": "accepted", "event": event_id, "published": published}), 200
