"""A refund's NetSuite documents: the credit memo (its lines by the sales order's money rule,
app/domain/credit_memo.py) and the customer refund that pays it out when money moved. Both are upserts by external
id, so a retried refund never doubles them."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import OrderState
from app.domain.credit_memo import credit_skus, map_credit
from app.domain.errors import UnknownSku
from app.domain.keys import order_external_id
from app.domain.locations import netsuite_location
from app.domain.state_machine import RESTOCKS, CreateCredit
from app.services.items import resolve_items
from app.services.orders import order_mapping_config
from netsuite_client import NetSuiteClient

log = logging.getLogger(__name__)


def create_credit(
    session: Session,
    client: NetSuiteClient,
    settings: Settings,
    state: OrderState,
    cmd: CreateCredit,
    correlation: str,
) -> tuple[str | None, str | None]:
    """A credit memo whose NetSuite total is the money Shopify returned (upsert by external id), and a customer
    refund applying it when money moved. Returns the internal ids (credit memo, customer refund)."""
    entity = (
        {"externalId": state.customer_external_id} if state.customer_external_id else {"id": state.netsuite_customer_id}
    )
    config = order_mapping_config(client, settings)
    skus = credit_skus(cmd, config)
    item_ids = resolve_items(session, client, skus, settings.netsuite_item_sku_field)
    missing = sorted(set(skus) - set(item_ids))
    if missing:
        raise UnknownSku(missing)
    locations = {
        rl.location_id: netsuite_location(settings.location_map, settings.netsuite_default_location_id, rl.location_id)
        for _, rl in cmd.lines
        if rl.restock_type in RESTOCKS
    }
    credit = map_credit(cmd, item_ids, config, locations, taxes_included=state.taxes_included)
    if credit.mismatch:
        state.money_mismatch = credit.mismatch
        log.warning("money mismatch recorded on order %s: %s", state.shopify_order_id, credit.mismatch)
    elif credit.adjustment:
        log.info("%s: refund adjustment line %s %s", cmd.external_id, credit.adjustment, state.currency)
    body = {
        "entity": entity,
        **_currency(settings, state),
        "otherRefNum": state.order_name,
        "memo": (cmd.note or f"Shopify {cmd.external_id}")[:999],
        "custbody_shopify_order_id": str(state.shopify_order_id),
        "custbody_shopify_sales_order": {"externalId": order_external_id(state.shopify_order_id)},
        "custbody_shopify_refund_amount": cmd.amount,
        "item": {"items": credit.lines},
        **credit.tax_body,
    }
    credit_id = client.upsert("creditMemo", cmd.external_id, body, replace=("item",), correlation_id=correlation)
    payment_id = (
        _refund_payment(client, entity, cmd, correlation, _currency(settings, state)) if cmd.amount > 0 else None
    )
    return credit_id, payment_id


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
