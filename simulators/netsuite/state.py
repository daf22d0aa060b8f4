"""In-memory state of the NetSuite simulator: records, sublists, inventory, SuiteQL mirror, stats, faults.

One re-entrant lock guards all of it. Every public method takes the lock for the whole operation, so that an
operation sees and leaves a consistent state (validation happens before any mutation: a rejected request
changes nothing, as in NetSuite). The server never sleeps while holding it.

SuiteQL read-after-write lag (`Settings.suiteql_lag_ms`): writes made through the REST API reach the SQLite
mirror only that long after they happen. Every mirror row write is queued under its row key with the time it
becomes visible; a query first applies, per row, the newest write that is due. So a record written less than
the lag ago is missing from SuiteQL (new) or shows its previous version (updated), while REST reads, which use
the records themselves, see it at once. Setup done through `/_sim` is visible immediately.
"""

from __future__ import annotations

import copy
import fnmatch
import heapq
import math
import random
import re
import sqlite3
import threading
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from simulators.clock import REAL_CLOCK, Clock
from simulators.netsuite import mirror
from simulators.netsuite.catalog import (
    ALL_ITEM_TYPES,
    BASE_CURRENCY_ID,
    DEFAULT_CURRENCIES,
    DISCOUNT_TYPE,
    FULFILLABLE_TYPES,
    INVENTORY_TYPE,
    ITEM_TYPES,
    TAX_CODE_TYPE,
    item_record_type,
)
from simulators.netsuite.payments import PAYMENT_TYPES, PaymentError, PaymentRules
from simulators.netsuite.payments import int_or_none as _int_or_none
from simulators.netsuite.totals import (
    COMPUTED_LINE_FIELDS,
    LEGACY_TAX_DETAIL,
    READ_ONLY_FIELDS,
    ItemInfo,
    TaxCode,
    Totals,
    TotalsError,
    compute,
    item_type_ref,
    refund_total,
)

# canonical type name -> (SuiteQL transaction.type, prefix of the generated tranId)
TRANSACTION_TYPES: dict[str, tuple[str, str]] = {
    "salesOrder": ("SalesOrd", "SO"),
    "itemFulfillment": ("ItemShip", "IF"),
    "cashSale": ("CashSale", "CS"),
    "invoice": ("CustInvc", "INV"),
    "creditMemo": ("CustCred", "CM"),
    "cashRefund": ("CashRfnd", "CR"),
    "customerRefund": ("CustRfnd", "CRF"),
    "returnAuthorization": ("RtnAuth", "RMA"),
    "customerDeposit": ("CustDep", "DEP"),
    "customerPayment": ("CustPymt", "PYMT"),
    "deposit": ("Deposit", "DP"),
}
RECORD_TYPES: tuple[str, ...] = (*TRANSACTION_TYPES, "customer", *ALL_ITEM_TYPES, "location", "currency")
# NetSuite matches record type names in the URL case-insensitively (`salesorder` works like `salesOrder`).
_CANONICAL_TYPES = {name.lower(): name for name in RECORD_TYPES}

# Catalog data that a reset keeps (see State.reset).
CATALOG_TYPES = (*ALL_ITEM_TYPES, "location", "currency")
# Transactions whose totals are computed from their lines (totals.py); a customerRefund's from its applied amounts.
TOTALLED_TYPES = ("salesOrder", "cashSale", "invoice", "creditMemo", "cashRefund", "returnAuthorization")
# Transactions that carry a currency and an exchange rate (pinned at creation).
CURRENCY_TYPES = (*TOTALLED_TYPES, "customerRefund", *PAYMENT_TYPES)
# Transactions whose `total` is a header amount (payments.py, totals.refund_total), not computed from item lines.
FIELD_TOTAL_TYPES = ("customerRefund", *PAYMENT_TYPES)
# What a create with `createdFrom` copies from, per target type (as the matching transform would).
_CREATED_FROM_SOURCES = {
    "cashSale": ("salesOrder",),
    "invoice": ("salesOrder",),
    "cashRefund": ("cashSale", "returnAuthorization"),
    "creditMemo": ("invoice", "returnAuthorization"),
}
# Computed by the simulator on these types; a client's value is dropped.
_COMPUTED_HEADER = ("status",)
# Header fields a transform carries from its source unless the body sets them (UNCONFIRMED for the money ones).
_TRANSFORM_HEADER = ("currency", "exchangeRate", "discountItem", "discountRate", "shippingCost", "handlingCost")

# Types whose creation needs a customer, as in NetSuite's "Please enter value(s) for: Customer".
_ENTITY_REQUIRED = ("salesOrder", "cashSale", "invoice", "creditMemo", "cashRefund", "returnAuthorization")
# Types whose added item lines must name an item. Fulfillment lines point at order lines instead.
_ITEM_REQUIRED_ON_LINES = _ENTITY_REQUIRED
# Record types NetSuite only creates by transforming another record.
_TRANSFORM_ONLY = ("itemFulfillment",)

TRANSFORMS: frozenset[tuple[str, str]] = frozenset(
    {
        ("salesOrder", "itemFulfillment"),
        ("salesOrder", "cashSale"),
        ("salesOrder", "invoice"),
        ("cashSale", "cashRefund"),
        ("cashSale", "returnAuthorization"),
        ("invoice", "creditMemo"),
        ("returnAuthorization", "cashRefund"),
        ("returnAuthorization", "creditMemo"),
    }
)

SUITEQL_ROW_CEILING = 100_000


def canonical_type(name: str) -> str | None:
    """The canonical record type name for a URL segment, or None if NetSuite has no such type here."""
    return _CANONICAL_TYPES.get(name.lower())


def is_transaction(record_type: str) -> bool:
    return record_type in TRANSACTION_TYPES


class ApiError(Exception):
    """A NetSuite error response: status, o:errorCode, detail and optional o:errorPath / o:errorQueryParam."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        path: str | None = None,
        query_param: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.path = path
        self.query_param = query_param


def _user_error(detail: str, path: str | None = None) -> ApiError:
    return ApiError(400, "USER_ERROR", detail, path=path)


def _not_found() -> ApiError:
    return ApiError(
        404,
        "NONEXISTENT_ID",
        "The record instance does not exist. Provide a valid record instance ID.",
        path="id",
    )


def _invalid_ref(value: Any, field_name: str, path: str) -> ApiError:
    shown = value.get("id", value.get("externalId")) if isinstance(value, dict) else value
    return ApiError(
        400,
        "INVALID_KEY_OR_REF",
        f"Invalid Field Value {shown} for the following field: {field_name}",
        path=path,
    )


@dataclass
class Record:
    id: int
    type: str
    fields: dict[str, Any]
    # Only transactions have the keyed `item` sublist; elsewhere `item` would be an ordinary field.
    lines: list[dict[str, Any]] | None = None
    # Line numbers are never reused, like NetSuite's, so a deleted line's number stays unknown.
    next_line: int = 1
    # Resolved internal ids of references (entity, createdFrom) for the SuiteQL mirror.
    refs: dict[str, Any] = field(default_factory=dict)
    # What totals.py computed at the last write (transactions with lines only).
    totals: Totals | None = None

    def snapshot(self) -> Record:
        return copy.deepcopy(self)

    def ref(self) -> RecordRef:
        return RecordRef(self.id, self.type)


@dataclass(frozen=True)
class RecordRef:
    """What a write answers with (NetSuite's 204 carries only the record's location): no copy of the record, whose
    deep copy was most of the simulator's CPU per write."""

    id: int
    type: str


@dataclass
class Fault:
    status: int = 503
    # Uses left; None = until cleared (rate faults) or until the burst window ends.
    count: int | None = 1
    match: str | None = None
    # "error": answer with `status`; "drop": close the connection before touching state;
    # "drop_after": apply the request, then close the connection instead of answering;
    # "slow": answer normally but `slow_ms` late, holding the concurrency slot meanwhile.
    mode: str = "error"
    delay_ms: int = 0
    # Fire on each matching request with this probability (None: on every matching request).
    error_rate: float | None = None
    # A 429 burst: fire on every matching request until this time of the simulator clock (epoch seconds).
    burst_until: float | None = None
    slow_ms: int = 0
    # For "slow": True = do the work, then hold the answer (the write lands even if the client gave up);
    # False = hold first, then do the work (the write lands after the client's timeout).
    apply_first: bool = True

    def matches(self, operation: str) -> bool:
        return self.match is None or fnmatch.fnmatchcase(operation, self.match)


LATENCY_DISTRIBUTIONS = ("uniform", "normal", "lognormal")


@dataclass
class Settings:
    latency_ms: int = 0
    latency_jitter_ms: int = 0
    concurrency_limit: int = 15
    verify_auth: bool = True
    # uniform: latency_ms +/- jitter; normal: mean latency_ms, sd jitter, clipped at 0;
    # lognormal: a log-normal with mean latency_ms and sd jitter (a long right tail, like real traffic).
    latency_distribution: str = "uniform"
    # Slots of the concurrency cap permanently taken by a simulated other integration.
    held_slots: int = 0
    suiteql_lag_ms: int = 0
    # A background failure rate on every /services/rest call (the CLI's --error-rate), answered with error_status.
    error_rate: float = 0.0
    error_status: int = 503
    # The seed the random draws (latency, error rates) were last reset with; None = unseeded.
    seed: int | None = None
    oauth2_token_ttl_s: int = 3600
    # How long an async job stays "pending" before it runs.
    async_job_delay_ms: int = 0
    # How the account taxes (totals.py): "legacy" computes from tax codes and refuses tax details; "suitetax"
    # also takes Tax Details Override.
    tax_mode: str = "legacy"


def _decimal(value: Any, default: Decimal) -> Decimal:
    if value is None or isinstance(value, bool):
        return default
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return default


def _plain_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _line_number(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise _user_error(f"Invalid line number {value!r}.", path)
    try:
        return int(str(value))
    except ValueError:
        raise _user_error(f"Invalid line number {value!r}.", path) from None


def _ref_key(value: Any) -> tuple[str, str] | None:
    """("id", "12") or ("externalId", "x") for a reference value, None if it names nothing."""
    if isinstance(value, dict):
        if value.get("id") not in (None, ""):
            return ("id", str(value["id"]))
        if value.get("externalId") not in (None, ""):
            return ("externalId", str(value["externalId"]))
        return None
    # Oracle's own examples send some references bare (`"location": 6`), so a bare value is an internal id.
    if isinstance(value, (int, str)) and not isinstance(value, bool) and str(value) != "":
        return ("id", str(value))
    return None


_READ_ONLY_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        getattr(sqlite3, "SQLITE_RECURSIVE", -1),
    }
)


def _read_only_authorizer(action: int, *_args: Any) -> int:
    # SuiteQL is read-only; without this a query could alter the mirror the simulator relies on.
    return sqlite3.SQLITE_OK if action in _READ_ONLY_ACTIONS else sqlite3.SQLITE_DENY


_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_LIMIT = re.compile(r"\bLIMIT\b", re.IGNORECASE)
_OFFSET_FETCH = re.compile(r"\bOFFSET\s+(\d+)\s+ROWS?\s+FETCH\s+(?:FIRST|NEXT)\s+(\d+)\s+ROWS?\s+ONLY\b", re.IGNORECASE)
_OFFSET_ONLY = re.compile(r"\bOFFSET\s+(\d+)\s+ROWS?\b", re.IGNORECASE)
_FETCH = re.compile(r"\bFETCH\s+(?:FIRST|NEXT)\s+(\d+)\s+ROWS?\s+ONLY\b", re.IGNORECASE)
# `transaction` is a keyword in SQLite but an ordinary table name in SuiteQL.
_TRANSACTION_WORD = re.compile(r"\btransaction\b", re.IGNORECASE)


def suiteql_error(message: str) -> ApiError:
    # The code and the detail's prefix are what NetSuite answers for a query it cannot run, as far as
    # public reports show (API_FACTS is silent); a client must treat it as a permanent 400 either way.
    return ApiError(
        400,
        "INVALID_PARAMETER",
        "Invalid search query. Detailed unprocessed description follows. Search error occurred: " + message,
        query_param="q",
    )


def translate_suiteql(query: str) -> str:
    """Rewrite the Oracle-flavoured bits of SuiteQL that SQLite spells differently, outside quoted text."""
    pieces: list[str] = []
    position = 0
    for quoted in _QUOTED.finditer(query):
        pieces.append(_translate_unquoted(query[position : quoted.start()]))
        pieces.append(quoted.group(0))
        position = quoted.end()
    pieces.append(_translate_unquoted(query[position:]))
    return "".join(pieces)


def _translate_unquoted(text: str) -> str:
    if _LIMIT.search(text):
        # NetSuite rejects LIMIT; accepting it here would hide a client bug until production.
        raise suiteql_error("LIMIT is not supported; use FETCH FIRST n ROWS ONLY")
    text = _OFFSET_FETCH.sub(lambda m: f"LIMIT {m.group(2)} OFFSET {m.group(1)}", text)
    text = _OFFSET_ONLY.sub(lambda m: f"LIMIT -1 OFFSET {m.group(1)}", text)
    text = _FETCH.sub(lambda m: f"LIMIT {m.group(1)}", text)
    return _TRANSACTION_WORD.sub('"transaction"', text)


def _nvl(value: Any, fallback: Any) -> Any:
    return fallback if value is None else value


class State(PaymentRules):
    """All simulator state behind one lock. Methods return deep copies, never live objects."""

    def __init__(
        self,
        *,
        settings: Settings,
        seed_items: list[tuple[str, str]] | None = None,
        seed_locations: list[str] | None = None,
        seed_quantity: int = 0,
        clock: Clock = REAL_CLOCK,
    ) -> None:
        self._clock = clock
        self.lock = threading.RLock()
        self._settings = settings
        self._records: dict[str, dict[int, Record]] = {t: {} for t in RECORD_TYPES}
        self._external_ids: dict[str, dict[str, int]] = {t: {} for t in RECORD_TYPES}
        # One counter for the whole account, so internal ids are unique across types.
        self._next_id = 1
        self._inventory: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
        self._nonces: set[tuple[str, str]] = set()
        self._nonce_expiry: list[tuple[int, tuple[str, str]]] = []
        self._faults: list[Fault] = []
        # Payment bookkeeping (payments.py): receipt -> its deposit; invoice -> {payment: amount applied}.
        self._deposit_of: dict[int, int] = {}
        self._applied: dict[int, dict[int, Decimal]] = {}
        self._deposit_receipts: dict[int, set[int]] = {}
        self._payment_invoices: dict[int, set[int]] = {}
        self.random = random.Random(settings.seed)
        # Row key -> queued mirror writes [(visible_at monotonic, statements)], oldest first.
        self._pending_mirror: dict[tuple[Any, ...], list[tuple[float, list[mirror.Statement]]]] = {}
        self._write_lag_s = 0.0
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(mirror.SCHEMA)
        self._db.create_function("NVL", 2, _nvl)
        self._reset_stats()
        with self.lock:
            for currency in DEFAULT_CURRENCIES:
                # Fixed ids outside the account-wide counter (catalog.py), so location and item ids stay as before.
                fields = {
                    "symbol": currency.symbol,
                    "name": currency.name,
                    "exchangeRate": _plain_number(currency.exchange_rate),
                    "isBaseCurrency": currency.id == BASE_CURRENCY_ID,
                }
                self._store(Record(id=currency.id, type="currency", fields=fields))
            for name in seed_locations or []:
                self._create_catalog("location", {"name": name})
            self._add_items(
                [{"itemid": itemid, "displayname": name} for itemid, name in seed_items or []],
                default_quantity=seed_quantity,
            )

    # settings, stats, concurrency

    def settings(self) -> Settings:
        with self.lock:
            return copy.copy(self._settings)

    def update_settings(self, changes: dict[str, Any]) -> Settings:
        with self.lock:
            for name, value in changes.items():
                setattr(self._settings, name, value)
            if "seed" in changes:
                # Re-posting the same seed restarts the same sequence of draws, for repeatable runs.
                self.random = random.Random(changes["seed"])
            return copy.copy(self._settings)

    def _reset_stats(self) -> None:
        self._in_flight = 0
        self._peak = 0
        self._peak_total = 0
        self._requests_total = 0
        self._rejections = {"concurrency": 0, "auth": 0, "fault": 0}
        self._calls: Counter[str] = Counter()
        # The same calls by the client's address (which machine sent them: several hosts share one simulator).
        self._calls_by_client: dict[str, Counter[str]] = {}
        self._calls_ok = 0
        self._slow_responses = 0
        self._tokens_issued = 0
        # Service times (ms) of the most recent accepted requests, for the percentiles.
        self._latencies: deque[float] = deque(maxlen=10_000)

    def begin_request(self) -> bool:
        """Take a concurrency slot; False (and a counted rejection) when the account's pool is full."""
        with self.lock:
            self._requests_total += 1
            held = self._settings.held_slots
            if self._in_flight + held >= self._settings.concurrency_limit:
                self._rejections["concurrency"] += 1
                return False
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            self._peak_total = max(self._peak_total, self._in_flight + held)
            return True

    def end_request(self, elapsed_s: float | None = None, ok: bool = False) -> None:
        with self.lock:
            self._in_flight -= 1
            self._record_outcome(elapsed_s, ok)

    def _record_outcome(self, elapsed_s: float | None, ok: bool) -> None:
        if elapsed_s is not None:
            self._latencies.append(elapsed_s * 1000)
        if ok:
            self._calls_ok += 1

    def note_token_request(self) -> None:
        """The token endpoint takes no concurrency slot but is a request and an operation all the same."""
        with self.lock:
            self._requests_total += 1
            self._calls["POST oauth2/token"] += 1

    def end_token_request(self, elapsed_s: float, issued: bool) -> None:
        with self.lock:
            self._record_outcome(elapsed_s, issued)
            if issued:
                self._tokens_issued += 1

    def draw_latency_ms(self) -> float:
        """One draw of the configured latency distribution, in milliseconds (never negative)."""
        with self.lock:
            settings = self._settings
            mean = float(settings.latency_ms)
            spread = float(settings.latency_jitter_ms)
            if spread <= 0:
                return max(0.0, mean)
            if settings.latency_distribution == "normal":
                value = self.random.gauss(mean, spread)
            elif settings.latency_distribution == "lognormal":
                if mean <= 0:
                    return 0.0
                # Parameters of the underlying normal that give this mean and standard deviation.
                sigma2 = math.log(1 + (spread / mean) ** 2)
                value = self.random.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))
            else:
                value = mean + self.random.uniform(-spread, spread)
            return max(0.0, value)

    def note_auth_rejection(self) -> None:
        with self.lock:
            self._rejections["auth"] += 1

    def note_call(self, operation: str, client: str | None = None) -> None:
        with self.lock:
            self._calls[operation] += 1
            if client:
                self._calls_by_client.setdefault(client, Counter())[operation] += 1

    def remember_nonce(self, token: str, nonce: str, timestamp: int, now: int, window: int) -> bool:
        """Record a nonce; False if this token already used it while its timestamp is still acceptable."""
        with self.lock:
            while self._nonce_expiry and self._nonce_expiry[0][0] < now:
                _, expired = heapq.heappop(self._nonce_expiry)
                self._nonces.discard(expired)
            key = (token, nonce)
            if key in self._nonces:
                return False
            self._nonces.add(key)
            # Past timestamp + window the timestamp check rejects the request anyway.
            heapq.heappush(self._nonce_expiry, (timestamp + window, key))
            return True

    def stats(self) -> dict[str, Any]:
        with self.lock:
            latencies = sorted(self._latencies)
            return {
                "records_by_type": {t: len(self._records[t]) for t in RECORD_TYPES},
                "calls_by_operation": dict(self._calls),
                "calls_by_client": {addr: dict(calls) for addr, calls in self._calls_by_client.items()},
                # Ours only: the held slots of the simulated other integration are in peak_total.
                "peak_concurrency": self._peak,
                "peak_total": self._peak_total,
                "held_slots": self._settings.held_slots,
                "in_flight": self._in_flight,
                "rejections": dict(self._rejections),
                "requests_total": self._requests_total,
                "calls_total_ok": self._calls_ok,
                "slow_responses": self._slow_responses,
                "oauth2_tokens_issued": self._tokens_issued,
                "latency_ms_p50": _percentile(latencies, 50),
                "latency_ms_p99": _percentile(latencies, 99),
            }

    # faults

    def add_fault(self, fault: Fault) -> list[dict[str, Any]]:
        with self.lock:
            self._faults.append(fault)
            return [asdict(f) for f in self._faults]

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self.lock:
            return [asdict(f) for f in self._faults]

    def take_fault(self, operation: str, *, explicit_only: bool = False) -> Fault | None:
        """Consume one use of the first fault that fires for the operation, then try the background
        error rate. `explicit_only` skips faults without a `match` (and the background rate): used for
        the token endpoint, so that a catch-all fault meant for record calls is not spent on it."""
        with self.lock:
            now = self._clock.time()
            self._faults = [f for f in self._faults if f.burst_until is None or f.burst_until > now]
            for fault in self._faults:
                if explicit_only and fault.match is None:
                    continue
                if not fault.matches(operation) or (fault.count is not None and fault.count <= 0):
                    continue
                if fault.error_rate is not None and self.random.random() >= fault.error_rate:
                    continue
                fired = copy.copy(fault)
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                if fault.mode == "slow":
                    self._slow_responses += 1
                else:
                    self._rejections["fault"] += 1
                return fired
            rate = self._settings.error_rate
            if not explicit_only and rate > 0 and self.random.random() < rate:
                self._rejections["fault"] += 1
                return Fault(status=self._settings.error_status, count=None, error_rate=rate)
            return None

    # reset and catalog

    def reset(self, *, items: bool = False) -> None:
        """Forget records, stats, faults. Items and locations stay (they are the account's setup) unless
        `items`, which drops the items and their inventory. Ids keep counting so none is ever reused."""
        with self.lock:
            # Settle the mirror first, so no lagged write of a forgotten record surfaces later.
            self._apply_visible_writes(everything=True)
            keep = tuple(t for t in CATALOG_TYPES if t not in ALL_ITEM_TYPES) if items else CATALOG_TYPES
            for index in (self._deposit_of, self._applied, self._deposit_receipts, self._payment_invoices):
                index.clear()
            for record_type in RECORD_TYPES:
                if record_type in keep:
                    continue
                for record in list(self._records[record_type].values()):
                    self._remove(record)
            self._faults.clear()
            in_flight = self._in_flight
            self._reset_stats()
            # Requests still running when a test resets must still be able to give their slot back.
            self._in_flight = in_flight

    def seed_inventory(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Bulk seeding for benchmarks: `items` inventory items named `sku_prefix` + a zero-padded number, stocked
        with `available` at each of `location_ids` (created if missing), written to the SuiteQL mirror in
        batches. `quantities` overrides single levels: {"<sku>@<location id>": n}. Per-item paths (add_items)
        look items up one by one, which is quadratic at this size."""
        count = int(spec.get("items", 0))
        prefix = str(spec.get("sku_prefix", "SKU-"))
        width = int(spec.get("sku_width", 6))
        available = int(spec.get("available", 10))
        overrides = {str(k): int(v) for k, v in (spec.get("quantities") or {}).items()}
        with self.lock:
            location_ids = []
            for raw in spec.get("location_ids") or [1]:
                location_id = int(raw)
                if location_id not in self._records["location"]:
                    record = Record(id=location_id, type="location", fields={"name": f"Location {location_id}"})
                    self._records["location"][location_id] = record
                    self._next_id = max(self._next_id, location_id + 1)
                    self._db.execute(
                        "INSERT OR REPLACE INTO location VALUES (?, ?, ?, ?)",
                        (location_id, record.fields["name"], None, "F"),
                    )
                location_ids.append(location_id)
            changed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            item_rows, level_rows = [], []
            first_id = self._next_id
            for n in range(1, count + 1):
                item_id = self._allocate_id()
                sku = f"{prefix}{n:0{width}d}"
                self._records["inventoryItem"][item_id] = Record(
                    id=item_id, type="inventoryItem", fields={"itemId": sku, "displayName": sku}
                )
                item_rows.append((item_id, sku, sku, None, "F", "InvtPart"))
                for location_id in location_ids:
                    quantity = overrides.get(f"{sku}@{location_id}", available)
                    self._inventory[(item_id, location_id)] = (Decimal(quantity), Decimal(quantity))
                    level_rows.append((item_id, location_id, str(quantity), str(quantity), changed))
            self._db.executemany("INSERT OR REPLACE INTO item VALUES (?, ?, ?, ?, ?, ?)", item_rows)
            self._db.executemany("INSERT OR REPLACE INTO InventoryItemLocations VALUES (?, ?, ?, ?, ?)", level_rows)
            return {"items": count, "levels": len(level_rows), "first_item_id": first_id, "location_ids": location_ids}

    def add_items(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            return self._add_items(entries, default_quantity=0)

    def _add_items(self, entries: list[dict[str, Any]], default_quantity: int) -> list[dict[str, Any]]:
        """Seed or update items by `itemid`: {"itemid", "displayname"?, "type"? (catalog.py; inventoryItem by
        default), "rate"? (a price, a discount's amount or "-10%", a tax code's percent), "istaxable"?,
        "ispretax"? (a discount item only: NetSuite's "Apply Before Sales Tax"), "externalid"?, and for inventory
        items "quantityonhand"?, "quantityavailable"?, "location"?}."""
        checked = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not entry.get("itemid"):
                raise _user_error(f"items[{index}] needs an itemid")
            try:
                record_type = item_record_type(entry.get("type", entry.get("itemtype", INVENTORY_TYPE)))
            except ValueError as exc:
                raise _user_error(f"items[{index}]: {exc}") from None
            existing = self._find_item_by_itemid(str(entry["itemid"]))
            if existing is not None and existing.type != record_type:
                raise _user_error(f"items[{index}]: {entry['itemid']} already exists as a {existing.type}")
            if record_type == TAX_CODE_TYPE and existing is None and entry.get("rate") is None:
                raise _user_error(f"items[{index}]: a salesTaxItem needs a rate (percent)")
            if entry.get("rate") is not None:
                _check_rate(entry["rate"], record_type, f"items[{index}].rate")
            if "ispretax" in entry and record_type != DISCOUNT_TYPE:
                raise _user_error(f"items[{index}]: only a discount item is applied before sales tax (ispretax)")
            inventory_keys = {"quantityonhand", "quantityavailable", "location"} & set(entry)
            if inventory_keys and record_type != INVENTORY_TYPE:
                raise _user_error(f"items[{index}]: only inventory items carry inventory ({sorted(inventory_keys)})")
            if "location" in entry and _int_or_none(entry["location"]) not in self._records["location"]:
                raise _user_error(f"items[{index}]: no location {entry['location']}")
            checked.append((entry, record_type, existing))
        added = []
        for entry, record_type, existing in checked:
            itemid = str(entry["itemid"])
            if existing is None:
                body: dict[str, Any] = {"itemId": itemid, "displayName": entry.get("displayname", itemid)}
                eid = entry.get("externalid", entry.get("externalId"))
                if eid:
                    body["externalId"] = str(eid)
                body.update(_item_extras(entry))
                record = self._create_catalog(record_type, body)
            else:
                record = existing
                if "displayname" in entry:
                    record.fields["displayName"] = entry["displayname"]
                record.fields.update(_item_extras(entry))
                self._mirror(record)
            if record_type == INVENTORY_TYPE:
                quantity = entry.get("quantityonhand", default_quantity if existing is None else None)
                if quantity is not None:
                    available = entry.get("quantityavailable", quantity)
                    locations = [entry["location"]] if "location" in entry else list(self._records["location"])
                    for location in locations:
                        self._set_inventory(record.id, int(location), quantity, available)
            added.append(item_entry(record))
        return added

    def set_inventory(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Set quantities: [{"item": id or itemid, "location": id, "quantityonhand", "quantityavailable"}]."""
        with self.lock:
            resolved = []
            for index, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise _user_error(f"inventory[{index}] must be an object")
                item = self._find_item_by_itemid(str(entry.get("item")))
                if item is None:
                    item = self._records[INVENTORY_TYPE].get(_int_or_none(entry.get("item")) or -1)
                location = self._records["location"].get(_int_or_none(entry.get("location")) or -1)
                if item is None or location is None:
                    raise _user_error(f"inventory[{index}]: unknown item or location")
                if item.type != INVENTORY_TYPE:
                    raise _user_error(f"inventory[{index}]: a {item.type} carries no inventory")
                on_hand = entry.get("quantityonhand", 0)
                resolved.append((item.id, location.id, on_hand, entry.get("quantityavailable", on_hand)))
            for item_id, location_id, on_hand, available in resolved:
                self._set_inventory(item_id, location_id, on_hand, available)
            return [
                {"item": str(i), "location": str(loc), "quantityonhand": str(q), "quantityavailable": str(a)}
                for (i, loc), (q, a) in sorted(self._inventory.items())
            ]

    def list_items(self) -> list[dict[str, Any]]:
        """Every item and tax code, by id, as `/_sim/items` shows them."""
        with self.lock:
            records = [r for t in ALL_ITEM_TYPES for r in self._records[t].values()]
            return [item_entry(r) for r in sorted(records, key=lambda r: r.id)]

    def _find_item_by_itemid(self, itemid: str) -> Record | None:
        # Item names are unique across item types in NetSuite, tax codes included.
        for record_type in ALL_ITEM_TYPES:
            for record in self._records[record_type].values():
                if record.fields.get("itemId") == itemid:
                    return record
        return None

    # currencies

    def list_currencies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [_currency_entry(r) for _, r in sorted(self._records["currency"].items())]

    def set_currencies(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add or change currencies by ISO `symbol`: [{"symbol", "name"?, "exchangerate"?}]; a new one gets the
        next free currency id (currency ids are their own sequence, see catalog.py)."""
        with self.lock:
            checked = []
            for index, entry in enumerate(entries):
                if not isinstance(entry, dict) or not isinstance(entry.get("symbol"), str) or not entry["symbol"]:
                    raise _user_error(f"currencies[{index}] needs a symbol (an ISO code such as EUR)")
                rate = entry.get("exchangerate", entry.get("exchangeRate"))
                if rate is not None:
                    _positive_rate(rate, f"currencies[{index}].exchangerate")
                checked.append((entry["symbol"].upper(), entry.get("name"), rate))
            for symbol, name, rate in checked:
                record = next((r for r in self._records["currency"].values() if r.fields["symbol"] == symbol), None)
                if record is None:
                    fields = {"symbol": symbol, "name": name or symbol, "exchangeRate": 1, "isBaseCurrency": False}
                    record = Record(id=max(self._records["currency"], default=0) + 1, type="currency", fields=fields)
                elif name:
                    record.fields["name"] = name
                if rate is not None:
                    record.fields["exchangeRate"] = _plain_number(_positive_rate(rate, "exchangerate"))
                self._store(record)
            return [_currency_entry(r) for _, r in sorted(self._records["currency"].items())]

    def _set_inventory(self, item_id: int, location_id: int, on_hand: Any, available: Any) -> None:
        pair = (_decimal(on_hand, Decimal(0)), _decimal(available, Decimal(0)))
        self._inventory[(item_id, location_id)] = pair
        # When the quantity last changed, for readers that page "what changed since my watermark". The column
        # name is UNCONFIRMED for NetSuite's InventoryItemLocations (API_FACTS lists "item, location,
        # quantityonhand, quantityavailable, ..."); ISO-8601 UTC text compares correctly as a string.
        changed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self._db_write(
            ("InventoryItemLocations", item_id, location_id),
            "INSERT OR REPLACE INTO InventoryItemLocations VALUES (?, ?, ?, ?, ?)",
            (item_id, location_id, str(pair[0]), str(pair[1]), changed),
        )

    def _create_catalog(self, record_type: str, body: dict[str, Any]) -> Record:
        record = Record(id=self._allocate_id(), type=record_type, fields=dict(body))
        self._store(record)
        return record

    # record access

    def _allocate_id(self) -> int:
        new_id = self._next_id
        self._next_id += 1
        return new_id

    def _find(self, record_type: str, key: str) -> Record:
        table = self._records[record_type]
        if key.startswith("eid:"):
            internal = self._external_ids[record_type].get(key[4:])
        else:
            internal = _int_or_none(key)
        record = table.get(internal) if internal is not None else None
        if record is None:
            raise _not_found()
        return record

    def get(self, record_type: str, key: str) -> Record:
        with self.lock:
            return self._find(record_type, key).snapshot()

    def list_records(self, record_type: str) -> list[Record]:
        with self.lock:
            return [r.snapshot() for _, r in sorted(self._records[record_type].items())]

    def delete(self, record_type: str, key: str) -> None:
        with self.lock, self._api_write():
            record = self._find(record_type, key)
            try:
                self.check_removable(record)
            except PaymentError as exc:
                raise ApiError(400, exc.code, exc.detail, path=exc.path) from None
            self._remove(record)

    def _store(self, record: Record) -> None:
        self._records[record.type][record.id] = record
        eid = record.fields.get("externalId")
        if eid is not None:
            self._external_ids[record.type][str(eid)] = record.id
        self._mirror(record)
        if record.type in ("deposit", "customerPayment"):
            self.link_payments(record)
        if record.type == "inventoryItem":
            for location_id in self._records["location"]:
                if (record.id, location_id) not in self._inventory:
                    self._set_inventory(record.id, location_id, 0, 0)
        elif record.type == "location":
            for item_id in self._records["inventoryItem"]:
                if (item_id, record.id) not in self._inventory:
                    self._set_inventory(item_id, record.id, 0, 0)

    def _remove(self, record: Record) -> None:
        del self._records[record.type][record.id]
        eid = record.fields.get("externalId")
        if eid is not None:
            self._external_ids[record.type].pop(str(eid), None)
        self._unmirror(record)
        if record.type in ("deposit", "customerPayment"):
            self.link_payments(record, removed=True)

    # writes

    def create(self, record_type: str, body: dict[str, Any]) -> RecordRef:
        with self.lock, self._api_write():
            if record_type in _TRANSFORM_ONLY:
                raise _user_error(
                    f"A {record_type} record can only be created by transforming its source transaction "
                    f"(POST record/v1/salesOrder/<id>/!transform/{record_type})."
                )
            return self._create(record_type, body, external_id=None).ref()

    def upsert(self, record_type: str, external_id: str, body: dict[str, Any], replace: set[str]) -> RecordRef:
        with self.lock, self._api_write():
            if "id" in body:
                raise _user_error(
                    "Internal ids are not allowed in the body of an upsert; identify the record by its "
                    "external id in the URL only.",
                    path="id",
                )
            existing_id = self._external_ids[record_type].get(external_id)
            if existing_id is None:
                if record_type in _TRANSFORM_ONLY:
                    raise _user_error(
                        f"A {record_type} record can only be created by transforming its source transaction."
                    )
                return self._create(record_type, body, external_id=external_id).ref()
            record = self._records[record_type][existing_id]
            return self._update(record, body, replace, path_external_id=external_id).ref()

    def update(self, record_type: str, key: str, body: dict[str, Any], replace: set[str]) -> RecordRef:
        with self.lock, self._api_write():
            record = self._find(record_type, key)
            path_eid = key[4:] if key.startswith("eid:") else None
            return self._update(record, body, replace, path_external_id=path_eid).ref()

    def _create(self, record_type: str, body: dict[str, Any], external_id: str | None) -> Record:
        fields = {k: v for k, v in body.items() if k != "id"}  # NetSuite assigns internal ids itself
        if external_id is not None:
            given = fields.get("externalId")
            if given is not None and str(given) != external_id:
                raise _user_error("The externalId in the body differs from the one in the URL.", "externalId")
            fields["externalId"] = external_id
        self._check_external_id(record_type, fields.get("externalId"), own_id=None)
        self._check_tax_body(record_type, fields)
        for name in _COMPUTED_HEADER:
            fields.pop(name, None)
        source = self._created_from(record_type, fields)
        record = Record(id=-1, type=record_type, fields=fields)
        if record_type in CURRENCY_TYPES:
            for name in READ_ONLY_FIELDS:
                # Computed by NetSuite; a client's value is ignored (UNCONFIRMED: ignored rather than refused).
                fields.pop(name, None)
            self._pin_currency(fields)
        if is_transaction(record_type):
            incoming = self._take_lines(fields)
            if source is not None:
                incoming = self._copied_lines(source, incoming)
            if record_type in _ENTITY_REQUIRED and fields.get("entity") is None:
                raise _user_error("Please enter value(s) for: Customer", "entity")
            if record_type in _ITEM_REQUIRED_ON_LINES and not incoming:
                raise _user_error("You must enter at least one line item for this transaction.", "item")
            self._validate_lines(record_type, incoming, added=set(range(len(incoming))))
            record.lines = [self._new_line(raw, number) for number, raw in enumerate(incoming, start=1)]
            record.next_line = len(incoming) + 1
        elif record_type in ALL_ITEM_TYPES and not fields.get("itemId"):
            raise _user_error("Please enter value(s) for: Item Name/Number", "itemId")
        elif record_type in ALL_ITEM_TYPES and self._find_item_by_itemid(str(fields["itemId"])) is not None:
            # UNCONFIRMED code; NetSuite refuses a second item of the same name.
            raise _user_error(f"An item with the name {fields['itemId']} already exists.", "itemId")
        if record_type == TAX_CODE_TYPE:
            _positive_rate(fields.get("rate"), "rate", allow_zero=True)
        self._resolve_header_refs(record)
        self._apply_totals(record)
        record.id = self._allocate_id()
        if is_transaction(record_type):
            fields.setdefault("tranId", f"{TRANSACTION_TYPES[record_type][1]}{record.id}")
        self._store(record)
        return record

    def _update(self, record: Record, body: dict[str, Any], replace: set[str], path_external_id: str | None) -> Record:
        fields = {k: v for k, v in body.items() if k != "id"}
        self._check_tax_body(record.type, fields)
        # Totals are computed, not taken; currency and exchange rate are pinned at creation: an update's values
        # are ignored (UNCONFIRMED: ignored rather than refused).
        ignored = (*READ_ONLY_FIELDS, "currency", "exchangeRate") if record.type in CURRENCY_TYPES else ()
        for name in (*ignored, *_COMPUTED_HEADER):
            fields.pop(name, None)
        if path_external_id is not None and "externalId" in fields:
            if str(fields["externalId"]) != path_external_id:
                raise _user_error("The externalId in the body differs from the one in the URL.", "externalId")
        if "externalId" in fields:
            self._check_external_id(record.type, fields["externalId"], own_id=record.id)
        self.merge_payment_sublists(record, fields, replace)
        new_lines = record.lines
        next_line = record.next_line
        if is_transaction(record.type) and ("item" in fields or "item" in replace):
            incoming = self._order_lines(record, self._take_lines(fields))
            new_lines, next_line, added = self._merge_lines(record, incoming, replace_all="item" in replace)
            self._validate_lines(record.type, incoming, added=added)
        candidate = Record(id=record.id, type=record.type, fields={**record.fields, **fields}, lines=new_lines, refs={})
        for name, value in fields.items():
            # A null clears the field, and NetSuite leaves empty fields out of what it returns.
            if value is None:
                candidate.fields.pop(name, None)
        self._resolve_header_refs(candidate)
        if new_lines is record.lines:
            # The totals are written onto the lines: work on copies until the whole update has passed.
            candidate.lines = copy.deepcopy(new_lines)
        self._apply_totals(candidate)
        try:
            self.check_deposited_unchanged(record, candidate)
        except PaymentError as exc:
            raise ApiError(400, exc.code, exc.detail, path=exc.path) from None
        new_lines = candidate.lines
        old_eid = record.fields.get("externalId")
        if old_eid is not None and candidate.fields.get("externalId") != old_eid:
            self._external_ids[record.type].pop(str(old_eid), None)
        record.fields = candidate.fields
        record.lines = new_lines
        record.next_line = next_line
        record.refs = candidate.refs
        record.totals = candidate.totals
        self._store(record)
        return record

    def _created_from(self, record_type: str, fields: dict[str, Any]) -> Record | None:
        """A new record made from another without a transform: a cash sale or invoice with `createdFrom` (its sales
        order; the transform's header copy, lines copied by the caller) or a customer deposit with `salesOrder` (its
        currency). The source of the lines, if any (payments.py)."""
        if record_type == "customerDeposit" and fields.get("salesOrder") is not None:
            order_id = self._resolve("salesOrder", fields["salesOrder"])
            if order_id is not None and fields.get("currency") is None:
                order = self._records["salesOrder"][order_id].fields
                fields["currency"] = copy.deepcopy(order.get("currency"))
                fields.setdefault("exchangeRate", order.get("exchangeRate"))
            return None
        sources = _CREATED_FROM_SOURCES.get(record_type)
        if sources is None or fields.get("createdFrom") is None:
            return None
        for source_type in sources:
            source_id = self._resolve(source_type, fields["createdFrom"])
            if source_id is not None:
                break
        else:
            raise _invalid_ref(fields["createdFrom"], "createdfrom", "createdFrom")
        source = self._records[source_type][source_id]
        fields["createdFrom"] = {"id": str(source.id)}
        if "entity" not in fields and "entity" in source.fields:
            fields["entity"] = copy.deepcopy(source.fields["entity"])
        for name in _TRANSFORM_HEADER:
            if name not in fields and name in source.fields:
                fields[name] = copy.deepcopy(source.fields[name])
        return source

    def _order_lines(self, record: Record, incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """On an update of a record made from another (a cash sale from its order), an added line naming `orderLine`
        takes that source line's fields, as it does at creation (UNCONFIRMED for updates)."""
        source_id = record.refs.get("createdFrom")
        source = next(
            (
                self._records[t][source_id]
                for t in _CREATED_FROM_SOURCES.get(record.type, ())
                if source_id in self._records[t]
            ),
            None,
        )
        if source is None:
            return incoming
        return [
            self._copied_lines(source, [raw])[0]
            if raw.get("line") is None and raw.get("orderLine") is not None
            else raw
            for raw in incoming
        ]

    def _check_external_id(self, record_type: str, external_id: Any, own_id: int | None) -> None:
        if external_id is None:
            return
        holder = self._external_ids[record_type].get(str(external_id))
        if holder is not None and holder != own_id:
            # NetSuite's code for this is not pinned down in API_FACTS; USER_ERROR keeps it a permanent 4xx.
            raise _user_error(
                f"A {record_type} record with external ID {external_id} already exists "
                f"(internal ID {holder}). External IDs must be unique per record type.",
                "externalId",
            )

    @staticmethod
    def _take_lines(fields: dict[str, Any]) -> list[dict[str, Any]]:
        """Pop the `item` sublist out of the body fields and return its lines."""
        sublist = fields.pop("item", None)
        if sublist is None:
            return []
        if not isinstance(sublist, dict) or not isinstance(sublist.get("items", []), list):
            raise _user_error('The item sublist must be given as {"items": [...]}.', "item")
        lines = sublist.get("items", [])
        for index, line in enumerate(lines):
            if not isinstance(line, dict):
                raise _user_error("Each item line must be an object.", f"item.items[{index}]")
        return lines

    @staticmethod
    def _new_line(raw: dict[str, Any], number: int) -> dict[str, Any]:
        line = {k: copy.deepcopy(v) for k, v in raw.items() if k != "line"}
        line["line"] = number
        return line

    def _merge_lines(
        self, record: Record, incoming: list[dict[str, Any]], replace_all: bool
    ) -> tuple[list[dict[str, Any]], int, set[int]]:
        """NetSuite's sublist update: keyed lines update their line, unkeyed ones are ADDED; with
        replace, existing lines the request does not key are removed (a sales order's fulfilled line never is:
        the update is refused)."""
        existing = {line["line"]: line for line in record.lines or []}
        updated: dict[int, dict[str, Any]] = {}
        appended: list[dict[str, Any]] = []
        added_indexes: set[int] = set()
        next_line = record.next_line
        for index, raw in enumerate(incoming):
            if raw.get("line") is None:
                appended.append(self._new_line(raw, next_line))
                added_indexes.add(index)
                next_line += 1
                continue
            path = f"item.items[{index}].line"
            number = _line_number(raw["line"], path)
            if number not in existing:
                raise _user_error(f"Invalid line number {raw['line']}: the item sublist has no such line.", path)
            base = updated.get(number, existing[number])
            merged = {**base, **{k: copy.deepcopy(v) for k, v in raw.items() if k != "line"}}
            merged["line"] = number
            if "amount" not in raw and ("quantity" in raw or "rate" in raw):
                # A new quantity or rate without an amount recomputes the amount (totals.py); a line that had an
                # amount and no rate keeps its unit price. UNCONFIRMED, as NetSuite's UI recalculates.
                if merged.get("rate") is None and base.get("amount") is not None:
                    old_quantity = _decimal(base.get("quantity"), Decimal(1)) or Decimal(1)
                    merged["rate"] = _plain_number(_decimal(base["amount"], Decimal(0)) / old_quantity)
                merged.pop("amount", None)
            updated[number] = merged
        result = []
        shipped = self._shipped_quantities(record) if replace_all and record.type == "salesOrder" else Counter()
        for line in record.lines or []:
            if line["line"] in updated:
                result.append(updated[line["line"]])
            elif not replace_all:
                result.append(copy.deepcopy(line))
            elif shipped[line["line"]] > 0:
                # NetSuite keeps a fulfilled line: removing it is refused (UNCONFIRMED: the code and wording).
                raise _user_error(
                    f"Line {line['line']} has been fulfilled and cannot be removed from the sales order.", "item"
                )
        result.extend(appended)
        return result, next_line, added_indexes

    def _validate_lines(self, record_type: str, lines: list[dict[str, Any]], added: set[int]) -> None:
        for index, line in enumerate(lines):
            if "item" in line:
                if self._resolve_item(line["item"]) is None:
                    raise _invalid_ref(line["item"], "item", f"item.items[{index}].item")
            elif index in added and record_type in _ITEM_REQUIRED_ON_LINES:
                raise _user_error("Please enter value(s) for: Item", f"item.items[{index}].item")

    def _resolve(self, record_type: str, value: Any) -> int | None:
        key = _ref_key(value)
        if key is None:
            return None
        kind, text = key
        if kind == "externalId":
            return self._external_ids[record_type].get(text)
        internal = _int_or_none(text)
        return internal if internal in self._records[record_type] else None

    def _resolve_item(self, value: Any, types: tuple[str, ...] = tuple(ITEM_TYPES)) -> Record | None:
        """The item a line or header reference names, whatever its item type (one id space, catalog.py)."""
        key = _ref_key(value)
        if key is None:
            return None
        kind, text = key
        for record_type in types:
            if kind == "externalId":
                internal = self._external_ids[record_type].get(text)
            else:
                internal = _int_or_none(text)
            if internal in self._records[record_type]:
                return self._records[record_type][internal]
        return None

    def _item_info(self, value: Any) -> ItemInfo | None:
        record = self._resolve_item(value)
        if record is None:
            return None
        taxable = record.fields.get("isTaxable") is not False
        return ItemInfo(
            id=record.id,
            record_type=record.type,
            taxable=taxable,
            default_rate=record.fields.get("rate"),
            pre_tax=record.type == DISCOUNT_TYPE and record.fields.get("isPreTax") is True,
        )

    def _tax_code(self, value: Any) -> TaxCode | None:
        record = self._resolve_item(value, (TAX_CODE_TYPE,))
        if record is None:
            return None
        return TaxCode(id=record.id, rate=_decimal(record.fields.get("rate"), Decimal(0)))

    def _check_tax_body(self, record_type: str, body: dict[str, Any]) -> None:
        """In a legacy-tax account REST refuses tax details (API_FACTS "NetSuite tax through REST")."""
        if self._settings.tax_mode != "legacy" or not is_transaction(record_type):
            return
        for name in ("taxDetailsOverride", "taxDetails"):
            if name in body:
                # USER_ERROR is UNCONFIRMED; the detail is Oracle's sentence.
                raise _user_error(LEGACY_TAX_DETAIL, name)

    def _pin_currency(self, fields: dict[str, Any]) -> None:
        """A new transaction's currency (the base currency when none is given) and exchange rate (the currency's
        own when none is given). Both are pinned at creation: updates drop them (state._update)."""
        if fields.get("currency") is None:
            fields["currency"] = {"id": str(BASE_CURRENCY_ID)}
        currency = self._resolve("currency", fields["currency"])
        if currency is None:
            raise _invalid_ref(fields["currency"], "currency", "currency")
        if fields.get("exchangeRate") is None:
            fields["exchangeRate"] = self._records["currency"][currency].fields["exchangeRate"]
        else:
            fields["exchangeRate"] = _plain_number(_positive_rate(fields["exchangeRate"], "exchangeRate"))

    def _apply_totals(self, record: Record) -> None:
        """Compute the record's totals (totals.py) and write them onto it: header totals and computed line fields.
        Raises before changing anything when the lines or header do not add up to a valid transaction."""
        if record.type in PAYMENT_TYPES or record.type == "customerRefund":
            try:
                if record.type == "customerRefund":
                    self.check_refund_deposits(record)
                    record.fields["total"] = _plain_number(refund_total(record.fields))
                else:
                    self.payment_totals(record)
            except (TotalsError, PaymentError) as exc:
                raise ApiError(400, exc.code, exc.detail, path=exc.path) from None
            return
        if record.type not in TOTALLED_TYPES:
            return
        lines = record.lines or []
        mode = self._settings.tax_mode
        try:
            totals = compute(lines, record.fields, item_info=self._item_info, tax_code=self._tax_code, tax_mode=mode)
        except TotalsError as exc:
            raise ApiError(400, exc.code, exc.detail, path=exc.path) from None
        for line, entry in zip(lines, totals.lines, strict=True):
            for name in COMPUTED_LINE_FIELDS:
                line.pop(name, None)
            line["amount"] = _plain_number(entry.amount)
            type_ref = item_type_ref(entry.item)
            if type_ref is not None:
                line["itemType"] = type_ref
            if mode == "suitetax":
                line["taxAmount"] = _plain_number(entry.tax)
            elif entry.tax_rate is not None:
                line["taxRate1"] = _plain_number(entry.tax_rate)
                line["tax1Amt"] = _plain_number(entry.tax)
        fields = record.fields
        fields["subtotal"] = _plain_number(totals.subtotal)
        fields["discountTotal"] = _plain_number(totals.discount_total)
        fields["taxTotal"] = _plain_number(totals.tax_total)
        fields["total"] = _plain_number(totals.total)
        record.totals = totals

    def _resolve_header_refs(self, record: Record) -> None:
        # Other reference fields (location, subsidiary, ...) are kept unchecked on purpose: light validation.
        if is_transaction(record.type) and record.fields.get("entity") is not None:
            entity = self._resolve("customer", record.fields["entity"])
            if entity is None:
                raise _invalid_ref(record.fields["entity"], "entity", "entity")
            record.refs["entity"] = entity
        created_from = _ref_key(record.fields.get("createdFrom"))
        if created_from is not None:
            record.refs["createdFrom"] = _int_or_none(created_from[1])

    # transforms

    def transform(self, source_type: str, key: str, target_type: str, body: dict[str, Any]) -> RecordRef:
        with self.lock, self._api_write():
            if (source_type, target_type) not in TRANSFORMS:
                # NetSuite's exact code for an unsupported transformation is not in API_FACTS.
                raise _user_error(f"Transforming a {source_type} into a {target_type} is not supported.")
            source = self._find(source_type, key)
            fields = {k: v for k, v in body.items() if k != "id"}
            self._check_tax_body(target_type, fields)
            if target_type in CURRENCY_TYPES:
                for name in READ_ONLY_FIELDS:
                    fields.pop(name, None)
            incoming = self._take_lines(fields)
            if target_type == "itemFulfillment":
                lines = self._fulfillment_lines(source, incoming)
            else:
                lines = self._copied_lines(source, incoming)
            self._check_external_id(target_type, fields.get("externalId"), own_id=None)
            self._validate_lines(target_type, lines, added=set(range(len(lines))))
            if "entity" not in fields and "entity" in source.fields:
                fields["entity"] = copy.deepcopy(source.fields["entity"])
            fields["createdFrom"] = {"id": str(source.id)}
            if target_type in CURRENCY_TYPES:
                for name in _TRANSFORM_HEADER:
                    if name not in fields and name in source.fields:
                        fields[name] = copy.deepcopy(source.fields[name])
                self._pin_currency(fields)
            record = Record(id=-1, type=target_type, fields=fields)
            record.lines = [self._new_line(raw, number) for number, raw in enumerate(lines, start=1)]
            record.next_line = len(lines) + 1
            self._resolve_header_refs(record)
            self._apply_totals(record)
            record.id = self._allocate_id()
            fields.setdefault("tranId", f"{TRANSACTION_TYPES[target_type][1]}{record.id}")
            self._store(record)
            return record.ref()

    def _shipped_quantities(self, order: Record) -> Counter[int]:
        """What the order's item fulfillments have shipped, by order line."""
        shipped: Counter[int] = Counter()
        for fulfillment in self._records["itemFulfillment"].values():
            if fulfillment.refs.get("createdFrom") == order.id:
                for line in fulfillment.lines or []:
                    order_line = _int_or_none(line.get("orderLine"))
                    if order_line is not None:
                        shipped[order_line] += _decimal(line.get("quantity"), Decimal(0))
        return shipped

    def _fulfillment_lines(self, order: Record, incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A fulfillment starts from the order's open lines; body lines (by orderLine) adjust or, with
        itemReceive false, leave out a line; unmentioned open lines ship in full (API_FACTS)."""
        shipped = self._shipped_quantities(order)
        open_quantity: dict[int, Decimal] = {}
        for line in order.lines or []:
            item = self._resolve_item(line.get("item"))
            if item is not None and item.type not in FULFILLABLE_TYPES:
                continue  # discounts, charges, services and gift certificates are not shipped (catalog.py)
            remaining = _decimal(line.get("quantity"), Decimal(1)) - shipped[line["line"]]
            if remaining > 0:
                open_quantity[line["line"]] = remaining
        mentioned: dict[int, tuple[int, dict[str, Any]]] = {}
        for index, raw in enumerate(incoming):
            path = f"item.items[{index}].orderLine"
            if raw.get("orderLine") is None:
                raise _user_error("Each fulfillment line must name its orderLine.", path)
            number = _line_number(raw["orderLine"], path)
            if number not in open_quantity:
                raise _user_error(f"Order line {number} is not open for fulfillment.", path)
            mentioned[number] = (index, raw)
        lines = []
        for order_line in order.lines or []:
            number = order_line["line"]
            if number not in open_quantity:
                continue
            index, raw = mentioned.get(number, (-1, {}))
            receive = raw.get("itemReceive", raw.get("itemreceive", True))
            if receive is False:
                continue
            quantity = raw.get("quantity", _plain_number(open_quantity[number]))
            if _decimal(quantity, Decimal(0)) > open_quantity[number]:
                raise _user_error(
                    f"Cannot fulfill {quantity} of order line {number}: only {open_quantity[number]} open.",
                    f"item.items[{index}].quantity",
                )
            extra = {k: v for k, v in raw.items() if k not in ("orderLine", "itemReceive", "itemreceive")}
            line = {"orderLine": number, "item": copy.deepcopy(order_line.get("item")), **extra}
            line["quantity"] = quantity
            line["itemReceive"] = True
            lines.append(line)
        if not lines:
            raise _user_error("The transaction has no open lines to fulfill.", "item")
        return lines

    def _copied_lines(self, source: Record, incoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # API_FACTS only pins down fulfillments. For the other transforms: with no lines in the body the
        # new record copies every source line; otherwise it gets the body's lines, a line naming
        # `orderLine` inheriting the source line's fields it does not set.
        source_lines = {line["line"]: line for line in source.lines or []}
        if not incoming:
            return [
                {**{k: copy.deepcopy(v) for k, v in line.items() if k != "line"}, "orderLine": line["line"]}
                for line in source.lines or []
            ]
        lines = []
        for index, raw in enumerate(incoming):
            if raw.get("orderLine") is None:
                lines.append(dict(raw))
                continue
            path = f"item.items[{index}].orderLine"
            number = _line_number(raw["orderLine"], path)
            if number not in source_lines:
                raise _user_error(f"The source transaction has no line {number}.", path)
            base = {k: copy.deepcopy(v) for k, v in source_lines[number].items() if k != "line"}
            if "amount" not in raw and ("quantity" in raw or "rate" in raw) and base.get("amount") is not None:
                # A part of the line (a refund of one unit of three): its amount is recomputed from the unit price.
                if base.get("rate") is None:
                    old_quantity = _decimal(base.get("quantity"), Decimal(1)) or Decimal(1)
                    base["rate"] = _plain_number(_decimal(base["amount"], Decimal(0)) / old_quantity)
                base.pop("amount")
            lines.append({**base, **raw, "orderLine": number})
        return lines

    # SuiteQL

    @contextmanager
    def _api_write(self) -> Iterator[None]:
        """Mirror writes made inside become visible to SuiteQL only after the configured lag."""
        self._write_lag_s = self._settings.suiteql_lag_ms / 1000
        try:
            yield
        finally:
            self._write_lag_s = 0.0

    def _db_write(self, key: tuple[Any, ...], sql: str, params: tuple[Any, ...]) -> None:
        """Write one mirror row (every statement replaces or deletes the whole row named by `key`)."""
        self._db_write_many(key, [(sql, params)])

    def _db_write_many(self, key: tuple[Any, ...], statements: list[mirror.Statement]) -> None:
        """Write the rows named by `key` as one unit: together they replace whatever the key held before."""
        queued = self._pending_mirror.get(key)
        if self._write_lag_s <= 0 and not queued:
            for sql, params in statements:
                self._db.execute(sql, params)
            return
        # Behind a queued write of the same row, even an immediate one must wait its turn, or the older
        # write would overwrite it when it comes due.
        self._pending_mirror.setdefault(key, []).append((self._clock.monotonic() + self._write_lag_s, statements))

    def _apply_visible_writes(self, *, everything: bool = False) -> None:
        now = self._clock.monotonic()
        for key, writes in list(self._pending_mirror.items()):
            due = [index for index, (visible_at, _) in enumerate(writes) if everything or visible_at <= now]
            if not due:
                continue
            # Whole-row writes: the newest due one is the row's state; older ones are superseded.
            for sql, params in writes[due[-1]][1]:
                self._db.execute(sql, params)
            remaining = writes[due[-1] + 1 :]
            if remaining:
                self._pending_mirror[key] = remaining
            else:
                del self._pending_mirror[key]

    def suiteql(self, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a query against the SQLite mirror of the state; (lowercase column names, all rows)."""
        sql = translate_suiteql(query)
        with self.lock:
            self._apply_visible_writes()
            self._db.set_authorizer(_read_only_authorizer)
            try:
                cursor = self._db.execute(sql)
                if cursor.description is None:
                    raise suiteql_error("only SELECT statements are allowed")
                columns = [d[0].lower() for d in cursor.description]
                rows = cursor.fetchmany(SUITEQL_ROW_CEILING + 1)
            except (sqlite3.Error, sqlite3.Warning) as exc:
                raise suiteql_error(str(exc)) from None
            finally:
                self._db.set_authorizer(None)
        return columns, rows

    def _mirror(self, record: Record) -> None:
        f = record.fields
        flag = mirror.flag
        if record.type in ITEM_TYPES:
            self._db_write(
                ("item", record.id),
                "INSERT OR REPLACE INTO item VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    f.get("itemId"),
                    f.get("displayName"),
                    f.get("externalId"),
                    flag(f.get("isInactive")),
                    ITEM_TYPES[record.type][0],
                ),
            )
        elif record.type == TAX_CODE_TYPE:
            self._db_write(
                ("salestaxitem", record.id),
                "INSERT OR REPLACE INTO salestaxitem VALUES (?, ?, ?, ?, ?)",
                (
                    record.id,
                    f.get("itemId"),
                    str(_decimal(f.get("rate"), Decimal(0))),
                    f.get("externalId"),
                    flag(f.get("isInactive")),
                ),
            )
        elif record.type == "currency":
            self._db_write(
                ("currency", record.id),
                "INSERT OR REPLACE INTO currency VALUES (?, ?, ?, ?, ?)",
                (
                    record.id,
                    f.get("symbol"),
                    f.get("name"),
                    str(f.get("exchangeRate")),
                    flag(f.get("isBaseCurrency")),
                ),
            )
        elif record.type == "customer":
            entity_id = f.get("entityId") or f.get("companyName")
            if not entity_id:
                entity_id = " ".join(str(f[k]) for k in ("firstName", "lastName") if f.get(k)) or f.get("email")
            subsidiary = _ref_key(f.get("subsidiary"))
            self._db_write(
                ("customer", record.id),
                "INSERT OR REPLACE INTO customer VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    f.get("externalId"),
                    f.get("email"),
                    entity_id or str(record.id),
                    f.get("companyName"),
                    f.get("firstName"),
                    f.get("lastName"),
                    flag(f.get("isInactive")),
                    # Subsidiaries are not records here: an {"id"} reference is mirrored as given.
                    _int_or_none(subsidiary[1]) if subsidiary and subsidiary[0] == "id" else None,
                ),
            )
        elif record.type == "location":
            self._db_write(
                ("location", record.id),
                "INSERT OR REPLACE INTO location VALUES (?, ?, ?, ?)",
                (record.id, f.get("name"), f.get("externalId"), flag(f.get("isInactive"))),
            )
        elif is_transaction(record.type):
            currency = self._resolve("currency", f.get("currency")) if f.get("currency") is not None else None
            status = self.status_of(record)
            if status is not None:
                f["status"] = {"id": status[0], "refName": status[1]}
            statements = mirror.transaction_statements(
                record,
                TRANSACTION_TYPES[record.type][0],
                currency,
                _decimal(f.get("exchangeRate"), Decimal(1)),
                transaction_total(record),
                status[0] if status is not None else None,
            )
            self._db_write_many(("transaction", record.id), statements)

    def _unmirror(self, record: Record) -> None:
        if record.type in ITEM_TYPES:
            table = "item"
        elif record.type == TAX_CODE_TYPE:
            table = "salestaxitem"
        elif record.type in ("customer", "location", "currency"):
            table = record.type
        elif is_transaction(record.type):
            table = "transaction"
        else:
            table = None
        if table == "transaction":
            self._db_write_many(
                ("transaction", record.id),
                [
                    ('DELETE FROM "transaction" WHERE id = ?', (record.id,)),
                    ('DELETE FROM transactionline WHERE "transaction" = ?', (record.id,)),
                ],
            )
        elif table is not None:
            self._db_write((table, record.id), f'DELETE FROM "{table}" WHERE id = ?', (record.id,))
        column = {INVENTORY_TYPE: "item", "location": "location"}.get(record.type)
        if column is not None:
            position = 0 if column == "item" else 1
            for pair in [p for p in self._inventory if p[position] == record.id]:
                del self._inventory[pair]
                self._db_write(
                    ("InventoryItemLocations", *pair),
                    "DELETE FROM InventoryItemLocations WHERE item = ? AND location = ?",
                    pair,
                )


def transaction_total(record: Record) -> Decimal:
    """The transaction's computed total in its document currency (0 for those without totals: fulfillments).
    Receipts, refunds and deposits keep theirs in `total` (payments.py)."""
    if record.totals is not None:
        return record.totals.total
    return _decimal(record.fields.get("total"), Decimal(0)) if record.type in FIELD_TOTAL_TYPES else Decimal(0)


def item_entry(record: Record) -> dict[str, Any]:
    """An item or tax code as `/_sim/items` shows it."""
    f = record.fields
    entry: dict[str, Any] = {
        "id": str(record.id),
        "itemid": f.get("itemId"),
        "displayname": f.get("displayName"),
        "type": record.type,
        "itemtype": ITEM_TYPES[record.type][0] if record.type in ITEM_TYPES else "TaxItem",
    }
    if f.get("externalId") is not None:
        entry["externalid"] = f["externalId"]
    if f.get("rate") is not None:
        entry["rate"] = f["rate"]
    if f.get("isTaxable") is False:
        entry["istaxable"] = False
    if f.get("isPreTax") is True:
        entry["ispretax"] = True
    return entry


def _item_extras(entry: dict[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if entry.get("rate") is not None:
        extras["rate"] = entry["rate"]
    if "istaxable" in entry:
        extras["isTaxable"] = entry["istaxable"] is not False
    if "ispretax" in entry:
        extras["isPreTax"] = entry["ispretax"] is True
    return extras


def _check_rate(value: Any, record_type: str, path: str) -> None:
    if isinstance(value, str) and value.strip().endswith("%"):
        if record_type != "discountItem":
            raise _user_error("Only a discount item can have a percentage rate.", path)
        value = value.strip()[:-1]
    if record_type == TAX_CODE_TYPE:
        _positive_rate(value, path, allow_zero=True)
        return
    if isinstance(value, bool) or not _decimal(value, Decimal("NaN")).is_finite():
        raise _user_error(f"Invalid rate {value!r}.", path)


def _positive_rate(value: Any, path: str, *, allow_zero: bool = False) -> Decimal:
    rate = Decimal("NaN") if isinstance(value, bool) else _decimal(value, Decimal("NaN"))
    if not rate.is_finite() or rate < 0 or (rate == 0 and not allow_zero):
        raise _user_error(f"Invalid value {value!r}: a {'non-negative' if allow_zero else 'positive'} number.", path)
    return rate


def _currency_entry(record: Record) -> dict[str, Any]:
    f = record.fields
    return {
        "id": str(record.id),
        "symbol": f["symbol"],
        "name": f["name"],
        "exchangerate": f["exchangeRate"],
        "isbasecurrency": bool(f.get("isBaseCurrency")),
    }


def _percentile(ordered: list[float], percent: int) -> float | None:
    """Nearest-rank percentile of sorted values, rounded to 0.1 ms; None when there are none."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)
