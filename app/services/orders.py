"""orders/create and orders/updated -> NetSuite customer + sales order, serialized per order."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import OrderState, OrderTransition, WebhookEvent
from app.domain import order_state
from app.domain.errors import SchemaError
from app.domain.mapping import MappingConfig, map_order, order_skus
from app.services.items import resolve_items
from netsuite_client import NetSuiteClient
from schemas.shopify import order_schema_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderOutcome:
    order_id: int
    action: str  # "synced" | "skipped_stale"
    netsuite_id: str | None


def load_order(event: WebhookEvent) -> dict[str, Any]:
    try:
        payload = json.loads(event.raw_body)
        return order_schema_for(event.api_version).load(payload)
    except ValidationError as exc:
        fields = ", ".join(sorted(str(k) for k in exc.messages)) if isinstance(exc.messages, dict) else ""
        raise SchemaError(f"{event.topic} payload failed validation on: {fields} ({exc.messages})") from exc


def mapping_config(settings: Settings) -> MappingConfig:
    return MappingConfig(
        currency_map=settings.netsuite_currency_map,
        default_customer_external_id=settings.netsuite_default_customer_external_id,
        discount_item_id=settings.netsuite_discount_item_id,
    )


def sync_order(session: Session, event: WebhookEvent, client: NetSuiteClient, settings: Settings) -> OrderOutcome:
    order = load_order(event)
    order_id = order["id"]
    correlation = f"event-{event.id}"
    # Every event for one order waits here for the previous one: two workers never interleave one order.
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": order_id % (2**63)})
    state = session.execute(
        select(OrderState).where(OrderState.shopify_order_id == order_id).with_for_update()
    ).scalar_one_or_none()

    if (
        state
        and state.netsuite_internal_id
        and order_state.is_stale(state.last_applied_updated_at, order["updated_at"])
    ):
        session.add(
            OrderTransition(
                shopify_order_id=order_id,
                webhook_event_id=event.id,
                from_state=state.state,
                to_state=state.state,
                topic=event.topic,
                note=f"skipped: updated_at {order['updated_at'].isoformat()} not newer than applied",
            )
        )
        return OrderOutcome(order_id, "skipped_stale", state.netsuite_internal_id)

    item_ids = resolve_items(session, client, order_skus(order), settings.netsuite_item_sku_field)
    bodies = map_order(order, item_ids, mapping_config(settings))

    customer_id = None
    if bodies.customer_body is not None:
        customer_id = client.upsert(
            "customer", bodies.customer_external_id, bodies.customer_body, correlation_id=correlation
        )
    # replace=item: NetSuite appends unkeyed lines on update, so a retried or repeated PUT would double them.
    sales_order_id = client.upsert(
        "salesOrder",
        bodies.order_external_id,
        bodies.sales_order_body,
        replace=("item",),
        correlation_id=correlation,
    )

    previous = state.state if state else None
    if state is None:
        state = OrderState(shopify_order_id=order_id, state=order_state.CREATED, version=0)
        session.add(state)
    if order.get("cancelled_at") or event.topic == "orders/cancelled":
        state.state = order_state.CANCELLED
    state.order_name = order["name"]
    state.netsuite_internal_id = sales_order_id or state.netsuite_internal_id
    state.netsuite_customer_id = customer_id or state.netsuite_customer_id
    state.last_applied_updated_at = order["updated_at"]
    state.last_event_id = event.id
    state.version = (state.version or 0) + 1
    session.add(
        OrderTransition(
            shopify_order_id=order_id,
            webhook_event_id=event.id,
            from_state=previous,
            to_state=state.state,
            topic=event.topic,
            note=f"salesOrder {bodies.order_external_id} upserted (internal id {sales_order_id})",
        )
    )
    return OrderOutcome(order_id, "synced", sales_order_id)
