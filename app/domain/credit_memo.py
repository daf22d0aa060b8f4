"""A Shopify refund -> the lines of its NetSuite credit memo, by the sales order's money rule. Pure: the state
machine's CreateCredit command in, the credit memo's lines and tax fields out.

The credit memo reverses what the refund took off the order, each amount as the sales order booked it: the
refunded units of each product (net of their discounts, with their tax in the account's tax mode), a gift card
sold and refunded (the liability reversed), the shipping and duties given back. NetSuite's own total of those
lines and their tax is the refund's value; the money Shopify returned (its refund transactions) may differ on
purpose (a refund discrepancy, a restock without money), and the difference goes to the refund adjustment item
so that NetSuite's credit memo total equals the money returned to the cent (docs/MAPPING.md, "Refunds").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from app.domain.bundles import component_key
from app.domain.errors import UnknownSku
from app.domain.mapping import MappingConfig, netsuite_line, tax_with_variance
from app.domain.money import ZERO, cents, within_half_cent_per_line
from app.domain.order_lines import DUTY, GIFT_CARD, PRODUCT, SHIPPING, Draft, bundle_drafts, drafts_total
from app.domain.state_machine import RESTOCKS, CreateCredit, Line, RefundCharge, RefundLine
from app.domain.tax import ex_tax

REFUND_ADJUSTMENT = "refund_adjustment"


@dataclass(frozen=True)
class CreditLines:
    lines: list[dict[str, Any]]  # the credit memo's item lines
    tax_body: dict[str, Any]  # suitetax: the Tax Details Override fields
    value: Decimal  # NetSuite's total of the refund's lines and tax (before the adjustment line)
    adjustment: Decimal  # the money returned - the value (the adjustment line's amount; 0: none)
    mismatch: str | None  # a difference nothing in the refund explains (an alert), else None


def credit_drafts(cmd: CreateCredit, config: MappingConfig, taxes_included: bool = False) -> list[Draft]:
    """The refund's lines before tax fields: products, gift cards, shipping and duties, in the document currency
    (amounts ex-tax: a tax-inclusive store's refund subtotals include their tax)."""
    items = config.items
    drafts = []
    for line, rl in cmd.lines:
        if rl.quantity:
            drafts += refunded_line_drafts(line, rl)
    for rl in cmd.gift_cards:
        value = cents(rl.subtotal or ZERO)
        drafts.append(Draft(GIFT_CARD, items.gift_card, value, rl.quantity, cents(value / rl.quantity), "Gift card",
                            str(rl.line_id)))  # fmt: skip
    drafts += [_charge_draft(charge, config) for charge in cmd.charges]
    return ex_tax(drafts) if taxes_included else drafts


def refunded_line_drafts(line: Line, rl: RefundLine) -> list[Draft]:
    """The refunded units of an order line at their subtotal and tax; a bundle's on each component the sales order
    holds (quantity x units per bundle), subtotal and each tax allocated as the sales order allocated the bundle
    (order_lines.bundle_drafts), each keyed `<line id>:<component SKU>`."""
    value = cents(rl.subtotal if rl.subtotal is not None else line.price * rl.quantity)
    if line.components:
        units = {c.sku: c.units for c in line.components}
        parts = bundle_drafts({"id": line.line_id}, line.sku, rl.quantity, value, rl.taxes, units)
        return [replace(d, description=f"Refund: {d.sku} (bundle {line.sku})") for d in parts]
    key = str(line.line_id)
    return [Draft(PRODUCT, line.sku, value, rl.quantity, cents(line.price), f"Refund: {line.sku}", key, None, rl.taxes)]


def _charge_draft(charge: RefundCharge, config: MappingConfig) -> Draft:
    if charge.kind == SHIPPING:
        sku = config.shipping_item_map.get(charge.title) or config.items.shipping
        return Draft(SHIPPING, sku, charge.amount, description=f"{charge.title} refunded"[:999], taxes=charge.taxes)
    return Draft(DUTY, config.items.duty, charge.amount, description="Duties refunded", taxes=charge.taxes)


def credit_skus(cmd: CreateCredit, config: MappingConfig) -> list[str]:
    """Every SKU the credit memo may post to (the adjustment and tax variance items included)."""
    skus = [d.sku for d in credit_drafts(cmd, config)]
    return list(dict.fromkeys([*skus, config.items.tax_variance, config.items.refund_adjustment]))


def map_credit(
    cmd: CreateCredit,
    item_ids: Mapping[str, str],
    config: MappingConfig,
    locations: Mapping[int | None, str],
    taxes_included: bool = False,
) -> CreditLines:
    """The credit memo's lines: the refund's drafts with their tax, a tax variance line in legacy tax mode, and the
    refund adjustment line that brings NetSuite's total to the money returned. `locations`: the NetSuite location
    of each Shopify location the refund restocks at."""
    drafts = credit_drafts(cmd, config, taxes_included)
    outcome, _ = tax_with_variance(drafts, config)
    value = drafts_total(drafts) + outcome.netsuite_tax
    adjustment = cmd.amount - value
    if adjustment:
        label = "Shopify refund adjustment (money returned - value refunded)"
        drafts.append(Draft(REFUND_ADJUSTMENT, config.items.refund_adjustment, adjustment, description=label))
        outcome.lines.append({})
    missing = [d.sku for d in drafts if d.sku not in item_ids]
    if missing:
        raise UnknownSku(list(dict.fromkeys(missing)))
    restock = {str(line.line_id): rl for line, rl in cmd.lines}
    restock |= {component_key(line.line_id, c.sku): rl for line, rl in cmd.lines for c in line.components}
    lines = []
    for draft, tax_fields in zip(drafts, outcome.lines, strict=True):
        entry = {**netsuite_line(draft, item_ids[draft.sku]), **tax_fields}
        rl = restock.get(draft.line_key or "") if draft.kind == PRODUCT else None
        if rl is not None and rl.restock_type in RESTOCKS:
            entry["location"] = {"id": locations[rl.location_id]}
        elif rl is not None:
            entry["custcol_shopify_no_restock"] = True
        lines.append(entry)
    return CreditLines(lines, outcome.body, value, adjustment, _mismatch(cmd, value, adjustment, len(drafts)))


def _mismatch(cmd: CreateCredit, value: Decimal, adjustment: Decimal, lines: int) -> str | None:
    """An adjustment that rounding, a recorded refund discrepancy or a refund without money does not explain."""
    if within_half_cent_per_line(adjustment, lines) or cmd.adjusted or not cmd.amount:
        return None
    return (
        f"{cmd.external_id}: Shopify returned {cmd.amount}, the refund's lines and tax total {value} in NetSuite "
        f"(difference {adjustment}, posted on the refund adjustment line)"
    )
