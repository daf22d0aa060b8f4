"""orders/create and orders/updated -> NetSuite customer + sales order, serialized per order."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import repositories
from app.db.locks import lock_order
from app.db.models import OrderState, WebhookEvent
from app.domain.mapping import MappingConfig, OrderBodies, map_order, money_mismatch, order_skus
from app.domain.state_machine import CREATED, OrderView, check_edit, derive_state, is_stale, view_from_order
from app.logging_setup import correlation_id
from app.services.items import resolve_items
from app.services.payloads import load_payload, payload_of
from netsuite_client import NetSuiteClient
from netsuite_client.errors import ValidationError as NetSuiteValidationError
from schemas.shopify import order_schema_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderOutcome:
    order_id: int
    action: str  # "synced" | "skipped_stale"
    netsuite_id: str | None


def load_order(event: WebhookEvent) -> dict[str, Any]:
    return load_payload(order_schema_for(event.api_version), payload_of(event), f"{event.topic} payload")


def mapping_config(settings: Settings) -> MappingConfig:
    return MappingConfig(
        currency_map=settings.netsuite_currency_map,
        default_customer_external_id=settings.netsuite_default_customer_external_id,
        discount_item_id=settings.netsuite_discount_item_id,
    )


def sync_order_payload(
    session: Session,
    order: dict[str, Any],
    client: NetSuiteClient,
    settings: Settings,
    *,
    topic: str,
    event_id: int | None,
) -> OrderOutcome:
    """Upsert the customer and the sales order for an order payload (a webhook's, or one read from Shopify)."""
    order_id = order["id"]
    correlation = correlation_id.get() or (f"event-{event_id}" if event_id is not None else f"order-{order_id}")
    lock_order(session, order_id)
    state, previous = repositories.load_view(session, order_id)

    if state and state.netsuite_internal_id and is_stale(state.last_applied_updated_at, order["updated_at"]):
        repositories.record_transition(
            session,
            order_id,
            event_id,
            state.state,
            state.state,
            topic,
            f"skipped: updated_at {order['updated_at'].isoformat()} not newer than applied",
        )
        return OrderOutcome(order_id, "skipped_stale", state.netsuite_internal_id)

    # Before anything reaches NetSuite: an edit below what has shipped is refused with its reason.
    check_edit(previous, view_from_order(order, previous), topic)
    item_ids = resolve_items(session, client, order_skus(order), settings.netsuite_item_sku_field)
    known_lines = (
        {line.line_id: line.netsuite_line for line in previous.lines if line.netsuite_line} if previous else {}
    )
    bodies = map_order(order, item_ids, mapping_config(settings), netsuite_lines=known_lines)
    customer_id, sales_order_id = _upsert_customer_and_order(session, client, order, bodies, correlation)

    previous_state = state.state if state else None
    if state is None:
        state = repositories.new_order_state(session, order_id, CREATED)
    _record_applied(state, order, bodies, sales_order_id, customer_id, event_id)
    # Line numbers change when unkeyed lines are replaced: forget them, they are read again when needed.
    view = _view_after_sync(order, previous, known_lines)
    repositories.save_view(session, state, view)
    repositories.drop_removed_lines(session, order_id, [line.line_id for line in view.lines])
    repositories.record_transition(
        session,
        order_id,
        event_id,
        previous_state,
        view.state,
        topic,
        f"salesOrder {bodies.order_external_id} upserted (internal id {sales_order_id})",
    )
    return OrderOutcome(order_id, "synced", sales_order_id)


def _upsert_customer_and_order(
    session: Session, client: NetSuiteClient, order: dict[str, Any], bodies: OrderBodies, correlation: str
) -> tuple[str | None, str | None]:
    """The customer (unless NetSuite already has this body from us), then the sales order. Returns their ids."""
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
        return customer_id, upsert_order()
    except NetSuiteValidationError as exc:
        if not (skipped_customer and exc.code == "INVALID_KEY_OR_REF"):
            raise
    # Our record of the customer is stale (deleted or merged in NetSuite): send it again, then the order.
    log.warning("order %s: cached customer %s rejected by NetSuite; re-sending it", order["id"], customer["id"])
    repositories.forget_customer(session, customer["id"])
    customer_id, _ = ensure_customer(
        session, client, customer["id"], bodies.customer_external_id, bodies.customer_body, correlation
    )
    return customer_id, upsert_order()


def _record_applied(
    state: OrderState,
    order: dict[str, Any],
    bodies: OrderBodies,
    sales_order_id: str | None,
    customer_id: str | None,
    event_id: int | None,
) -> None:
    state.order_name = order["name"]
    state.netsuite_internal_id = sales_order_id or state.netsuite_internal_id
    state.netsuite_customer_id = customer_id or state.netsuite_customer_id
    state.customer_external_id = bodies.customer_external_id
    state.currency = order["currency"]
    state.last_applied_updated_at = order["updated_at"]
    mismatch = money_mismatch(order)
    if mismatch:
        log.warning("money mismatch recorded on order %s: %s", order["id"], mismatch)
    state.money_mismatch = mismatch
    state.last_event_id = event_id


def _view_after_sync(order: dict[str, Any], previous: OrderView | None, known_lines: dict[int, int]) -> OrderView:
    view = view_from_order(order, previous)
    view = replace(view, lines=tuple(replace(line, netsuite_line=known_lines.get(line.line_id)) for line in view.lines))
    return replace(view, state=derive_state(view))


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
    known = repositories.known_customer(session, shopify_customer_id)
    if known is not None and known.body_hash == digest and known.external_id == external_id:
        return known.netsuite_internal_id, True
    internal_id = client.upsert("customer", external_id, body, correlation_id=correlation)
    repositories.save_customer(session, shopify_customer_id, external_id, internal_id, digest)
    return internal_id, False
