"""The order lifecycle use case: orders/* webhooks, fulfillments and refunds applied to the order we keep.

Each event loads our view of the order (`app.db.repositories`), lets the state machine decide
(`app.domain.state_machine`), carries the decision's commands out in NetSuite, and records the outcome. An
event for an order we never synced reads the order from Shopify's Admin API first (its own webhook came late,
or never). Every NetSuite write is idempotent by external id, so a retry never doubles a record.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import repositories
from app.db.locks import lock_order
from app.db.models import OrderState, WebhookEvent
from app.domain.errors import MappingError, PermanentError, RunLater, UnknownSku
from app.domain.keys import order_external_id
from app.domain.money import SIDES
from app.domain.order_edits import APPLIED, WAIT, EditWait, edit_time, plan_edit
from app.domain.shopify_events import fulfillment_event, refund_event
from app.domain.state_machine import (
    ZERO,
    CancelEvent,
    CloseOpenLines,
    CreateCredit,
    CreateItemFulfillment,
    Decision,
    Line,
    OrderView,
    apply_cancel,
    apply_fulfillment,
    apply_refund,
)
from app.logging_setup import correlation_id
from app.services.items import resolve_items
from app.services.orders import OrderOutcome, load_order, sync_order_payload
from app.services.payloads import load_payload, payload_of
from netsuite_client import NetSuiteClient
from netsuite_client.errors import NotFoundError
from schemas.shopify import FulfillmentSchema, OrderEditedSchema, OrderSchema, RefundSchema

log = logging.getLogger(__name__)

CENT = Decimal("0.01")

OrderFetcher = Callable[[int], dict[str, Any] | None]


class OrderNotInShopify(PermanentError):
    code = "ORDER_NOT_FOUND"


# -- the events --


def handle_order(session: Session, event: WebhookEvent, client: NetSuiteClient, settings: Settings) -> OrderOutcome:
    """orders/create, orders/updated, orders/cancelled: customer and sales order upserted, then the
    cancellation applied when the order says it was cancelled."""
    order = load_order(event)
    outcome = sync_order_payload(session, order, client, settings, topic=event.topic, event_id=event.id)
    if event.topic == "orders/cancelled" or order.get("cancelled_at"):
        _apply_cancellation(session, client, settings, order, topic=event.topic, event_id=event.id)
    return outcome


@dataclass(frozen=True)
class _DocumentKind:
    """A Shopify document of an order (fulfillment or refund): its schema, its domain event, its decision."""

    name: str
    topic: str  # its webhook topic, named in errors when the document was read along with its order
    schema: type
    to_event: Callable[[dict[str, Any], str, str], Any]  # payload, topic, money side of the document currency
    apply: Callable[[OrderView, Any, str], Decision]
    shopify_id: Callable[[Any], int]


FULFILLMENT = _DocumentKind(
    "fulfillment",
    "fulfillments/create",
    FulfillmentSchema,
    lambda payload, topic, side: fulfillment_event(payload),
    apply_fulfillment,
    lambda ev: ev.fulfillment_id,
)
REFUND = _DocumentKind("refund", "refunds/create", RefundSchema, refund_event, apply_refund, lambda ev: ev.refund_id)


def handle_order_edit(
    session: Session, event: WebhookEvent, client: NetSuiteClient, settings: Settings, fetch_order: OrderFetcher
) -> str:
    """orders/edited: the payload holds only the edit's deltas. When the order payload we applied last is at or
    after the edit, the sales order already reflects it (Shopify's orders/updated for the same change carried
    it): recorded, no Shopify read. Otherwise the edit waits a while for that orders/updated
    (app/domain/order_edits.py), then the order is read as Shopify has it now (its `current_quantity` per line
    is the truth) and synced like an orders/updated; a line taken below what has shipped is refused
    (InvalidTransition, dead-lettered with the reason)."""
    edit = _load(OrderEditedSchema, payload_of(event), event.topic)["order_edit"]
    order_id = edit["order_id"]
    lock_order(session, order_id)
    state, _ = repositories.load_view(session, order_id)
    applied_at = state.last_applied_updated_at if state is not None and state.netsuite_internal_id else None
    step = plan_edit(
        edit_time(edit),
        applied_at,
        (repositories.database_now(session) - event.received_at).total_seconds(),
        repositories.order_payload_queued(session, order_id),
        EditWait(settings.order_edit_wait_seconds, settings.order_edit_max_wait_seconds),
    )
    if step.action == APPLIED and state is not None:
        repositories.record_transition(
            session, order_id, event.id, state.state, state.state, event.topic, f"edit {edit['id']}: {step.note}"
        )
        return f"edit {edit['id']}: already applied to order {order_id}"
    if step.action == WAIT:
        # Spread a little, so edits received together do not all come back (and read) at the same instant.
        raise RunLater(f"edit {edit['id']} of order {order_id}: {step.note}", step.wait_s + random.uniform(0, 1))
    payload = fetch_order(order_id)
    if payload is None:
        raise OrderNotInShopify(f"order {order_id} of edit {edit['id']} does not exist in Shopify")
    order = _load(OrderSchema, payload, f"order {order_id} read from Shopify")
    outcome = sync_order_payload(session, order, client, settings, topic=event.topic, event_id=event.id)
    return f"edit {edit['id']}: {outcome.action} order {outcome.order_id}"


def handle_fulfillment(
    session: Session, event: WebhookEvent, client: NetSuiteClient, settings: Settings, fetch_order: OrderFetcher
) -> str:
    return _handle_document(FULFILLMENT, session, event, client, settings, fetch_order)


def handle_refund(
    session: Session, event: WebhookEvent, client: NetSuiteClient, settings: Settings, fetch_order: OrderFetcher
) -> str:
    return _handle_document(REFUND, session, event, client, settings, fetch_order)


def _handle_document(
    kind: _DocumentKind,
    session: Session,
    event: WebhookEvent,
    client: NetSuiteClient,
    settings: Settings,
    fetch_order: OrderFetcher,
) -> str:
    """A fulfillment or refund webhook applied to its order: serialized per order, and the order read from
    Shopify first if we never synced it."""
    ev = kind.to_event(_load(kind.schema, payload_of(event), event.topic), event.topic, _side(settings))
    lock_order(session, ev.order_id)
    state, view = ensure_order(session, ev.order_id, client, settings, fetch_order, event.id)
    decision = carry_out(
        session,
        client,
        settings,
        state,
        view,
        lambda v: kind.apply(v, ev, event.topic),
        topic=event.topic,
        event_id=event.id,
        document=(kind.name, kind.shopify_id(ev)),
    )
    return f"{kind.name} {kind.shopify_id(ev)}: {decision.note} -> {decision.view.state}"


def _side(settings: Settings) -> str:
    """The side of Shopify's money bags the sales order is in (ORDER_CURRENCY): its refunds are in the same."""
    return SIDES[settings.order_money.order_currency]


def _load(schema_cls: type, payload: dict[str, Any], what: str) -> dict[str, Any]:
    return load_payload(schema_cls(), payload, what)


def _apply_cancellation(
    session: Session,
    client: NetSuiteClient,
    settings: Settings,
    order: dict[str, Any],
    *,
    topic: str,
    event_id: int | None,
) -> None:
    state, view = repositories.load_view(session, order["id"])
    carry_out(
        session,
        client,
        settings,
        state,
        view,
        lambda v: apply_cancel(v, CancelEvent(order["id"], order.get("cancel_reason"))),
        topic=topic,
        event_id=event_id,
    )


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
    state, view = repositories.load_view(session, order_id)
    if view is not None:
        return state, view
    payload = fetch_order(order_id)
    if payload is None:
        raise OrderNotInShopify(f"order {order_id} does not exist in Shopify")
    order = _load(OrderSchema, payload, f"order {order_id} read from Shopify")
    sync_order_payload(session, order, client, settings, topic="shopify/order-read", event_id=event_id)
    state, view = repositories.load_view(session, order_id)
    # Shopify's documents for the order, each through the same decision as its own webhook, in Shopify's order.
    documents = [
        (kind, raw)
        for kind, key in ((FULFILLMENT, "fulfillments"), (REFUND, "refunds"))
        for raw in sorted(payload.get(key) or [], key=lambda x: (x.get("created_at") or "", x["id"]))
    ]
    for kind, raw in documents:
        loaded = _load(kind.schema, {**raw, "order_id": order_id}, f"{kind.name} {raw.get('id')}")
        ev = kind.to_event(loaded, kind.topic, _side(settings))
        carry_out(
            session,
            client,
            settings,
            state,
            view,
            lambda v, ev=ev, kind=kind: kind.apply(v, ev, kind.topic),
            topic="shopify/order-read",
            event_id=event_id,
            document=(kind.name, kind.shopify_id(ev)),
        )
        state, view = repositories.load_view(session, order_id)
    if order.get("cancelled_at"):
        _apply_cancellation(session, client, settings, order, topic="shopify/order-read", event_id=event_id)
        state, view = repositories.load_view(session, order_id)
    return state, view


# -- one decision, carried out --


def carry_out(
    session: Session,
    client: NetSuiteClient,
    settings: Settings,
    state: OrderState,
    before: OrderView,
    decide: Callable[[OrderView], Decision],
    *,
    topic: str,
    event_id: int | None,
    document: tuple[str, int] | None = None,
) -> Decision:
    """Decide against our view, issue the NetSuite commands, then persist view, documents and transition."""
    correlation = correlation_id.get() or (
        f"event-{event_id}" if event_id is not None else f"order-{state.shopify_order_id}"
    )
    decision = decide(before)
    if decision.duplicate or decision.ignored:
        repositories.record_transition(
            session, before.order_id, event_id, before.state, before.state, topic, decision.note
        )
        return decision
    view = decision.view
    if any(isinstance(c, (CreateItemFulfillment, CloseOpenLines)) for c in decision.commands):
        numbered = ensure_netsuite_lines(client, state, before, correlation)
        numbers = {line.line_id: line.netsuite_line for line in numbered.lines}
        view = replace(view, lines=tuple(replace(line, netsuite_line=numbers.get(line.line_id)) for line in view.lines))
        decision = replace(decision, commands=tuple(_renumber(c, numbers) for c in decision.commands))
    netsuite_ids: dict[str, str | None] = {}
    amount = None
    for command in decision.commands:
        if isinstance(command, CreateItemFulfillment):
            netsuite_ids["itemFulfillment"] = create_item_fulfillment(
                client, settings, state, view, command, correlation
            )
        elif isinstance(command, CreateCredit):
            credit, payment = create_credit(session, client, settings, state, command, correlation)
            netsuite_ids["creditMemo"], netsuite_ids["customerRefund"] = credit, payment
            amount = command.amount
        elif isinstance(command, CloseOpenLines):
            close_open_lines(client, state, command, correlation)
    if document is not None:
        kind, shopify_id = document
        external = next((c.external_id for c in decision.commands if hasattr(c, "external_id")), f"{kind}-{shopify_id}")
        ns_type = "itemFulfillment" if kind == "fulfillment" else "creditMemo"
        repositories.record_document(
            session,
            before.order_id,
            kind,
            shopify_id,
            external_id=external,
            netsuite_type=ns_type,
            netsuite_internal_id=netsuite_ids.get(ns_type),
            amount=amount,
        )
    repositories.record_restocks(session, before.order_id, document[1] if document else 0, decision.restocks)
    repositories.save_view(session, state, view)
    repositories.record_transition(session, before.order_id, event_id, before.state, view.state, topic, decision.note)
    return replace(decision, view=view)


def _renumber(command: Any, numbers: dict[int, int | None]) -> Any:
    def fix(line: Line) -> Line:
        return replace(line, netsuite_line=numbers.get(line.line_id))

    if isinstance(command, CreateItemFulfillment):
        return replace(
            command, ship=tuple((fix(line), q) for line, q in command.ship), hold=tuple(fix(x) for x in command.hold)
        )
    if isinstance(command, CloseOpenLines):
        return replace(command, lines=tuple(fix(x) for x in command.lines))
    return command


# -- the NetSuite side of each command --


def ensure_netsuite_lines(client: NetSuiteClient, state: OrderState, view: OrderView, correlation: str) -> OrderView:
    """Learn the NetSuite line number of each order line (once): fulfillments and closes address lines by it."""
    if all(line.netsuite_line is not None for line in view.lines if line.ordered):
        return view
    ns_lines = client.get_sublist("salesOrder", state.netsuite_internal_id, correlation_id=correlation)
    by_shopify_id: dict[str, int] = {}
    for ns in ns_lines:
        shopify_id = ns.get("custcol_shopify_line_id")
        if shopify_id:
            by_shopify_id[str(shopify_id)] = int(ns["line"])
    lines = []
    for line in view.lines:
        number = by_shopify_id.get(str(line.line_id))
        lines.append(replace(line, netsuite_line=number if number is not None else line.netsuite_line))
    missing = [line.sku for line in lines if line.ordered and line.netsuite_line is None]
    if missing:
        raise MappingError(
            f"sales order {state.netsuite_internal_id} has no line for {', '.join(missing)} "
            f"(custcol_shopify_line_id not found among {len(ns_lines)} line(s))",
            code="NETSUITE_LINE_MISSING",
        )
    return replace(view, lines=tuple(lines))


def netsuite_location(settings: Settings, shopify_location_id: int | None) -> str:
    if shopify_location_id is None:
        if settings.netsuite_default_location_id:
            return settings.netsuite_default_location_id
        raise MappingError(
            "the event names no Shopify location and NETSUITE_DEFAULT_LOCATION_ID is not set", code="UNMAPPED_LOCATION"
        )
    location = settings.location_map.get(int(shopify_location_id))
    if location is None:
        raise MappingError(f"Shopify location {shopify_location_id} is not in LOCATION_MAP", code="UNMAPPED_LOCATION")
    return location


def _existing_id(client: NetSuiteClient, record_type: str, external_id: str, correlation: str) -> str | None:
    try:
        record = client.get(record_type, external_id=external_id, fields=["id"], correlation_id=correlation)
    except NotFoundError:
        return None
    return str(record.get("id")) if record.get("id") is not None else None


def create_item_fulfillment(
    client: NetSuiteClient,
    settings: Settings,
    state: OrderState,
    view: OrderView,
    cmd: CreateItemFulfillment,
    correlation: str,
) -> str:
    """`!transform/itemFulfillment` from the sales order, once: a transform is not idempotent, so look first."""
    existing = _existing_id(client, "itemFulfillment", cmd.external_id, correlation)
    if existing:
        return existing
    numbers = {line.line_id: line.netsuite_line for line in view.lines}
    location = netsuite_location(settings, cmd.location_id)
    items: list[dict[str, Any]] = [
        {"orderLine": numbers[line.line_id], "quantity": qty, "location": {"id": location}, "itemReceive": True}
        for line, qty in cmd.ship
    ]
    # A new fulfillment starts from every open line: the ones this shipment leaves behind must say so.
    items += [{"orderLine": numbers[line.line_id], "itemReceive": False} for line in cmd.hold]
    body: dict[str, Any] = {
        "externalId": cmd.external_id,
        "item": {"items": items},
        "memo": f"Shopify {cmd.external_id}",
    }
    if cmd.tracking_numbers:
        body["custbody_shopify_tracking_numbers"] = ",".join(cmd.tracking_numbers)[:999]
    if cmd.tracking_company:
        body["custbody_shopify_tracking_company"] = cmd.tracking_company[:200]
    return client.transform(
        "salesOrder", state.netsuite_internal_id, "itemFulfillment", body, correlation_id=correlation
    )


def create_credit(
    session: Session,
    client: NetSuiteClient,
    settings: Settings,
    state: OrderState,
    cmd: CreateCredit,
    correlation: str,
) -> tuple[str | None, str | None]:
    """A credit memo for what the refund gives back (upsert by external id), and a customer refund applying it
    when money moved. Returns the internal ids (credit memo, customer refund)."""
    entity = (
        {"externalId": state.customer_external_id} if state.customer_external_id else {"id": state.netsuite_customer_id}
    )
    item_ids = _credit_item_ids(session, client, settings, cmd)
    items, lines_total = _credit_lines(settings, cmd, item_ids)
    difference = (cmd.amount - lines_total).quantize(CENT)
    if difference and settings.netsuite_refund_adjustment_item:
        items.append(
            {
                "item": {"id": item_ids[settings.netsuite_refund_adjustment_item]},
                "quantity": 1,
                "rate": difference,
                "amount": difference,
                "description": "Shopify refund adjustment (tax, shipping, fees)",
            }
        )
    if not items:
        raise MappingError(
            f"{cmd.external_id} refunds {cmd.amount} with no line items and NETSUITE_REFUND_ADJUSTMENT_ITEM is not set",
            code="NO_REFUND_ITEM",
        )
    if difference and not settings.netsuite_refund_adjustment_item:
        state.money_mismatch = (
            f"{cmd.external_id}: Shopify refunded {cmd.amount}, the credit lines total {lines_total} "
            f"(difference {difference}); set NETSUITE_REFUND_ADJUSTMENT_ITEM to book it"
        )
        log.warning("money mismatch recorded on order %s: %s", state.shopify_order_id, state.money_mismatch)
    body = {
        "entity": entity,
        **_currency(settings, state),
        "otherRefNum": state.order_name,
        "memo": (cmd.note or f"Shopify {cmd.external_id}")[:999],
        "custbody_shopify_order_id": str(state.shopify_order_id),
        "custbody_shopify_sales_order": {"externalId": order_external_id(state.shopify_order_id)},
        "custbody_shopify_refund_amount": cmd.amount,
        "item": {"items": items},
    }
    credit_id = client.upsert("creditMemo", cmd.external_id, body, replace=("item",), correlation_id=correlation)
    payment_id = (
        _refund_payment(client, entity, cmd, correlation, _currency(settings, state)) if cmd.amount > 0 else None
    )
    return credit_id, payment_id


def _credit_item_ids(session: Session, client: NetSuiteClient, settings: Settings, cmd: CreateCredit) -> dict[str, str]:
    skus = {line.sku for line, _ in cmd.lines}
    if settings.netsuite_refund_adjustment_item:
        skus.add(settings.netsuite_refund_adjustment_item)
    item_ids = resolve_items(session, client, sorted(skus), settings.netsuite_item_sku_field) if skus else {}
    missing = sorted(skus - set(item_ids))
    if missing:
        raise UnknownSku(missing)
    return item_ids


def _credit_lines(
    settings: Settings, cmd: CreateCredit, item_ids: dict[str, str]
) -> tuple[list[dict[str, Any]], Decimal]:
    """One credit line per refunded order line (restocked at its location, or marked as not restocked)."""
    items: list[dict[str, Any]] = []
    lines_total = ZERO
    for line, refund_line in cmd.lines:
        if refund_line.quantity == 0:
            continue
        amount = refund_line.subtotal if refund_line.subtotal is not None else line.price * refund_line.quantity
        amount = amount.quantize(CENT)
        lines_total += amount
        entry: dict[str, Any] = {
            "item": {"id": item_ids[line.sku]},
            "quantity": refund_line.quantity,
            "rate": line.price.quantize(CENT),
            "amount": amount,
            "custcol_shopify_line_id": str(line.line_id),
        }
        if refund_line.restock_type in ("return", "cancel", "legacy_restock"):
            entry["location"] = {"id": netsuite_location(settings, refund_line.location_id)}
        else:
            entry["custcol_shopify_no_restock"] = True
        items.append(entry)
    return items, lines_total


def _currency(settings: Settings, state: OrderState) -> dict[str, Any]:
    """A refund's documents are in their sales order's currency (NETSUITE_CURRENCY_MAP); none named for an order
    synced before the currency was recorded, which NetSuite then books in the customer's currency."""
    currency_id = settings.netsuite_currency_map.get((state.currency or "").upper())
    return {"currency": {"id": currency_id}} if currency_id else {}


def _refund_payment(
    client: NetSuiteClient, entity: dict[str, Any], cmd: CreateCredit, correlation: str, currency: dict[str, Any]
) -> str | None:
    """The customer refund that pays the credit memo out (money moved back to the customer)."""
    return client.upsert(
        "customerRefund",
        f"{cmd.external_id}-payment",
        {
            "customer": entity,
            **currency,
            "total": cmd.amount,
            "memo": f"Shopify {cmd.external_id}",
            "apply": {"items": [{"doc": {"externalId": cmd.external_id}, "apply": True, "amount": cmd.amount}]},
        },
        correlation_id=correlation,
    )


def close_open_lines(client: NetSuiteClient, state: OrderState, cmd: CloseOpenLines, correlation: str) -> None:
    """Close what was not shipped (keyed lines only, no replace: the shipped lines stay as they are)."""
    items = [{"line": line.netsuite_line, "isClosed": True} for line in cmd.lines if line.netsuite_line is not None]
    if items:
        client.patch("salesOrder", state.netsuite_internal_id, {"item": {"items": items}}, correlation_id=correlation)
