"""Shopify Payments as the simulator keeps it: each order's transactions, the balance transactions they become,
payouts grouping them, and disputes, all derived from the orders the store knows so that their sums agree.

Order transactions (REST shape, as `order_transactions/create` carries them) are made the first time an order's
payments are looked at, from its `financial_status` (paid and refunded orders: one SALE of the order's total;
authorized: one AUTHORIZATION valid 7 days; voided: an authorization and its VOID; pending: none) unless the REST
order came with its own `transactions`. Refund transactions are the order's refunds' own. Control calls then add
captures (partial or several), voids, sales, and expire authorizations.

Balance transactions are made when payouts are created (`create_payouts`, as Shopify's daily payout run): every
successful SALE or CAPTURE on the `shopify_payments` gateway becomes a CHARGE with a processing fee
(`amount x FEE_RATE + FEE_FIXED`, rounded half up to the cent), every successful REFUND on it a REFUND (no fee);
the other gateways (gift cards, manual payments) never reach a payout. Reserve holds and releases, disputes and
rows of any other type are added by control calls. The pending rows are grouped by the UTC day of their date into
one payout per day, whose net is the sum of its rows' net, and each payout has its own TRANSFER row (amount = -net)
as the real API lists it: a client must leave it out of the payout's composition.

A payout that fails or is cancelled after PAID puts its money back on the balance (a TRANSFER_FAILURE or
TRANSFER_CANCEL row, pending): the next payout carries it. UNCONFIRMED details, chosen here and used consistently:
a dispute debits the disputed amount as a DISPUTE_WITHDRAWAL row and its fee as a separate CHARGEBACK_FEE row (both
source type DISPUTE); a won dispute credits a DISPUTE_REVERSAL; a reserve hold is RESERVED_FUNDS (negative) and its
release RESERVED_FUNDS_REVERSAL; `sourceId` is the order transaction's id for charges and refunds.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from simulators.shopify.store import OrderStore, StoreError, gid, parse_time, rest_time, to_decimal

CENT = Decimal("0.01")
FEE_RATE = Decimal("0.029")
FEE_FIXED = Decimal("0.30")
DEFAULT_DISPUTE_FEE = Decimal("15.00")
PAYMENTS_GATEWAY = "shopify_payments"
AUTHORIZATION_DAYS = 7
_FIRST_PAYMENTS_ID = 8_100_000_000

CHARGE_KINDS = frozenset({"sale", "capture"})
PAYOUT_STATUSES = frozenset({"SCHEDULED", "PAID", "FAILED", "CANCELED"})
DISPUTE_STATUSES = frozenset({"ACCEPTED", "LOST", "NEEDS_RESPONSE", "PREVENTED", "UNDER_REVIEW", "WON"})
SOURCE_TYPES = frozenset(
    {"ADJUSTMENT", "ADJUSTMENT_REVERSAL", "CHARGE", "DISPUTE", "REFUND", "SYSTEM_ADJUSTMENT", "TRANSFER"}
)
# Which summary category of a payout a balance transaction type counts in (anything else: adjustments).
SUMMARY_CATEGORIES = {
    "CHARGE": "charges",
    "REFUND": "refunds",
    "RESERVED_FUNDS": "reservedFunds",
    "RESERVED_FUNDS_REVERSAL": "reservedFunds",
    "RESERVED_FUNDS_WITHDRAWAL": "reservedFunds",
    "ADVANCE": "advance",
    "ADVANCE_FUNDING": "advance",
    "TRANSFER_FAILURE": "retriedPayouts",
    "TRANSFER_CANCEL": "retriedPayouts",
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def processing_fee(amount: Decimal) -> Decimal:
    """The simulated Shopify Payments fee of a charge: 2.9% + 0.30, half up to the cent."""
    return cents(amount * FEE_RATE + FEE_FIXED)


def status_in(value: Any, allowed: frozenset[str]) -> str:
    """`value` upper-cased if it is one of `allowed`; a 400 StoreError otherwise."""
    status = str(value or "").upper()
    if status not in allowed:
        raise StoreError(400, f"status must be one of {sorted(allowed)}")
    return status


def money(value: Any, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise StoreError(400, f"{what} must be a decimal amount") from None
    if not amount.is_finite():
        raise StoreError(400, f"{what} must be a decimal amount")
    return cents(amount)


@dataclass
class BalanceRow:
    """One balance transaction; `payout_id` None while it waits for a payout."""

    id: int
    type: str
    source_type: str | None
    source_id: int | None
    source_order_transaction_id: int | None
    order_id: int | None
    order_name: str | None
    amount: Decimal
    fee: Decimal
    currency: str
    date: datetime
    payout_id: int | None = None
    adjustment_reason: str | None = None

    @property
    def net(self) -> Decimal:
        return self.amount - self.fee


@dataclass
class Payout:
    id: int
    status: str
    issued_at: datetime
    currency: str
    net: Decimal


def _utc(value: Any, default: datetime) -> datetime:
    parsed = parse_time(value)
    return parsed.astimezone(UTC) if parsed is not None else default


def _shop_rate(order: dict[str, Any]) -> Decimal:
    """Shop money per unit of presentment money (1 when the order has one currency)."""
    total = order.get("total_price_set") or {}
    shop = to_decimal((total.get("shop_money") or {}).get("amount"))
    presentment = to_decimal((total.get("presentment_money") or {}).get("amount"))
    return shop / presentment if shop and presentment else Decimal(1)


def order_gateway(order: dict[str, Any]) -> str:
    names = order.get("payment_gateway_names") or []
    return str(order.get("gateway") or (names[0] if names else "manual"))


class PaymentsLedger:
    """Order transactions, balance transactions, payouts and disputes of the simulated shop. Thread-safe."""

    def __init__(self, store: OrderStore, currency: Callable[[], str], clock: Callable[[], float] = time.time):
        self.store = store
        self._currency = currency
        self._clock = clock
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._ids = itertools.count(_FIRST_PAYMENTS_ID)
            self._transactions: dict[int, list[dict[str, Any]]] = {}
            self._seen_status: dict[int, str] = {}
            # order id -> the order (the store replaces the dict on every change) its charges were last made from
            self._synced: dict[int, dict[str, Any]] = {}
            self._charged: set[int] = set()
            self.rows: list[BalanceRow] = []
            self.payouts: dict[int, Payout] = {}
            self.disputes: dict[int, dict[str, Any]] = {}

    def now(self) -> datetime:
        return datetime.fromtimestamp(int(self._clock()), UTC)

    def _new_id(self) -> int:
        return next(self._ids)

    # order transactions

    def _order(self, order_id: int) -> dict[str, Any]:
        order = self.store.get(order_id)
        if order is None:
            raise StoreError(404, f"no order {order_id}")
        return order

    def _base(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """The order's own (non-refund) transactions, made on first use and following a financial status set on
        the order from outside (an order posted again as paid, a cancellation voiding its authorization)."""
        order_id = int(order["id"])
        status = str(order.get("financial_status") or "paid").lower()
        txs = self._transactions.get(order_id)
        if txs is None:
            txs = self._transactions[order_id] = self._derive(order)
        elif self._seen_status.get(order_id) != status:
            self._follow(order, txs, status)
        self._seen_status[order_id] = status
        return txs

    def _follow(self, order: dict[str, Any], txs: list[dict[str, Any]], status: str) -> None:
        if not txs:
            txs.extend(self._derive(order))
            return
        if status not in ("paid", "partially_refunded", "refunded", "voided"):
            return
        if any(t["kind"] in CHARGE_KINDS or t["kind"] == "void" for t in txs):
            return
        auth = next((t for t in reversed(txs) if t["kind"] == "authorization" and t["status"] == "success"), None)
        if auth is not None:
            kind = "void" if status == "voided" else "capture"
            txs.append(self._complete(order, {"kind": kind, "amount": auth["amount"], "parent_id": auth["id"]}))

    def _derive(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        status = str(order.get("financial_status") or "paid").lower()
        if isinstance(order.get("transactions"), list):
            return [self._complete(order, dict(t)) for t in order["transactions"] if isinstance(t, dict)]
        total = order.get("total_price_set") or {}
        presentment = (total.get("presentment_money") or {}).get("amount") or order.get("total_price") or "0.00"
        made: list[dict[str, Any]] = []
        if status in ("paid", "partially_refunded", "refunded"):
            made.append(self._complete(order, {"kind": "sale", "amount": presentment}))
        elif status in ("authorized", "voided", "expired"):
            made.append(self._complete(order, {"kind": "authorization", "amount": presentment}))
            if status == "voided":
                made.append(self._complete(order, {"kind": "void", "amount": presentment, "parent_id": made[0]["id"]}))
        return made

    def _complete(self, order: dict[str, Any], tx: dict[str, Any]) -> dict[str, Any]:
        """A REST transaction with every field the views and payloads read."""
        at = tx.get("processed_at") or tx.get("created_at") or order.get("processed_at") or order.get("created_at")
        at = at or rest_time(self._clock())
        kind = str(tx.get("kind") or "sale").lower()
        tx["id"] = int(tx["id"]) if tx.get("id") is not None else self._new_id()
        tx["order_id"] = int(order["id"])
        tx["kind"] = kind
        tx.setdefault("status", "success")
        tx.setdefault("gateway", order_gateway(order))
        tx["amount"] = str(money(tx.get("amount") or "0", "amount"))
        tx.setdefault("currency", order.get("presentment_currency") or order.get("currency") or self._currency())
        tx.setdefault("parent_id", None)
        tx.setdefault("created_at", at)
        tx.setdefault("processed_at", at)
        tx.setdefault("test", bool(order.get("test")))
        if kind == "authorization" and "authorization_expires_at" not in tx:
            expires = _utc(at, self.now()) + timedelta(days=AUTHORIZATION_DAYS)
            tx["authorization_expires_at"] = expires.isoformat()
        tx.setdefault("authorization_expires_at", None)
        shop = cents(to_decimal(tx["amount"]) * _shop_rate(order))
        tx.setdefault(
            "amount_set",
            {
                "shop_money": {"amount": str(shop), "currency_code": order.get("currency") or self._currency()},
                "presentment_money": {"amount": tx["amount"], "currency_code": tx["currency"]},
            },
        )
        tx.setdefault("admin_graphql_api_id", gid("OrderTransaction", tx["id"]))
        return tx

    def transactions(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        """Every transaction of the order, oldest first: its own, then its refunds' (parented on the charge)."""
        with self._lock:
            base = [dict(t) for t in self._base(order)]
        charge = next((t for t in base if t["kind"] in CHARGE_KINDS and t["status"] == "success"), None)
        for refund in order.get("refunds") or []:
            for position, raw in enumerate(refund.get("transactions") or []):
                # A hand-written refund may give its transaction no id: the stable one the GraphQL view derives.
                stable = int(refund.get("id") or 0) * 1000 + position + 1
                tx = self._complete(order, {**raw, "id": raw.get("id") or stable})
                if tx.get("parent_id") is None and charge is not None:
                    tx["parent_id"] = charge["id"]
                base.append(tx)
        return base

    def transaction(self, order_id: int, tx_id: int) -> dict[str, Any]:
        found = next((t for t in self.transactions(self._order(order_id)) if t["id"] == tx_id), None)
        if found is None:
            raise StoreError(404, f"order {order_id} has no transaction {tx_id}")
        return found

    def _open_authorization(self, txs: list[dict[str, Any]], parent_id: Any) -> tuple[dict[str, Any], Decimal]:
        """The authorization a capture or void applies to, and what of it is still capturable."""
        auths = [t for t in txs if t["kind"] == "authorization" and t["status"] == "success"]
        if parent_id is not None:
            auths = [t for t in auths if t["id"] == int(parent_id)]
        if not auths:
            raise StoreError(422, "no successful authorization to capture or void")
        auth = auths[-1]
        children = [t for t in txs if t.get("parent_id") == auth["id"] and t["status"] == "success"]
        if any(t["kind"] == "void" for t in children):
            raise StoreError(422, f"authorization {auth['id']} was voided")
        expires = parse_time(auth.get("authorization_expires_at"))
        if expires is not None and expires <= self.now():
            raise StoreError(422, f"authorization {auth['id']} has expired")
        captured = sum((to_decimal(t["amount"]) for t in children if t["kind"] == "capture"), Decimal(0))
        return auth, to_decimal(auth["amount"]) - captured

    def add_transaction(self, order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """A capture (partial with `amount`; several allowed), void, sale, or authorization on the order."""
        kind = str(body.get("kind") or "").lower()
        if kind not in ("capture", "void", "sale", "authorization"):
            raise StoreError(400, "kind must be capture, void, sale or authorization (refunds: POST .../refunds)")
        order = self._order(order_id)
        with self._lock:
            txs = self._base(order)
            tx = {k: v for k, v in body.items() if k in ("amount", "gateway", "status", "processed_at", "id")}
            tx["kind"] = kind
            if kind in ("capture", "void"):
                auth, capturable = self._open_authorization(txs, body.get("parent_id"))
                tx["parent_id"] = auth["id"]
                tx.setdefault("gateway", auth["gateway"])
                amount = money(body["amount"], "amount") if body.get("amount") is not None else capturable
                if kind == "capture" and not Decimal(0) < amount <= capturable:
                    raise StoreError(422, f"capture amount must be above 0 and at most {capturable}")
                tx["amount"] = str(amount if kind == "capture" else capturable)
            made = self._complete(order, tx)
            txs.append(made)
            status = self._financial_status(txs) or str(order.get("financial_status") or "pending").lower()
            self._seen_status[order_id] = status
        self.store.update(order_id, lambda o: o.__setitem__("financial_status", status))
        return made

    def expire_authorizations(self, order_id: int) -> list[dict[str, Any]]:
        """Every open authorization of the order expires now (Shopify records no transaction for it)."""
        order = self._order(order_id)
        past = (self.now() - timedelta(seconds=1)).isoformat()
        with self._lock:
            expired = [t for t in self._base(order) if t["kind"] == "authorization" and t["status"] == "success"]
            for tx in expired:
                tx["authorization_expires_at"] = past
            captured = any(t["kind"] in CHARGE_KINDS for t in self._base(order))
        if expired and not captured:
            with self._lock:
                self._seen_status[order_id] = "expired"
            self.store.update(order_id, lambda o: o.__setitem__("financial_status", "expired"))
        return [dict(t) for t in expired]

    @staticmethod
    def _financial_status(txs: list[dict[str, Any]]) -> str | None:
        ok = [t for t in txs if t["status"] == "success"]
        authorized = sum((to_decimal(t["amount"]) for t in ok if t["kind"] == "authorization"), Decimal(0))
        charged = sum((to_decimal(t["amount"]) for t in ok if t["kind"] in CHARGE_KINDS), Decimal(0))
        if charged > 0:
            return "paid" if charged >= authorized else "partially_paid"
        if any(t["kind"] == "void" for t in ok):
            return "voided"
        return "authorized" if authorized > 0 else None

    # balance transactions

    def _row(self, type_: str, amount: Decimal, *, fee: Decimal = Decimal(0), **fields: Any) -> BalanceRow:
        fields.setdefault("date", self.now())
        fields.setdefault("currency", self._currency())
        for name in ("source_type", "source_id", "source_order_transaction_id", "order_id", "order_name"):
            fields.setdefault(name, None)
        row = BalanceRow(self._new_id(), type_, amount=amount, fee=fee, **fields)
        self.rows.append(row)
        return row

    def _sync_charges(self) -> None:
        """CHARGE and REFUND rows for the Shopify Payments transactions that have none yet."""
        for entry in sorted(self.store.snapshot(), key=lambda e: e.id):
            if self._synced.get(entry.id) is entry.order:
                continue  # unchanged since its charges were made
            self._synced[entry.id] = entry.order
            order = entry.order
            for tx in self.transactions(order):
                if tx["id"] in self._charged or tx["status"] != "success" or tx["gateway"] != PAYMENTS_GATEWAY:
                    continue
                if tx["kind"] not in CHARGE_KINDS and tx["kind"] != "refund":
                    continue
                shop = money(tx["amount_set"]["shop_money"]["amount"], "amount")
                charge = tx["kind"] in CHARGE_KINDS
                self._row(
                    "CHARGE" if charge else "REFUND",
                    shop if charge else -shop,
                    fee=processing_fee(shop) if charge else Decimal(0),
                    source_type="CHARGE" if charge else "REFUND",
                    source_id=tx["id"],
                    source_order_transaction_id=tx["id"],
                    order_id=int(order["id"]),
                    order_name=order.get("name"),
                    currency=tx["amount_set"]["shop_money"]["currency_code"],
                    date=_utc(tx.get("processed_at"), self.now()),
                )
                self._charged.add(tx["id"])

    def add_row(self, body: dict[str, Any], allowed_types: frozenset[str]) -> BalanceRow:
        """A balance transaction of any type Shopify's enum has (rare ones included), pending."""
        type_ = str(body.get("type") or "").upper()
        if type_ not in allowed_types:
            raise StoreError(400, f"type {type_!r} is not a ShopifyPaymentsTransactionType")
        source_type = str(body.get("source_type") or "ADJUSTMENT").upper()
        if source_type not in SOURCE_TYPES:
            raise StoreError(400, f"source_type must be one of {sorted(SOURCE_TYPES)}")
        order = self._order(int(body["order_id"])) if body.get("order_id") is not None else None
        with self._lock:
            return self._row(
                type_,
                money(body.get("amount", "0"), "amount"),
                fee=money(body.get("fee", "0"), "fee"),
                source_type=source_type,
                source_id=body.get("source_id"),
                order_id=int(order["id"]) if order else None,
                order_name=order.get("name") if order else None,
                adjustment_reason=body.get("adjustment_reason"),
                date=_utc(body.get("date"), self.now()),
            )

    def reserve(self, body: dict[str, Any]) -> BalanceRow:
        """`{"amount", "release"?: false}`: a reserve hold (negative) or the release of one (positive)."""
        amount = money(body.get("amount"), "amount")
        if amount <= 0:
            raise StoreError(400, "amount must be positive")
        release = bool(body.get("release"))
        with self._lock:
            return self._row(
                "RESERVED_FUNDS_REVERSAL" if release else "RESERVED_FUNDS",
                amount if release else -amount,
                source_type="SYSTEM_ADJUSTMENT",
                adjustment_reason="reserve_release" if release else "reserve_hold",
                date=_utc(body.get("date"), self.now()),
            )

    # payouts

    def create_payouts(self, body: dict[str, Any]) -> list[Payout]:
        """Charges and refunds from the orders, then one payout per UTC day of pending rows."""
        status = status_in(body.get("status") or "PAID", PAYOUT_STATUSES)
        with self._lock:
            self._sync_charges()
            by_day: dict[Any, list[BalanceRow]] = {}
            for row in self.rows:
                if row.payout_id is None and row.type != "TRANSFER":
                    by_day.setdefault(row.date.date(), []).append(row)
            made = []
            for day in sorted(by_day):
                rows = by_day[day]
                next_midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
                payout = Payout(
                    self._new_id(),
                    status,
                    min(next_midnight, self.now()),
                    rows[0].currency,
                    sum((r.net for r in rows), Decimal(0)),
                )
                for row in rows:
                    row.payout_id = payout.id
                self._row("TRANSFER", -payout.net, source_type="TRANSFER", payout_id=payout.id, date=payout.issued_at)
                self.payouts[payout.id] = payout
                made.append(payout)
            return made

    def set_payout_status(self, payout_id: int, status: str) -> Payout:
        """A payout's new status; FAILED or CANCELED puts its net back on the balance (a pending row)."""
        status = status_in(status, PAYOUT_STATUSES)
        with self._lock:
            payout = self.payouts.get(payout_id)
            if payout is None:
                raise StoreError(404, f"no payout {payout_id}")
            if payout.status in ("FAILED", "CANCELED"):
                raise StoreError(422, f"payout {payout_id} is already {payout.status}")
            payout.status = status
            if status in ("FAILED", "CANCELED"):
                self._row(
                    "TRANSFER_FAILURE" if status == "FAILED" else "TRANSFER_CANCEL",
                    payout.net,
                    source_type="TRANSFER",
                    source_id=payout.id,
                )
            return payout

    def payout_rows(self, payout_id: int) -> list[BalanceRow]:
        with self._lock:
            return [r for r in self.rows if r.payout_id == payout_id]

    # disputes

    def add_dispute(self, body: dict[str, Any]) -> dict[str, Any]:
        """`{"order_id", "amount"?, "fee"?, "reason"?, "status"?, "type"?, "date"?}`: the dispute, and its withdrawal
        and fee rows (pending), dated `date` (default now: a benchmark back-dates a month of them)."""
        order = self._order(int(body["order_id"]))
        status = status_in(body.get("status") or "NEEDS_RESPONSE", DISPUTE_STATUSES)
        total = (order.get("total_price_set") or {}).get("shop_money") or {}
        amount = money(body.get("amount") or total.get("amount") or order.get("total_price") or "0", "amount")
        fee = money(body.get("fee", DEFAULT_DISPUTE_FEE), "fee")
        now = _utc(body.get("date"), self.now())
        with self._lock:
            dispute = {
                "id": self._new_id(),
                "order_id": int(order["id"]),
                "type": str(body.get("type") or "chargeback").lower(),
                "amount": str(amount),
                "currency": order.get("currency") or self._currency(),
                "reason": str(body.get("reason") or "fraudulent").lower(),
                "network_reason_code": str(body.get("network_reason_code") or "4837"),
                "status": status.lower(),
                "evidence_due_by": (now + timedelta(days=14)).isoformat(),
                "evidence_sent_on": None,
                "finalized_on": None,
                "initiated_at": now.isoformat(),
                "fee": str(fee),
            }
            dispute["admin_graphql_api_id"] = gid("ShopifyPaymentsDispute", dispute["id"])
            self.disputes[dispute["id"]] = dispute
            common = {"source_type": "DISPUTE", "source_id": dispute["id"], "order_id": dispute["order_id"]}
            self._row("DISPUTE_WITHDRAWAL", -amount, order_name=order.get("name"), date=now, **common)
            if fee:
                self._row("CHARGEBACK_FEE", -fee, order_name=order.get("name"), date=now, **common)
            return dict(dispute)

    def update_dispute(self, dispute_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """A new status; WON credits the disputed amount back (DISPUTE_REVERSAL), WON and LOST finalize it."""
        status = status_in(body.get("status"), DISPUTE_STATUSES)
        with self._lock:
            dispute = self.disputes.get(dispute_id)
            if dispute is None:
                raise StoreError(404, f"no dispute {dispute_id}")
            if dispute["status"] == status.lower():
                return dict(dispute)
            now = self.now().isoformat()
            if status == "UNDER_REVIEW" and dispute["evidence_sent_on"] is None:
                dispute["evidence_sent_on"] = now
            if status in ("WON", "LOST", "ACCEPTED"):
                dispute["finalized_on"] = now
            if status == "WON":
                self._row(
                    "DISPUTE_REVERSAL",
                    to_decimal(dispute["amount"]),
                    source_type="DISPUTE",
                    source_id=dispute_id,
                    order_id=dispute["order_id"],
                )
            dispute["status"] = status.lower()
            return dict(dispute)

    def dispute(self, dispute_id: int) -> dict[str, Any]:
        with self._lock:
            found = self.disputes.get(dispute_id)
        if found is None:
            raise StoreError(404, f"no dispute {dispute_id}")
        return dict(found)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "balance_transactions": len(self.rows),
                "pending": sum(1 for r in self.rows if r.payout_id is None),
                "payouts": len(self.payouts),
                "disputes": len(self.disputes),
            }
