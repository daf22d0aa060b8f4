"""The floor for bench/intake: the least a webhook endpoint can do and still be correct.

Per request: the HMAC check (the same `verify` the intake uses), one `INSERT ... ON CONFLICT (webhook_id) DO
NOTHING RETURNING id` into the same `webhook_events` table, filling the same columns, and one publish (the same
`publish_event`) when the row is new. Nothing else: no header validation, no JSON parsing (so `resource_id` is
written as NULL), no ORM, no pool pre-ping, no explicit transaction (one autocommit statement on a connection
kept per gunicorn thread).

It runs under the same gunicorn settings as the real intake (bench/intake/run.py derives its command from the
Procfile `web` line), so the gap between the two is the cost of what the real intake does beyond this.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from flask import Flask, jsonify, request

from app.config import Settings, get_settings
from app.logging_setup import configure_logging
from app.publish import publish_event
from shopify_client.webhooks import verify

log = logging.getLogger(__name__)

INSERT_SQL = """
INSERT INTO webhook_events
    (webhook_id, event_id, topic, shop, api_version, triggered_at, raw_body, resource_id, status, attempts)
VALUES
    (%s, %s, %s, %s, %s, %s::timestamptz, %s, NULL, 'received', 0)
ON CONFLICT (webhook_id) DO NOTHING
RETURNING id
"""


def create_floor_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    secrets = settings.shopify_webhook_secrets
    dsn = settings.database_url
    local = threading.local()

    def connection() -> psycopg.Connection:
        conn = getattr(local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
            local.conn = conn
        return conn

    flask_app = Flask(__name__)

    @flask_app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @flask_app.post("/webhooks/shopify")
    def floor_webhook():
        body = request.get_data(cache=False)
        if not verify(body, request.headers.get("X-Shopify-Hmac-Sha256"), secrets):
            return jsonify({"error": "invalid_hmac"}), 401
        headers = request.headers
        topic = headers.get("X-Shopify-Topic", "")
        params = (
            headers.get("X-Shopify-Webhook-Id", "")[:255],
            headers.get("X-Shopify-Event-Id") or None,
            topic[:100],
            headers.get("X-Shopify-Shop-Domain", ""),
            headers.get("X-Shopify-API-Version", "")[:20],
            headers.get("X-Shopify-Triggered-At") or None,
            body,
        )
        try:
            row = connection().execute(INSERT_SQL, params).fetchone()
        except psycopg.OperationalError as exc:
            conn = getattr(local, "conn", None)
            if conn is not None:
                conn.close()
            log.error("floor: webhook not stored, database unavailable: %s", exc.__class__.__name__)
            return jsonify({"error": "unavailable"}), 503
        if row is None:
            return jsonify({"status": "duplicate"}), 200
        published = publish_event(row[0], topic)
        return jsonify({"status": "accepted", "event": row[0], "published": published}), 200

    return flask_app
