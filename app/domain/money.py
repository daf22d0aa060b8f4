"""Money of an order in its document currency: Shopify's money bags, the exchange rate, cents and allocation.

Shopify sends every amount twice (`*_set`: `shop_money` in the shop's currency, `presentment_money` in the
customer's); the plain fields (`price`, `total_price` ...) are the shop's. The sales order is written in one of the
two (`ORDER_CURRENCY`), never a mix. Pure: plain data in and out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HALF_CENT = Decimal("0.005")
PRESENTMENT = "presentment_money"
SHOP = "shop_money"
SIDES = {"presentment": PRESENTMENT, "shop": SHOP}
RATE_PLACES = Decimal("0.0000000001")  # NetSuite keeps exchange rates to 10 places at most


def cents(value: Decimal | int | None) -> Decimal:
    """To the cent, half up (Shopify's and NetSuite's rounding of a money amount)."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def bag_amount(bag: Any, side: str | None) -> Decimal | None:
    """The amount of one side of a money bag; None if the bag or that side is absent."""
    money = bag.get(side) if isinstance(bag, Mapping) and side else None
    if not isinstance(money, Mapping) or money.get("amount") is None:
        return None
    return Decimal(str(money["amount"]))


def amount(obj: Mapping[str, Any], name: str, side: str, default: Decimal | None = ZERO) -> Decimal | None:
    """`obj[name]` in the document currency: from `obj[name + "_set"]` when the payload has the bag, else the plain
    field (payloads without bags are single-currency). `default` when neither is there."""
    value = bag_amount(obj.get(f"{name}_set"), side)
    if value is None:
        value = obj.get(name)
    return default if value is None else cents(value)


def document_currency(order: Mapping[str, Any], side: str) -> str:
    """The currency of the amounts the mapping reads: the bag's currency code, else the plain fields' (the
    order's `currency`)."""
    for name in ("total_price_set", "current_total_price_set"):
        money = (order.get(name) or {}).get(side) or {}
        if money.get("currency_code"):
            return str(money["currency_code"]).upper()
    return str(order["currency"]).upper()


def exchange_rate(order: Mapping[str, Any], side: str) -> Decimal:
    """Shop currency per unit of the document currency (NetSuite's `exchangeRate`, the shop currency being the
    subsidiary's): shop ÷ presentment of the order total, pinned at create; 1 for a shop-currency document or
    when the two amounts are equal or unknown."""
    if side == SHOP:
        return Decimal(1)
    for name in ("total_price_set", "current_total_price_set"):
        bag = order.get(name)
        shop, presentment = bag_amount(bag, SHOP), bag_amount(bag, PRESENTMENT)
        if shop and presentment:
            if shop == presentment:
                return Decimal(1)
            return (shop / presentment).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    return Decimal(1)


def shop_to_document(value: Decimal, rate: Decimal) -> Decimal:
    """A shop-currency amount (a payload that has no bag for it) in the document currency."""
    return cents(value / rate) if rate != 1 else cents(value)


def allocate(total: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """`total` split over `weights` to the cent (proportionally, half up); the last share takes the remainder, so
    the shares always add up to `total` exactly."""
    if not weights:
        return []
    whole = sum((Decimal(w) for w in weights), Decimal(0))
    if not whole:
        return [ZERO] * (len(weights) - 1) + [cents(total)]
    shares = [cents(total * Decimal(w) / whole) for w in weights[:-1]]
    return [*shares, cents(total) - sum(shares, ZERO)]


def within_half_cent_per_line(difference: Decimal, lines: int) -> bool:
    """A rounding difference small enough to be per-line rounding (the money rule's tolerance)."""
    return abs(difference) <= HALF_CENT * max(lines, 1)


@dataclass(frozen=True)
class TaxPart:
    """One Shopify tax line on one document line: its title, rate (a fraction, as Shopify gives it) and amount."""

    title: str
    rate: Decimal
    amount: Decimal


def tax_lines(obj: Mapping[str, Any], side: str) -> tuple[TaxPart, ...]:
    """`obj`'s Shopify `tax_lines`, each amount in the document currency."""
    return tuple(
        TaxPart(str(tax.get("title") or "Tax"), Decimal(str(tax.get("rate") or 0)), amount(tax, "price", side))
        for tax in obj.get("tax_lines") or []
    )
