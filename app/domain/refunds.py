"""A Shopify refund in the document currency: what it took off the order (line items, shipping, duties, and their
tax) and what it says about the money returned. Pure: a schema-loaded refund payload in, amounts out.

Shopify's `current_total_price` is the order after returns: refunded line items, refunded shipping and refunded
duties are off it (the 2026-04 schema: `currentShippingPriceSet` is "after applying refunds"). The money a refund
returns (its transactions) may differ from that value on purpose: Shopify then records an order adjustment (a
refund discrepancy). The sales order keeps what was sold; the credit memo books the value and, on an adjustment
line, the difference to the money returned (docs/MAPPING.md, "Refunds").
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.domain.money import ZERO, TaxPart, allocate, amount, bag_amount, cents, tax_lines
from app.domain.state_machine import RefundCharge

SHIPPING_REFUND = "shipping_refund"  # the order adjustment kind of REST versions before refund_shipping_lines


def refund_line_taxes(rli: Mapping[str, Any], side: str) -> tuple[TaxPart, ...]:
    """Shopify's tax on the refunded units (`total_tax`), split over the line's tax lines by their amounts (the
    title and rate of each, so the credit memo is taxed like the sales order line it reverses)."""
    return split_tax(_money(rli, "total_tax", side), tax_lines(rli.get("line_item") or {}, side), "Tax")


def split_tax(total: Decimal, parts: tuple[TaxPart, ...], title: str) -> tuple[TaxPart, ...]:
    """`total` over `parts` (their titles and rates, weighted by their amounts) to the cent; one part named `title`
    at no known rate when there are none."""
    if not total:
        return ()
    if not parts:
        return (TaxPart(title, ZERO, total),)
    shares = allocate(total, [part.amount for part in parts])
    return tuple(TaxPart(part.title, part.rate, share) for part, share in zip(parts, shares, strict=True))


def shipping_refunds(refund: Mapping[str, Any], side: str) -> list[RefundCharge]:
    """The shipping a refund gives back, with its tax: `refund_shipping_lines` (2024-10 and later: subtotal and tax
    amount per refunded shipping line), else order adjustments of kind `shipping_refund` (older versions, amounts
    negative)."""
    charges = []
    for rsl in refund.get("refund_shipping_lines") or ():
        subtotal = _money(rsl, "subtotal_amount", side)
        tax = _money(rsl, "tax_amount", side)
        shipping_line = rsl.get("shipping_line") or {}
        title = str(shipping_line.get("title") or shipping_line.get("code") or "Shipping")
        if subtotal or tax:
            taxes = split_tax(tax, tax_lines(shipping_line, side), "Shipping tax")
            charges.append(RefundCharge("shipping", subtotal, taxes, title))
    if charges:
        return charges
    for adjustment in refund.get("order_adjustments") or ():
        if str(adjustment.get("kind") or "").lower() != SHIPPING_REFUND:
            continue
        subtotal = abs(_money(adjustment, "amount", side))
        tax = abs(_money(adjustment, "tax_amount", side))
        if subtotal or tax:
            charges.append(RefundCharge("shipping", subtotal, split_tax(tax, (), "Shipping tax"), "Shipping"))
    return charges


def refunded_duties(refund: Mapping[str, Any], side: str) -> list[RefundCharge]:
    """The duties a refund gives back (`total_duties_set`, else the sum of its `duties`)."""
    total = bag_amount(refund.get("total_duties_set"), side)
    if total is None:
        total = sum((_money(duty, "amount", side) for duty in refund.get("duties") or ()), ZERO)
    return [RefundCharge("duty", cents(total), (), "Duties")] if total else []


def has_discrepancy(refund: Mapping[str, Any]) -> bool:
    """Shopify recorded that the money returned differs from the value refunded (an order adjustment other than a
    shipping refund)."""
    return any(
        str(adjustment.get("kind") or "").lower() != SHIPPING_REFUND
        for adjustment in refund.get("order_adjustments") or ()
    )


def refund_value(refund: Mapping[str, Any], side: str) -> Decimal:
    """What a refund took off Shopify's current total: its line items (subtotal and tax), shipping and duties."""
    lines = sum(
        (
            _money(rli, "subtotal", side) + _money(rli, "total_tax", side)
            for rli in refund.get("refund_line_items") or ()
        ),
        ZERO,
    )
    charges = [*shipping_refunds(refund, side), *refunded_duties(refund, side)]
    return lines + sum((c.amount + sum((p.amount for p in c.taxes), ZERO) for c in charges), ZERO)


def _money(obj: Mapping[str, Any], name: str, side: str) -> Decimal:
    return amount(obj, name, side) or ZERO
