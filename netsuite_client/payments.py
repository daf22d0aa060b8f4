"""Money records: receipts (customerDeposit, cashSale, customerPayment), refunds (cashRefund, customerRefund) and bank
deposits, written as upserts on external ids and read back with NetSuite's own amounts.

Every call is an ordinary record or SuiteQL request (records.py, suiteql.py), so it goes through the same limiter
lanes, retries and call records, and works unchanged against a real account:

- `upsert_receipt` / `upsert_deposit`: `PUT record/v1/<type>/eid:<externalId>` with `?replace=` naming every
  sublist the body sends. NetSuite adds unkeyed sublist lines (and item lines without their `line`) on an update, so
  without it a retried or repeated upsert would append a second copy of a deposit's other and cash-back lines; with
  it the body is the record's full set of lines and sending it twice changes nothing (and the transport may repeat it
  after an ambiguous failure). Keyed lines (a deposit's payments by receipt id, a payment's `apply` by invoice)
  stay; lines the body leaves out are removed.
- `get_deposit`: the deposit with its payment, other and cash-back lines (`expandSubResources=true`) and the total
  NetSuite computed.
- SuiteQL: `receipts_by_external_ids` (which receipts exist, their amounts and whether they are deposited),
  `receipts_for_orders` (the receipts of sales orders: cash sales and customer deposits created from them,
  invoices and the customer payments applied to those), `undeposited_receipts` (what a deposit may still take).

NetSuite's facts behind them (../shared/FLOWS.md, Oracle's record pages): a deposit's payment lines are
`payment.items[{id, deposit: true}]` keyed by the receipt's internal id, each an undeposited transaction in
Undeposited Funds; `other.items[{account, amount > 0, memo?}]` and `cashback.items[{account, amount, memo?}]` are not
keyed; total = Σ payment + Σ other − Σ cash back. Status codes (`transaction.status`): CashSale B Not Deposited / C
Deposited, CustPymt B / C, CustDep A Not Deposited / B Deposited / C Fully Applied; a customer payment is linked to
its invoice by a NextTransactionLineLink row with linktype 'Payment'. UNCONFIRMED against a real account: that
SuiteQL answers `status` as the bare letter (the simulator does; `BUILTIN.CF(status)` would give 'CashSale:B') and
that a customer deposit's `createdfrom` is its sales order, on which `receipts_for_orders` relies for deposits; the
external-id read (`receipts_by_external_ids`) depends on neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .records import RecordOperations, _check_external_id
from .suiteql import SUITEQL_MAX_IN_ITEMS, SuiteQLOperations, suiteql_in

__all__ = [
    "DEPOSITABLE_TYPES",
    "Deposit",
    "DepositLine",
    "DepositPayment",
    "PaymentOperations",
    "Receipt",
]

# record type -> SuiteQL transaction.type
TYPE_CODES: dict[str, str] = {
    "customerDeposit": "CustDep",
    "cashSale": "CashSale",
    "customerPayment": "CustPymt",
    "cashRefund": "CashRfnd",
    "customerRefund": "CustRfnd",
    "invoice": "CustInvc",
    "deposit": "Deposit",
}
RECORD_TYPES: dict[str, str] = {code: name for name, code in TYPE_CODES.items()}
RECEIPT_TYPES = ("customerDeposit", "cashSale", "customerPayment")
REFUND_TYPES = ("cashRefund", "customerRefund")
DEPOSITABLE_TYPES = (*RECEIPT_TYPES, *REFUND_TYPES)
# Receipt type code -> NetSuite's "Not Deposited" status code.
UNDEPOSITED_STATUS: dict[str, str] = {"CustDep": "A", "CashSale": "B", "CustPymt": "B"}
DEPOSIT_SUBLISTS = ("payment", "other", "cashback")
_RECEIPT_COLUMNS = "id, type, externalid, foreigntotal, currency, status, createdfrom, trandate"


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _ref_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt or refund as SuiteQL reports it; `amount` is NetSuite's own total in the document currency."""

    id: str
    type: str  # SuiteQL type code: CustDep, CashSale, CustPymt, CashRfnd, CustRfnd
    external_id: str | None
    amount: Decimal
    currency: str | None
    status: str | None
    created_from: str | None
    tran_date: str | None = None
    # For a customer payment found by `receipts_for_orders`: the invoice it was applied to.
    applied_to: str | None = None

    @property
    def record_type(self) -> str:
        return RECORD_TYPES.get(self.type, self.type)

    @property
    def undeposited(self) -> bool | None:
        """True while a receipt waits in Undeposited Funds, False once deposited (or posted to a bank account);
        None for refunds, whose deposit NetSuite does not show as a status."""
        code = UNDEPOSITED_STATUS.get(self.type)
        return None if code is None else self.status == code

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Receipt:
        return cls(
            id=str(row["id"]),
            type=str(row.get("type")),
            external_id=row.get("externalid"),
            amount=_money(row.get("foreigntotal")),
            currency=row.get("currency"),
            status=row.get("status"),
            created_from=row.get("createdfrom"),
            tran_date=row.get("trandate"),
            applied_to=row.get("appliedto"),
        )


@dataclass(frozen=True, slots=True)
class DepositPayment:
    """A payment line of a deposit: the receipt (internal id, type code) and its amount on the deposit
    (negative for a refund)."""

    id: str
    type: str | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DepositLine:
    """An other-deposit or cash-back line."""

    account: str | None
    amount: Decimal
    memo: str | None = None


@dataclass(frozen=True, slots=True)
class Deposit:
    id: str
    external_id: str | None
    total: Decimal
    currency: str | None
    account: str | None
    tran_date: str | None
    payments: tuple[DepositPayment, ...]
    other: tuple[DepositLine, ...]
    cashback: tuple[DepositLine, ...]

    @property
    def lines_total(self) -> Decimal:
        """Σ payment + Σ other − Σ cash back, from the lines (NetSuite's `total` should equal it)."""
        return (
            sum((p.amount for p in self.payments), Decimal(0))
            + sum((o.amount for o in self.other), Decimal(0))
            - sum((c.amount for c in self.cashback), Decimal(0))
        )

    @classmethod
    def from_record(cls, doc: Mapping[str, Any]) -> Deposit:
        def items(name: str) -> list[Mapping[str, Any]]:
            sublist = doc.get(name)
            found = sublist.get("items") if isinstance(sublist, Mapping) else None
            return [line for line in found or () if isinstance(line, Mapping)]

        def line(item: Mapping[str, Any]) -> DepositLine:
            return DepositLine(_ref_id(item.get("account")), _money(item.get("amount")), item.get("memo"))

        return cls(
            id=str(doc.get("id")),
            external_id=doc.get("externalId"),
            total=_money(doc.get("total")),
            currency=_ref_id(doc.get("currency")),
            account=_ref_id(doc.get("account")),
            tran_date=doc.get("tranDate"),
            payments=tuple(
                DepositPayment(str(p.get("id")), _ref_id(p.get("type")), _money(p.get("paymentAmount")))
                for p in items("payment")
                if p.get("deposit") is not False
            ),
            other=tuple(line(o) for o in items("other")),
            cashback=tuple(line(c) for c in items("cashback")),
        )


def _sublists(body: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(name for name, value in body.items() if isinstance(value, Mapping) and "items" in value)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), SUITEQL_MAX_IN_ITEMS):
        yield unique[start : start + SUITEQL_MAX_IN_ITEMS]


def _type_list(record_types: Sequence[str]) -> str:
    unknown = [t for t in record_types if t not in TYPE_CODES]
    if unknown or not record_types:
        raise ValueError(f"not a receipt or refund record type: {unknown or record_types}")
    return suiteql_in(TYPE_CODES[t] for t in record_types)


class PaymentOperations(RecordOperations, SuiteQLOperations):
    """Receipts, refunds and deposits over the record and SuiteQL operations."""

    def upsert_receipt(
        self,
        record_type: str,
        external_id: str,
        body: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> str | None:
        """Create or update a receipt, refund or invoice by external id; the internal id when NetSuite gives it.

        Every sublist in `body` (`item`, `apply`, `deposit`) is sent as the full set (`?replace=`), so repeating the
        call never adds lines twice.
        """
        if record_type not in (*DEPOSITABLE_TYPES, "invoice"):
            raise ValueError(f"not a receipt, refund or invoice record type: {record_type!r}")
        return self.upsert(
            record_type, external_id, body, replace=_sublists(body), correlation_id=correlation_id, lane=lane
        )

    def upsert_deposit(
        self,
        external_id: str,
        body: Mapping[str, Any],
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> str | None:
        """Create or update a bank deposit by external id; the internal id when NetSuite gives it.

        `body` holds the deposit's full set of `payment`, `other` and `cashback` lines; all three are replaced
        (`?replace=payment,other,cashback`), so a re-run converges on the body instead of appending lines.
        """
        if not isinstance(body, Mapping) or body.get("account") is None:
            raise ValueError("a deposit needs its bank account ('account')")
        return self.upsert(
            "deposit", external_id, body, replace=DEPOSIT_SUBLISTS, correlation_id=correlation_id, lane=lane
        )

    def get_deposit(
        self,
        id_or_eid: str | int | None = None,
        *,
        external_id: str | None = None,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> Deposit:
        """The deposit with its lines and NetSuite's total. `NotFoundError` when there is none."""
        doc = self.get(
            "deposit",
            id_or_eid,
            external_id=external_id,
            expand_sub_resources=True,
            correlation_id=correlation_id,
            lane=lane,
        )
        return Deposit.from_record(doc)

    def receipts_by_external_ids(
        self,
        external_ids: Iterable[str],
        *,
        record_types: Sequence[str] = DEPOSITABLE_TYPES,
        lane: str = "live",
    ) -> list[Receipt]:
        """The receipts and refunds with these external ids (external ids are unique per record type only, so
        one id may name one record of each type), ordered by internal id."""
        ids = [_check_external_id(eid) for eid in external_ids]
        found: list[Receipt] = []
        for chunk in _chunks(ids):
            found.extend(
                Receipt.from_row(row)
                for row in self.suiteql(
                    f"SELECT {_RECEIPT_COLUMNS} FROM transaction WHERE type IN {_type_list(record_types)} "
                    f"AND externalid IN {suiteql_in(chunk)} ORDER BY id",
                    lane=lane,
                )
            )
        return sorted(found, key=lambda r: int(r.id))

    def receipts_for_orders(self, sales_order_ids: Iterable[str | int], *, lane: str = "live") -> list[Receipt]:
        """Every receipt of these sales orders (internal ids): cash sales and customer deposits created from them,
        and the customer payments applied to their invoices (`applied_to` = the invoice). Invoices themselves are
        not receipts and are left out."""
        orders = [str(int(str(order))) for order in sales_order_ids]
        found: list[Receipt] = []
        invoices: list[str] = []
        for chunk in _chunks(orders):
            for row in self.suiteql(
                f"SELECT {_RECEIPT_COLUMNS} FROM transaction WHERE type IN ('CashSale', 'CustDep', 'CustInvc') "
                f"AND createdfrom IN {suiteql_in(chunk)} ORDER BY id",
                lane=lane,
            ):
                if row.get("type") == "CustInvc":
                    invoices.append(str(row["id"]))
                else:
                    found.append(Receipt.from_row(row))
        for chunk in _chunks(invoices):
            found.extend(
                Receipt.from_row(row)
                for row in self.suiteql(
                    "SELECT t.id, t.type, t.externalid, t.foreigntotal, t.currency, t.status, t.createdfrom, "
                    "t.trandate, l.previousdoc AS appliedto FROM NextTransactionLineLink l "
                    "JOIN transaction t ON t.id = l.nextdoc WHERE l.linktype = 'Payment' AND t.type = 'CustPymt' "
                    f"AND l.previousdoc IN {suiteql_in(chunk)} ORDER BY t.id, l.previousdoc",
                    lane=lane,
                )
            )
        return found

    def undeposited_receipts(
        self, *, currency: str | int | None = None, after_id: int = 0, lane: str = "live"
    ) -> Iterator[Receipt]:
        """Receipts still in Undeposited Funds (cash sales, customer payments, customer deposits), by internal id,
        from `after_id` on (keyset paging past SuiteQL's 100,000-row ceiling). `currency`: an internal id."""
        where = " OR ".join(f"(type = '{code}' AND status = '{status}')" for code, status in UNDEPOSITED_STATUS.items())
        if currency is not None:
            where = f"({where}) AND currency = {int(str(currency))}"
        query = f"SELECT {_RECEIPT_COLUMNS} FROM transaction WHERE ({where}) AND id > {int(after_id)} ORDER BY id"
        return (Receipt.from_row(row) for row in self.suiteql(query, lane=lane))
