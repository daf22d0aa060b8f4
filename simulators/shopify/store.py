"""Orders of the simulated shop, kept in Shopify's REST shape (the webhook payload shape).

The GraphQL layer translates them on read, so a test can load a real webhook payload and query it back through
the Admin GraphQL API. Stored orders are never mutated in place: every change builds a new dict and swaps it in
under the lock, so readers can use a snapshot without copying and without holding the lock.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

GID_PREFIX = "gid://shopify/"

# Fulfillment statuses that ship goods; failure/error/cancelled fulfillments do not count (the fixture order
# carries a failed one and is still unfulfilled).
SHIPPING_FULFILLMENT_STATUSES = frozenset({"success", "open", "pending"})

# First id handed out to fulfillments, refunds, line items and transactions the simulator creates: large like
# Shopify's, and far from the ids of the shared fixtures.
_FIRST_GENERATED_ID = 6_100_000_000


class StoreError(Exception):
    """A control-API request the store refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def gid(kind: str, resource_id: Any) -> str:
    return f"{GID_PREFIX}{kind}/{resource_id}"


def parse_gid(value: str, kind: str) -> int | None:
    """The numeric id of `gid://shopify/<kind>/<id>`; None if it names another type. ValueError if malformed."""
    if not isinstance(value, str) or not value.startswith(GID_PREFIX):
        raise ValueError(value)
    rest = value[len(GID_PREFIX) :].split("?", 1)[0]
    found_kind, _, raw_id = rest.partition("/")
    if not found_kind or not raw_id.isdigit():
        raise ValueError(value)
    return int(raw_id) if found_kind == kind else None


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from Shopify's ISO-8601 (offset or Z); naive values are taken as UTC."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def epoch_us(value: Any) -> int:
    """Microseconds since the epoch, for sorting and cursors; a missing timestamp sorts first."""
    parsed = parse_time(value)
    if parsed is None:
        return 0
    return int(parsed.timestamp() * 1_000_000)


def rest_time(at: float) -> str:
    # REST timestamps carry an offset and whole seconds; UTC stands in for the shop's time zone.
    return datetime.fromtimestamp(int(at), UTC).isoformat()


def graphql_time(value: Any) -> str | None:
    """Shopify's GraphQL DateTime: UTC, whole seconds, `Z` (`2008-01-10T16:00:00Z`)."""
    parsed = parse_time(value)
    if parsed is None:
        return None
    return parsed.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def to_decimal(value: Any) -> Decimal:
    if value is None or isinstance(value, bool):
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def money_text(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _to_int_id(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise StoreError(400, f"{what} must be an integer id")
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise StoreError(400, f"{what} must be an integer id, got {value!r}") from None


def _unwrap(body: Any, envelope: str) -> Any:
    # Accept the REST API's `{"order": {...}}` envelope as well as the bare webhook body.
    if isinstance(body, dict) and set(body) == {envelope} and isinstance(body[envelope], dict):
        return body[envelope]
    return body


def refunded_quantities(order: dict[str, Any]) -> dict[int, int]:
    """Refunded quantity per line item id, over all refunds of the order."""
    totals: dict[int, int] = {}
    for refund in order.get("refunds") or []:
        for line in refund.get("refund_line_items") or []:
            line_id = line.get("line_item_id") or (line.get("line_item") or {}).get("id")
            if line_id is None:
                continue
            key = int(line_id)
            totals[key] = totals.get(key, 0) + int(line.get("quantity") or 0)
    return totals


def current_quantity(line: dict[str, Any], refunded: dict[int, int]) -> int:
    """A line's units after edits and refunds (Shopify's `current_quantity`): an edit sets `current_quantity`
    on the line, a refund after it lowers it (see `_refund`); a line never edited is its quantity less refunds."""
    quantity = int(line.get("quantity") or 0)
    after_refunds = max(quantity - refunded.get(int(line["id"]), 0), 0) if line.get("id") is not None else quantity
    edited = line.get("current_quantity")
    return after_refunds if edited is None else min(int(edited), after_refunds)


def fulfilled_quantities(order: dict[str, Any]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for fulfillment in order.get("fulfillments") or []:
        if str(fulfillment.get("status") or "").lower() not in SHIPPING_FULFILLMENT_STATUSES:
            continue
        for line in fulfillment.get("line_items") or []:
            if line.get("id") is None:
                continue
            key = int(line["id"])
            totals[key] = totals.get(key, 0) + int(line.get("quantity") or 0)
    return totals


def refunded_amount(order: dict[str, Any]) -> Decimal:
    """Money returned to the buyer: the successful refund transactions of all refunds."""
    total = Decimal(0)
    for refund in order.get("refunds") or []:
        for transaction in refund.get("transactions") or []:
            kind = str(transaction.get("kind") or "refund").lower()
            status = str(transaction.get("status") or "success").lower()
            if kind == "refund" and status == "success":
                total += to_decimal(transaction.get("amount"))
    return total


@dataclass(frozen=True)
class OrderEntry:
    """A stored order with the sort keys parsed once, so a query over many orders does not re-parse them."""

    order: dict[str, Any]
    id: int
    created_us: int
    updated_us: int

    @classmethod
    def of(cls, order: dict[str, Any]) -> OrderEntry:
        return cls(order, int(order["id"]), epoch_us(order.get("created_at")), epoch_us(order.get("updated_at")))


class OrderStore:
    """All orders of the shop by id. Thread-safe; readers get immutable snapshots."""

    def __init__(self, seed_orders: Iterable[dict[str, Any]] = (), clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._ids = itertools.count(_FIRST_GENERATED_ID)
        self._entries: dict[int, OrderEntry] = {}
        self.upsert(list(seed_orders))

    def reset(self, seed_orders: Iterable[dict[str, Any]] = ()) -> None:
        with self._lock:
            self._entries.clear()
        self.upsert(list(seed_orders))

    def count(self) -> int:
        with self._lock:
            return len(self._entries)

    def snapshot(self) -> list[OrderEntry]:
        with self._lock:
            return list(self._entries.values())

    def get(self, order_id: int) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(order_id)
        return entry.order if entry is not None else None

    def all_orders(self) -> list[dict[str, Any]]:
        return [entry.order for entry in sorted(self.snapshot(), key=lambda e: e.id)]

    def delete(self, order_id: int) -> bool:
        with self._lock:
            return self._entries.pop(order_id, None) is not None

    def upsert(self, orders: Any) -> list[int]:
        """Create or replace orders by id (one REST order or a list); returns their ids."""
        orders = _unwrap(orders, "order")
        if isinstance(orders, dict) and isinstance(orders.get("orders"), list):
            orders = orders["orders"]
        if isinstance(orders, dict):
            orders = [orders]
        if not isinstance(orders, list) or not all(isinstance(o, dict) for o in orders):
            raise StoreError(400, "the body must be a REST order object or a list of them")
        prepared = [self._prepare_order(_unwrap(o, "order")) for o in orders]
        with self._lock:
            for order in prepared:
                self._entries[int(order["id"])] = OrderEntry.of(order)
        return [int(o["id"]) for o in prepared]

    def _prepare_order(self, raw: dict[str, Any]) -> dict[str, Any]:
        order = copy.deepcopy(raw)
        if "id" not in order:
            raise StoreError(400, "every order needs an id")
        order["id"] = _to_int_id(order["id"], "order id")
        now = rest_time(self._clock())
        # Sorting and `updated_at:` searches need both timestamps; Shopify always sends them.
        order.setdefault("created_at", now)
        if not order.get("updated_at"):
            order["updated_at"] = order["created_at"] or now
        order.setdefault("admin_graphql_api_id", gid("Order", order["id"]))
        order.setdefault("line_items", [])
        return order

    def _change(self, order_id: int, mutate: Callable[[dict[str, Any]], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(order_id)
            if entry is None:
                raise StoreError(404, f"no order {order_id}")
            order = copy.deepcopy(entry.order)
            result = mutate(order)
            order["updated_at"] = rest_time(self._clock())
            self._entries[order_id] = OrderEntry.of(order)
            return result

    def _new_id(self) -> int:
        return next(self._ids)

    def update(self, order_id: int, mutate: Callable[[dict[str, Any]], Any]) -> Any:
        """Apply `mutate` to a copy of the order and store it (updated_at bumped); 404 StoreError if absent."""
        return self._change(order_id, mutate)

    # fulfillments

    def add_fulfillment(self, order_id: int, body: Any) -> dict[str, Any]:
        """Append a REST fulfillment; lines default to everything still unfulfilled."""
        body = _unwrap(body, "fulfillment")
        if not isinstance(body, dict):
            raise StoreError(400, "the body must be a REST fulfillment object")
        return self._change(order_id, lambda order: self._fulfill(order, copy.deepcopy(body)))

    def _fulfill(self, order: dict[str, Any], fulfillment: dict[str, Any]) -> dict[str, Any]:
        now = rest_time(self._clock())
        by_id = {int(li["id"]): li for li in order.get("line_items") or [] if li.get("id") is not None}
        if "line_items" not in fulfillment:
            done = fulfilled_quantities(order)
            refunded = refunded_quantities(order)
            fulfillment["line_items"] = [
                {"id": line_id, "quantity": qty}
                for line_id, line in by_id.items()
                if (qty := int(line.get("quantity") or 0) - refunded.get(line_id, 0) - done.get(line_id, 0)) > 0
            ]
        lines = []
        for line in fulfillment["line_items"]:
            if not isinstance(line, dict) or line.get("id") is None:
                raise StoreError(400, "each fulfillment line item needs the id of an order line item")
            line_id = _to_int_id(line["id"], "fulfillment line item id")
            if line_id not in by_id:
                raise StoreError(400, f"order {order['id']} has no line item {line_id}")
            # As in Shopify's payloads: the order's line item, with the quantity this fulfillment ships.
            merged = {**copy.deepcopy(by_id[line_id]), **line, "id": line_id}
            merged.setdefault("quantity", by_id[line_id].get("quantity"))
            lines.append(merged)
        fulfillment["line_items"] = lines
        fulfillment["id"] = _to_int_id(fulfillment["id"], "fulfillment id") if "id" in fulfillment else self._new_id()
        fulfillment["order_id"] = order["id"]
        fulfillment.setdefault("status", "success")
        fulfillment.setdefault("created_at", now)
        fulfillment.setdefault("updated_at", fulfillment["created_at"])
        fulfillment.setdefault("admin_graphql_api_id", gid("Fulfillment", fulfillment["id"]))
        order.setdefault("fulfillments", []).append(fulfillment)
        _recompute_fulfillment_status(order)
        return fulfillment

    # refunds

    def add_refund(self, order_id: int, body: Any) -> dict[str, Any]:
        """Append a REST refund; without `transactions` one successful refund of the lines' value is added."""
        body = _unwrap(body, "refund")
        if not isinstance(body, dict):
            raise StoreError(400, "the body must be a REST refund object")
        return self._change(order_id, lambda order: self._refund(order, copy.deepcopy(body)))

    def _refund(self, order: dict[str, Any], refund: dict[str, Any]) -> dict[str, Any]:
        now = rest_time(self._clock())
        by_id = {int(li["id"]): li for li in order.get("line_items") or [] if li.get("id") is not None}
        refund["id"] = _to_int_id(refund["id"], "refund id") if "id" in refund else self._new_id()
        refund["order_id"] = order["id"]
        refund.setdefault("created_at", now)
        refund.setdefault("note", None)
        refund.setdefault("restock", False)
        refund.setdefault("order_adjustments", [])
        lines = []
        for line in refund.get("refund_line_items") or []:
            if not isinstance(line, dict):
                raise StoreError(400, "refund_line_items must be objects")
            line = dict(line)
            raw_line_id = line.get("line_item_id", (line.get("line_item") or {}).get("id"))
            if raw_line_id is None:
                raise StoreError(400, "each refund line item needs line_item_id")
            line_id = _to_int_id(raw_line_id, "line_item_id")
            if line_id not in by_id:
                raise StoreError(400, f"order {order['id']} has no line item {line_id}")
            line["line_item_id"] = line_id
            line.setdefault("id", self._new_id())
            line.setdefault("quantity", 1)
            line.setdefault("line_item", copy.deepcopy(by_id[line_id]))
            lines.append(line)
        refund["refund_line_items"] = lines
        if "transactions" not in refund:
            shipping = sum(
                (to_decimal(x.get("subtotal_amount")) + to_decimal(x.get("tax_amount"))
                 for x in refund.get("refund_shipping_lines") or []),
                Decimal(0),
            )  # fmt: skip
            amount = sum((_refund_line_total(line) for line in lines), Decimal(0)) + shipping
            refund["transactions"] = [
                {
                    "id": self._new_id(),
                    "order_id": order["id"],
                    # A transaction is in the currency the buyer paid in (the presentment currency).
                    "amount": money_text(amount / _shop_per_presentment(order)),
                    "kind": "refund",
                    # Shopify refunds to the gateway that took the payment.
                    "gateway": order.get("gateway") or (order.get("payment_gateway_names") or ["manual"])[0],
                    "status": "success",
                    "created_at": refund["created_at"],
                    "currency": order.get("presentment_currency") or order.get("currency"),
                }
            ]
        for transaction in refund["transactions"]:
            transaction.setdefault("id", self._new_id())
            transaction.setdefault("created_at", refund["created_at"])
        refund.setdefault("admin_graphql_api_id", gid("Refund", refund["id"]))
        order.setdefault("refunds", []).append(refund)
        _lower_current_total(order, refund)
        for line in refund.get("refund_line_items") or []:  # an edited line's current quantity drops with it
            item = by_id.get(int(line.get("line_item_id") or 0))
            if item is not None and item.get("current_quantity") is not None:
                item["current_quantity"] = max(int(item["current_quantity"]) - int(line.get("quantity") or 0), 0)
        refunded = refunded_amount(order)
        if refunded > 0:
            total = to_decimal(order.get("total_price"))
            order["financial_status"] = "refunded" if refunded >= total else "partially_refunded"
        if order.get("fulfillments"):
            _recompute_fulfillment_status(order)
        return refund

    # order edits

    def edit(self, order_id: int, body: Any) -> dict[str, Any]:
        """Commit an order edit: `{"line_items": [{"id", "quantity"}], "total_price"?, "subtotal_price"?}` sets each
        named line's current quantity (units removed by the edit; Shopify edits only unfulfilled units, so a
        quantity below what has shipped is refused as Shopify refuses it). Totals change only when given (what
        Shopify computed for the edit: its discounts and tax rules are not re-run here)."""
        if not isinstance(body, dict) or not isinstance(body.get("line_items"), list):
            raise StoreError(400, 'the body must be {"line_items": [{"id", "quantity"}, ...]}')
        return self._change(order_id, lambda order: self._edit(order, body))

    def _edit(self, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        by_id = {int(li["id"]): li for li in order.get("line_items") or [] if li.get("id") is not None}
        shipped, refunded = fulfilled_quantities(order), refunded_quantities(order)
        for change in body["line_items"]:
            line = by_id.get(_to_int_id(change.get("id"), "line item id"))
            if line is None:
                raise StoreError(422, f"order {order['id']} has no line item {change.get('id')}")
            quantity = int(change.get("quantity", -1))
            if not 0 <= quantity <= current_quantity(line, refunded):
                raise StoreError(422, f"line item {line['id']}: an edit can only lower its quantity, to 0 or more")
            if quantity < shipped.get(int(line["id"]), 0) - refunded.get(int(line["id"]), 0):
                raise StoreError(422, f"line item {line['id']}: its fulfilled units can't be edited")
            line["current_quantity"] = quantity
        for field in ("total_price", "subtotal_price", "current_total_price", "current_subtotal_price"):
            if body.get(field) is not None:
                order[field] = str(body[field])
                # The edit gives the shop amount only: a `_set` left behind would contradict it (the GraphQL view
                # derives the presentment side from the order's rate instead).
                order.pop(f"{field}_set", None)
        return order

    # cancellation

    def cancel(self, order_id: int, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        reason = str(body.get("reason") or body.get("cancel_reason") or "other").lower()

        def apply(order: dict[str, Any]) -> dict[str, Any]:
            order["cancelled_at"] = body.get("cancelled_at") or rest_time(self._clock())
            order["cancel_reason"] = reason
            # Cancelling voids an uncaptured payment in Shopify; a captured one stays until refunded.
            if str(order.get("financial_status") or "").lower() in ("authorized", "pending"):
                order["financial_status"] = "voided"
            return order

        self._change(order_id, apply)
        order = self.get(order_id)
        assert order is not None
        return order


def _shop_per_presentment(order: dict[str, Any]) -> Decimal:
    """The order's exchange rate from its total's two sides (1 when it has only one currency)."""
    total = order.get("total_price_set") or {}
    shop = to_decimal((total.get("shop_money") or {}).get("amount"))
    presentment = to_decimal((total.get("presentment_money") or {}).get("amount"))
    return shop / presentment if shop and presentment else Decimal(1)


def _lower_current_total(order: dict[str, Any], refund: dict[str, Any]) -> None:
    """Shopify's `current_total_price` is the order after returns: a refund takes off what it refunded (its line
    items' subtotal and tax, the shipping and duties it gives back), on each side of the money bag; the money it
    returned may differ (an order adjustment records the discrepancy) and does not move the current total."""
    if order.get("current_total_price") is None:  # an order posted without current_*: no edit so far
        order["current_total_price"] = order.get("total_price")
        if order.get("total_price_set") and not order.get("current_total_price_set"):
            order["current_total_price_set"] = copy.deepcopy(order["total_price_set"])
    if order.get("current_total_price") is None:
        return
    rate = _shop_per_presentment(order)
    shop_off, presentment_off = (
        _refund_value(refund, "shop_money", rate),
        _refund_value(refund, "presentment_money", rate),
    )
    order["current_total_price"] = money_text(to_decimal(order["current_total_price"]) - shop_off)
    bag = order.get("current_total_price_set") or {}
    for side, off in (("shop_money", shop_off), ("presentment_money", presentment_off)):
        money = bag.get(side) or {}
        if money.get("amount") is not None:
            money["amount"] = money_text(to_decimal(money["amount"]) - off)


def _refund_value(refund: dict[str, Any], side: str, rate: Decimal) -> Decimal:
    """What a refund took off the order on one side: line items (subtotal + tax), shipping refunded (its
    `refund_shipping_lines`, or older order adjustments of kind shipping_refund) and duties."""
    parts: list[tuple[dict[str, Any], str]] = []
    for line in refund.get("refund_line_items") or []:
        parts += [(line, "subtotal"), (line, "total_tax")]
    for line in refund.get("refund_shipping_lines") or []:
        parts += [(line, "subtotal_amount"), (line, "tax_amount")]
    value = sum((_side_amount(obj, name, side, rate) for obj, name in parts), Decimal(0))
    if not refund.get("refund_shipping_lines"):
        for adjustment in refund.get("order_adjustments") or []:
            if str(adjustment.get("kind") or "").lower() == "shipping_refund":
                value += abs(_side_amount(adjustment, "amount", side, rate))
                value += abs(_side_amount(adjustment, "tax_amount", side, rate))
    if refund.get("total_duties_set"):
        value += _side_amount(refund, "total_duties", side, rate)
    return value.quantize(Decimal("0.01"))


def _side_amount(obj: dict[str, Any], name: str, side: str, rate: Decimal) -> Decimal:
    """`obj[name]` on one side: from its `_set` bag, else the plain (shop) field, converted for presentment."""
    money = (obj.get(f"{name}_set") or {}).get(side) or {}
    if money.get("amount") is not None:
        return to_decimal(money["amount"])
    plain = to_decimal(obj.get(name))
    return plain if side == "shop_money" else (plain / rate).quantize(Decimal("0.01"))


def _refund_line_total(line: dict[str, Any]) -> Decimal:
    """Value of a refund line when the caller gave no transaction: its subtotal plus its share of tax."""
    if line.get("subtotal") is not None:
        return to_decimal(line.get("subtotal")) + to_decimal(line.get("total_tax"))
    item = line.get("line_item") or {}
    quantity = int(line.get("quantity") or 0)
    subtotal = to_decimal(item.get("price")) * quantity
    return subtotal + prorated_tax(item, quantity)


def prorated_tax(item: dict[str, Any], quantity: int) -> Decimal:
    line_quantity = int(item.get("quantity") or 0)
    if line_quantity <= 0:
        return Decimal(0)
    tax = sum((to_decimal(t.get("price")) for t in item.get("tax_lines") or []), Decimal(0))
    return (tax * quantity / line_quantity).quantize(Decimal("0.01"))


def _recompute_fulfillment_status(order: dict[str, Any]) -> None:
    """Order and line fulfillment_status from shipped quantities (refunded units need no shipping)."""
    done = fulfilled_quantities(order)
    refunded = refunded_quantities(order)
    any_shipped = False
    all_shipped = True
    for line in order.get("line_items") or []:
        if line.get("id") is None:
            continue
        line_id = int(line["id"])
        needed = max(int(line.get("quantity") or 0) - refunded.get(line_id, 0), 0)
        shipped = done.get(line_id, 0)
        if shipped > 0:
            any_shipped = True
        if shipped >= needed:
            line["fulfillment_status"] = "fulfilled" if shipped > 0 else line.get("fulfillment_status")
        else:
            all_shipped = False
            line["fulfillment_status"] = "partial" if shipped > 0 else None
        if "fulfillable_quantity" in line:
            line["fulfillable_quantity"] = max(needed - shipped, 0)
    if any_shipped:
        order["fulfillment_status"] = "fulfilled" if all_shipped else "partial"
    else:
        order["fulfillment_status"] = None
