"""Shopify's side of a webhook delivery: sign the exact bytes sent, send Shopify's headers, keep its deadline.

Per API_FACTS: `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(secret, raw body)); Shopify allows 1 s to connect
and 5 s in total; any 2xx is a success and anything else (3xx included, so redirects are not followed) a
failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

CONNECT_TIMEOUT_S = 1.0
TOTAL_TIMEOUT_S = 5.0
DEFAULT_API_VERSION = "2026-04"
USER_AGENT = "Shopify-Captain-Hook"


def payload_bytes(payload: Any) -> bytes:
    """The body as the simulator sends it: compact JSON, so callers can sign or compare the same bytes.
    Bytes and str are sent as they are (a test can replay a fixture file byte for byte)."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def _triggered_at() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class Delivery:
    """The outcome of one delivery attempt; `status` is None when no HTTP response came back in time."""

    status: int | None
    webhook_id: str
    event_id: str
    error: str | None = None
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.status,
            "webhook_id": self.webhook_id,
            "event_id": self.event_id,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }
        if self.error is not None:
            body["error"] = self.error
        return body


def webhook_headers(
    topic: str,
    body: bytes,
    *,
    secret: str,
    shop: str,
    api_version: str = DEFAULT_API_VERSION,
    webhook_id: str,
    event_id: str,
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Triggered-At": _triggered_at(),
    }


def send_webhook(
    url: str,
    topic: str,
    payload: Any,
    *,
    secret: str,
    shop: str,
    api_version: str = DEFAULT_API_VERSION,
    webhook_id: str | None = None,
    event_id: str | None = None,
    session: requests.Session | None = None,
) -> Delivery:
    """Deliver once, as Shopify would; never raises for network failures (they are the outcome)."""
    body = payload_bytes(payload)
    webhook_id = webhook_id or str(uuid.uuid4())
    event_id = event_id or str(uuid.uuid4())
    headers = webhook_headers(
        topic, body, secret=secret, shop=shop, api_version=api_version, webhook_id=webhook_id, event_id=event_id
    )
    http = session or requests
    started = time.monotonic()
    deadline = started + TOTAL_TIMEOUT_S

    def outcome(status: int | None, error: str | None = None) -> Delivery:
        return Delivery(status, webhook_id, event_id, error, (time.monotonic() - started) * 1000)

    try:
        # requests' read timeout bounds each wait, not the whole exchange: the body is read in chunks against
        # the 5 s deadline so a server that trickles its answer still fails like it does at Shopify.
        with http.post(
            url,
            data=body,
            headers=headers,
            timeout=(CONNECT_TIMEOUT_S, TOTAL_TIMEOUT_S),
            allow_redirects=False,
            stream=True,
        ) as response:
            for _chunk in response.iter_content(chunk_size=8192):
                if time.monotonic() > deadline:
                    return outcome(None, f"timeout: no complete response within {TOTAL_TIMEOUT_S:g} s")
            status = response.status_code
    except requests.ConnectTimeout:
        return outcome(None, f"timeout: no connection within {CONNECT_TIMEOUT_S:g} s")
    except requests.Timeout:
        return outcome(None, f"timeout: no complete response within {TOTAL_TIMEOUT_S:g} s")
    except requests.RequestException as exc:
        return outcome(None, f"{type(exc).__name__}: {exc}")
    if time.monotonic() > deadline:
        return outcome(None, f"timeout: no complete response within {TOTAL_TIMEOUT_S:g} s")
    return outcome(status, None if 200 <= status < 300 else f"HTTP {status}")


def deliver_webhook(
    url: str,
    topic: str,
    payload: Any,
    *,
    secret: str,
    shop: str,
    api_version: str = DEFAULT_API_VERSION,
    webhook_id: str | None = None,
    event_id: str | None = None,
    session: requests.Session | None = None,
) -> tuple[int | None, str]:
    """Deliver once; (HTTP status or None when nothing came back in time, the X-Shopify-Webhook-Id sent)."""
    delivery = send_webhook(
        url,
        topic,
        payload,
        secret=secret,
        shop=shop,
        api_version=api_version,
        webhook_id=webhook_id,
        event_id=event_id,
        session=session,
    )
    return delivery.status, delivery.webhook_id
