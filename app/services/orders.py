"""orders/create and orders/updated -> NetSuite customer + sales order, serialized per order."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError as PayloadInvalid
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import CustomerSync, OrderState, OrderTransition, WebhookEvent
from app.domain import order_state
from app.domain.errors import SchemaError
from app.domain.mapping import MappingConfig, map_order, order_skus
from app.services.items import resolve_items
from netsuite_client import NetSuiteClient
from netsuite_client.errors import ValidationError
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
    except PayloadInvalid as exc:
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
    customer = order.get("customer")
    skipped_customer = False
    if bodies.customer_body is not None:
        customer_id, skipped_customer = ensure_customer(
            session, client, customer["id"], bodies.customer_external_id, bodies.customer_body, correlation
        )

    def upsert_order() -> str | None:
        # replace=item: NetSuite appends unkeyed lines on update, so a retried or repeated PUT would double them.
        return client.upsert(
            "salesOrder",
            bodies.order_external_id,
            bodies.sales_order_body,
            replace=("item",),
            correlation_id=correlation,
        )

    try:
        sales_order_id = upsert_order()
    except ValidationError as exc:
        if not (skipped_customer and exc.code == "INVALID_KEY_OR_REF"):
            raise
        # Our record of the customer is stale (deleted or merged in NetSuite): send it again, then the order.
        log.warning("order %s: cached customer %s rejected by NetSuite; re-sending it", order_id, customer["id"])
        session.execute(delete(CustomerSync).where(CustomerSync.shopify_customer_id == customer["id"]))
        customer_id, _ = ensure_customer(
            session, client, customer["id"], bodies.customer_external_id, bodies.customer_body, correlation
        )
        sales_order_id = upsert_order()

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


def _body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def ensure_customer(
    session: Session,
    client: NetSuiteClient,
    shopify_customer_id: int,
    external_id: str,
    body: dict[str, Any],
    correlation: str,
) -> tuple[str | None, bool]:
    """Upsert the customer unless NetSuite already has exactly this body from us. Returns (internal id, skipped).

    Repeat customers are most of a store's orders: skipping them is what keeps an order at one NetSuite call.
    """
    digest = _body_hash(body)
    known = session.get(CustomerSync, shopify_customer_id)
    if known is not None and known.body_hash == digest and known.external_id == external_id:
        return known.netsuite_internal_id, True
    internal_id = client.upsert("customer", external_id, body, correlation_id=correlation)
    stmt = insert(CustomerSync).values(
        shopify_customer_id=shopify_customer_id,
        external_id=external_id,
        netsuite_internal_id=internal_id,
        body_hash=digest,
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["shopify_customer_id"],
            set_={
                "external_id": stmt.excluded.external_id,
                "netsuite_internal_id": func.coalesce(
                    stmt.excluded.netsuite_internal_id, CustomerSync.netsuite_internal_id
                ),
                "body_hash": stmt.excluded.body_hash,
                "synced_at": func.now(),
            },
        )
    )
    return internal_id, False
