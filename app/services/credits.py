"""A refund's NetSuite documents: the credit memo (its lines by the sales order's money rule,
app/domain/credit_memo.py) and the customer refund(s) that pay it out when money moved: one for the whole refund
("shopify-refund-<id>-payment") under PAYMENT_MODEL=none, else one per Shopify refund transaction
("shopify-txn-<id>", app/domain/payments.refund_payments), which a payout's REFUND row finds one to one. All are
upserts by external id, so a retried refund never doubles them."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import repositories
from app.db.models import OrderState
from app.domain.credit_memo import credit_skus, map_credit
from app.domain.errors import UnknownSku
from app.domain.keys import order_external_id
from app.domain.locations import netsuite_location
from app.domain.payments import refund_payments
from app.domain.state_machine import RESTOCKS, CreateCredit
from app.services.items import resolve_items
from app.services.orders import order_mapping_config
from netsuite_client import NetSuiteClient

log = logging.getLogger(__name__)

# order_documents.kind of a refund transaction's customerRefund (shopify_id = the transaction id).
REFUND_TRANSACTION = "refund_txn"


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
        **document_currency(settings, state),
        "otherRefNum": state.order_name,
        "memo": (cmd.note or f"Shopify {cmd.external_id}")[:999],
        "custbody_shopify_order_id": str(state.shopify_order_id),
        "custbody_shopify_sales_order": {"externalId": order_external_id(state.shopify_order_id)},
        "custbody_shopify_refund_amount": cmd.amount,
        "item": {"items": credit.lines},
        **credit.tax_body,
    }
    credit_id = client.upsert("creditMemo", cmd.external_id, body, replace=("item",), correlation_id=correlation)
    if cmd.amount <= 0:
        return credit_id, None
    if settings.payments.enabled and cmd.transactions:
        refunds = refund_records(session, client, settings, state, cmd, entity, correlation)
        return credit_id, refunds[0] if refunds else None
    return credit_id, _refund_payment(client, entity, cmd, correlation, document_currency(settings, state))


def refund_records(
    session: Session,
    client: NetSuiteClient,
    settings: Settings,
    state: OrderState,
    cmd: CreateCredit,
    entity: dict[str, Any],
    correlation: str,
) -> list[str | None]:
    """Under a payment model: one customerRefund per successful Shopify refund transaction (external id from the
    transaction id, its gateway's payment method, in Undeposited Funds so the payout's deposit can take it, a gift
    card's in NETSUITE_GIFT_CARD_ACCOUNT_ID when set), each applying its amount to the refund's credit memo.
    Recorded as documents of kind REFUND_TRANSACTION."""
    payments = settings.payments
    ids = []
    for record in refund_payments(cmd.transactions, methods=payments.methods, default_method=payments.default_method):
        internal_id = client.upsert_receipt(
            "customerRefund",
            record.external_id,
            {
                "customer": entity,
                **document_currency(settings, state),
                "paymentMethod": {"id": record.payment_method},
                **payments.funds(record.gift_card),
                "total": record.amount,
                "memo": f"Shopify {cmd.external_id} transaction {record.transaction_id} ({record.gateway})"[:999],
                "apply": {"items": [{"doc": {"externalId": cmd.external_id}, "apply": True, "amount": record.amount}]},
            },
            correlation_id=correlation,
        )
        repositories.record_document(
            session,
            state.shopify_order_id,
            REFUND_TRANSACTION,
            int(record.transaction_id),
            external_id=record.external_id,
            netsuite_type="customerRefund",
            netsuite_internal_id=internal_id,
            amount=record.amount,
        )
        ids.append(internal_id)
    return ids


def document_currency(settings: Settings, state: OrderState) -> dict[str, Any]:
    """A refund's documents are in their sales order's currency (NETSUITE_CURRENCY_MAP); none named for an order
    synced before the currency was recorded, which NetSuite then books in the customer's currency."""
    currency_id = settings.netsuite_currency_map.get((state.currency or "").upper())
    return {"currency": {"id": currency_id}} if currency_id else {}


def _refund_payment(
    client: NetSuiteClient, entity: dict[str, Any], cmd: CreateCredit, correlation: str, currency: dict[str, Any]
) -> str | None:
    """PAYMENT_MODEL=none: one customer refund pays the whole credit memo out (money moved back to the customer)."""
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
