"""Money records of the NetSuite simulator: receipts (customerDeposit, cashSale, customerPayment), refunds (cashRefund,
customerRefund) and the bank `deposit` that gathers them, with NetSuite's rules. `State` inherits `PaymentRules`.

Sources: ../shared/FLOWS.md §1-2 (c), Oracle's REST record pages (customerDeposit, customerPayment, deposit:
"Deposit Usage Notes and Field Summary", "Adding a Record With Payment Lines", "Updating the Deposit Record") and its
sublist rules ("Updating a Sublist", "Replacing a Sublist"). What they leave open is marked UNCONFIRMED.

Receipts and refunds
- In Undeposited Funds: `undepFunds` when the body gives it (true/false, or NetSuite's select {"id": "T"|"F"}); else
  when no `account` is given (UNCONFIRMED: NetSuite defaults from the account's preference; ours is "undeposited").
  A customerDeposit with `undepFunds` false and no `account` is a 400 ("Please enter value(s) for: Account").
- `customerDeposit` {customer, payment, salesOrder?, paymentMethod?, undepFunds?|account?}: `customer` required,
  `payment` > 0 required, `total` = payment. `salesOrder` must exist and name the same customer; the deposit takes
  its currency unless `currency` is given, and SuiteQL shows the order as the deposit's `createdfrom`
  (UNCONFIRMED: how NetSuite's SuiteQL links a deposit to its order).
- `customerPayment` {customer, payment?, apply.items[{doc, apply, amount}]}: each applied `doc` is an invoice of the
  same customer and currency, `amount` (default: what the invoice still owes) at most what it owes; Σ applied <=
  `payment` (which defaults to Σ applied); `total` = payment. The apply sublist is keyed by `doc`. An invoice's
  status is A "Open" or B "Paid In Full"; each application is a NextTransactionLineLink row (linktype 'Payment').
- `cashSale` / `invoice` are created by transforming a sales order, or by create/upsert with `createdFrom` (the
  source's lines are copied when the body sends none; lines naming `orderLine` inherit from that order line), totals
  by totals.py. `cashRefund` likewise from a cash sale. `customerRefund` applies credit memos (`apply`) and customer
  deposits (`deposit.items[{doc, apply, amount}]`, each doc a customerDeposit); an unknown doc is a 400
  INVALID_KEY_OR_REF; total = Σ applied amounts.
- Status (GET `status` {id, refName}, SuiteQL `transaction.status`), NetSuite's codes: cashSale B Not Deposited / C
  Deposited, customerPayment B / C, customerDeposit A Not Deposited / B Deposited. A receipt posted straight to a
  bank `account` shows as deposited. Refunds carry no status here.

Deposit {account, currency?, tranDate?, memo?, payment.items, other.items, cashback.items}
- `account` required. `payment.items[{id, deposit}]`: keyed by the internal id of a receipt or refund. Every line
  must be a cashSale, customerDeposit, customerPayment, cashRefund or customerRefund that sits in Undeposited Funds
  and is not on another deposit; NetSuite's payments sublist only lists such transactions, so any other id (unknown,
  not undeposited, already deposited) is an invalid value for the line: 400 INVALID_KEY_OR_REF "Invalid Field Value
  <id> for the following field: id" at `payment.items[n].id` (UNCONFIRMED wording for the last two cases). A receipt
  in another currency than the deposit: 400 USER_ERROR (UNCONFIRMED wording). A line's `paymentAmount` is the
  receipt's total (a refund's negated); a client's amount is ignored (no partial deposits).
- `other.items[{account, amount, memo?, entity?}]`: account and amount required, amount > 0 (Oracle). `cashback.
  items[{account, amount, memo?}]`: account and amount required; a negative cash-back amount is saved as an other
  line of the opposite sign (Oracle). Neither is keyed.
- total = Σ payment + Σ other − Σ cashback, computed (a client's `total` is ignored); at least one line and a positive
  total, else 400 USER_ERROR. A receipt is deposited once: a deposit's lines mark their receipts Deposited.
- Updates follow NetSuite's sublist rules: payment lines are keyed by `id` (`deposit: false` removes one, new ids are
  added, ids already there stay), other and cash-back lines are appended unless `?replace=other,cashback`;
  `?replace=payment` removes the payment lines the request does not name. Deleting a deposit frees its receipts.
- A deposited receipt cannot be deleted, moved out of Undeposited Funds or change its total; an invoice with payments
  applied cannot be deleted: 400 USER_ERROR "This record cannot be deleted because it has dependent records."
  (UNCONFIRMED code).

Per-record work stays small (benchmarks): a deposit touches each of its receipts once (status + mirror row).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simulators.netsuite.totals import TotalsError, cents, number

if TYPE_CHECKING:
    from simulators.netsuite.state import Record

# Record types whose total is a header amount computed here (not from item lines).
PAYMENT_TYPES = ("customerDeposit", "customerPayment", "deposit")
# Depositable record type -> sign of its line on a deposit.
DEPOSITABLE: dict[str, int] = {
    "cashSale": 1,
    "customerDeposit": 1,
    "customerPayment": 1,
    "cashRefund": -1,
    "customerRefund": -1,
}
# type -> ((undeposited code, label), (deposited code, label))
_RECEIPT_STATUS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "cashSale": (("B", "Not Deposited"), ("C", "Deposited")),
    "customerPayment": (("B", "Not Deposited"), ("C", "Deposited")),
    "customerDeposit": (("A", "Not Deposited"), ("B", "Deposited")),
}
# Sublists a GET shows in full only with expandSubResources=true.
EXPANDABLE_SUBLISTS: dict[str, tuple[str, ...]] = {"deposit": ("payment", "other", "cashback")}
# Types whose lines are not item lines: no `item` sublist.
NO_ITEM_LINES = (*PAYMENT_TYPES, "customerRefund")
DEPENDENT_DETAIL = "This record cannot be deleted because it has dependent records."


class PaymentError(Exception):
    """A 400 found by the payment rules (state.py turns it into an ApiError)."""

    def __init__(self, code: str, detail: str, path: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.path = path


def _user_error(detail: str, path: str | None = None) -> PaymentError:
    return PaymentError("USER_ERROR", detail, path)


def _invalid(value: Any, field_name: str, path: str) -> PaymentError:
    shown = value.get("id", value.get("externalId")) if isinstance(value, dict) else value
    return PaymentError(
        "INVALID_KEY_OR_REF", f"Invalid Field Value {shown} for the following field: {field_name}", path
    )


def _missing(label: str, path: str) -> PaymentError:
    return _user_error(f"Please enter value(s) for: {label}", path)


def _flag(value: Any) -> bool:
    if isinstance(value, dict):
        value = value.get("id")
    return value is True or value == "T"


def in_undeposited_funds(fields: dict[str, Any]) -> bool:
    if fields.get("undepFunds") is not None:
        return _flag(fields["undepFunds"])
    return fields.get("account") is None


def _items(fields: dict[str, Any], name: str) -> list[dict[str, Any]]:
    sublist = fields.get(name)
    if sublist is None:
        return []
    items = sublist.get("items", []) if isinstance(sublist, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _user_error(f'The {name} sublist must be given as {{"items": [{{...}}]}}.', name)
    return items


def _amount(value: Any, path: str) -> Decimal:
    try:
        return cents(number(value, path))
    except TotalsError as exc:
        raise _user_error(exc.detail, path) from None


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def int_or_none(value: Any) -> int | None:
    """An internal id from an int or numeric string; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    """The internal id of a reference ({"id": ...}) or a bare id."""
    return int_or_none(value.get("id") if isinstance(value, dict) else value)


def merge_keyed(
    existing: list[dict[str, Any]], incoming: list[dict[str, Any]], key: str, *, replace: bool, flag: str
) -> list[dict[str, Any]]:
    """NetSuite's keyed-sublist update: lines matching an existing key update it, `flag: false` removes it, the
    rest are added; with replace, existing lines the request does not name are removed."""
    by_key = {_int(line.get(key)): line for line in existing}
    named: dict[int | None, dict[str, Any] | None] = {}
    for line in incoming:
        line_key = _int(line.get(key))
        named[line_key] = None if line.get(flag) is False else {**by_key.get(line_key, {}), **line}
    merged = []
    for line in existing:
        line_key = _int(line.get(key))
        if line_key in named:
            if named[line_key] is not None:
                merged.append(named.pop(line_key))
            else:
                named.pop(line_key)
        elif not replace:
            merged.append(line)
    merged.extend(line for line in named.values() if line is not None)
    return merged


class PaymentRules:
    """NetSuite's rules for receipts, refunds and deposits, over State's records (see the module docstring)."""

    _records: dict[str, dict[int, Record]]
    # receipt or refund id -> the deposit it is on
    _deposit_of: dict[int, int]
    # invoice id -> {customerPayment id: amount applied}
    _applied: dict[int, dict[int, Decimal]]
    # the reverse indexes: deposit id -> its receipts; customerPayment id -> the invoices it applies to
    _deposit_receipts: dict[int, set[int]]
    _payment_invoices: dict[int, set[int]]

    def _resolve(self, record_type: str, value: Any) -> int | None:  # State's
        raise NotImplementedError

    def _mirror(self, record: Record) -> None:  # State's
        raise NotImplementedError

    def _db_write_many(self, key: tuple[Any, ...], statements: list[Any]) -> None:  # State's
        raise NotImplementedError

    # writes

    def merge_payment_sublists(self, record: Record, fields: dict[str, Any], replace: set[str]) -> None:
        """Before an update: turn the body's sublists into the record's new sublists by NetSuite's rules."""
        keyed = {"deposit": (("payment", "id", "deposit"),), "customerPayment": (("apply", "doc", "apply"),)}
        for name, key, flag in keyed.get(record.type, ()):
            if name in fields or name in replace:
                incoming = _items(fields, name)
                existing = _items(record.fields, name)
                fields[name] = {"items": merge_keyed(existing, incoming, key, replace=name in replace, flag=flag)}
        if record.type == "deposit":
            for name in ("other", "cashback"):
                if name in fields and name not in replace:
                    fields[name] = {"items": _items(record.fields, name) + _items(fields, name)}

    def payment_totals(self, record: Record) -> None:
        """Validate a customerDeposit, customerPayment or deposit and write its computed total (and sublists)."""
        if record.type == "customerDeposit":
            self._customer_deposit(record)
        elif record.type == "customerPayment":
            self._customer_payment(record)
        else:
            self._deposit(record)

    def _customer(self, record: Record) -> int:
        value = record.fields.get("customer")
        if value is None:
            raise _missing("Customer", "customer")
        customer = self._resolve("customer", value)
        if customer is None:
            raise _invalid(value, "customer", "customer")
        record.refs["entity"] = customer
        return customer

    def _customer_deposit(self, record: Record) -> None:
        f = record.fields
        customer = self._customer(record)
        if f.get("payment") is None:
            raise _missing("Payment Amount", "payment")
        payment = _amount(f["payment"], "payment")
        if payment <= 0:
            raise _user_error("The payment amount must be greater than zero.", "payment")
        if f.get("salesOrder") is not None:
            order_id = self._resolve("salesOrder", f["salesOrder"])
            if order_id is None:
                raise _invalid(f["salesOrder"], "salesorder", "salesOrder")
            if self._records["salesOrder"][order_id].refs.get("entity") != customer:
                raise _user_error("The sales order belongs to another customer.", "salesOrder")
            record.refs["createdFrom"] = order_id
        if f.get("undepFunds") is not None and not _flag(f["undepFunds"]) and f.get("account") is None:
            raise _missing("Account", "account")
        f["payment"] = _plain(payment)
        f["total"] = _plain(payment)

    def _customer_payment(self, record: Record) -> None:
        f = record.fields
        customer = self._customer(record)
        applied = Decimal(0)
        lines = []
        for index, line in enumerate(_items(f, "apply")):
            if line.get("apply") is False:
                continue
            path = f"apply.items[{index}]"
            invoice = self._records["invoice"].get(self._resolve("invoice", line.get("doc")) or -1)
            if invoice is None:
                raise _invalid(line.get("doc"), "doc", f"{path}.doc")
            if invoice.refs.get("entity") != customer:
                raise _user_error("The invoice belongs to another customer.", f"{path}.doc")
            if _int(invoice.fields.get("currency")) != _int(f.get("currency")):
                raise _user_error("The invoice is in another currency than the payment.", f"{path}.doc")
            due = self._due(invoice, excluding=record.id)
            amount = due if line.get("amount") is None else _amount(line["amount"], f"{path}.amount")
            if amount <= 0 or amount > due:
                raise _user_error(f"The amount applied to invoice {invoice.id} must be between 0 and {due}.", path)
            applied += amount
            lines.append({**line, "doc": {"id": str(invoice.id)}, "apply": True, "amount": _plain(amount)})
        payment = applied if f.get("payment") is None else _amount(f["payment"], "payment")
        if payment <= 0:
            raise _missing("Payment Amount", "payment")
        if applied > payment:
            raise _user_error(f"You cannot apply {applied}: the payment is {payment}.", "apply")
        f["apply"] = {"items": lines}
        f["payment"] = _plain(payment)
        f["total"] = _plain(payment)

    def _due(self, invoice: Record, *, excluding: int) -> Decimal:
        paid = sum((a for p, a in self._applied.get(invoice.id, {}).items() if p != excluding), Decimal(0))
        return cents(invoice.totals.total if invoice.totals is not None else Decimal(0)) - paid

    def _deposit(self, record: Record) -> None:
        f = record.fields
        if f.get("account") is None:
            raise _missing("Account", "account")
        currency = _int(f.get("currency"))
        payments, seen = [], set()
        total = Decimal(0)
        for index, line in enumerate(_items(f, "payment")):
            if line.get("deposit") is False:
                continue
            receipt = self._depositable(line.get("id"), record.id, f"payment.items[{index}].id")
            if receipt.id in seen:
                continue
            if _int(receipt.fields.get("currency")) != currency:
                raise _user_error(
                    f"Transaction {receipt.id} is in another currency than the deposit's account.",
                    f"payment.items[{index}].id",
                )
            seen.add(receipt.id)
            amount = DEPOSITABLE[receipt.type] * cents(_receipt_total(receipt))
            total += amount
            payments.append(_payment_line(receipt, amount))
        others, cashbacks = [], []
        for index, line in enumerate(_items(f, "other")):
            amount = self._line_amount(line, f"other.items[{index}]")
            if amount <= 0:
                raise _user_error(
                    "The amount of an other deposit line must be positive.", f"other.items[{index}].amount"
                )
            others.append({**line, "amount": _plain(amount)})
            total += amount
        for index, line in enumerate(_items(f, "cashback")):
            amount = self._line_amount(line, f"cashback.items[{index}]")
            if amount < 0:
                # Oracle: a negative cash-back line is saved as an other deposit line.
                others.append({**line, "amount": _plain(-amount)})
            else:
                cashbacks.append({**line, "amount": _plain(amount)})
            total -= amount
        if not (payments or others or cashbacks):
            raise _user_error("A deposit must have at least one payment, other deposit or cash back line.")
        if total <= 0:
            raise _user_error("The net sum of the deposit's lines must be positive.")
        f["payment"] = {"items": payments}
        f["other"] = {"items": others}
        f["cashback"] = {"items": cashbacks}
        f["total"] = _plain(total)

    @staticmethod
    def _line_amount(line: dict[str, Any], path: str) -> Decimal:
        if line.get("account") is None:
            raise _missing("Account", f"{path}.account")
        if line.get("amount") is None:
            raise _missing("Amount", f"{path}.amount")
        return _amount(line["amount"], f"{path}.amount")

    def _depositable(self, value: Any, deposit_id: int, path: str) -> Record:
        receipt_id = _int(value)
        receipt = None
        for record_type in DEPOSITABLE:
            receipt = self._records[record_type].get(receipt_id) if receipt_id is not None else None
            if receipt is not None:
                break
        holder = self._deposit_of.get(receipt.id) if receipt is not None else None
        if receipt is None or not in_undeposited_funds(receipt.fields) or holder not in (None, deposit_id):
            # The payments sublist only holds undeposited receipts: anything else is not a valid line key.
            raise _invalid(value, "id", path)
        return receipt

    def check_refund_deposits(self, record: Record) -> None:
        """A customerRefund's `apply` lines must each name a credit memo, its `deposit` lines a customer deposit."""
        for name, record_type in (("apply", "creditMemo"), ("deposit", "customerDeposit")):
            for index, line in enumerate(_items(record.fields, name)):
                if line.get("apply") is not False and self._resolve(record_type, line.get("doc")) is None:
                    raise _invalid(line.get("doc"), "doc", f"{name}.items[{index}].doc")

    def check_deposited_unchanged(self, old: Record, new: Record) -> None:
        """A deposited receipt keeps its amount and stays in Undeposited Funds (its deposit was computed from it)."""
        if old.id not in self._deposit_of:
            return
        if _receipt_total(old) != _receipt_total(new) or not in_undeposited_funds(new.fields):
            raise _user_error(f"Transaction {old.id} is on deposit {self._deposit_of[old.id]} and cannot change.")

    def check_removable(self, record: Record) -> None:
        if record.id in self._deposit_of or self._applied.get(record.id):
            raise _user_error(DEPENDENT_DETAIL)

    # bookkeeping after a write or a removal

    def link_payments(self, record: Record, *, removed: bool = False) -> None:
        """Keep the receipts' deposit and the invoices' payments in step with a deposit or customer payment."""
        # Each side is found through its own index: no write scans every receipt or invoice (benchmarks).
        if record.type == "deposit":
            before = self._deposit_receipts.pop(record.id, set())
            after = set() if removed else {int(line["id"]) for line in _items(record.fields, "payment")}
            for receipt_id in before - after:
                del self._deposit_of[receipt_id]
            for receipt_id in after - before:
                self._deposit_of[receipt_id] = record.id
            if after:
                self._deposit_receipts[record.id] = after
            for receipt_id in before ^ after:
                self._remirror(receipt_id)
        elif record.type == "customerPayment":
            touched = self._payment_invoices.pop(record.id, set())
            for invoice_id in touched:
                self._applied[invoice_id].pop(record.id, None)
            lines = [] if removed else _items(record.fields, "apply")
            for line in lines:
                invoice_id = _int(line["doc"])
                self._applied.setdefault(invoice_id, {})[record.id] = Decimal(str(line["amount"]))
                touched.add(invoice_id)
            if lines:
                self._payment_invoices[record.id] = {_int(line["doc"]) for line in lines}
            for invoice_id in touched:
                self._remirror(invoice_id)
            self._db_write_many(("links", record.id), _payment_links(record, lines))

    def _remirror(self, record_id: int) -> None:
        for record_type in (*DEPOSITABLE, "invoice"):
            record = self._records[record_type].get(record_id)
            if record is not None:
                self._mirror(record)
                return

    def status_of(self, record: Record) -> tuple[str, str] | None:
        """NetSuite's status of a receipt or invoice: (code, label), None for types without one here."""
        if record.type == "invoice":
            due = self._due(record, excluding=-1)
            paid = bool(self._applied.get(record.id)) and due <= 0
            return ("B", "Paid In Full") if paid else ("A", "Open")
        codes = _RECEIPT_STATUS.get(record.type)
        if codes is None:
            return None
        deposited = record.id in self._deposit_of or not in_undeposited_funds(record.fields)
        return codes[1] if deposited else codes[0]


def _receipt_total(record: Record) -> Decimal:
    if record.totals is not None:
        return record.totals.total
    value = record.fields.get("total")
    return Decimal(str(value)) if value is not None else Decimal(0)


def _payment_line(receipt: Record, amount: Decimal) -> dict[str, Any]:
    from simulators.netsuite.state import TRANSACTION_TYPES  # the type codes live with the other transaction data

    code = TRANSACTION_TYPES[receipt.type][0]
    line: dict[str, Any] = {
        "id": receipt.id,
        "deposit": True,
        "paymentAmount": _plain(amount),
        "transactionAmount": _plain(amount),
        "type": {"id": code, "refName": code},
        "docNumber": receipt.fields.get("tranId"),
        "currency": copy.deepcopy(receipt.fields.get("currency")),
    }
    if receipt.refs.get("entity") is not None:
        line["entity"] = {"id": str(receipt.refs["entity"])}
    return line


def _payment_links(record: Record, lines: list[dict[str, Any]]) -> list[tuple[str, tuple[Any, ...]]]:
    statements: list[tuple[str, tuple[Any, ...]]] = [
        ("DELETE FROM NextTransactionLineLink WHERE nextdoc = ?", (record.id,))
    ]
    for line in lines:
        statements.append(
            (
                "INSERT INTO NextTransactionLineLink (previousdoc, previoustype, previousline, nextdoc, nexttype, "
                "nextline, linktype, foreignamount) VALUES (?, 'CustInvc', 0, ?, 'CustPymt', 0, 'Payment', ?)",
                (_int(line["doc"]), record.id, str(line["amount"])),
            )
        )
    return statements
