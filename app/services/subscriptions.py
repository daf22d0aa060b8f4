"""Webhook subscription health: every topic we route must be subscribed to our callback URL.

Shopify deletes a subscription after repeated failed deliveries (and an app reinstall or a manual edit can drop
or re-point one); from then on nothing arrives and nothing fails, so the loss is silent. This check repairs the
subscription, raises an alert, and backfills the orders updated while deliveries were missing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, select

from app.config import Settings, get_settings
from app.db.models import SyncAlert, WebhookEvent
from app.db.session import session_scope
from app.routing import TOPIC_QUEUES
from app.services.backfill import BackfillReport, backfill_orders
from shopify_client.client import ShopifyAdminClient

log = logging.getLogger(__name__)

ALERT_KIND = "webhook_subscription"
# With no delivery on record there is no known start of the gap: one day back is a bounded, useful guess.
DEFAULT_GAP = dt.timedelta(days=1)
# Deliveries arrive a little after the update they report, so orders updated just before the last one received
# may never have been delivered; re-reading them is harmless (backfill inserts a known version only once).
GAP_MARGIN = dt.timedelta(minutes=5)


@dataclasses.dataclass
class SubscriptionReport:
    configured: bool
    expected_uri: str | None = None
    ok: list[str] = dataclasses.field(default_factory=list)
    created: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    # Topics found broken but left as they are (repair=False).
    broken: list[str] = dataclasses.field(default_factory=list)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    backfill: BackfillReport | None = None

    @property
    def repaired(self) -> list[str]:
        return self.created + self.updated

    @property
    def healthy(self) -> bool:
        return self.configured and not self.broken and not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "configured": self.configured,
            "expected_uri": self.expected_uri,
            "ok": self.ok,
            "created": self.created,
            "updated": self.updated,
            "broken": self.broken,
            "errors": self.errors,
            "backfill": self.backfill.as_dict() if self.backfill else None,
        }


def _gap_start(now: dt.datetime) -> dt.datetime:
    with session_scope() as session:
        newest = session.scalar(select(func.max(WebhookEvent.received_at)).where(WebhookEvent.topic.like("orders/%")))
    return newest - GAP_MARGIN if newest is not None else now - DEFAULT_GAP


def _alert(message: str) -> None:
    log.error("%s", message)
    with session_scope() as session:
        session.add(SyncAlert(kind=ALERT_KIND, message=message))


def check_subscriptions(
    *, shopify: ShopifyAdminClient | None = None, settings: Settings | None = None, repair: bool = True
) -> SubscriptionReport:
    """Compare Shopify's subscriptions with TOPIC_QUEUES and WEBHOOK_CALLBACK_URL; repair and backfill if asked."""
    from shopify_client.errors import ShopifyError
    from shopify_client.subscriptions import create_subscription, list_subscriptions, update_subscription

    settings = settings or get_settings()
    uri = settings.webhook_callback_url
    if not uri:
        return SubscriptionReport(configured=False)
    if shopify is None:
        from app.adapters.shopify import get_shopify

        shopify = get_shopify()
    report = SubscriptionReport(configured=True, expected_uri=uri)
    # Read before the repair: the gap starts at the last delivery received while the subscription still worked.
    now = dt.datetime.now(dt.UTC)
    gap_since = _gap_start(now)

    existing: dict[str, list[Any]] = {}
    for subscription in list_subscriptions(shopify, topics=list(TOPIC_QUEUES)):
        existing.setdefault(subscription.topic, []).append(subscription)

    for topic in TOPIC_QUEUES:
        subscriptions = existing.get(topic, [])
        if any(s.uri == uri for s in subscriptions):
            report.ok.append(topic)
            continue
        if not repair:
            report.broken.append(topic)
            log.error(
                "webhook subscription for %s is %s (not repaired)", topic, "elsewhere" if subscriptions else "gone"
            )
            continue
        try:
            if subscriptions:
                previous = subscriptions[0].uri
                update_subscription(shopify, subscriptions[0].id, uri)
                report.updated.append(topic)
                _alert(f"webhook subscription for {topic} pointed at {previous}; re-pointed to {uri}")
            else:
                create_subscription(shopify, topic, uri)
                report.created.append(topic)
                _alert(f"webhook subscription for {topic} was missing; re-created for {uri}")
        except ShopifyError as exc:
            report.errors[topic] = str(exc)[:500]
            _alert(f"webhook subscription for {topic} is broken and could not be repaired: {str(exc)[:500]}")

    # Only orders are backfilled: their payload carries the whole order, so replaying `orders/updated` covers
    # what any orders/* delivery would have; other topics' gaps are left to the nightly reconciliation.
    if any(t.startswith("orders/") for t in report.repaired):
        report.backfill = backfill_orders(gap_since, now, shopify=shopify, settings=settings)
    return report
