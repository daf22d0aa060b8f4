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
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import repositories
from app.db.locks import lock_order
from app.db.models import OrderState, WebhookEvent
from app.domain.bundles import number_lines
from app.domain.errors import PermanentError, RetryLater, RunLater
from app.domain.keys import fulfillment_external_id
from app.domain.locations import netsuite_location
from app.domain.money import SIDES
from app.domain.order_edits import APPLIED, WAIT, EditWait, edit_time, plan_edit
from app.domain.shopify_events import fulfillment_event, refund_event
from app.domain.state_machine import (
    CancelEvent,
    CloseOpenLines,
    CreateCredit,
    CreateItemFulfillment,
    Decision,
    OrderView,
    apply_cancel,
    apply_fulfillment,
    apply_refund,
)
from app.logging_setup import correlation_id
from app.services.credits import create_credit
from app.services.orders import OrderOutcome, load_order, sync_order_payload
from app.services.payloads import load_payload, payload_of
from netsuite_client import NetSuiteClient
from netsuite_client.errors import NetSuiteError
from schemas.shopify import FulfillmentSchema, OrderEditedSchema, OrderSchema, RefundSchema

log = logging.getLogger(__name__)


OrderFetcher = Callable[[int], dict[str, Any] | None]


class OrderNotInShopify(PermanentError):
    code = "ORDER_NOT_FOUND"


class UnrecordedShipments(RetryLater):
    """A shipment NetSuite refused while it holds fulfillments of the order that we have not recorded (another
    attempt made them and its commit failed). Retried, unless the handler records them first."""

    def __init__(self, message: str, external_ids: set[str]) -> None:
        super().__init__(message)
        self.external_ids = external_ids


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

    def apply(state: OrderState, view: OrderView) -> Decision:
        return carry_out(
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

    try:
        decision = apply(state, view)
    except UnrecordedShipments as exc:
        # Their own webhooks may come late or never: record them from Shopify's order, then this one again.
        state, view = _record_from_shopify(session, client, settings, fetch_order, ev.order_id, exc, event.id)
        decision = apply(state, view)
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
    state, view = _apply_documents(session, client, settings, state, view, payload, event_id)
    if order.get("cancelled_at"):
        _apply_cancellation(session, client, settings, order, topic="shopify/order-read", event_id=event_id)
        state, view = repositories.load_view(session, order_id)
    return state, view


def _record_from_shopify(
    session: Session,
    client: NetSuiteClient,
    settings: Settings,
    fetch_order: OrderFetcher,
    order_id: int,
    unrecorded: UnrecordedShipments,
    event_id: int | None,
) -> tuple[OrderState, OrderView]:
    """The order's fulfillments NetSuite holds and we have not recorded, applied from the order as Shopify has it
    (each transform is found by its external id, not made again): our view then counts what NetSuite shipped."""
    payload = fetch_order(order_id)
    if payload is None:
        raise OrderNotInShopify(f"order {order_id} does not exist in Shopify") from unrecorded
    state, view = repositories.load_view(session, order_id)
    return _apply_documents(session, client, settings, state, view, payload, event_id, unrecorded.external_ids)


def _apply_documents(
    session: Session,
    client: NetSuiteClient,
    settings: Settings,
    state: OrderState,
    view: OrderView,
    payload: dict[str, Any],
    event_id: int | None,
    only_fulfillments: set[str] | None = None,
) -> tuple[OrderState, OrderView]:
    """Shopify's documents of an order read from Shopify (all, or only the fulfillments of those external ids),
    each through the same decision as its own webhook, in Shopify's order."""
    order_id = payload["id"]
    documents = [
        (kind, raw)
        for kind, key in ((FULFILLMENT, "fulfillments"), (REFUND, "refunds"))
        for raw in sorted(payload.get(key) or [], key=lambda x: (x.get("created_at") or "", x["id"]))
        if only_fulfillments is None
        or (kind is FULFILLMENT and fulfillment_external_id(raw["id"]) in only_fulfillments)
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
    if _needs_netsuite_lines(decision):
        # The same decision against the view with NetSuite's lines: its commands, view and restocks carry them.
        decision = decide(ensure_netsuite_lines(client, state, before, correlation))
    if decision.duplicate or decision.ignored:
        repositories.record_transition(
            session, before.order_id, event_id, before.state, before.state, topic, decision.note
        )
        return decision
    view = decision.view
    netsuite_ids: dict[str, str | None] = {}
    amount = None
    for command in decision.commands:
        if isinstance(command, CreateItemFulfillment):
            netsuite_ids["itemFulfillment"] = _fulfill(session, client, settings, state, view, command, correlation)
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


def _needs_netsuite_lines(decision: Decision) -> bool:
    """Fulfillments and closes address NetSuite's lines by number; a credit needs to know whether a refunded line is
    a bundle (its components are credited), which only the sales order's lines say."""
    for command in decision.commands:
        if isinstance(command, CreateItemFulfillment):
            return True
        if isinstance(command, CloseOpenLines) and not command.whole_order:  # a whole order closes every line
            return True
        if isinstance(command, CreateCredit) and any(not line.numbered and rl.quantity for line, rl in command.lines):
            return True
    return False


# -- the NetSuite side of each command --


def ensure_netsuite_lines(client: NetSuiteClient, state: OrderState, view: OrderView, correlation: str) -> OrderView:
    """Learn the NetSuite line of each order line, or a bundle's component lines (once: they are saved with the
    order's lines): fulfillments and closes address lines by number, credits name a bundle's components."""
    if all(line.numbered for line in view.lines if line.ordered):
        return view
    ns_lines = client.get_sublist("salesOrder", state.netsuite_internal_id, correlation_id=correlation)
    return number_lines(view, ns_lines, str(state.netsuite_internal_id))


def _fulfill(
    session: Session,
    client: NetSuiteClient,
    settings: Settings,
    state: OrderState,
    view: OrderView,
    cmd: CreateItemFulfillment,
    correlation: str,
) -> str:
    """The item fulfillment, one transform carrying its external id. NetSuite refuses a second transform of that id
    (and its lines are no longer open), so when it refuses this one, its fulfillments of the order are read once:
    this one among them (an earlier attempt made it and lost the answer, or its commit) is recorded, not made again;
    others we have not recorded (another event made them and its commit failed: our view still counts those units
    as open, so this shipment holds back, or ships, lines NetSuite has already shipped) make it UnrecordedShipments,
    which the handler settles from Shopify's order or by retrying."""
    try:
        return create_item_fulfillment(client, settings, state, view, cmd, correlation)
    except NetSuiteError as exc:
        if exc.status != 400:
            raise
        held = _fulfillments_netsuite_holds(client, state, correlation)
        if cmd.external_id in held:
            return held[cmd.external_id]
        unrecorded = set(held) - repositories.recorded_documents(session, state.shopify_order_id, "fulfillment")
        if not unrecorded:
            raise
        raise UnrecordedShipments(
            f"{cmd.external_id} refused ({exc}) while NetSuite holds fulfillment(s) of order "
            f"{state.shopify_order_id} not recorded yet: {', '.join(sorted(unrecorded)[:5])}",
            unrecorded,
        ) from exc


def _fulfillments_netsuite_holds(client: NetSuiteClient, state: OrderState, correlation: str) -> dict[str, str]:
    """The order's item fulfillments NetSuite holds: external id -> internal id."""
    rows = client.suiteql(
        "SELECT id, externalid FROM transaction WHERE recordtype = 'itemfulfillment' "
        f"AND createdfrom = {int(state.netsuite_internal_id)}",
        correlation_id=correlation,
    )
    return {str(row["externalid"]): str(row["id"]) for row in rows if row.get("externalid")}


def create_item_fulfillment(
    client: NetSuiteClient,
    settings: Settings,
    state: OrderState,
    view: OrderView,
    cmd: CreateItemFulfillment,
    correlation: str,
) -> str:
    """`!transform/itemFulfillment` from the sales order, carrying its external id (`_fulfill` handles a refusal).
    No look before it: one call for a new shipment."""
    location = netsuite_location(settings.location_map, settings.netsuite_default_location_id, cmd.location_id)
    # A bundle ships as each of its components (quantity x units per bundle).
    items: list[dict[str, Any]] = [
        {"orderLine": number, "quantity": units, "location": {"id": location}, "itemReceive": True}
        for line, qty in cmd.ship
        for _, number, units in line.netsuite_units(qty)
    ]
    # A new fulfillment starts from every open line: the ones this shipment leaves behind must say so.
    items += [
        {"orderLine": number, "itemReceive": False} for line in cmd.hold for _, number, _ in line.netsuite_units(0)
    ]
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


def close_open_lines(client: NetSuiteClient, state: OrderState, cmd: CloseOpenLines, correlation: str) -> None:
    """Close what was not shipped (keyed lines only, no replace: the shipped lines stay as they are; a bundle's
    are its components). When nothing shipped, every line closes, shipping, discount and fee lines too, so
    NetSuite's order is closed rather than left pending billing for its shipping; after a partial shipment those
    lines stay (they bill with it)."""
    if cmd.whole_order:  # every line the sales order has, read once here (the view's numbers are not needed)
        ns_lines = client.get_sublist("salesOrder", state.netsuite_internal_id, correlation_id=correlation)
        numbers = [int(ns["line"]) for ns in ns_lines if not ns.get("isClosed")]
    else:
        numbers = [number for line in cmd.lines for _, number, _ in line.netsuite_units(0) if number is not None]
    items = [{"line": number, "isClosed": True} for number in numbers]
    if items:
        client.patch("salesOrder", state.netsuite_internal_id, {"item": {"items": items}}, correlation_id=correlation)
