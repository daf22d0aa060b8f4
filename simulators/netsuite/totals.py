"""How the NetSuite simulator computes a transaction's totals, the way NetSuite does: from the lines, never from
what the client sends (API_FACTS "NetSuite computes totals", "NetSuite tax through REST").

Computed on every write (create, upsert, update, transform) of a salesOrder, cashSale, invoice, creditMemo,
cashRefund or returnAuthorization; a customerRefund's `total` is the sum of its applied amounts. Money is Decimal,
rounded half-up to the cent (ROUND_HALF_UP: -0.005 -> -0.01).

Lines (`item.items`, in sublist order):
- amount = the line's `amount` if given (rounded to the cent), else `rate` x `quantity` (quantity 1 when absent,
  rate the item's seeded `rate` when absent, else 0), rounded half-up to the cent.
- A `discountItem` line: a negative `amount` or `rate` reduces the total; a rate written as a percentage ("-10%")
  is that percent of the amount of the line right before it (a percentage discount on the first line is a 400).
  A percentage rate on any other item type is a 400. A percentage line's amount is always recomputed.
- Closed lines (`isClosed: true`) still count. UNCONFIRMED: our assumption is that closing a sales order line
  does not lower the order's total.
- A keyed line update that changes `quantity` or `rate` without an `amount` recomputes the amount (state.py).

Header:
- `discountItem` (must be a discountItem) + `discountRate`: a negative amount, or a percentage ("-10%") of the lines'
  net (every line amount, discount lines included; UNCONFIRMED which base NetSuite takes). Without
  `discountRate` the discount item's own seeded `rate` applies. `discountRate` without `discountItem` is a 400
  (UNCONFIRMED).
- `shippingCost` and `handlingCost` add as given (rounded to the cent); they carry no tax here.

Totals (written onto the record, read back by GET; whatever a client sends for them is IGNORED, not refused:
UNCONFIRMED, NetSuite's REST may answer 400 for a read-only field):
- `subtotal` = sum of the non-discount line amounts (UNCONFIRMED: NetSuite's own subtotal may include line-level
  discount items; `total` is the same either way);
- `discountTotal` = sum of the discount line amounts + the header discount (zero or negative);
- `taxTotal` = the sum of the line taxes;
- `total` = subtotal + discountTotal + shippingCost + handlingCost + taxTotal, in the document currency.

Tax (`/_sim/config` `tax_mode`):
- `legacy` (default): a line's tax = round_half_up(line amount x rate / 100, 2) of its `taxCode` (a salesTaxItem;
  an unknown one is a 400 INVALID_KEY_OR_REF). No tax on lines without a tax code, on lines with `isTaxable: false`
  and on items seeded with `istaxable: false`. A discount line is taxed only when its discount item is applied
  before sales tax (the item's `isPreTax`, NetSuite's "Apply Before Sales Tax"; seeded with `ispretax: true`): then
  its tax code taxes its (negative) amount like any line, so the discount lowers the tax by round(discount x
  rate) (UNCONFIRMED: that NetSuite rounds a pre-tax discount line's tax on its own, per line, with per-line tax
  codes). Any other discount line carries no tax, and tax is computed on the lines before it at their full
  amounts. The header discount never changes the tax (a pre-tax header discount would; not modelled). A body that
  sends `taxDetailsOverride` or `taxDetails` is refused: 400 USER_ERROR (code UNCONFIRMED) quoting Oracle, "REST
  web services do not support legacy tax features. ..." (state.py checks the body).
- `suitetax`: without `taxDetailsOverride: true` the same computation as legacy. With it, the tax is what the body's
  `taxDetails: {"items": [{"taxDetailsReference", "taxType", "taxCode", "taxBasis", "taxRate", "taxAmount"}]}`
  says: taxTotal = sum of `taxAmount` (each rounded to the cent), each line's tax the sum of the details that name
  its `taxDetailsReference`; a detail whose reference matches no line, or without a numeric taxAmount, is a 400
  USER_ERROR (code UNCONFIRMED). A body's `taxDetails` replaces the stored ones as a whole (UNCONFIRMED).
Per line the simulator writes `amount`, `itemType` ({id: code, refName}) and, in legacy, `taxRate1` and `tax1Amt`;
in suitetax `taxAmount`. Client values of those are overwritten.

Currency (state.py `_pin_currency`): every amount is in the document currency. A new transaction's `currency`
({"id"}; catalog.py: 1 USD base, 2 GBP, 3 CAD, 4 EUR) defaults to the base currency, an unknown one is a 400
INVALID_KEY_OR_REF; `exchangeRate` (positive, else 400) defaults to the currency's own rate. Both are pinned at
creation: an update's `currency` or `exchangeRate` is IGNORED (UNCONFIRMED: ignored rather than refused). GET returns
`currency`, `exchangeRate` and the totals above; SuiteQL `transaction.foreigntotal` is `total`, `transaction.total`
is round_half_up(foreigntotal x exchangeRate, 2) in the base currency (mirror.py).

Transforms (salesOrder -> cashSale/invoice, cashSale -> cashRefund, ...) copy `currency`, `exchangeRate`,
`discountItem`, `discountRate`, `shippingCost` and `handlingCost` from the source unless the body sets them
(UNCONFIRMED for the money fields), then compute the new record's totals. A fulfillment ships only inventory, kit and
non-inventory lines (catalog.py); it has no totals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from simulators.netsuite.catalog import DISCOUNT_TYPE, item_type_code

CENT = Decimal("0.01")
TAX_MODES = ("legacy", "suitetax")
LEGACY_TAX_DETAIL = (
    "REST web services do not support legacy tax features. To work with taxation through REST web services, "
    "you must have the SuiteTax feature enabled."
)
# Client-sent values of these are dropped before a write (see the module docstring).
READ_ONLY_FIELDS = ("total", "subtotal", "taxTotal", "discountTotal")
COMPUTED_LINE_FIELDS = ("tax1Amt", "taxRate1", "taxAmount", "itemType")


class TotalsError(Exception):
    """A 400 the computation found: o:errorCode, detail, o:errorPath."""

    def __init__(self, code: str, detail: str, path: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.path = path


@dataclass(frozen=True)
class ItemInfo:
    id: int
    record_type: str
    taxable: bool = True
    # The item's own rate: a price, or a discount item's amount or percentage.
    default_rate: Any = None
    pre_tax: bool = False  # a discount item applied before sales tax (isPreTax): its lines are taxed


@dataclass(frozen=True)
class TaxCode:
    id: int
    rate: Decimal


@dataclass
class LineTotal:
    line: int | None
    item: ItemInfo | None
    amount: Decimal
    tax: Decimal = Decimal(0)
    tax_code: int | None = None
    tax_rate: Decimal | None = None

    @property
    def is_discount(self) -> bool:
        return self.item is not None and self.item.record_type == DISCOUNT_TYPE


@dataclass
class Totals:
    subtotal: Decimal = Decimal(0)
    discount_total: Decimal = Decimal(0)
    header_discount: Decimal = Decimal(0)
    header_discount_item: int | None = None
    shipping: Decimal = Decimal(0)
    handling: Decimal = Decimal(0)
    tax_total: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    lines: list[LineTotal] = field(default_factory=list)
    # tax code id (None: details without a known code) -> tax, for SuiteQL's tax lines
    tax_by_code: dict[int | None, Decimal] = field(default_factory=dict)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Any, path: str) -> Decimal:
    """A finite decimal from a JSON number or numeric string; a 400 for anything else."""
    if isinstance(value, bool) or value is None:
        raise TotalsError("USER_ERROR", f"Invalid number {value!r}.", path)
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise TotalsError("USER_ERROR", f"Invalid number {value!r}.", path) from None
    if not result.is_finite():
        raise TotalsError("USER_ERROR", f"Invalid number {value!r}.", path)
    return result


def percent(value: Any, path: str) -> Decimal | None:
    """The percentage of a rate written "-10%", None for a plain number."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return number(value.strip()[:-1], path)
    return None


ItemLookup = Callable[[Any], ItemInfo | None]
TaxLookup = Callable[[Any], TaxCode | None]


def compute(
    lines: list[dict[str, Any]],
    fields: dict[str, Any],
    *,
    item_info: ItemLookup,
    tax_code: TaxLookup,
    tax_mode: str,
) -> Totals:
    """The totals of a transaction's lines and header (see the module docstring for the rules)."""
    totals = Totals()
    previous: Decimal | None = None
    for index, line in enumerate(lines):
        entry = _line_total(line, index, previous, item_info)
        totals.lines.append(entry)
        previous = entry.amount
    override = tax_mode == "suitetax" and fields.get("taxDetailsOverride") is True
    if override:
        _override_tax(lines, totals, fields.get("taxDetails"), tax_code)
    else:
        for index, (line, entry) in enumerate(zip(lines, totals.lines, strict=True)):
            _code_tax(line, entry, index, tax_code, totals)
    for entry in totals.lines:
        if entry.is_discount:
            totals.discount_total += entry.amount
        else:
            totals.subtotal += entry.amount
    net = totals.subtotal + totals.discount_total
    totals.header_discount, totals.header_discount_item = _header_discount(fields, net, item_info)
    totals.discount_total += totals.header_discount
    totals.shipping = _money_field(fields, "shippingCost")
    totals.handling = _money_field(fields, "handlingCost")
    totals.tax_total = sum((entry.tax for entry in totals.lines), Decimal(0))
    totals.total = totals.subtotal + totals.discount_total + totals.shipping + totals.handling + totals.tax_total
    return totals


def refund_total(fields: dict[str, Any]) -> Decimal:
    """A customerRefund's total: the sum of its `apply` (credit memos) and `deposit` (customer deposits) lines'
    amounts (lines with `apply: false` left out)."""
    total = Decimal(0)
    for name in ("apply", "deposit"):
        sublist = fields.get(name)
        items = sublist.get("items") if isinstance(sublist, dict) else None
        for index, line in enumerate(items if isinstance(items, list) else []):
            if isinstance(line, dict) and line.get("apply") is not False and line.get("amount") is not None:
                total += cents(number(line["amount"], f"{name}.items[{index}].amount"))
    return total


def _line_total(line: dict[str, Any], index: int, previous: Decimal | None, item_info: ItemLookup) -> LineTotal:
    path = f"item.items[{index}]"
    info = item_info(line["item"]) if line.get("item") is not None else None
    rate = line.get("rate", info.default_rate if info is not None else None)
    share = percent(rate, f"{path}.rate") if rate is not None else None
    if share is not None:
        if info is None or info.record_type != DISCOUNT_TYPE:
            raise TotalsError("USER_ERROR", "Only a discount item can have a percentage rate.", f"{path}.rate")
        if previous is None:
            raise TotalsError("USER_ERROR", "A percentage discount must follow the line it discounts.", f"{path}.rate")
        amount = cents(previous * share / 100)
    elif line.get("amount") is not None:
        amount = cents(number(line["amount"], f"{path}.amount"))
    else:
        quantity = number(line["quantity"], f"{path}.quantity") if line.get("quantity") is not None else Decimal(1)
        unit = number(rate, f"{path}.rate") if rate is not None else Decimal(0)
        amount = cents(quantity * unit)
    return LineTotal(line=line.get("line"), item=info, amount=amount)


def _code_tax(line: dict[str, Any], entry: LineTotal, index: int, tax_code: TaxLookup, totals: Totals) -> None:
    if line.get("taxCode") is None:
        return
    code = tax_code(line["taxCode"])
    if code is None:
        shown = line["taxCode"].get("id") if isinstance(line["taxCode"], dict) else line["taxCode"]
        raise TotalsError(
            "INVALID_KEY_OR_REF",
            f"Invalid Field Value {shown} for the following field: taxcode",
            f"item.items[{index}].taxCode",
        )
    entry.tax_code, entry.tax_rate = code.id, code.rate
    taxable = line.get("isTaxable") is not False and (entry.item is None or entry.item.taxable)
    if not taxable or (entry.is_discount and not (entry.item is not None and entry.item.pre_tax)):
        return
    entry.tax = cents(entry.amount * code.rate / 100)
    if entry.tax:
        totals.tax_by_code[code.id] = totals.tax_by_code.get(code.id, Decimal(0)) + entry.tax


def _override_tax(lines: list[dict[str, Any]], totals: Totals, details: Any, tax_code: TaxLookup) -> None:
    items = details.get("items", []) if isinstance(details, dict) else details
    if items is None:
        items = []
    if not isinstance(items, list):
        raise TotalsError("USER_ERROR", 'taxDetails must be given as {"items": [...]}.', "taxDetails")
    by_reference = {
        str(line["taxDetailsReference"]): entry
        for line, entry in zip(lines, totals.lines, strict=True)
        if line.get("taxDetailsReference") not in (None, "")
    }
    for index, detail in enumerate(items):
        path = f"taxDetails.items[{index}]"
        if not isinstance(detail, dict):
            raise TotalsError("USER_ERROR", "Each tax detail must be an object.", path)
        reference = detail.get("taxDetailsReference")
        entry = by_reference.get(str(reference)) if reference not in (None, "") else None
        if entry is None:
            raise TotalsError(
                "USER_ERROR",
                f"Invalid tax details reference {reference!r}: no line of the transaction has it.",
                f"{path}.taxDetailsReference",
            )
        if detail.get("taxAmount") is None:
            raise TotalsError("USER_ERROR", "Please enter value(s) for: Tax Amount", f"{path}.taxAmount")
        amount = cents(number(detail["taxAmount"], f"{path}.taxAmount"))
        entry.tax += amount
        code = tax_code(detail["taxCode"]) if detail.get("taxCode") is not None else None
        key = code.id if code is not None else None
        totals.tax_by_code[key] = totals.tax_by_code.get(key, Decimal(0)) + amount


def _header_discount(fields: dict[str, Any], net: Decimal, item_info: ItemLookup) -> tuple[Decimal, int | None]:
    item_ref, rate = fields.get("discountItem"), fields.get("discountRate")
    if item_ref is None:
        if rate is not None:
            raise TotalsError("USER_ERROR", "Please enter value(s) for: Discount Item", "discountItem")
        return Decimal(0), None
    info = item_info(item_ref)
    if info is None or info.record_type != DISCOUNT_TYPE:
        shown = item_ref.get("id", item_ref.get("externalId")) if isinstance(item_ref, dict) else item_ref
        raise TotalsError(
            "INVALID_KEY_OR_REF", f"Invalid Field Value {shown} for the following field: discountitem", "discountItem"
        )
    if rate is None:
        rate = info.default_rate
    if rate is None:
        return Decimal(0), info.id
    share = percent(rate, "discountRate")
    if share is not None:
        return cents(net * share / 100), info.id
    return cents(number(rate, "discountRate")), info.id


def _money_field(fields: dict[str, Any], name: str) -> Decimal:
    value = fields.get(name)
    return Decimal(0) if value is None else cents(number(value, name))


def item_type_ref(info: ItemInfo | None) -> dict[str, str] | None:
    """A line's `itemType` as NetSuite returns an enum: {"id": "InvtPart", "refName": "InvtPart"}."""
    if info is None:
        return None
    code = item_type_code(info.record_type)
    return {"id": code, "refName": code}
