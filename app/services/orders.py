"""orders/create and orders/updated -> NetSuite customer + sales order, serialized per order."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import repositories
from app.db.locks import lock_order
from app.db.models import OrderState, WebhookEvent
from app.domain.bundles import keyed_lines, posted_components
from app.domain.keys import order_external_id
from app.domain.mapping import MappingConfig, OrderBodies, OrderPlan, map_order, plan_order, plan_skus
from app.domain.money import SIDES
from app.domain.state_machine import CREATED, OrderView, check_edit, derive_state, is_stale, view_from_order
from app.domain.tax import TaxConfig, parse_tax_code_map
from app.logging_setup import correlation_id
from app.services.customers import CustomerRef, ensure_customer, forget_customer
from app.services.items import resolve_items
from app.services.payloads import load_payload, payload_of
from app.services.tax_rates import tax_code_rates
from netsuite_client import NetSuiteClient
from netsuite_client.errors import NotFoundError
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


def mapping_config(settings: Settings, tax_rates: Mapping[str, Decimal] | None = None) -> MappingConfig:
    """The pure mapping's configuration; `tax_rates` (legacy tax: code id -> percent) come from NetSuite."""
    money = settings.order_money
    tax = TaxConfig(
        mode=money.tax_mode,
        code_map=parse_tax_code_map(money.tax_code_map),
        default_code_id=money.default_tax_code_id,
        rates=dict(tax_rates or {}),
    )
    return MappingConfig(
        currency_map=settings.netsuite_currency_map,
        default_customer_external_id=settings.netsuite_default_customer_external_id,
        guest_customers=settings.guest_customers,
        subsidiary_id=settings.netsuite_subsidiary_id,
        order_currency=money.order_currency,
        discount_mode=money.discount_mode,
        items=money.items,
        shipping_item_map=money.shipping_item_map,
        bundles=settings.bundles,
        tax=tax,
    )


def order_mapping_config(client: NetSuiteClient, settings: Settings) -> MappingConfig:
    """The mapping's configuration for one order: legacy tax needs its codes' rates (read once per process)."""
    money = settings.order_money
    codes = [*money.tax_code_map.values(), money.default_tax_code_id or ""]
    rates = tax_code_rates(client, codes) if money.tax_mode == "legacy" and any(codes) else {}
    return mapping_config(settings, rates)


def _resolve(
    session: Session, client: NetSuiteClient, plan: OrderPlan, config: MappingConfig, settings: Settings
) -> dict[str, str]:
    """Item ids of the order's SKUs and of the service items it posts to (one cached resolution)."""
    skus = plan_skus(plan)
    discount_id = settings.order_money.discount_item_id
    if discount_id:  # NETSUITE_DISCOUNT_ITEM_ID names the discount item by internal id: no lookup
        skus = [sku for sku in skus if sku != config.items.discount]
    item_ids = resolve_items(session, client, skus, settings.netsuite_item_sku_field)
    if discount_id:
        item_ids[config.items.discount] = discount_id
    return item_ids


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
    side = SIDES[settings.order_money.order_currency]
    check_edit(previous, view_from_order(order, previous, side), topic)
    # Bundle lines already posted keep their components and NetSuite lines, whatever BUNDLE_MAP says now.
    config = replace(order_mapping_config(client, settings), posted_bundles=posted_components(previous))
    plan = plan_order(order, config)  # the money decision, made once: its SKUs are resolved, then it is mapped
    item_ids = _resolve(session, client, plan, config, settings)
    known_lines = (
        {line.line_id: line.netsuite_line for line in previous.lines if line.netsuite_line} if previous else {}
    )

    def bodies_for(netsuite_lines: dict[int, int]) -> OrderBodies:
        return map_order(order, item_ids, config, netsuite_lines=netsuite_lines, plan=plan)

    customer, sales_order_id, bodies, known_lines = _write_customer_and_order(
        session, client, order, bodies_for, known_lines, new=previous is None, correlation=correlation
    )

    previous_state = state.state if state else None
    if state is None:
        state = repositories.new_order_state(session, order_id, CREATED)
    _record_applied(state, order, bodies, sales_order_id, customer, event_id)
    # Line numbers change when unkeyed lines are replaced: forget them, they are read again when needed.
    view = _view_after_sync(order, previous, known_lines, side)
    repositories.save_view(session, state, view)
    if previous_state is not None:  # a new order has no lines to drop
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


def _lines_netsuite_holds(client: NetSuiteClient, order_id: int, correlation: str) -> dict[int, int] | None:
    """The sales order's lines NetSuite holds (Shopify line id -> NetSuite line), None when it holds no such order.

    Read only after NetSuite refused a write whose lines were unkeyed: the create of an order new to us (an earlier
    attempt wrote it and its commit failed: a database restart, a killed worker), or the upsert of an order whose
    line numbers we do not know, over lines NetSuite has fulfilled meanwhile (NetSuite keeps a fulfilled line, and
    the attempt that shipped it may have lost its commit too). Sent unkeyed with `replace=item`, the lines would be
    dropped and added again as new, open ones, and the next fulfillment would ship them a second time."""
    try:
        lines = client.get_sublist("salesOrder", f"eid:{order_external_id(order_id)}", correlation_id=correlation)
    except NotFoundError:
        return None
    single, _ = keyed_lines(lines)
    return {int(key): number for key, number in single.items() if key.isdigit()}


def _write_customer_and_order(
    session: Session,
    client: NetSuiteClient,
    order: dict[str, Any],
    bodies_for: Callable[[dict[str, int]], OrderBodies],
    known_lines: dict[int, int],
    *,
    new: bool,
    correlation: str,
) -> tuple[CustomerRef, str | None, OrderBodies, dict[int, int]]:
    """The customer (app/services/customers.py), then the sales order naming it. Returns the customer, the sales
    order's internal id, the bodies sent and the NetSuite lines they were keyed to."""
    bodies = bodies_for(known_lines)  # the customer's body does not depend on the lines
    customer = ensure_customer(session, client, bodies.customer, correlation)
    try:
        return customer, *_write_order(
            client, order["id"], customer, (bodies, known_lines), bodies_for, new, correlation
        )
    except NetSuiteValidationError as exc:
        if not (customer.skipped and exc.code == "INVALID_KEY_OR_REF"):
            raise
    # Our record of the customer is stale (deleted or merged in NetSuite): find or send it again, then the order.
    log.warning("order %s: cached customer %s rejected by NetSuite; resolving it again", order["id"], customer.entity)
    forget_customer(session, bodies.customer)
    customer = ensure_customer(session, client, bodies.customer, correlation)
    return customer, *_write_order(client, order["id"], customer, (bodies, known_lines), bodies_for, new, correlation)


def _write_order(
    client: NetSuiteClient,
    order_id: int,
    customer: CustomerRef,
    keyed: tuple[OrderBodies, dict[int, int]],
    bodies_for: Callable[[dict[str, int]], OrderBodies],
    new: bool,
    correlation: str,
) -> tuple[str | None, OrderBodies, dict[int, int]]:
    """A new order is created (POST with its external id: one call, refused if NetSuite already holds it); a
    known one is upserted (`replace=item`: NetSuite appends unkeyed lines on update, so a retried or repeated PUT
    would double them), its lines keyed to NetSuite's where we know their numbers. Refused with lines unkeyed,
    the write is made again keyed to the lines NetSuite holds (`_lines_netsuite_holds`). `keyed`: the bodies and
    the NetSuite lines they are keyed to."""
    bodies, known_lines = keyed
    try:
        return _send_order(client, bodies, customer, new=new, correlation=correlation), bodies, known_lines
    except NetSuiteValidationError as exc:
        if exc.code == "INVALID_KEY_OR_REF" or known_lines:  # a reference in the body is wrong, or lines keyed
            raise
        held = _lines_netsuite_holds(client, order_id, correlation)
        if held is None or not (new or held):  # nothing NetSuite holds explains the refusal: the body's own
            raise
    bodies = bodies_for(held)
    return _send_order(client, bodies, customer, new=False, correlation=correlation), bodies, held


def _send_order(
    client: NetSuiteClient, bodies: OrderBodies, customer: CustomerRef, *, new: bool, correlation: str
) -> str | None:
    body = {**bodies.sales_order_body, "entity": customer.entity}
    if new:
        return client.create("salesOrder", {**body, "externalId": bodies.order_external_id}, correlation_id=correlation)
    return client.upsert("salesOrder", bodies.order_external_id, body, replace=("item",), correlation_id=correlation)


def _record_applied(
    state: OrderState,
    order: dict[str, Any],
    bodies: OrderBodies,
    sales_order_id: str | None,
    customer: CustomerRef,
    event_id: int | None,
) -> None:
    state.order_name = order["name"]
    state.netsuite_internal_id = sales_order_id or state.netsuite_internal_id
    state.netsuite_customer_id = customer.internal_id or state.netsuite_customer_id
    # None for a customer found by email: later documents (credit memos) name it by internal id.
    state.customer_external_id = customer.external_id
    state.currency = bodies.currency or order["currency"]  # the document currency: its credit memos use the same
    state.taxes_included = bool(order.get("taxes_included"))  # its credit memos book refunds ex-tax the same way
    state.last_applied_updated_at = order["updated_at"]
    _report_money(order, bodies)
    state.money_mismatch = bodies.money_mismatch
    state.last_event_id = event_id


def _report_money(order: dict[str, Any], bodies: OrderBodies) -> None:
    """The money rule's figures in the log (finance also reads them on the sales order: custbody_shopify_tax_variance
    and the SHOPIFY-TAX-VARIANCE / SHOPIFY-ROUNDING lines)."""
    money = bodies.money
    if money is None:
        return
    if money.tax_variance:
        log.info(
            "order %s: tax variance %s %s (Shopify's tax - NetSuite's computed tax) posted as a line",
            order["id"],
            money.tax_variance,
            bodies.currency,
            extra={"tax_variance": str(money.tax_variance), "currency": bodies.currency},
        )
    if bodies.money_mismatch:
        log.warning("money mismatch recorded on order %s: %s", order["id"], bodies.money_mismatch)
    elif money.rounding:
        log.info("order %s: rounding line %s %s", order["id"], money.rounding, bodies.currency)


def _view_after_sync(
    order: dict[str, Any], previous: OrderView | None, known_lines: dict[int, int], side: str
) -> OrderView:
    view = view_from_order(order, previous, side)
    view = replace(view, lines=tuple(replace(line, netsuite_line=known_lines.get(line.line_id)) for line in view.lines))
    return replace(view, state=derive_state(view))
