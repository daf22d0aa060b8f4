"""Payments → NetSuite receipts: an order's successful Shopify sales and captures, each one NetSuite receipt under the
account's payment model (PAYMENT_MODEL; app/domain/payments.py decides, docs/MAPPING.md "Payments").

`orders/paid` and `order_transactions/create` only say "this order's money moved": the handler reads the order's
transactions from Shopify (authoritative), so a duplicate, a late or an out-of-order delivery, or a payload that
says less than Shopify knows, all converge on the same receipts. Per order, serialized with its other events
(`lock_order`): the order is brought into NetSuite first if we never synced it (`ensure_order`), the receipts the
domain plans are compared with those recorded (order_documents, kind RECEIPT, shopify_id = the transaction id) and
only the missing ones are upserted, on external id `shopify-txn-<transaction id>`, so a retry after a lost commit
finds the same record. Refund transactions are the refund flow's (app/services/credits.py).

- deposit: a customerDeposit on the sales order per capture.
- cash_sale: a cashSale created from the sales order for the capture that pays it in full, a customerDeposit for any
  other capture (partial, several, a gift card).
- invoice: the order's invoice (`shopify-invoice-<order id>`, created from the sales order once, recorded as kind
  INVOICE) and a customerPayment per capture applied to it.
Every receipt sits in Undeposited Funds (the payout's bank deposit takes it from there; a gift card tender in
NETSUITE_GIFT_CARD_ACCOUNT_ID when set) with its gateway's payment method (PAYMENT_METHOD_MAP, else
NETSUITE_DEFAULT_PAYMENT_METHOD_ID), in the sales order's currency.

For the payouts job: `receipt_external_id(transaction_id)` is the receipt (or, for a REFUND transaction, the
customerRefund) of a Shopify transaction; `client.receipts_by_external_ids` finds them in NetSuite,
`sync_payments` posts an order's missing receipts now, and `balance_gaps` checks the balance rule per order and
gateway against NetSuite's own figures, whichever read gave the Shopify side (`payment_gaps`: one read per order;
the nightly payments check, app/services/payments_check.py: the orders the orders check already read).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import repositories
from app.db.locks import lock_order
from app.db.models import OrderState, WebhookEvent
from app.domain.keys import invoice_external_id, order_external_id, transaction_external_id
from app.domain.money import PRESENTMENT, SIDES
from app.domain.payments import (
    ReceiptRecord,
    Transaction,
    gateway_differences,
    money_moving,
    net_by_gateway,
    receipts_for,
)
from app.logging_setup import correlation_id
from app.services.credits import document_currency
from app.services.order_lifecycle import OrderFetcher, OrderNotInShopify, ensure_order
from app.services.payloads import load_payload, payload_of
from netsuite_client import NetSuiteClient
from schemas.shopify import OrderSchema
from schemas.shopify_payments import OrderTransactionSchema
from shopify_client.payments import OrderTransaction

log = logging.getLogger(__name__)

# order_documents.kind of a receipt (shopify_id = the Shopify transaction id) and of the invoice model's invoice
# (shopify_id = the order id).
RECEIPT = "receipt"
INVOICE = "invoice"

TransactionReader = Callable[[int], list[OrderTransaction] | None]


def receipt_external_id(transaction_id: int | str) -> str:
    """The external id of the NetSuite record a Shopify transaction became: its receipt (customerDeposit, cashSale
    or customerPayment) for a sale or capture, its customerRefund for a refund."""
    return transaction_external_id(transaction_id)


def handle_payment(
    session: Session,
    event: WebhookEvent,
    client: NetSuiteClient,
    settings: Settings,
    fetch_order: OrderFetcher,
    read_transactions: TransactionReader,
) -> str:
    """orders/paid or order_transactions/create: the order's receipts brought up to what Shopify holds. With
    PAYMENT_MODEL=none the event is done unread (a payload nobody uses cannot dead-letter)."""
    if not settings.payments.enabled:
        return f"{event.topic}: PAYMENT_MODEL=none, no receipt posted"
    if event.topic == "orders/paid":
        order_id = load_payload(OrderSchema(), payload_of(event), event.topic)["id"]
    else:
        order_id = load_payload(OrderTransactionSchema(), payload_of(event), event.topic)["order_id"]
    return sync_payments(
        session, order_id, client, settings, fetch_order, read_transactions, event_id=event.id, topic=event.topic
    )


def sync_payments(
    session: Session,
    order_id: int,
    client: NetSuiteClient,
    settings: Settings,
    fetch_order: OrderFetcher,
    read_transactions: TransactionReader,
    *,
    event_id: int | None = None,
    topic: str = "payments",
) -> str:
    """Post the order's receipts still missing (none twice); a summary of what was written. `topic`: what the
    order's history (order_transitions) names as the cause."""
    lock_order(session, order_id)
    state, view = ensure_order(session, order_id, client, settings, fetch_order, event_id)
    found = read_transactions(order_id)
    if found is None:
        raise OrderNotInShopify(f"order {order_id} does not exist in Shopify")
    payments = settings.payments
    plan = receipts_for(
        [as_transaction(t, settings.order_money.order_currency) for t in found],
        model=payments.model,
        order_total=view.total,
        methods=payments.methods,
        default_method=payments.default_method or "",
    )
    recorded = repositories.recorded_documents(session, order_id, RECEIPT)
    todo = [r for r in plan if r.external_id not in recorded]
    correlation = correlation_id.get() or (f"event-{event_id}" if event_id is not None else f"order-{order_id}")
    writer = _ReceiptWriter(session, client, settings, state, correlation)
    for record in todo:
        writer.write(record)
    note = ", ".join(f"{r.record_type} {r.external_id} {r.amount}" for r in todo) or "nothing new"
    repositories.record_transition(
        session, order_id, event_id, state.state, state.state, topic, f"receipts: {note}"[:2000]
    )
    return f"order {order_id} receipts: {note} ({len(plan)} in all)"


def as_transaction(txn: OrderTransaction, order_currency: str) -> Transaction:
    """A Shopify transaction in the sales order's currency (ORDER_CURRENCY: the buyer's or the shop's)."""
    presentment = SIDES[order_currency] == PRESENTMENT
    return Transaction(
        id=str(txn.id),
        kind=txn.kind.upper(),
        status=txn.status.upper(),
        gateway=txn.gateway or "manual",
        amount=txn.presentment_amount if presentment else txn.amount,
        currency=txn.presentment_currency if presentment else txn.currency,
        parent_id=str(txn.parent_id) if txn.parent_id is not None else None,
    )


class _ReceiptWriter:
    """Upserts one order's receipts and records each (and, under the invoice model, its invoice once)."""

    def __init__(
        self, session: Session, client: NetSuiteClient, settings: Settings, state: OrderState, correlation: str
    ) -> None:
        self.session = session
        self.client = client
        self.state = state
        self.correlation = correlation
        self.currency = document_currency(settings, state)
        self.funds = settings.payments.funds
        self.order_ref = {"externalId": order_external_id(state.shopify_order_id)}
        self.customer = (
            {"externalId": state.customer_external_id}
            if state.customer_external_id
            else {"id": state.netsuite_customer_id}
        )

    def write(self, record: ReceiptRecord) -> None:
        body = {
            **self.currency,
            "paymentMethod": {"id": record.payment_method},
            **self.funds(record.gift_card),
            "memo": f"Shopify {self.state.order_name or self.state.shopify_order_id} {record.gateway} "
            f"transaction {record.transaction_id}"[:999],
            "custbody_shopify_order_id": str(self.state.shopify_order_id),
            **self._body(record),
        }
        internal_id = self.client.upsert_receipt(
            record.record_type, record.external_id, body, correlation_id=self.correlation
        )
        self._record(RECEIPT, int(record.transaction_id), record, internal_id)
        log.info(
            "order %s: %s %s %s", self.state.shopify_order_id, record.record_type, record.external_id, record.amount
        )

    def _body(self, record: ReceiptRecord) -> dict[str, Any]:
        if record.record_type == "cashSale":
            return {"entity": self.customer, "createdFrom": self.order_ref}
        if record.record_type == "customerPayment":
            invoice = {"externalId": self._invoice()}
            return {
                "customer": self.customer,
                "payment": record.amount,
                "apply": {"items": [{"doc": invoice, "apply": True, "amount": record.amount}]},
            }
        return {"customer": self.customer, "salesOrder": self.order_ref, "payment": record.amount}

    def _invoice(self) -> str:
        """The order's one invoice (created from the sales order the first time a payment needs it)."""
        external_id = invoice_external_id(self.state.shopify_order_id)
        if external_id in repositories.recorded_documents(self.session, self.state.shopify_order_id, INVOICE):
            return external_id
        internal_id = self.client.upsert_receipt(
            "invoice",
            external_id,
            {
                "entity": self.customer,
                "createdFrom": self.order_ref,
                **self.currency,
                "memo": f"Shopify {self.state.order_name or self.state.shopify_order_id}"[:999],
            },
            correlation_id=self.correlation,
        )
        self._record(INVOICE, self.state.shopify_order_id, None, internal_id, external_id=external_id)
        return external_id

    def _record(
        self,
        kind: str,
        shopify_id: int,
        record: ReceiptRecord | None,
        internal_id: str | None,
        *,
        external_id: str | None = None,
    ) -> None:
        repositories.record_document(
            self.session,
            self.state.shopify_order_id,
            kind,
            shopify_id,
            external_id=external_id or (record.external_id if record else ""),
            netsuite_type=record.record_type if record else "invoice",
            netsuite_internal_id=internal_id,
            amount=record.amount if record else None,
        )


def payment_gaps(
    client: NetSuiteClient,
    read_transactions: TransactionReader,
    order_ids: list[int],
    settings: Settings,
    *,
    lane: str = "reconcile",
) -> dict[int, dict[str, Decimal]]:
    """`balance_gaps` of the orders, each order's transactions read from Shopify (one read per order); an order
    Shopify no longer has is left out."""
    side = settings.order_money.order_currency
    shopify: dict[int, list[Transaction]] = {}
    for order_id in order_ids:
        found = read_transactions(order_id)
        if found is not None:
            shopify[order_id] = [as_transaction(t, side) for t in found]
    return balance_gaps(client, shopify, lane=lane)


def balance_gaps(
    client: NetSuiteClient, shopify: Mapping[int, list[Transaction]], *, lane: str = "reconcile"
) -> dict[int, dict[str, Decimal]]:
    """The balance rule checked against NetSuite's own figures: per order and gateway, Σ NetSuite receipts − Σ
    customer refunds (found by the external ids of the order's Shopify transactions, in one SuiteQL read per 1,000)
    − Σ Shopify successful sales + captures − refunds. Only the orders and gateways that differ by a cent or more.
    `shopify`: each order's transactions, however they were read (`payment_gaps`: one read per order; the nightly
    payments check: from the orders the orders check already read)."""
    owner = {
        receipt_external_id(t.id): (order_id, t.gateway)
        for order_id, txns in shopify.items()
        for t in money_moving(txns)
    }
    netsuite: dict[int, dict[str, Decimal]] = {order_id: {} for order_id in shopify}
    for receipt in client.receipts_by_external_ids(owner, lane=lane) if owner else ():
        order_id, gateway = owner[receipt.external_id or ""]
        sign = -1 if receipt.record_type in ("customerRefund", "cashRefund") else 1
        netsuite[order_id][gateway] = netsuite[order_id].get(gateway, Decimal(0)) + sign * receipt.amount
    gaps = {}
    for order_id, txns in shopify.items():
        gap = gateway_differences(net_by_gateway(txns), netsuite[order_id])
        if gap:
            gaps[order_id] = gap
    return gaps
