"""Shopify Payments reads: payouts (resumable from a stored cursor), a payout's balance transactions, an order's
transactions, and disputes. Shopify sends no payout webhook, so a job polls these (FLOWS.md §1).

- `iter_payouts` walks `shopifyPaymentsAccount.payouts(sortKey: ID)` oldest first and yields each payout with its
  cursor: store the cursor of the last payout handled and pass it back as `after` to read only the newer ones.
  A payout that changes after it was read (PAID, then FAILED days later) is not re-read from a cursor: look at
  recent ones again with `query` (e.g. `issued_at:>=2026-11-01`, `payouts_search_query`).
- `payout_balance_transactions` reads every page of the payout's balance transactions and sets the payout's own
  TRANSFER row apart (`PayoutTransactions.transfers`): it is the money leaving the balance for the bank, not a
  part of the payout's composition (`transactions`, whose net adds up to the payout's net).
- `order_transactions` reads `Order.transactions` (kind, status, gateway, amounts, parent).
- `iter_disputes` walks the account's disputes with their cursors.

Money is Decimal; ids are ints (legacy ids) beside their GIDs. The documents and their costs are in
`payments_documents.py`; every page is sent with its expected cost, which the client's throttle accounts for.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from .errors import ShopifyError
from .graphql import MAX_PAGE_SIZE, MAX_QUERY_COST, GraphQLExecutor, end_cursor, paged
from .ids import gid, legacy_id
from .payments_documents import (
    BALANCE_TRANSACTIONS_QUERY,
    DISPUTES_QUERY,
    ORDER_TRANSACTIONS_FIRST,
    ORDER_TRANSACTIONS_QUERY,
    PAYOUTS_QUERY,
    SUMMARY_FIELDS,
    balance_transactions_page_cost,
    disputes_page_cost,
    order_transactions_cost,
    payouts_page_cost,
)

__all__ = [
    "BALANCE_TRANSACTIONS_QUERY",
    "DISPUTES_QUERY",
    "ORDER_TRANSACTIONS_QUERY",
    "PAYOUTS_QUERY",
    "BalanceTransaction",
    "Dispute",
    "OrderTransaction",
    "Payout",
    "PayoutTransactions",
    "iter_disputes",
    "iter_payouts",
    "order_transactions",
    "payout_balance_transactions",
    "payouts_search_query",
]

T = TypeVar("T")
TRANSFER = "TRANSFER"
PAYOUTS_PAGE = 50  # 803 points a page
BALANCE_TRANSACTIONS_PAGE = 150  # 903 points a page
DISPUTES_PAGE = 100  # 503 points a page


@dataclasses.dataclass(frozen=True, slots=True)
class Payout:
    id: int
    gid: str
    status: str  # SCHEDULED | PAID | FAILED | CANCELED (IN_TRANSIT deprecated)
    issued_at: dt.datetime
    net: Decimal
    currency: str
    transaction_type: str  # DEPOSIT | WITHDRAWAL
    summary: Mapping[str, Decimal]  # Shopify's summary by field name (chargesGross, chargesFee, ...)


@dataclasses.dataclass(frozen=True, slots=True)
class BalanceTransaction:
    id: int
    type: str  # ShopifyPaymentsTransactionType: CHARGE, REFUND, DISPUTE_WITHDRAWAL, ... (100+ values, growing)
    source_type: str | None  # CHARGE, REFUND, DISPUTE, ADJUSTMENT, SYSTEM_ADJUSTMENT, TRANSFER, ...
    source_id: int | None
    source_order_transaction_id: int | None
    amount: Decimal
    fee: Decimal
    net: Decimal
    currency: str
    transaction_date: dt.datetime
    order_id: int | None
    order_name: str | None
    payout_id: int | None
    payout_status: str | None
    adjustment_reason: str | None
    test: bool


@dataclasses.dataclass(frozen=True, slots=True)
class PayoutTransactions:
    """A payout's balance transactions: its composition, and its own TRANSFER row(s) set apart."""

    transactions: tuple[BalanceTransaction, ...]
    transfers: tuple[BalanceTransaction, ...]

    @property
    def net(self) -> Decimal:
        """The sum of the composition's net: the payout's net when the payout is complete."""
        return sum((t.net for t in self.transactions), Decimal(0))


@dataclasses.dataclass(frozen=True, slots=True)
class OrderTransaction:
    id: int
    kind: str  # SALE | AUTHORIZATION | CAPTURE | VOID | REFUND | ...
    status: str  # SUCCESS | PENDING | FAILURE | ERROR | ...
    gateway: str | None
    amount: Decimal  # shop currency
    currency: str
    presentment_amount: Decimal
    presentment_currency: str
    parent_id: int | None
    created_at: dt.datetime
    processed_at: dt.datetime | None
    authorization_expires_at: dt.datetime | None
    test: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Dispute:
    id: int
    gid: str
    status: str  # NEEDS_RESPONSE | UNDER_REVIEW | WON | LOST | ACCEPTED | PREVENTED
    type: str  # CHARGEBACK | INQUIRY
    amount: Decimal
    currency: str
    reason: str
    network_reason_code: str | None
    order_id: int | None
    order_name: str | None
    initiated_at: dt.datetime
    evidence_due_by: dt.datetime | None
    finalized_on: dt.datetime | None
    evidence_sent_on: dt.datetime | None = None


# --- reads ----------------------------------------------------------------------------------------------


def payouts_search_query(*, issued_since: dt.date | dt.datetime | None = None, status: str | None = None) -> str | None:
    """Shopify search syntax for payouts issued on or after a day (UTC) and/or in one status."""
    parts = []
    if issued_since is not None:
        day = issued_since.date() if isinstance(issued_since, dt.datetime) else issued_since
        parts.append(f"issued_at:>={day.isoformat()}")
    if status is not None:
        parts.append(f"status:{status.lower()}")
    return " AND ".join(parts) or None


def iter_payouts(
    client: GraphQLExecutor,
    after: str | None = None,
    *,
    query: str | None = None,
    page_size: int = PAYOUTS_PAGE,
) -> Iterator[tuple[Payout, str]]:
    """Every payout after the cursor `after` (all of them when None), oldest first, each with its own cursor."""
    return _with_cursors(
        client, PAYOUTS_QUERY, "Payouts", "payouts", after, query, _page_size(page_size, payouts_page_cost), _payout
    )


def payout_balance_transactions(
    client: GraphQLExecutor, payout_id: int, *, page_size: int = BALANCE_TRANSACTIONS_PAGE
) -> PayoutTransactions:
    """All the payout's balance transactions (every page), its TRANSFER row(s) set apart."""
    first = _page_size(page_size, balance_transactions_page_cost)
    composition: list[BalanceTransaction] = []
    transfers: list[BalanceTransaction] = []
    for node in paged(
        client,
        BALANCE_TRANSACTIONS_QUERY,
        "PayoutBalanceTransactions",
        root=("shopifyPaymentsAccount", "balanceTransactions"),
        first=first,
        variables={"query": f"payments_transfer_id:{int(payout_id)}"},
        cost=balance_transactions_page_cost,
    ):
        row = _balance_transaction(node)
        (transfers if row.type == TRANSFER else composition).append(row)
    return PayoutTransactions(tuple(composition), tuple(transfers))


def order_transactions(client: GraphQLExecutor, order_id: int) -> list[OrderTransaction] | None:
    """The order's transactions, oldest first; None if Shopify has no such order.

    Raises ShopifyError (TOO_MANY_TRANSACTIONS) for an order with more than ORDER_TRANSACTIONS_FIRST of them (the
    field is a list without paging), rather than returning part of them."""
    data = client.execute(
        ORDER_TRANSACTIONS_QUERY,
        {"id": gid("Order", order_id), "first": ORDER_TRANSACTIONS_FIRST},
        operation_name="OrderTransactions",
        expected_cost=order_transactions_cost(ORDER_TRANSACTIONS_FIRST),
    )
    order = data.get("order") if isinstance(data, Mapping) else None
    if order is None:
        return None
    nodes = [n for n in order.get("transactions") or () if isinstance(n, Mapping)]
    if len(nodes) >= ORDER_TRANSACTIONS_FIRST:
        raise ShopifyError(
            f"order {order_id} has {ORDER_TRANSACTIONS_FIRST} or more transactions", code="TOO_MANY_TRANSACTIONS"
        )
    return [_order_transaction(n) for n in nodes]


def iter_disputes(
    client: GraphQLExecutor,
    after: str | None = None,
    *,
    query: str | None = None,
    page_size: int = DISPUTES_PAGE,
) -> Iterator[tuple[Dispute, str]]:
    """Every dispute after the cursor `after`, oldest initiated first, each with its cursor."""
    first = _page_size(page_size, disputes_page_cost)
    return _with_cursors(client, DISPUTES_QUERY, "Disputes", "disputes", after, query, first, _dispute)


def _with_cursors(
    client: GraphQLExecutor,
    document: str,
    operation: str,
    field: str,
    after: str | None,
    query: str | None,
    first: int,
    convert: Callable[[Mapping[str, Any]], T],
) -> Iterator[tuple[T, str]]:
    """The nodes of `shopifyPaymentsAccount.<field>` after the cursor `after`, converted, each with its cursor."""
    cost = _COSTS[field]
    while True:
        data = client.execute(
            document,
            {"first": first, "after": after, "query": query},
            operation_name=operation,
            expected_cost=cost(first),
        )
        connection = _account_field(data, field, operation)
        for edge in connection.get("edges") or ():
            if isinstance(edge, Mapping) and isinstance(edge.get("node"), Mapping):
                yield convert(edge["node"]), str(edge["cursor"])
        page_info = connection.get("pageInfo") or {}
        if not page_info.get("hasNextPage"):
            return
        cursor = end_cursor(page_info, f"shopifyPaymentsAccount.{field}")
        if cursor == after:
            raise ShopifyError(f"{operation} paging did not advance past {after!r}", code="INVALID_RESPONSE")
        after = cursor


_COSTS: dict[str, Callable[[int], int]] = {"payouts": payouts_page_cost, "disputes": disputes_page_cost}


# --- conversion -----------------------------------------------------------------------------------------


def _page_size(page_size: int, cost: Any) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be an int between 1 and {MAX_PAGE_SIZE}")
    while page_size > 1 and cost(page_size) > MAX_QUERY_COST:
        page_size -= 1
    return page_size


def _account_field(data: Any, name: str, operation: str) -> Mapping[str, Any]:
    account = data.get("shopifyPaymentsAccount") if isinstance(data, Mapping) else None
    if not isinstance(account, Mapping):
        raise ShopifyError(f"{operation}: the shop has no Shopify Payments account", code="NO_PAYMENTS_ACCOUNT")
    connection = account.get(name)
    if not isinstance(connection, Mapping):
        raise ShopifyError(f"{operation} returned no {name} connection", code="INVALID_RESPONSE")
    return connection


def _decimal(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ShopifyError(f"{what} is not a decimal amount: {value!r}", code="INVALID_RESPONSE") from None


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _required_time(value: Any, what: str) -> dt.datetime:
    parsed = _time(value)
    if parsed is None:
        raise ShopifyError(f"{what} is missing", code="INVALID_RESPONSE")
    return parsed


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else None


def _optional_legacy(value: Any) -> int | None:
    return legacy_id(value) if isinstance(value, str) and value else None


def _payout(node: Mapping[str, Any]) -> Payout:
    net = node["net"]
    summary = node.get("summary") or {}
    return Payout(
        id=int(node["legacyResourceId"]),
        gid=node["id"],
        status=node["status"],
        issued_at=_required_time(node.get("issuedAt"), "payout issuedAt"),
        net=_decimal(net["amount"], "payout net"),
        currency=net["currencyCode"],
        transaction_type=node.get("transactionType") or "DEPOSIT",
        summary={name: _decimal(summary[name]["amount"], name) for name in SUMMARY_FIELDS if summary.get(name)},
    )


def _balance_transaction(node: Mapping[str, Any]) -> BalanceTransaction:
    order = node.get("associatedOrder") or {}
    payout = node.get("associatedPayout") or {}
    return BalanceTransaction(
        id=legacy_id(node["id"]),
        type=node["type"],
        source_type=node.get("sourceType"),
        source_id=_int(node.get("sourceId")),
        source_order_transaction_id=_int(node.get("sourceOrderTransactionId")),
        amount=_decimal(node["amount"]["amount"], "amount"),
        fee=_decimal(node["fee"]["amount"], "fee"),
        net=_decimal(node["net"]["amount"], "net"),
        currency=node["amount"]["currencyCode"],
        transaction_date=_required_time(node.get("transactionDate"), "transactionDate"),
        order_id=_optional_legacy(order.get("id")),
        order_name=order.get("name"),
        payout_id=_optional_legacy(payout.get("id")),
        payout_status=payout.get("status"),
        adjustment_reason=node.get("adjustmentReason"),
        test=bool(node.get("test")),
    )


def _order_transaction(node: Mapping[str, Any]) -> OrderTransaction:
    money = node["amountSet"]
    shop, presentment = money["shopMoney"], money.get("presentmentMoney") or money["shopMoney"]
    parent = node.get("parentTransaction") or {}
    return OrderTransaction(
        id=legacy_id(node["id"]),
        kind=node["kind"],
        status=node["status"],
        gateway=node.get("gateway"),
        amount=_decimal(shop["amount"], "amount"),
        currency=shop["currencyCode"],
        presentment_amount=_decimal(presentment["amount"], "amount"),
        presentment_currency=presentment["currencyCode"],
        parent_id=_optional_legacy(parent.get("id")),
        created_at=_required_time(node.get("createdAt"), "createdAt"),
        processed_at=_time(node.get("processedAt")),
        authorization_expires_at=_time(node.get("authorizationExpiresAt")),
        test=bool(node.get("test")),
    )


def _dispute(node: Mapping[str, Any]) -> Dispute:
    order = node.get("order") or {}
    reason = node.get("reasonDetails") or {}
    return Dispute(
        id=int(node["legacyResourceId"]),
        gid=node["id"],
        status=node["status"],
        type=node["type"],
        amount=_decimal(node["amount"]["amount"], "dispute amount"),
        currency=node["amount"]["currencyCode"],
        reason=reason.get("reason") or "GENERAL",
        network_reason_code=reason.get("networkReasonCode"),
        order_id=_optional_legacy(order.get("id")),
        order_name=order.get("name"),
        initiated_at=_required_time(node.get("initiatedAt"), "initiatedAt"),
        evidence_due_by=_time(node.get("evidenceDueBy")),
        finalized_on=_time(node.get("finalizedOn")),
        evidence_sent_on=_time(node.get("evidenceSentOn")),
    )
