"""Shopify fulfillment and refund payloads (as our schemas loaded them) turned into the state machine's events.
Pure: a payload in, a domain event out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.domain.errors import SchemaError
from app.domain.money import PRESENTMENT, SHOP, bag_amount
from app.domain.payments import REFUND, SUCCESS, Transaction
from app.domain.refunds import has_discrepancy, refund_line_taxes, refunded_duties, shipping_refunds
from app.domain.state_machine import REFUND_KINDS, FulfillmentEvent, FulfillmentLine, RefundEvent, RefundLine


def fulfillment_event(f: dict[str, Any]) -> FulfillmentEvent:
    """A gift card Shopify fulfils (sends) is not shipped in NetSuite: its line (a gift certificate item, not on the
    order's view) is left out, and a fulfillment of gift cards only is ignored."""
    numbers = tuple(f.get("tracking_numbers") or ([f["tracking_number"]] if f.get("tracking_number") else []))
    lines = tuple(FulfillmentLine(li["id"], li["quantity"]) for li in f["line_items"] if not li.get("gift_card"))
    return FulfillmentEvent(
        fulfillment_id=f["id"],
        order_id=f["order_id"],
        status=(f.get("status") or "").lower(),
        location_id=f.get("location_id"),
        lines=lines,
        tracking_company=f.get("tracking_company"),
        tracking_numbers=numbers,
        gift_cards_only=bool(f["line_items"]) and not lines,
    )


def refund_event(r: dict[str, Any], topic: str = "refunds/create", side: str | None = None) -> RefundEvent:
    """The refund in the sales order's currency (`side` of the money bags; the plain fields without one).

    Shopify's refund transactions are in the currency the buyer paid (the presentment side); for a sales order
    in the shop's currency they are converted at the refund's own rate (its lines' shop ÷ presentment subtotals).
    """
    rate = _shop_per_presentment(r) if side == SHOP else Decimal(1)
    bags = side or ""  # no side: every amount from the plain fields
    amount = Decimal("0.00")
    transactions = []
    for position, t in enumerate(r.get("transactions") or []):
        kind = (t.get("kind") or "").lower()
        if kind not in REFUND_KINDS:
            raise SchemaError(f"{topic}: unknown transaction kind {kind!r} (field transactions.kind)")
        if kind == "refund" and (t.get("status") or "success").lower() == "success":
            money = (t["amount"] * rate).quantize(Decimal("0.01"))
            amount += money
            transactions.append(_refund_transaction(r, t, position, money, converted=rate != 1))
    lines = []
    for rl in r.get("refund_line_items") or []:
        restock_type = (rl.get("restock_type") or ("return" if r.get("restock") else "no_restock")).lower()
        subtotal = bag_amount(rl.get("subtotal_set"), side)
        subtotal = rl.get("subtotal") if subtotal is None else subtotal
        gift_card = bool((rl.get("line_item") or {}).get("gift_card"))
        taxes = refund_line_taxes(rl, bags)
        location = rl.get("location_id")
        lines.append(RefundLine(rl["line_item_id"], rl["quantity"], restock_type, location, subtotal, taxes, gift_card))
    charges = (*shipping_refunds(r, bags), *refunded_duties(r, bags))
    return RefundEvent(
        r["id"], r["order_id"], tuple(lines), amount, r.get("note"), charges, has_discrepancy(r), tuple(transactions)
    )


def _refund_transaction(
    r: dict[str, Any], t: dict[str, Any], position: int, money: Decimal, *, converted: bool
) -> Transaction:
    """A successful refund transaction of the refund, in the sales order's currency. Shopify always sends its id; a
    hand-written payload without one gets the id the Admin API's refund view gives it (refund id x 1000 + its
    position + 1), so the refund record and a payout's REFUND row still name the same transaction."""
    txn_id = t.get("id") or r["id"] * 1000 + position + 1
    parent = t.get("parent_id")
    return Transaction(
        id=str(txn_id),
        kind=REFUND,
        status=SUCCESS,
        gateway=t.get("gateway") or "manual",
        amount=money,
        currency="" if converted else t.get("currency") or "",  # converted: the shop's, which the payload omits
        parent_id=str(parent) if parent else None,
    )


def _shop_per_presentment(r: dict[str, Any]) -> Decimal:
    """The refund's own rate: shop ÷ presentment over every money bag it carries (its lines' subtotals and tax,
    shipping given back, duties); 1 when it carries none (an amount-only refund: see docs/MAPPING.md)."""
    bags = [rl.get(name) for rl in r.get("refund_line_items") or [] for name in ("subtotal_set", "total_tax_set")] + [
        x.get(name) for x in r.get("refund_shipping_lines") or [] for name in ("subtotal_amount_set", "tax_amount_set")
    ]
    bags.append(r.get("total_duties_set"))
    shop = sum((bag_amount(bag, SHOP) or 0 for bag in bags), Decimal(0))
    presentment = sum((bag_amount(bag, PRESENTMENT) or 0 for bag in bags), Decimal(0))
    return shop / presentment if shop and presentment else Decimal(1)
