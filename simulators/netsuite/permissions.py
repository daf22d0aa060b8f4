"""The integration role of the NetSuite simulator: which permissions it holds, at which level, and the 403 a
request gets when its role lacks one.

NetSuite has no API that lists a role's permissions; a request the role may not make is answered
`403 INSUFFICIENT_PERMISSION` with a detail naming the permission as the UI writes it ("Lists -> Customers").
The default role holds every permission below at Full, so nothing changes until a test or demo takes one away
(`POST /_sim/role`, see server.py).

What each request needs (levels View < Create < Edit < Full, as on a NetSuite role):

- `GET` of a record, its collection or its sublist: View on the record type's permission; for a transaction also
  View on Find Transaction (PERMISSIONS.md's reading; UNCONFIRMED which of the two NetSuite checks first, here
  the record type's).
- `POST record/v1/<type>`: Create; `PUT .../eid:<id>`: Create when it creates, Edit when it updates; `PATCH`:
  Edit; `DELETE`: Full. A transform: View on the source type and Create on the target type.
- SuiteQL: SuiteAnalytics Workbook (Oracle's requirement for REST queries), then View on the permission of every
  table the query names (`item` and `salestaxitem`: Items; `customer`; `location`; `currency`; `transaction` and
  `transactionline`: Find Transaction; `InventoryItemLocations`: Items and Locations). The answer for a
  table the role may not read is UNCONFIRMED (public reports also show a 400 "Record 'x' was not found"); the
  simulator answers the same 403 as a record request, so a client that only reads SuiteQL still learns the name.

The detail text is NetSuite's, as SOAP and the UI give it (the double space after "need" is theirs); the
"higher level" wording for a permission held at too low a level is UNCONFIRMED.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from simulators.netsuite.catalog import ALL_ITEM_TYPES
from simulators.netsuite.state import ApiError, is_transaction

LEVELS: dict[str, int] = {"NONE": 0, "VIEW": 1, "CREATE": 2, "EDIT": 3, "FULL": 4}
LEVEL_NAMES = {number: name for name, number in LEVELS.items()}
VIEW, CREATE, EDIT, FULL = LEVELS["VIEW"], LEVELS["CREATE"], LEVELS["EDIT"], LEVELS["FULL"]


@dataclass(frozen=True)
class Permission:
    name: str
    tab: str
    # NetSuite's permission id where it is known from public sources; None where it is not.
    id: str | None = None

    @property
    def label(self) -> str:
        """How docs/PERMISSIONS.md writes it: `Customers (Lists)`."""
        return f"{self.name} ({self.tab})"

    @property
    def ui_path(self) -> str:
        """How NetSuite's error detail writes it: `Lists -> Customers`."""
        return f"{self.tab} -> {self.name}"


CUSTOMERS = Permission("Customers", "Lists", "LIST_CUSTJOB")
ITEMS = Permission("Items", "Lists", "LIST_ITEM")
LOCATIONS = Permission("Locations", "Lists", "LIST_LOCATION")
CURRENCY = Permission("Currency", "Lists", "LIST_CURRENCY")
FIND_TRANSACTION = Permission("Find Transaction", "Transactions", "TRAN_FIND")
SALES_ORDER = Permission("Sales Order", "Transactions", "TRAN_SALESORD")
ITEM_FULFILLMENT = Permission("Item Fulfillment", "Transactions", "TRAN_ITEMSHIP")
CREDIT_MEMO = Permission("Credit Memo", "Transactions", "TRAN_CUSTCRED")
CUSTOMER_REFUND = Permission("Customer Refund", "Transactions", "TRAN_CUSTRFND")
CASH_SALE = Permission("Cash Sale", "Transactions", "TRAN_CASHSALE")
INVOICE = Permission("Invoice", "Transactions", "TRAN_CUSTINVC")
CASH_REFUND = Permission("Cash Refund", "Transactions", "TRAN_CASHRFND")
RETURN_AUTHORIZATION = Permission("Return Authorization", "Transactions", "TRAN_RTNAUTH")
CUSTOMER_DEPOSIT = Permission("Customer Deposit", "Transactions", "TRAN_CUSTDEP")
CUSTOMER_PAYMENT = Permission("Customer Payment", "Transactions", "TRAN_CUSTPYMT")
MAKE_DEPOSITS = Permission("Make Deposits", "Transactions", "TRAN_DEPOSIT")
SUITEANALYTICS_WORKBOOK = Permission("SuiteAnalytics Workbook", "Reports")

PERMISSIONS: tuple[Permission, ...] = (
    CUSTOMERS,
    ITEMS,
    LOCATIONS,
    CURRENCY,
    FIND_TRANSACTION,
    SALES_ORDER,
    ITEM_FULFILLMENT,
    CREDIT_MEMO,
    CUSTOMER_REFUND,
    CASH_SALE,
    INVOICE,
    CASH_REFUND,
    RETURN_AUTHORIZATION,
    CUSTOMER_DEPOSIT,
    CUSTOMER_PAYMENT,
    MAKE_DEPOSITS,
    SUITEANALYTICS_WORKBOOK,
)

# canonical record type -> the permission that governs it
RECORD_PERMISSIONS: dict[str, Permission] = {
    "customer": CUSTOMERS,
    # Every item type and tax codes: Lists -> Items (UNCONFIRMED for tax codes, which NetSuite may put under
    # Setup -> Tax Records).
    **{record_type: ITEMS for record_type in ALL_ITEM_TYPES},
    "location": LOCATIONS,
    "currency": CURRENCY,
    "salesOrder": SALES_ORDER,
    "itemFulfillment": ITEM_FULFILLMENT,
    "creditMemo": CREDIT_MEMO,
    "customerRefund": CUSTOMER_REFUND,
    "cashSale": CASH_SALE,
    "invoice": INVOICE,
    "cashRefund": CASH_REFUND,
    "returnAuthorization": RETURN_AUTHORIZATION,
    "customerDeposit": CUSTOMER_DEPOSIT,
    "customerPayment": CUSTOMER_PAYMENT,
    "deposit": MAKE_DEPOSITS,
}

# SuiteQL table (lowercase) -> the permissions reading it needs
TABLE_PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    "item": (ITEMS,),
    "customer": (CUSTOMERS,),
    "location": (LOCATIONS,),
    "transaction": (FIND_TRANSACTION,),
    "transactionline": (FIND_TRANSACTION,),
    "nexttransactionlinelink": (FIND_TRANSACTION,),
    "previoustransactionlinelink": (FIND_TRANSACTION,),
    "salestaxitem": (ITEMS,),
    "currency": (CURRENCY,),
    "inventoryitemlocations": (ITEMS, LOCATIONS),
}

_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_TABLE_REFERENCE = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def _lookup() -> dict[str, Permission]:
    keys: dict[str, Permission] = {}
    for permission in PERMISSIONS:
        for key in (permission.label, permission.name, permission.ui_path, permission.id):
            if key:
                keys[key.lower()] = permission
    return keys


_BY_KEY = _lookup()


def find_permission(key: str) -> Permission:
    """A permission by its id (`LIST_CUSTJOB`), name (`Customers`), label (`Customers (Lists)`) or UI path."""
    if not isinstance(key, str) or key.strip().lower() not in _BY_KEY:
        known = sorted(p.label for p in PERMISSIONS)
        raise ValueError(f"unknown permission {key!r}; one of {known} (or their ids)")
    return _BY_KEY[key.strip().lower()]


def parse_level(value: object) -> int:
    if not isinstance(value, str) or value.strip().upper() not in LEVELS:
        raise ValueError(f"unknown permission level {value!r}; one of {list(LEVELS)}")
    return LEVELS[value.strip().upper()]


def insufficient_permission(permission: Permission, *, held: int = 0) -> ApiError:
    if held > 0:
        detail = (
            f"Permission Violation: You need a higher level of the '{permission.ui_path}' permission to access "
            "this page. Please contact your account administrator."
        )
    else:
        detail = (
            f"Permission Violation: You need  the '{permission.ui_path}' permission to access this page. "
            "Please contact your account administrator."
        )
    return ApiError(403, "INSUFFICIENT_PERMISSION", detail)


def suiteql_tables(query: str) -> list[str]:
    """The table names after FROM and JOIN, outside quoted text, lowercased, in order, each once."""
    unquoted = _QUOTED.sub(" ", query)
    tables: list[str] = []
    for match in _TABLE_REFERENCE.finditer(unquoted):
        name = match.group(1).lower()
        if name not in tables:
            tables.append(name)
    return tables


class Role:
    """The permissions of the role behind every token the simulator accepts. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._levels: dict[Permission, int] = {}
        self.restore()

    def restore(self) -> None:
        """Every permission back at Full."""
        with self._lock:
            self._levels = dict.fromkeys(PERMISSIONS, FULL)

    def change(self, *, revoke: list[str] | None = None, levels: dict[str, str] | None = None) -> None:
        """Take permissions away (`revoke`: ids or names) and/or set levels; all validated before any applies."""
        if revoke is not None and not isinstance(revoke, list):
            raise ValueError('revoke must be a list of permission names or ids, e.g. ["LIST_CUSTJOB"]')
        if levels is not None and not isinstance(levels, dict):
            raise ValueError('levels must be an object {permission: level}, e.g. {"Customers (Lists)": "VIEW"}')
        changes = {find_permission(key): 0 for key in revoke or []}
        changes.update({find_permission(key): parse_level(level) for key, level in (levels or {}).items()})
        with self._lock:
            self._levels.update(changes)

    def view(self) -> dict[str, dict[str, str | None]]:
        with self._lock:
            return {
                p.label: {"id": p.id, "level": LEVEL_NAMES[level], "tab": p.tab} for p, level in self._levels.items()
            }

    def level(self, permission: Permission) -> int:
        with self._lock:
            return self._levels.get(permission, 0)

    def require(self, permission: Permission, level: int) -> None:
        held = self.level(permission)
        if held < level:
            raise insufficient_permission(permission, held=held)

    def check_record(self, method: str, record_type: str, *, exists: bool | None = None) -> None:
        """The permission check of a record request (`exists`: for PUT, whether the upsert would update)."""
        permission = RECORD_PERMISSIONS.get(record_type)
        if permission is None:
            return
        if method == "GET":
            self.require(permission, VIEW)
            if is_transaction(record_type):
                self.require(FIND_TRANSACTION, VIEW)
        elif method == "POST":
            self.require(permission, CREATE)
        elif method == "PUT":
            self.require(permission, EDIT if exists else CREATE)
        elif method == "PATCH":
            self.require(permission, EDIT)
        elif method == "DELETE":
            self.require(permission, FULL)

    def check_transform(self, source_type: str, target_type: str) -> None:
        source = RECORD_PERMISSIONS.get(source_type)
        target = RECORD_PERMISSIONS.get(target_type)
        if source is not None:
            self.require(source, VIEW)
        if target is not None:
            self.require(target, CREATE)

    def check_suiteql(self, query: str) -> None:
        self.require(SUITEANALYTICS_WORKBOOK, VIEW)
        for table in suiteql_tables(query):
            for permission in TABLE_PERMISSIONS.get(table, ()):
                self.require(permission, VIEW)
