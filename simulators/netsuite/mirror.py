"""The SuiteQL mirror's tables and the rows a record becomes (state.py writes them, with the read-after-write lag).

Tables and columns (a small, faithful subset of NetSuite's; every value comes back as a string, nulls left out):

- `item` (id, itemid, displayname, externalid, isinactive, itemtype): every sale item type, `itemtype` as NetSuite
  spells it ('InvtPart', 'Kit', 'NonInvtPart', 'OthCharge', 'Service', 'Discount', 'GiftCert'; catalog.py).
- `salestaxitem` (id, itemid, rate, externalid, isinactive): tax codes, `rate` in percent (8.25).
- `currency` (id, symbol, name, exchangerate, isbasecurrency).
- `customer` (id, externalid, email, entityid, companyname, firstname, lastname, isinactive, subsidiary): `subsidiary`
  is the internal id of the record's `subsidiary` reference (given as {"id"}), else null.
- `transaction` (id, externalid, recordtype, type, tranid, entity, trandate, currency, exchangerate, foreigntotal,
  total, taxtotal, discounttotal, createdfrom, memo, custbody_shopify_total): `foreigntotal` is the computed
  total in the document currency, `total` the same in the base currency (round_half_up(foreigntotal x
  exchangerate, 2)); `taxtotal` and `discounttotal` are in the document currency (UNCONFIRMED). `status` is
  NetSuite's one-letter code where the simulator models one (payments.py: 'CashSale' B/C, 'CustPymt' B/C, 'CustDep'
  A/B, 'CustInvc' A/B), else null. Type codes: SalesOrd, ItemShip, CashSale, CustInvc, CustCred, CashRfnd, CustRfnd,
  RtnAuth, CustDep, CustPymt, Deposit. A customer deposit's `createdfrom` is its sales order (UNCONFIRMED).
- `transactionline` (transaction, id, linesequencenumber, mainline, taxline, item, itemtype, quantity, rate,
  foreignamount, netamount, isclosed, custcol_shopify_line_id): per transaction one main line (mainline 'T', id 0,
  linesequencenumber 0, foreignamount = the total), one row per item line (id = the REST line number `line`,
  linesequencenumber = its position, 1-based), one row for a header discount (itemtype 'Discount') and, when tax
  is not zero, one tax line per tax code (taxline 'T', item = the tax code). `foreignamount` is in the document
  currency, `netamount` in the base currency. Shipping and handling cost have no line of their own here.
  UNCONFIRMED sign convention, as NetSuite's posting lines (a sale credits income): item, discount and tax lines of
  sales (SalesOrd, CashSale, CustInvc) carry negative quantity and amounts, those of returns (CustCred, CashRfnd,
  RtnAuth) positive; the main line carries the total with the opposite sign. `rate` is the line's rate as given
  (a percentage discount keeps its text, "-10%"). Fulfillment lines have a quantity (negative) and no amounts.
  Receipts (CustDep, CustPymt) and refunds (CustRfnd) have only their main line. A Deposit's main line carries
  +total (the bank is debited); then one row per payment line (`createdfrom` = the receipt's internal id,
  foreignamount = −its amount on the deposit), per other line (`account`, −amount) and per cash-back line (`account`,
  +amount), so the lines sum to zero. UNCONFIRMED: how NetSuite's own SuiteQL exposes a deposit's lines
  (`createdfrom` / `account` on transactionline are our choice); the REST GET of the deposit is the documented view.
- `NextTransactionLineLink` (previousdoc, previoustype, previousline, nextdoc, nexttype, nextline, linktype,
  foreignamount) and its mirror view `PreviousTransactionLineLink`: one row per invoice a customer payment applies
  to (linktype 'Payment', foreignamount the amount applied), as NetSuite links them.
- `location`, `InventoryItemLocations` (inventory items only) as before.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simulators.netsuite.totals import cents

if TYPE_CHECKING:
    from simulators.netsuite.state import Record

Statement = tuple[str, tuple[Any, ...]]

SCHEMA = """
CREATE TABLE item (
    id INTEGER PRIMARY KEY, itemid TEXT, displayname TEXT, externalid TEXT, isinactive TEXT, itemtype TEXT
);
CREATE TABLE salestaxitem (id INTEGER PRIMARY KEY, itemid TEXT, rate NUMERIC, externalid TEXT, isinactive TEXT);
CREATE TABLE currency (id INTEGER PRIMARY KEY, symbol TEXT, name TEXT, exchangerate NUMERIC, isbasecurrency TEXT);
CREATE TABLE "transaction" (
    id INTEGER PRIMARY KEY, externalid TEXT, recordtype TEXT, type TEXT, tranid TEXT, entity INTEGER,
    trandate TEXT, currency INTEGER, exchangerate NUMERIC, foreigntotal NUMERIC, total NUMERIC, taxtotal NUMERIC,
    discounttotal NUMERIC, createdfrom INTEGER, memo TEXT, custbody_shopify_total NUMERIC, status TEXT
);
CREATE TABLE transactionline (
    "transaction" INTEGER, id INTEGER, linesequencenumber INTEGER, mainline TEXT, taxline TEXT, item INTEGER,
    itemtype TEXT, quantity NUMERIC, rate NUMERIC, foreignamount NUMERIC, netamount NUMERIC, isclosed TEXT,
    custcol_shopify_line_id TEXT, createdfrom INTEGER, account INTEGER, PRIMARY KEY ("transaction", id)
);
CREATE TABLE NextTransactionLineLink (
    previousdoc INTEGER, previoustype TEXT, previousline INTEGER, nextdoc INTEGER, nexttype TEXT, nextline INTEGER,
    linktype TEXT, foreignamount NUMERIC
);
CREATE INDEX nexttransactionlinelink_next ON NextTransactionLineLink (nextdoc);
CREATE VIEW PreviousTransactionLineLink AS SELECT * FROM NextTransactionLineLink;
CREATE INDEX transaction_externalid ON "transaction" (externalid);
CREATE INDEX transaction_createdfrom ON "transaction" (createdfrom);
CREATE TABLE customer (
    id INTEGER PRIMARY KEY, externalid TEXT, email TEXT, entityid TEXT, companyname TEXT, firstname TEXT,
    lastname TEXT, isinactive TEXT, subsidiary INTEGER
);
CREATE TABLE location (id INTEGER PRIMARY KEY, name TEXT, externalid TEXT, isinactive TEXT);
CREATE TABLE InventoryItemLocations (
    item INTEGER, location INTEGER, quantityonhand NUMERIC, quantityavailable NUMERIC, lastmodifieddate TEXT,
    PRIMARY KEY (item, location)
);
"""

# SuiteQL transaction type -> sign of its item lines (see the module docstring; UNCONFIRMED).
LINE_SIGN = {
    "SalesOrd": -1,
    "CashSale": -1,
    "CustInvc": -1,
    "ItemShip": -1,
    "CustCred": 1,
    "CashRfnd": 1,
    "RtnAuth": 1,
    "CustRfnd": -1,
    "CustDep": -1,
    "CustPymt": -1,
}

_TRANSACTION_INSERT = (
    'INSERT OR REPLACE INTO "transaction" (id, externalid, recordtype, type, tranid, entity, trandate, currency, '
    "exchangerate, foreigntotal, total, taxtotal, discounttotal, createdfrom, memo, custbody_shopify_total, status) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_LINE_INSERT = (
    'INSERT INTO transactionline ("transaction", id, linesequencenumber, mainline, taxline, item, itemtype, '
    "quantity, rate, foreignamount, netamount, isclosed, custcol_shopify_line_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def flag(value: Any) -> str:
    return "T" if value is True or value == "T" else "F"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return None if value is None else str(value)
    return None


def transaction_statements(
    record: Record,
    type_code: str,
    currency_id: int | None,
    exchange_rate: Decimal,
    total: Decimal,
    status: str | None = None,
) -> list[Statement]:
    """The `transaction` row and every `transactionline` row of one transaction, as one unit of statements."""
    f = record.fields
    totals = record.totals
    base_total = cents(total * exchange_rate)
    shopify_total = f.get("custbody_shopify_total")
    statements: list[Statement] = [
        (
            _TRANSACTION_INSERT,
            (
                record.id,
                f.get("externalId"),
                record.type.lower(),
                type_code,
                f.get("tranId"),
                record.refs.get("entity"),
                f.get("tranDate"),
                currency_id,
                _text(exchange_rate),
                _text(total),
                _text(base_total),
                _text(totals.tax_total) if totals else None,
                _text(totals.discount_total) if totals else None,
                record.refs.get("createdFrom"),
                f.get("memo"),
                # A custom body field, as an account that defines it can query it (the service sends it).
                None if shopify_total is None else str(shopify_total),
                status,
            ),
        ),
        ('DELETE FROM transactionline WHERE "transaction" = ?', (record.id,)),
    ]
    sign = LINE_SIGN.get(type_code, -1)

    def row(line_id: int, sequence: int, **values: Any) -> Statement:
        amount = values.get("amount")
        foreign = None if amount is None else sign * amount
        net = None if foreign is None else cents(foreign * exchange_rate)
        quantity = values.get("quantity")
        return (
            _LINE_INSERT,
            (
                record.id,
                line_id,
                sequence,
                values.get("mainline", "F"),
                values.get("taxline", "F"),
                values.get("item"),
                values.get("itemtype"),
                None if quantity is None else _text(sign * quantity),
                _scalar(values.get("rate")),
                _text(foreign),
                _text(net),
                values.get("isclosed", "F"),
                values.get("shopify_line_id"),
            ),
        )

    main_foreign = total if type_code == "Deposit" else -sign * total
    main = (record.id, 0, 0, "T", "F", None, None, None, None)
    main_net = cents(main_foreign * exchange_rate)
    statements.append((_LINE_INSERT, (*main, _text(main_foreign), _text(main_net), "F", None)))
    if type_code == "Deposit":
        statements.extend(_deposit_lines(record, exchange_rate))
        return statements
    entries = totals.lines if totals else []
    sequence = 0
    for position, line in enumerate(record.lines or []):
        sequence = position + 1
        entry = entries[position] if position < len(entries) else None
        quantity = _quantity(line.get("quantity"))
        statements.append(
            row(
                int(line["line"]),
                sequence,
                item=entry.item.id if entry and entry.item else _item_id(line.get("item")),
                itemtype=line.get("itemType", {}).get("id") if isinstance(line.get("itemType"), dict) else None,
                quantity=quantity,
                rate=line.get("rate"),
                amount=entry.amount if entry else None,
                isclosed=flag(line.get("isClosed")),
                shopify_line_id=_scalar(line.get("custcol_shopify_line_id")),
            )
        )
    next_id = record.next_line
    if totals and totals.header_discount_item is not None:
        sequence += 1
        statements.append(
            row(
                next_id,
                sequence,
                item=totals.header_discount_item,
                itemtype="Discount",
                rate=f.get("discountRate"),
                amount=totals.header_discount,
            )
        )
        next_id += 1
    for code, tax in sorted((totals.tax_by_code if totals else {}).items(), key=lambda kv: (kv[0] is None, kv[0])):
        sequence += 1
        statements.append(row(next_id, sequence, taxline="T", item=code, amount=tax))
        next_id += 1
    return statements


_DEPOSIT_LINE_INSERT = (
    'INSERT INTO transactionline ("transaction", id, linesequencenumber, mainline, taxline, foreignamount, '
    "netamount, isclosed, createdfrom, account) VALUES (?, ?, ?, 'F', 'F', ?, ?, 'F', ?, ?)"
)


def _deposit_lines(record: Record, exchange_rate: Decimal) -> list[Statement]:
    """A deposit's payment, other and cash-back lines (see the module docstring), numbered in that order."""
    rows: list[tuple[Decimal, int | None, int | None]] = []
    for sublist, sign in (("payment", -1), ("other", -1), ("cashback", 1)):
        for line in (record.fields.get(sublist) or {}).get("items", []):
            amount = Decimal(str(line.get("paymentAmount", line.get("amount"))))
            receipt = int(line["id"]) if sublist == "payment" else None
            rows.append((sign * amount, receipt, None if receipt else _item_id(line.get("account"))))
    return [
        (
            _DEPOSIT_LINE_INSERT,
            (record.id, n, n, _text(amount), _text(cents(amount * exchange_rate)), receipt, account),
        )
        for n, (amount, receipt, account) in enumerate(rows, start=1)
    ]


def _quantity(value: Any) -> Decimal | None:
    """A line's quantity as given (lines without one, such as discounts, have none in SuiteQL)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _item_id(value: Any) -> int | None:
    if isinstance(value, dict) and value.get("id") not in (None, ""):
        try:
            return int(str(value["id"]))
        except ValueError:
            return None
    return None
