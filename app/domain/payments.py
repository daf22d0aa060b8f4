"""An order's Shopify transactions as NetSuite receipts and refund records, under the account's payment model.

Rule (../shared/FLOWS.md §2 d): per order and gateway, Σ NetSuite receipts − Σ refunds = Σ Shopify successful SALE +
CAPTURE − REFUND, to the cent. One successful sale or capture = one receipt, one successful refund = one refund
record, each keyed by the Shopify transaction id, so a payout's CHARGE and REFUND rows find them one to one.
Authorizations, voids, failures and pending transactions move no money and become nothing (an expired authorization
simply never gets a capture). Pure: plain values in, the records to write out.

The payment models (docs/CONFIGURATION.md "Payments"):
- `deposit`: each capture a customerDeposit on the sales order (a liability until the order is billed, when NetSuite
  applies it); fits capture at checkout with billing on fulfillment, and partial or several captures.
- `cash_sale`: the sales order billed as a cash sale at the capture that pays it in full; a capture that pays only
  part of the order (partial capture, several captures) is a customerDeposit instead, since a cash sale bills
  whole lines. Fits stores that capture everything at checkout and want revenue at once.
- `invoice`: the sales order invoiced once, each capture a customerPayment applied to that invoice; fits terms, B2B
  and manual capture.
Refunds are a customerRefund per Shopify refund transaction in every model (`refund_payments`, written by the refund
flow): the credit memo the refund flow writes already reverses the revenue, each customerRefund is money going back
through one gateway, applied to that credit memo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.keys import transaction_external_id
from app.domain.money import ZERO, amount, cents

MODELS = ("deposit", "cash_sale", "invoice")
MONEY_IN = frozenset({"SALE", "CAPTURE"})
REFUND = "REFUND"
SUCCESS = "SUCCESS"
GIFT_CARD = "gift_card"


@dataclass(frozen=True)
class Transaction:
    """One Shopify order transaction (Order.transactions, or an order_transactions/create payload)."""

    id: str
    kind: str  # SALE | AUTHORIZATION | CAPTURE | VOID | REFUND | CHANGE | EMV_AUTHORIZATION
    status: str  # SUCCESS | PENDING | FAILURE | ERROR | AWAITING_RESPONSE | UNKNOWN
    gateway: str
    amount: Decimal
    currency: str
    parent_id: str | None = None


@dataclass(frozen=True)
class ReceiptRecord:
    """One NetSuite record to upsert for one Shopify transaction."""

    record_type: str  # customerDeposit | cashSale | customerPayment | customerRefund
    external_id: str
    transaction_id: str
    gateway: str
    payment_method: str  # NetSuite payment method internal id
    amount: Decimal  # positive; a refund's sign is its record type
    currency: str
    parent_external_id: str | None = None  # a refund: the receipt of the transaction it refunds
    gift_card: bool = False  # a gift card tender: its method posts to the gift card liability, not to cash


def money_moving(transactions: Iterable[Transaction]) -> list[Transaction]:
    """The successful sales, captures and refunds of a cent or more: the only transactions that move money (a
    zero-amount one, which Shopify records for some manual gateways, would be a receipt NetSuite refuses)."""
    return [
        t for t in transactions if t.status == SUCCESS and (t.kind in MONEY_IN or t.kind == REFUND) and cents(t.amount)
    ]


def receipts_for(
    transactions: Iterable[Transaction],
    *,
    model: str,
    order_total: Decimal,
    methods: Mapping[str, str],
    default_method: str,
) -> list[ReceiptRecord]:
    """The receipts an order's money-in (successful sales and captures) becomes, in Shopify's order. Refunds are
    the refund flow's (`refund_payments`): a refund transaction belongs to a Shopify refund and its credit memo."""
    if model not in MODELS:
        raise ValueError(f"payment model must be one of {', '.join(MODELS)}, got {model!r}")
    records: list[ReceiptRecord] = []
    for txn in money_moving(transactions):
        if txn.kind not in MONEY_IN:
            continue
        record_type = _receipt_type(model, txn, order_total)
        if record_type == "cashSale" and any(r.record_type == "cashSale" for r in records):
            record_type = "customerDeposit"  # a cash sale bills the whole order: only once
        records.append(_record(record_type, txn, methods.get(txn.gateway, default_method), None))
    return records


def refund_payments(
    transactions: Iterable[Transaction], *, methods: Mapping[str, str], default_method: str
) -> list[ReceiptRecord]:
    """One customerRefund per successful Shopify REFUND transaction (of one Shopify refund), keyed by its id and
    paid through its gateway's method, so a payout's REFUND row finds exactly its record."""
    return [
        _record(
            "customerRefund",
            txn,
            methods.get(txn.gateway, default_method),
            transaction_external_id(txn.parent_id) if txn.parent_id else None,
        )
        for txn in money_moving(transactions)
        if txn.kind == REFUND
    ]


def _receipt_type(model: str, txn: Transaction, order_total: Decimal) -> str:
    if model == "invoice":
        return "customerPayment"
    if model == "cash_sale" and cents(txn.amount) == cents(order_total) and txn.gateway != GIFT_CARD:
        return "cashSale"
    return "customerDeposit"


def _record(record_type: str, txn: Transaction, method: str, parent: str | None) -> ReceiptRecord:
    return ReceiptRecord(
        record_type=record_type,
        external_id=transaction_external_id(txn.id),
        transaction_id=txn.id,
        gateway=txn.gateway,
        payment_method=method,
        amount=cents(txn.amount),
        currency=txn.currency,
        parent_external_id=parent,
        gift_card=txn.gateway == GIFT_CARD,
    )


def net_by_gateway(transactions: Iterable[Transaction]) -> dict[str, Decimal]:
    """Σ successful sales + captures − refunds per gateway: what NetSuite's receipts − refunds must equal."""
    totals: dict[str, Decimal] = {}
    for txn in money_moving(transactions):
        sign = -1 if txn.kind == REFUND else 1
        totals[txn.gateway] = totals.get(txn.gateway, ZERO) + sign * cents(txn.amount)
    return totals


def gateway_differences(shopify: Mapping[str, Decimal], netsuite: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Gateway -> NetSuite − Shopify, for the gateways that differ by a cent or more."""
    out = {}
    for gateway in sorted(set(shopify) | set(netsuite)):
        gap = cents(netsuite.get(gateway, ZERO)) - cents(shopify.get(gateway, ZERO))
        if gap:
            out[gateway] = gap
    return out


def payload_transactions(order: Mapping[str, Any], side: str) -> list[Transaction] | None:
    """The transactions an order read through the Admin API carries (REST shape: `amount_set` on both sides, kinds
    and statuses lower-cased), in the document currency (`side`: shop_money or presentment_money); None when the
    order carries none at all (a webhook order, which never lists them)."""
    found = order.get("transactions")
    if not isinstance(found, list):
        return None
    out = []
    for t in found:
        money = (t.get("amount_set") or {}).get(side) or {}
        out.append(
            Transaction(
                id=str(t["id"]),
                kind=str(t.get("kind") or "").upper(),
                status=str(t.get("status") or "").upper(),
                gateway=t.get("gateway") or "manual",
                amount=amount(t, "amount", side) or ZERO,
                currency=money.get("currency_code") or t.get("currency") or "",
                parent_id=str(t["parent_id"]) if t.get("parent_id") is not None else None,
            )
        )
    return out
