"""Backfill: replay Shopify orders updated in a time range through the same path a webhook takes.

Each order read from the Admin API becomes an `orders/updated` inbox row, then a `process_event` message on the
`backfill` queue, so a backfilled order is synced by exactly the code that syncs a delivered one (state machine,
idempotent NetSuite upserts, call log) and its NetSuite calls take the backfill lane's share of the budget.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from app.config import Settings, get_settings
from app.db.models import EventStatus, WebhookEvent
from app.db.session import session_scope
from shopify_client.client import ShopifyAdminClient

log = logging.getLogger(__name__)

BACKFILL_QUEUE = "backfill"
BACKFILL_TOPIC = "orders/updated"
WEBHOOK_ID_PREFIX = "backfill:"
PAGE_SIZE = 50


@dataclasses.dataclass
class BackfillReport:
    since: dt.datetime
    until: dt.datetime | None
    read: int = 0
    new_events: int = 0
    already_known: int = 0
    published: int = 0
    # Stored but not handed to the broker: the outbox relay re-publishes them from Postgres.
    unpublished: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "read": self.read,
            "new_events": self.new_events,
            "already_known": self.already_known,
            "published": self.published,
            "unpublished": self.unpublished,
        }


def _utc(value: dt.datetime) -> dt.datetime:
    # A naive datetime from the CLI or a caller means UTC, never the machine's local zone.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)  # money stays a decimal string, as in a webhook body
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def order_body(order: dict[str, Any]) -> bytes:
    """The REST-shaped order as the raw body a webhook would have carried."""
    return json.dumps(order, default=_json_default, separators=(",", ":")).encode()


def backfill_webhook_id(order: dict[str, Any]) -> str:
    """Unique per (order, version): re-reading the same version inserts nothing; a newer version is new work."""
    updated = order.get("updated_at")
    if isinstance(updated, str):
        updated = dt.datetime.fromisoformat(updated.replace("Z", "+00:00"))
    stamp = _utc(updated).isoformat() if isinstance(updated, dt.datetime) else "unknown"
    return f"{WEBHOOK_ID_PREFIX}{int(order['id'])}:{stamp}"


def store_order_event(order: dict[str, Any], settings: Settings) -> int | None:
    """Insert the inbox row; its id, or None when this version of the order is already there."""
    return _insert_event(backfill_webhook_id(order), BACKFILL_TOPIC, order, int(order["id"]), settings)


def _insert_event(
    webhook_id: str, topic: str, payload: dict[str, Any], resource_id: int, settings: Settings
) -> int | None:
    """The inbox row of an event the service makes itself, as the webhook would have stored it; its id, or None
    when that webhook id is already there."""
    row = {
        "webhook_id": webhook_id[:255],
        "topic": topic,
        "shop": settings.shopify_shop,
        "api_version": settings.shopify_api_version,
        "raw_body": order_body(payload),
        "resource_id": resource_id,
        "status": EventStatus.RECEIVED,
        "attempts": 0,
    }
    statement = (
        insert(WebhookEvent)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["webhook_id"])
        .returning(WebhookEvent.id)
    )
    with session_scope() as session:
        return session.execute(statement).scalar_one_or_none()


def store_document_event(
    topic: str, payload: dict[str, Any], settings: Settings, *, day: dt.date | None = None
) -> int | None:
    """Insert a fulfillment or refund Shopify has and NetSuite lacks as the webhook that never came (once a day
    per document: a heal that did not take is tried again the next night, not every few minutes)."""
    day = day or dt.datetime.now(dt.UTC).date()
    webhook_id = f"orders-check:{topic}:{int(payload['id'])}:{day.isoformat()}"
    return _insert_event(webhook_id, topic, payload, int(payload["order_id"]), settings)


def publish_order_event(event_id: int, queue: str = BACKFILL_QUEUE) -> bool:
    from app.publish import publish_event_to

    if not publish_event_to(event_id, queue):
        return False
    # Marked published so the relay, which only sees the orders queue's depth, does not also send a copy while
    # this one waits behind a long backfill queue (until OUTBOX_REPUBLISH_AFTER_SECONDS).
    with session_scope() as session:
        event = session.get(WebhookEvent, event_id)
        if event is not None and event.published_at is None:
            event.published_at = dt.datetime.now(dt.UTC)
    return True


def backfill_orders(
    since: dt.datetime,
    until: dt.datetime | None,
    *,
    shopify: ShopifyAdminClient | None = None,
    settings: Settings | None = None,
    progress: Callable[[int], None] | None = None,
) -> BackfillReport:
    """Queue every order updated in [since, until) (until None: up to now) for sync on the backfill queue.

    `progress` is called after each order read with how many have been read so far.
    """
    from shopify_client.orders import iter_orders_updated_between

    settings = settings or get_settings()
    if shopify is None:
        from app.adapters.shopify import get_shopify

        shopify = get_shopify()
    since = _utc(since)
    until = _utc(until) if until is not None else None
    report = BackfillReport(since=since, until=until)
    log.info("backfill of orders updated from %s to %s started", since.isoformat(), until or "now")
    # Each order is committed before it is published: a worker never gets an id whose row is not visible yet,
    # and an interrupted backfill keeps what it stored (a re-run skips it).
    for order in iter_orders_updated_between(shopify, since, until, page_size=PAGE_SIZE):
        report.read += 1
        event_id = store_order_event(order, settings)
        if event_id is None:
            report.already_known += 1
        else:
            report.new_events += 1
            if publish_order_event(event_id):
                report.published += 1
            else:
                report.unpublished += 1
        if progress is not None:
            progress(report.read)
    log.info(
        "backfill done: read=%d new=%d known=%d published=%d unpublished=%d",
        report.read,
        report.new_events,
        report.already_known,
        report.published,
        report.unpublished,
    )
    return report
