"""Fulfillments, refunds and cancellations: load our view of the order, let the domain decide, tell NetSuite,
record the outcome. Every NetSuite write is idempotent by external id, so a retry never doubles a record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import InventoryRestock, OrderDocument, OrderLine, OrderState, OrderTransition
from app.domain.errors import MappingError, UnknownSku
from app.domain.keys import order_external_id
from app.domain.lifecycle import (
    ZERO,
    CloseOpenLines,
    CreateCredit,
    CreateItemFulfillment,
    Decision,
    Line,
    OrderView,
)
from app.logging_setup import correlation_id
from app.services.items import resolve_items
from netsuite_client import NetSuiteClient
from netsuite_client.errors import NotFoundError

log = logging.getLogger(__name__)

CENT = Decimal("0.01")


# -- our view of an order, in and out of PostgreSQL --


def load_view(session: Session, order_id: int) -> tuple[OrderState | None, OrderView | None]:
    """The order's state row (locked for this transaction) and our view of it; (None, None) if never synced."""
    state = session.execute(
        select(OrderState).where(OrderState.shopify_order_id == order_id).with_for_update()
    ).scalar_one_or_none()
    if state is None or state.netsuite_internal_id is None:
        return state, None
    rows = session.scalars(
        select(OrderLine).where(OrderLine.shopify_order_id == order_id).order_by(OrderLine.position)
    ).all()
    docs = session.execute(
        select(OrderDocument.kind, OrderDocument.shopify_id).where(OrderDocument.shopify_order_id == order_id)
    ).all()
    view = OrderView(
        order_id=order_id,
        state=state.state,
        lines=tuple(
            Line(
                line_id=r.shopify_line_id,
                sku=r.sku,
                ordered=r.ordered,
                price=r.price,
                fulfilled=r.fulfilled,
                refunded=r.refunded,
                restocked=r.restocked,
                netsuite_line=r.netsuite_line,
            )
            for r in rows
        ),
        total=state.total_price or ZERO,
        refunded_amount=state.refunded_amount or ZERO,
        cancelled=bool(state.cancelled),
        fulfillments=frozenset(sid for kind, sid in docs if kind == "fulfillment"),
        refunds=frozenset(sid for kind, sid in docs if kind == "refund"),
    )
    return state, view


def save_view(session: Session, state: OrderState, view: OrderView) -> None:
    state.state = view.state
    state.total_price = view.total
    state.refunded_amount = view.refunded_amount
    state.cancelled = view.cancelled
    state.version = (state.version or 0) + 1
    rows = [
        {
            "shopify_order_id": view.order_id,
            "shopify_line_id": line.line_id,
            "position": position,
            "sku": line.sku,
            "ordered": line.ordered,
            "price": line.price,
            "fulfilled": line.fulfilled,
            "refunded": line.refunded,
            "restocked": line.restocked,
            "netsuite_line": line.netsuite_line,
        }
        for position, line in enumerate(view.lines)
    ]
    if not rows:
        return
    stmt = insert(OrderLine).values(rows)  # one statement for every line of the order
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["shopify_order_id", "shopify_line_id"],
            set_={k: stmt.excluded[k] for k in rows[0] if k not in ("shopify_order_id", "shopify_line_id")},
        )
    )


def record_transition(
    session: Session, order_id: int, event_id: int | None, before: str | None, after: str, topic: str, note: str
) -> None:
    session.add(
        OrderTransition(
            shopify_order_id=order_id,
            webhook_event_id=event_id,
            from_state=before,
            to_state=after,
            topic=topic,
            note=note[:4000],
        )
    )


# -- NetSuite side of each command --


def ensure_netsuite_lines(client: NetSuiteClient, state: OrderState, view: OrderView, correlation: str) -> OrderView:
    """Learn the NetSuite line number of each order line (once): fulfillments and closes address lines by it."""
    if all(line.netsuite_line is not None for line in view.lines if line.ordered):
        return view
    ns_lines = client.get_sublist("salesOrder", state.netsuite_internal_id, correlation_id=correlation)
    by_shopify_id: dict[str, int] = {}
    unmatched: list[int] = []
    for ns in ns_lines:
        number = int(ns["line"])
        shopify_id = ns.get("custcol_shopify_line_id")
        if shopify_id:
            by_shopify_id[str(shopify_id)] = number
        else:
            unmatched.append(number)
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
    items = []
    skus = {line.sku for line, _ in cmd.lines}
    if settings.netsuite_refund_adjustment_item:
        skus.add(settings.netsuite_refund_adjustment_item)
    item_ids = resolve_items(session, client, sorted(skus), settings.netsuite_item_sku_field) if skus else {}
    missing = sorted(skus - set(item_ids))
    if missing:
        raise UnknownSku(missing)
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
    difference = (cmd.amount - lines_total).quantize(CENT)
    mismatch = None
    if difference:
        if settings.netsuite_refund_adjustment_item:
            items.append(
                {
                    "item": {"id": item_ids[settings.netsuite_refund_adjustment_item]},
                    "quantity": 1,
                    "rate": difference,
                    "amount": difference,
                    "description": "Shopify refund adjustment (tax, shipping, fees)",
                }
            )
        else:
            mismatch = (
                f"{cmd.external_id}: Shopify refunded {cmd.amount}, the credit lines total {lines_total} "
                f"(difference {difference}); set NETSUITE_REFUND_ADJUSTMENT_ITEM to book it"
            )
    if not items:
        raise MappingError(
            f"{cmd.external_id} refunds {cmd.amount} with no line items and NETSUITE_REFUND_ADJUSTMENT_ITEM is not set",
            code="NO_REFUND_ITEM",
        )
    if mismatch:
        state.money_mismatch = mismatch
        log.warning("money mismatch recorded on order %s: %s", state.shopify_order_id, mismatch)
    body = {
        "entity": entity,
        "otherRefNum": state.order_name,
        "memo": (cmd.note or f"Shopify {cmd.external_id}")[:999],
        "custbody_shopify_order_id": str(state.shopify_order_id),
        "custbody_shopify_sales_order": {"externalId": order_external_id(state.shopify_order_id)},
        "custbody_shopify_refund_amount": cmd.amount,
        "item": {"items": items},
    }
    credit_id = client.upsert("creditMemo", cmd.external_id, body, replace=("item",), correlation_id=correlation)
    payment_id = None
    if cmd.amount > 0:
        payment_id = client.upsert(
            "customerRefund",
            f"{cmd.external_id}-payment",
            {
                "customer": entity,
                "total": cmd.amount,
                "memo": f"Shopify {cmd.external_id}",
                "apply": {"items": [{"doc": {"externalId": cmd.external_id}, "apply": True, "amount": cmd.amount}]},
            },
            correlation_id=correlation,
        )
    return credit_id, payment_id


def close_open_lines(client: NetSuiteClient, state: OrderState, cmd: CloseOpenLines, correlation: str) -> None:
    """Close what was not shipped (keyed lines only, no replace: the shipped lines stay as they are)."""
    items = [{"line": line.netsuite_line, "isClosed": True} for line in cmd.lines if line.netsuite_line is not None]
    if items:
        client.patch("salesOrder", state.netsuite_internal_id, {"item": {"items": items}}, correlation_id=correlation)


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
        record_transition(session, before.order_id, event_id, before.state, before.state, topic, decision.note)
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
        session.execute(
            insert(OrderDocument)
            .values(
                shopify_order_id=before.order_id,
                kind=kind,
                shopify_id=shopify_id,
                external_id=external,
                netsuite_type=ns_type,
                netsuite_internal_id=netsuite_ids.get(ns_type),
                amount=amount,
            )
            .on_conflict_do_nothing(constraint="uq_order_documents_kind_shopify_id")
        )
    for sku, location_id, quantity in decision.restocks:
        session.add(
            InventoryRestock(
                shopify_order_id=before.order_id,
                shopify_refund_id=document[1] if document else 0,
                sku=sku,
                shopify_location_id=location_id,
                quantity=quantity,
            )
        )
    save_view(session, state, view)
    record_transition(session, before.order_id, event_id, before.state, view.state, topic, decision.note)
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
