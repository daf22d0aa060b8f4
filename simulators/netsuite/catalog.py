"""The NetSuite simulator's catalog vocabulary: item record types, sales tax codes and currencies.

Item record types (REST record name -> SuiteQL `item.itemtype`, the name NetSuite shows):

| REST record            | itemtype      | carries inventory | on a fulfillment |
| ---------------------- | ------------- | ----------------- | ---------------- |
| `inventoryItem`        | `InvtPart`    | yes               | yes              |
| `kitItem`              | `Kit`         | no (its members)  | yes              |
| `nonInventorySaleItem` | `NonInvtPart` | no                | yes (1)          |
| `otherChargeSaleItem`  | `OthCharge`   | no                | no               |
| `serviceSaleItem`      | `Service`     | no                | no               |
| `discountItem`         | `Discount`    | no                | no               |
| `giftCertificateItem`  | `GiftCert`    | no                | no (1)           |

(1) UNCONFIRMED: NetSuite has a per-item "can be fulfilled" option; the simulator fixes it per type as above.

All item types share one internal id space (NetSuite's `item` table), so a line's `{"id"}` names an item whatever its
type; `{"externalId"}` is looked up across the item types too. Sales tax codes are `salesTaxItem` records with a
`rate` in percent (8.25 = 8.25 %); they are not sale items (a line cannot sell one) and SuiteQL shows them in the
`salestaxitem` table (id, itemid, rate, externalid, isinactive), not in `item` (UNCONFIRMED: NetSuite lists tax
items in `item` too, with itemtype `TaxItem`; left out so an item lookup by name never meets a tax code).

Currencies: seeded in every simulator with NetSuite's usual internal ids of a US-based account (UNCONFIRMED; an
account's own ids come from `SELECT id, symbol FROM currency`): 1 USD (the base currency), 2 GBP, 3 CAD, 4 EUR. Each
has a default `exchangeRate` to the base currency, used when a transaction in that currency gives none.
Currencies keep their fixed ids outside the account-wide id counter and survive every reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# REST record type -> (SuiteQL itemtype, the type's name as NetSuite's refName shows it)
ITEM_TYPES: dict[str, tuple[str, str]] = {
    "inventoryItem": ("InvtPart", "Inventory Item"),
    "kitItem": ("Kit", "Kit/Package"),
    "nonInventorySaleItem": ("NonInvtPart", "Non-inventory Item"),
    "otherChargeSaleItem": ("OthCharge", "Other Charge"),
    "serviceSaleItem": ("Service", "Service"),
    "discountItem": ("Discount", "Discount"),
    "giftCertificateItem": ("GiftCert", "Gift Certificate"),
}
TAX_CODE_TYPE = "salesTaxItem"
# Every record type stored as an item (sale items and tax codes): one id space, dropped by reset {"items": true}.
ALL_ITEM_TYPES: tuple[str, ...] = (*ITEM_TYPES, TAX_CODE_TYPE)
INVENTORY_TYPE = "inventoryItem"
DISCOUNT_TYPE = "discountItem"
FULFILLABLE_TYPES = frozenset({"inventoryItem", "kitItem", "nonInventorySaleItem"})

_TYPE_NAMES: dict[str, str] = {}
for _record_type, (_code, _label) in ITEM_TYPES.items():
    for _name in (_record_type, _code, _label):
        _TYPE_NAMES[_name.lower()] = _record_type
_TYPE_NAMES[TAX_CODE_TYPE.lower()] = TAX_CODE_TYPE
_TYPE_NAMES["taxitem"] = TAX_CODE_TYPE


def item_record_type(name: object) -> str:
    """The item record type for a REST name (`kitItem`), a SuiteQL itemtype (`Kit`) or `salesTaxItem`."""
    if not isinstance(name, str) or name.strip().lower() not in _TYPE_NAMES:
        known = [*ITEM_TYPES, TAX_CODE_TYPE]
        raise ValueError(f"unknown item type {name!r}; one of {known} (or their itemtype codes)")
    return _TYPE_NAMES[name.strip().lower()]


def item_type_code(record_type: str) -> str:
    return ITEM_TYPES[record_type][0]


@dataclass(frozen=True)
class Currency:
    id: int
    symbol: str
    name: str
    exchange_rate: Decimal


BASE_CURRENCY_ID = 1
# UNCONFIRMED default rates (base currency per unit), fixed so runs are repeatable; /_sim/currencies changes them.
DEFAULT_CURRENCIES: tuple[Currency, ...] = (
    Currency(1, "USD", "US Dollar", Decimal(1)),
    Currency(2, "GBP", "British pound", Decimal("1.27")),
    Currency(3, "CAD", "Canadian Dollar", Decimal("0.73")),
    Currency(4, "EUR", "Euro", Decimal("1.08")),
)
