"""The order state machine: per-line quantities, the state they imply, the legal transitions, and the NetSuite
commands each Shopify event yields. Pure: plain dataclasses in, plain dataclasses out, no I/O.

Every event is evaluated against the state we persisted (never against a NetSuite read). The state follows the
numbers, not the event name: a fulfillment of 2 of 3 items is `partially_fulfilled`; a refund of some items
while others are kept is `partially_refunded`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from app.domain.errors import PermanentError, SchemaError
from app.domain.keys import fulfillment_external_id, refund_external_id
from app.domain.money import TaxPart, bag_amount
from app.domain.payments import Transaction

ZERO = Decimal("0.00")

CREATED = "created"
PARTIALLY_FULFILLED = "partially_fulfilled"
FULFILLED = "fulfilled"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"
CANCELLED = "cancelled"

STATES = (CREATED, PARTIALLY_FULFILLED, FULFILLED, PARTIALLY_REFUNDED, REFUNDED, CANCELLED)

# The one table of legal moves. The state is derived from quantities and money with this precedence:
# cancelled > refunded > partially_refunded > fulfilled > partially_fulfilled > created, so an event that
# arrives late (a fulfillment after a partial refund) keeps the state where the numbers put it.
TRANSITIONS: dict[str, frozenset[str]] = {
    CREATED: frozenset({CREATED, PARTIALLY_FULFILLED, FULFILLED, PARTIALLY_REFUNDED, REFUNDED, CANCELLED}),
    PARTIALLY_FULFILLED: frozenset({PARTIALLY_FULFILLED, FULFILLED, PARTIALLY_REFUNDED, REFUNDED, CANCELLED}),
    FULFILLED: frozenset({FULFILLED, PARTIALLY_REFUNDED, REFUNDED}),
    PARTIALLY_REFUNDED: frozenset({PARTIALLY_REFUNDED, REFUNDED, CANCELLED}),
    REFUNDED: frozenset({REFUNDED}),
    CANCELLED: frozenset({CANCELLED}),
}

# Shopify fulfillment statuses and what they mean for NetSuite. A status not listed here is schema drift.
FULFILLMENT_SHIPS = frozenset({"pending", "open", "success"})
FULFILLMENT_VOID = frozenset({"cancelled", "error", "failure"})
RESTOCK_TYPES = frozenset({"no_restock", "cancel", "return", "legacy_restock"})
RESTOCKS = frozenset({"cancel", "return", "legacy_restock"})
REFUND_KINDS = frozenset({"refund", "void", "capture", "sale", "authorization", "change", "suggested_refund"})


class InvalidTransition(PermanentError):
    """The event cannot apply to the order as we know it. Permanent: it goes to the DLQ with the reason."""

    code = "INVALID_TRANSITION"

    def __init__(self, current: str, event: str, reason: str) -> None:
        self.current = current
        self.event = event
        self.reason = reason
        super().__init__(f"InvalidTransition({current}, {event}, {reason})")


@dataclass(frozen=True)
class Component:
    """One NetSuite line a bundle line became (`custcol_shopify_line_id` `<line id>:<sku>`), as the sales order has
    it: the component's SKU, its NetSuite line number, and its units per bundle."""

    sku: str
    netsuite_line: int
    units: int


@dataclass(frozen=True)
class Line:
    line_id: int
    sku: str
    ordered: int
    price: Decimal
    fulfilled: int = 0
    refunded: int = 0
    restocked: int = 0
    netsuite_line: int | None = None
    components: tuple[Component, ...] = ()  # a bundle: its NetSuite lines (netsuite_line stays None)

    @property
    def numbered(self) -> bool:
        """NetSuite's line(s) for this line are known: its line number, or its bundle's components."""
        return self.netsuite_line is not None or bool(self.components)

    def netsuite_units(self, quantity: int) -> tuple[tuple[str, int | None, int], ...]:
        """`quantity` of this line as NetSuite holds it: (SKU, NetSuite line, units) of the line itself, or of each
        component of a bundle (quantity x its units per bundle)."""
        if not self.components:
            return ((self.sku, self.netsuite_line, quantity),)
        return tuple((c.sku, c.netsuite_line, quantity * c.units) for c in self.components)


@dataclass(frozen=True)
class OrderView:
    order_id: int
    state: str
    lines: tuple[Line, ...]
    total: Decimal
    refunded_amount: Decimal = ZERO
    cancelled: bool = False
    fulfillments: frozenset[int] = frozenset()
    refunds: frozenset[int] = frozenset()

    def line(self, line_id: int, event: str) -> Line:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise InvalidTransition(self.state, event, f"line item {line_id} is not on order {self.order_id}")


@dataclass(frozen=True)
class FulfillmentLine:
    line_id: int
    quantity: int


@dataclass(frozen=True)
class FulfillmentEvent:
    fulfillment_id: int
    order_id: int
    status: str
    location_id: int | None
    lines: tuple[FulfillmentLine, ...]
    tracking_company: str | None = None
    tracking_numbers: tuple[str, ...] = ()
    gift_cards_only: bool = False  # every line was a gift card: nothing NetSuite ships


@dataclass(frozen=True)
class RefundLine:
    line_id: int
    quantity: int
    restock_type: str
    location_id: int | None
    subtotal: Decimal | None  # in the document currency, net of the line's discounts, before tax
    taxes: tuple[TaxPart, ...] = ()  # Shopify's tax on the refunded units, per tax line
    gift_card: bool = False  # a gift card sold and refunded: a liability reversed, never a line of our view


@dataclass(frozen=True)
class RefundCharge:
    """What a refund gives back outside its line items: shipping (with its tax) or duties."""

    kind: str  # shipping | duty
    amount: Decimal
    taxes: tuple[TaxPart, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class RefundEvent:
    refund_id: int
    order_id: int
    lines: tuple[RefundLine, ...]
    amount: Decimal  # money that moved back to the customer (successful refund transactions)
    note: str | None = None
    charges: tuple[RefundCharge, ...] = ()
    adjusted: bool = False  # Shopify recorded a refund discrepancy (money returned differs from the value, on purpose)
    # Its successful REFUND transactions, each in the sales order's currency (their amounts add up to `amount`).
    transactions: tuple[Transaction, ...] = ()


@dataclass(frozen=True)
class CancelEvent:
    order_id: int
    reason: str | None = None


# -- commands: what NetSuite must be told --


@dataclass(frozen=True)
class CreateItemFulfillment:
    external_id: str
    location_id: int | None  # None: older payloads carry no location; the service uses the default location
    ship: tuple[tuple[Line, int], ...]  # (order line, quantity shipped now)
    hold: tuple[Line, ...]  # open lines of the order this shipment leaves unshipped
    tracking_company: str | None
    tracking_numbers: tuple[str, ...]


@dataclass(frozen=True)
class CreateCredit:
    external_id: str
    lines: tuple[tuple[Line, RefundLine], ...]
    amount: Decimal
    note: str | None
    gift_cards: tuple[RefundLine, ...] = ()
    charges: tuple[RefundCharge, ...] = ()
    adjusted: bool = False
    transactions: tuple[Transaction, ...] = ()  # the refund's money, one customer refund each (payment models)


@dataclass(frozen=True)
class CloseOpenLines:
    lines: tuple[Line, ...]  # lines with quantity not yet fulfilled
    whole_order: bool = False  # nothing shipped: every line of the sales order closes, shipping and fees too


Command = CreateItemFulfillment | CreateCredit | CloseOpenLines


@dataclass(frozen=True)
class Decision:
    view: OrderView
    commands: tuple[Command, ...] = ()
    note: str = ""
    duplicate: bool = False
    ignored: bool = False
    restocks: tuple[tuple[str, int, int], ...] = field(default=())  # (sku, shopify location, quantity)


def derive_state(view: OrderView) -> str:
    if view.cancelled:
        return CANCELLED
    if view.refunded_amount > 0 or any(line.refunded for line in view.lines):
        all_money = view.total > 0 and view.refunded_amount >= view.total
        all_items = all(line.refunded >= line.ordered for line in view.lines)
        return REFUNDED if all_money or all_items else PARTIALLY_REFUNDED
    if any(line.fulfilled for line in view.lines):
        done = all(line.fulfilled >= line.ordered for line in view.lines)
        return FULFILLED if done else PARTIALLY_FULFILLED
    return CREATED


def _move(view: OrderView, new: OrderView, event: str) -> OrderView:
    target = derive_state(new)
    if target not in TRANSITIONS[view.state]:
        raise InvalidTransition(view.state, event, f"{view.state} -> {target} is not a legal transition")
    return replace(new, state=target)


def apply_fulfillment(view: OrderView, event: FulfillmentEvent, topic: str = "fulfillments/create") -> Decision:
    if event.status not in FULFILLMENT_SHIPS | FULFILLMENT_VOID:
        raise SchemaError(f"{topic}: unknown fulfillment status {event.status!r} (field status)")
    if event.fulfillment_id in view.fulfillments:
        if event.status in FULFILLMENT_VOID:
            raise InvalidTransition(
                view.state, topic, f"fulfillment {event.fulfillment_id} was {event.status} after NetSuite shipped it"
            )
        return Decision(view, note=f"fulfillment {event.fulfillment_id} already applied", duplicate=True)
    if event.status in FULFILLMENT_VOID:
        return Decision(
            view, note=f"fulfillment {event.fulfillment_id} is {event.status}: nothing shipped", ignored=True
        )
    if not event.lines and event.gift_cards_only:
        return Decision(
            view, note=f"fulfillment {event.fulfillment_id} sends gift cards only: nothing to ship", ignored=True
        )
    if view.cancelled:
        raise InvalidTransition(view.state, topic, f"order {view.order_id} is cancelled")
    if not event.lines:
        raise SchemaError(f"{topic}: fulfillment {event.fulfillment_id} has no line_items (field line_items)")

    shipped: dict[int, int] = {}
    for fl in event.lines:
        shipped[fl.line_id] = shipped.get(fl.line_id, 0) + fl.quantity
    lines = []
    ship = []
    for line in view.lines:
        qty = shipped.pop(line.line_id, 0)
        if qty < 0:
            raise InvalidTransition(view.state, topic, f"line {line.line_id}: negative quantity {qty}")
        if line.fulfilled + qty > line.ordered:
            raise InvalidTransition(
                view.state,
                topic,
                f"line {line.line_id} ({line.sku}): ships {qty} but only {line.ordered - line.fulfilled} open",
            )
        if qty:
            ship.append((line, qty))
            line = replace(line, fulfilled=line.fulfilled + qty)
        lines.append(line)
    if shipped:
        view.line(next(iter(shipped)), topic)  # raises: a line that is not on the order
    hold = tuple(
        line
        for line in view.lines
        if line.line_id not in {s.line_id for s, _ in ship} and line.fulfilled < line.ordered
    )
    new = _move(
        view,
        replace(view, lines=tuple(lines), fulfillments=view.fulfillments | {event.fulfillment_id}),
        topic,
    )
    command = CreateItemFulfillment(
        external_id=fulfillment_external_id(event.fulfillment_id),
        location_id=event.location_id,
        ship=tuple(ship),
        hold=hold,
        tracking_company=event.tracking_company,
        tracking_numbers=event.tracking_numbers,
    )
    return Decision(new, (command,), note=f"fulfillment {event.fulfillment_id}: {sum(q for _, q in ship)} unit(s)")


def apply_refund(view: OrderView, event: RefundEvent, topic: str = "refunds/create") -> Decision:
    if event.refund_id in view.refunds:
        return Decision(view, note=f"refund {event.refund_id} already applied", duplicate=True)
    if event.amount < 0:
        raise InvalidTransition(view.state, topic, f"refund {event.refund_id} has a negative amount {event.amount}")
    remaining = view.total - view.refunded_amount
    if event.amount > remaining:
        raise InvalidTransition(
            view.state,
            topic,
            f"refund {event.refund_id} of {event.amount} exceeds the {remaining} still paid on order {view.order_id}",
        )
    refunding: dict[int, RefundLine] = {}
    for rl in event.lines:
        if rl.restock_type not in RESTOCK_TYPES:
            raise SchemaError(
                f"{topic}: unknown restock_type {rl.restock_type!r} (field refund_line_items.restock_type)"
            )
        if not rl.gift_card:
            refunding[rl.line_id] = rl
    gift_cards = tuple(rl for rl in event.lines if rl.gift_card and rl.quantity)
    lines = []
    credited = []
    restocks = []
    for line in view.lines:
        rl = refunding.pop(line.line_id, None)
        if rl is not None:
            if rl.quantity < 0 or line.refunded + rl.quantity > line.ordered:
                raise InvalidTransition(
                    view.state,
                    topic,
                    f"line {line.line_id} ({line.sku}): refunds {rl.quantity} of {line.ordered - line.refunded} left",
                )
            restocked = rl.quantity if rl.restock_type in RESTOCKS else 0
            if restocked and rl.location_id is not None:  # a bundle restocks its components
                restocks.extend((sku, rl.location_id, units) for sku, _, units in line.netsuite_units(restocked))
            credited.append((line, rl))
            line = replace(line, refunded=line.refunded + rl.quantity, restocked=line.restocked + restocked)
        lines.append(line)
    if refunding:
        view.line(next(iter(refunding)), topic)
    new = _move(
        view,
        replace(
            view,
            lines=tuple(lines),
            refunded_amount=view.refunded_amount + event.amount,
            refunds=view.refunds | {event.refund_id},
        ),
        topic,
    )
    commands: tuple[Command, ...] = ()
    if credited or gift_cards or event.charges or event.amount:
        credit = CreateCredit(
            refund_external_id(event.refund_id),
            tuple(credited),
            event.amount,
            event.note,
            gift_cards,
            event.charges,
            event.adjusted,
            event.transactions,
        )
        commands = (credit,)
    return Decision(new, commands, note=f"refund {event.refund_id}: {event.amount}", restocks=tuple(restocks))


def apply_cancel(view: OrderView, event: CancelEvent, topic: str = "orders/cancelled") -> Decision:
    if view.cancelled:
        return Decision(view, note="already cancelled", duplicate=True)
    if view.state in (FULFILLED, REFUNDED):
        raise InvalidTransition(view.state, topic, f"order {view.order_id} is {view.state}: nothing left to cancel")
    open_lines = tuple(line for line in view.lines if line.fulfilled < line.ordered)
    nothing_shipped = not any(line.fulfilled for line in view.lines)
    new = _move(view, replace(view, cancelled=True), topic)
    commands = (CloseOpenLines(open_lines, nothing_shipped),) if open_lines else ()
    return Decision(new, commands, note=f"cancelled ({event.reason})")


def sales_quantity(item: Mapping, order: Mapping) -> int:
    """How many units of a line the sales order carries: what the order has after edits, refunds included.

    Shopify's `current_quantity` excludes both the units an edit removed and the units refunded; refunds reach
    NetSuite as credit memos of their own, so the refunded units are added back (else they would be credited
    twice). A payload without `current_quantity` (older than the field) has had no edit: its `quantity`.
    """
    current = item.get("current_quantity")
    if current is None:
        return item["quantity"]
    refunded = sum(
        rli["quantity"]
        for refund in order.get("refunds") or ()
        for rli in refund.get("refund_line_items") or ()
        if rli.get("line_item_id") == item["id"]
    )
    return min(item["quantity"], current + refunded)


def check_edit(previous: OrderView | None, new: OrderView, topic: str) -> None:
    """An edit may not take a line below what has shipped (Shopify edits only unfulfilled units; a payload that
    says otherwise is out of order or wrong, and NetSuite cannot un-ship)."""
    if previous is None:
        return
    ordered = {line.line_id: line.ordered for line in new.lines}
    for line in previous.lines:
        now = ordered.get(line.line_id, 0)
        if now < line.fulfilled:
            raise InvalidTransition(
                previous.state,
                topic,
                f"the edit takes line {line.line_id} ({line.sku}) of order {previous.order_id} to {now}, below the "
                f"{line.fulfilled} already shipped",
            )


def view_from_order(order: Mapping, previous: OrderView | None = None, side: str | None = None) -> OrderView:
    """Our view of an order from its (schema-loaded) payload, keeping what we already applied to it. Prices are in
    the sales order's currency: `side` of each line's money bag (`presentment_money` / `shop_money`), the plain
    price for a payload without bags."""
    known = {line.line_id: line for line in previous.lines} if previous else {}
    lines = []
    for item in order["line_items"]:
        if item.get("gift_card"):
            continue  # a gift certificate item: never shipped, never stock (docs/MAPPING.md, gift cards)
        old = known.get(item["id"])
        lines.append(
            Line(
                line_id=item["id"],
                sku=(item.get("sku") or "").strip(),
                ordered=sales_quantity(item, order),
                price=_price(item, side),
                fulfilled=old.fulfilled if old else 0,
                refunded=old.refunded if old else 0,
                restocked=old.restocked if old else 0,
                netsuite_line=old.netsuite_line if old else None,
                components=old.components if old else (),
            )
        )
    base = previous or OrderView(order_id=order["id"], state=CREATED, lines=(), total=ZERO)
    total = bag_amount(order.get("total_price_set"), side)  # in the currency refunds are checked against
    return replace(base, lines=tuple(lines), total=order["total_price"] if total is None else total)


def _price(item: Mapping, side: str | None) -> Decimal:
    price = bag_amount(item.get("price_set"), side)
    return item["price"] if price is None else price


def is_stale(last_applied: datetime | None, incoming: datetime) -> bool:
    """An order payload older than (or as old as) the one already applied must not roll NetSuite back."""
    return last_applied is not None and incoming <= last_applied
