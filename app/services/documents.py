"""fulfillments/* and refunds/create: turn the payload into a domain event and apply it to the order, syncing
the order from Shopify's Admin API first when its own webhook has not arrived (late, or never)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import OrderState, WebhookEvent
from app.domain.errors import PermanentError, SchemaError
from app.domain.lifecycle import (
    REFUND_KINDS,
    CancelEvent,
    FulfillmentEvent,
    FulfillmentLine,
    OrderView,
    RefundEvent,
    RefundLine,
    apply_cancel,
    apply_fulfillment,
    apply_refund,
)
from app.services.lifecycle import carry_out, load_view
from app.services.orders import lock_order, sync_order_payload
from app.services.payloads import load_payload, payload_of
from netsuite_client import NetSuiteClient
from schemas.shopify import FulfillmentSchema, OrderSchema, RefundSchema

log = logging.getLogger(__name__)

OrderFetcher = Callable[[int], dict[str, Any] | None]


class OrderNotInShopify(PermanentError):
    code = "ORDER_NOT_FOUND"


def _load(schema_cls, payload: dict[str, Any], what: str) -> dict[str, Any]:
    return load_payload(schema_cls(), payload, what)


def fulfillment_event(f: dict[str, Any]) -> FulfillmentEvent:
    numbers = tuple(f.get("tracking_numbers") or ([f["tracking_number"]] if f.get("tracking_number") else []))
    return FulfillmentEvent(
        fulfillment_id=f["id"],
        order_id=f["order_id"],
        status=(f.get("status") or "").lower(),
        location_id=f.get("location_id"),
        lines=tuple(FulfillmentLine(li["id"], li["quantity"]) for li in f["line_items"]),
        tracking_company=f.get("tracking_company"),
        tracking_numbers=numbers,
    )


def refund_event(r: dict[str, Any], topic: str = "refunds/create") -> RefundEvent:
    amount = Decimal("0.00")
    for t in r.get("transactions") or []:
        kind = (t.get("kind") or "").lower()
        if kind not in REFUND_KINDS:
            raise SchemaError(f"{topic}: unknown transaction kind {kind!r} (field transactions.kind)")
        if kind == "refund" and (t.get("status") or "success").lower() == "success":
            amount += t["amount"]
    lines = []
    for rl in r.get("refund_line_items") or []:
        restock_type = (rl.get("restock_type") or ("return" if r.get("restock") else "no_restock")).lower()
        lines.append(
            RefundLine(rl["line_item_id"], rl["quantity"], restock_type, rl.get("location_id"), rl.get("subtotal"))
        )
    return RefundEvent(r["id"], r["order_id"], tuple(lines), amount, r.get("note"))


def ensure_order(
    session: Session,
    order_id: int,
    client: NetSuiteClient,
    settings: Settings,
    fetch_order: OrderFetcher,
    event_id: int | None,
) -> tuple[OrderState, OrderView]:
    """Our view of the order; if we never synced it, read it from Shopify and bring it (with every fulfillment,
    refund and cancellation Shopify already has) into NetSuite first."""
    state, view = load_view(session, order_id)
    if view is not None:
        return state, view
    payload = fetch_order(order_id)
    if payload is None:
        raise OrderNotInShopify(f"order {order_id} does not exist in Shopify")
    order = _load(OrderSchema, payload, f"order {order_id} read from Shopify")
    sync_order_payload(session, order, client, settings, topic="shopify/order-read", event_id=event_id)
    state, view = load_view(session, order_id)
    # Shopify's documents for the order, each through the same decision as its own webhook, in Shopify's order.
    documents = [
        ("fulfillment", FulfillmentSchema, fulfillment_event, apply_fulfillment, lambda e: e.fulfillment_id, f)
        for f in sorted(payload.get("fulfillments") or [], key=lambda x: (x.get("created_at") or "", x["id"]))
    ] + [
        ("refund", RefundSchema, refund_event, apply_refund, lambda e: e.refund_id, r)
        for r in sorted(payload.get("refunds") or [], key=lambda x: (x.get("created_at") or "", x["id"]))
    ]
    for kind, schema, to_event, apply, shopify_id, raw in documents:
        ev = to_event(_load(schema, {**raw, "order_id": order_id}, f"{kind} {raw.get('id')}"))
        carry_out(
            session,
            client,
            settings,
            state,
            view,
            lambda v, ev=ev, apply=apply: apply(v, ev),
            topic="shopify/order-read",
            event_id=event_id,
            document=(kind, shopify_id(ev)),
        )
        state, view = load_view(session, order_id)
    if order.get("cancelled_at"):
        carry_out(
            session,
            client,
            settings,
            state,
            view,
            lambda v: apply_cancel(v, CancelEvent(order_id, order.get("cancel_reason"))),
            topic="shopify/order-read",
            event_id=event_id,
        )
        state, view = load_view(session, order_id)
    return state, view


def handle_fulfillment(
    session: Session, event: WebhookEvent, client: NetSuiteClient, settings: Settings, fetch_order: OrderFetcher
) -> str:
    payload = _load(FulfillmentSchema, payload_of(event), event.topic)
    ev = fulfillment_event(payload)
    lock_order(session, ev.order_id)
    state, view = ensure_order(session, ev.order_id, client, settings, fetch_order, event.id)
    decision = carry_out(
        session,
        client,
        settings,
        state,
        view,
        lambda v: apply_fulfillment(v, ev, event.topic),
        topic=event.topic,
        event_id=event.id,
        document=("fulfillment", ev.fulfillment_id),
    )
    return f"fulfillment {ev.fulfillment_id}: {decision.note} -> {decision.view.state}"


def handle_refund(
    session: Session, event: WebhookEvent, client: NetSuiteClient, settings: Settings, fetch_order: OrderFetcher
) -> str:
    payload = _load(RefundSchema, payload_of(event), event.topic)
    ev = refund_event(payload, event.topic)
    lock_order(session, ev.order_id)
    state, view = ensure_order(session, ev.order_id, client, settings, fetch_order, event.id)
    decision = carry_out(
        session,
        client,
        settings,
        state,
        view,
        lambda v: apply_refund(v, ev, event.topic),
        topic=event.topic,
        event_id=event.id,
        document=("refund", ev.refund_id),
    )
    return f"refund {ev.refund_id}: {decision.note} -> {decision.view.state}"
