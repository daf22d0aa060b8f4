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
Refunds are a customerRefund in every model: the credit memo the refund flow writes already reverses the revenue,
the customerRefund is the money going back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from app.domain.keys import transaction_external_id
from app.domain.money import ZERO, cents

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
    """The successful sales, captures and refunds: the only transactions that move money."""
    return [t for t in transactions if t.status == SUCCESS and (t.kind in MONEY_IN or t.kind == REFUND)]


def receipts_for(
    transactions: Iterable[Transaction],
    *,
    model: str,
    order_total: Decimal,
    methods: Mapping[str, str],
    default_method: str,
) -> list[ReceiptRecord]:
    """The records an order's transactions become, in Shopify's order (a refund after what it refunds)."""
    if model not in MODELS:
        raise ValueError(f"payment model must be one of {', '.join(MODELS)}, got {model!r}")
    records = []
    for txn in money_moving(transactions):
        method = methods.get(txn.gateway, default_method)
        if txn.kind == REFUND:
            parent = transaction_external_id(txn.parent_id) if txn.parent_id else None
            records.append(_record("customerRefund", txn, method, parent))
        else:
            records.append(_record(_receipt_type(model, txn, order_total), txn, method, None))
    return records


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
