"""The lines of a sales order, before item ids: products net of their discounts, shipping, gift cards, tips,
duties, fees and bundles, each amount in the document currency. Pure: plain data in and out.

A `Draft` is one NetSuite line as the money rule sees it (an item SKU, an amount, Shopify's tax on it); tax.py
adds the tax fields, mapping.py resolves the SKUs to item ids and composes the sales order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from app.domain.bundles import component_key
from app.domain.errors import MappingError
from app.domain.money import SHOP, ZERO, TaxPart, allocate, amount, bag_amount, cents, shop_to_document, tax_lines
from app.domain.state_machine import Component, sales_quantity

PRODUCT, DISCOUNT, SHIPPING, GIFT_CARD = "product", "discount", "shipping", "gift_card"
TIP, DUTY, FEE, TAX_VARIANCE, ROUNDING = "tip", "duty", "fee", "tax_variance", "rounding"


@dataclass(frozen=True)
class ServiceItems:
    """The SKUs (NetSuite Name/Number) of the items that carry amounts which are not products."""

    shipping: str = "SHOPIFY-SHIPPING"
    discount: str = "SHOPIFY-DISCOUNT"
    gift_card: str = "SHOPIFY-GIFT-CARD"
    tip: str = "SHOPIFY-TIP"
    duty: str = "SHOPIFY-DUTY"
    fee: str = "SHOPIFY-FEE"
    tax_variance: str = "SHOPIFY-TAX-VARIANCE"
    rounding: str = "SHOPIFY-ROUNDING"
    refund_adjustment: str = "SHOPIFY-REFUND-ADJUSTMENT"  # a credit memo's money returned - value refunded

    def all(self) -> list[str]:
        return [self.shipping, self.discount, self.gift_card, self.tip, self.duty, self.fee, self.tax_variance,
                self.rounding, self.refund_adjustment]  # fmt: skip


@dataclass(frozen=True)
class Draft:
    kind: str
    sku: str
    amount: Decimal  # what NetSuite's line amount will be (net of discounts; ex-tax)
    quantity: int = 1
    rate: Decimal | None = None  # unit price; None: the amount (quantity 1)
    description: str = ""
    line_key: str | None = None  # custcol_shopify_line_id
    line_id: int | None = None  # the Shopify line whose NetSuite line number the line keeps
    taxes: tuple[TaxPart, ...] = ()
    follows_tax: bool = False  # a discount line taxed like the line it follows (legacy tax codes)


@dataclass(frozen=True)
class LinesConfig:
    side: str = "presentment_money"
    discount_mode: str = "net"  # net | item
    items: ServiceItems = field(default_factory=ServiceItems)
    shipping_item_map: Mapping[str, str] = field(default_factory=dict)  # shipping title or code -> SKU
    bundles: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # bundle SKU -> {component SKU: qty}
    # Bundle lines the sales order already holds (Shopify line id -> its components there): they win over BUNDLE_MAP.
    posted_bundles: Mapping[int, tuple[Component, ...]] = field(default_factory=dict)


def line_quantity(line: Mapping[str, Any], order: Mapping[str, Any]) -> int:
    """Units the sales order carries: after edits, refunded units included (refunds are credit memos of their own;
    state_machine.sales_quantity, shared with the lifecycle's view of the order)."""
    return sales_quantity(line, order)


def is_tip_line(line: Mapping[str, Any]) -> bool:
    """A tip some channels (POS) list as a line item: no SKU, no variant or product, titled "Tip"."""
    no_product = not (line.get("sku") or "").strip() and not line.get("variant_id") and not line.get("product_id")
    return no_product and (line.get("title") or line.get("name") or "").strip().lower() == "tip"


def _scaled(value: Decimal, quantity: int, ordered: int) -> Decimal:
    """A line's discount or tax for the units still sold: Shopify's figures include removed units."""
    return value if quantity == ordered or not ordered else cents(value * quantity / ordered)


def tax_parts(
    obj: Mapping[str, Any], side: str, quantity: int | None = None, ordered: int | None = None
) -> tuple[TaxPart, ...]:
    parts = []
    for part in tax_lines(obj, side):
        if quantity is not None and ordered is not None:
            part = replace(part, amount=_scaled(part.amount, quantity, ordered))
        parts.append(part)
    return tuple(parts)


def _allocations(obj: Mapping[str, Any], side: str) -> Decimal:
    return sum((amount(a, "amount", side) for a in obj.get("discount_allocations") or []), ZERO)


def fallback_allocations(order: Mapping[str, Any], side: str) -> dict[int, Decimal]:
    """Older payloads carry `total_discounts` but no `discount_allocations`: the discount spread over the product
    lines by amount, to the cent, as Shopify itself allocates it. Empty when Shopify allocated it (or none)."""
    shipping = order.get("shipping_lines") or []
    if any(x.get("discount_allocations") for x in [*order["line_items"], *shipping]):
        return {}
    total = amount(order, "current_total_discounts", side, default=None)
    if total is None:
        total = amount(order, "total_discounts", side)
    lines = [line for line in order["line_items"] if line_quantity(line, order) and not line.get("gift_card")]
    if not total or not lines:
        return {}
    weights = [amount(line, "price", side) * line_quantity(line, order) for line in lines]
    return {line["id"]: share for line, share in zip(lines, allocate(total, weights), strict=True)}


def _product_drafts(
    line: Mapping[str, Any], order: Mapping[str, Any], config: LinesConfig, fallback: Mapping[int, Decimal]
) -> list[Draft]:
    """One Shopify line item: its line (and, with DISCOUNT_MODE=item, its discount line), gift card, tip or bundle."""
    side, items = config.side, config.items
    quantity, ordered = line_quantity(line, order), line["quantity"]
    if quantity == 0:
        return []  # a line edited or removed down to zero is not a sale
    price = amount(line, "price", side)
    gross = cents(price * quantity)
    discount = fallback.get(line["id"]) or _scaled(_allocations(line, side), quantity, ordered)
    description = (line.get("name") or line.get("title") or "")[:999]
    key = str(line["id"])
    if line.get("gift_card"):  # a liability sold, never taxed, never inventory
        return [Draft(GIFT_CARD, items.gift_card, gross - discount, quantity, price, description, key, line["id"])]
    if is_tip_line(line):
        return [Draft(TIP, items.tip, gross - discount, 1, None, description or "Tip", key)]
    sku = (line.get("sku") or "").strip()
    if not sku:
        raise MappingError(f"line item {line['id']} of order line {description!r} has no SKU")
    taxes = tax_parts(line, side, quantity, ordered)
    posted = config.posted_bundles.get(line["id"])
    components = {c.sku: c.units for c in posted} if posted else config.bundles.get(sku)
    if components:
        return bundle_drafts(line, sku, quantity, gross - discount, taxes, components)
    if config.discount_mode == "item" and discount:
        product = Draft(PRODUCT, sku, gross, quantity, price, description, key, line["id"], taxes)
        label = f"Discount on {description}"[:999]
        return [product, Draft(DISCOUNT, items.discount, -discount, 1, None, label, follows_tax=True)]
    return [Draft(PRODUCT, sku, gross - discount, quantity, price, description, key, line["id"], taxes)]


def bundle_drafts(
    line: Mapping[str, Any],
    sku: str,
    quantity: int,
    net: Decimal,
    taxes: tuple[TaxPart, ...],
    components: Mapping[str, int],
) -> list[Draft]:
    """A bundle line as its components (BUNDLE_MAP): the line's net amount and each tax allocated to the cent by
    the components' quantity share, the remainder on the last component."""
    units = [per_bundle * quantity for per_bundle in components.values()]
    amounts = allocate(net, units)
    tax_shares = [allocate(part.amount, units) for part in taxes]
    drafts = []
    for n, (component, qty) in enumerate(zip(components, units, strict=True)):
        component_taxes = tuple(replace(part, amount=shares[n]) for part, shares in zip(taxes, tax_shares, strict=True))
        drafts.append(
            Draft(
                PRODUCT,
                component,
                amounts[n],
                qty,
                cents(amounts[n] / qty),
                f"{component} (bundle {sku}: {line.get('name') or line.get('title') or ''})"[:999],
                component_key(line["id"], component),
                None,
                component_taxes,
            )
        )
    return drafts


def shipping_drafts(order: Mapping[str, Any], config: LinesConfig) -> list[Draft]:
    """One line per Shopify shipping line (removed ones skipped), net of its discounts, with its own tax. A free
    shipping line with no tax posts nothing: it changes no total and needs no item."""
    drafts = []
    for shipping in order.get("shipping_lines") or []:
        if shipping.get("is_removed"):
            continue
        net = amount(shipping, "price", config.side) - _allocations(shipping, config.side)
        taxes = tax_parts(shipping, config.side)
        if not net and not any(part.amount for part in taxes):
            continue
        title = shipping.get("title") or shipping.get("code") or "Shipping"
        sku = (
            config.shipping_item_map.get(shipping.get("title") or "")
            or config.shipping_item_map.get(shipping.get("code") or "")
            or config.items.shipping
        )
        key = f"shipping:{shipping['id']}" if shipping.get("id") is not None else None
        drafts.append(Draft(SHIPPING, sku, net, 1, None, title[:999], key, None, taxes))
    return drafts


def _duties(order: Mapping[str, Any], side: str, rate: Decimal) -> Decimal:
    total = bag_amount(order.get("current_total_duties_set"), side)
    if total is not None:
        return cents(total)
    duties = ZERO
    for line in order["line_items"]:
        for duty in line.get("duties") or []:
            duties += _duty_amount(duty, side, rate)
    return duties


def _duty_amount(duty: Mapping[str, Any], side: str, rate: Decimal) -> Decimal:
    """A line's duty: its bag (under price_set or at the top, as REST versions differ), else shop money."""
    for bag in (duty.get("price_set"), duty):
        value = bag_amount(bag, side)
        if value is not None:
            return cents(value)
    for bag in (duty.get("price_set"), duty):
        value = bag_amount(bag, SHOP)
        if value is not None:
            return shop_to_document(value, rate)
    return shop_to_document(Decimal(duty.get("price") or 0), rate)


def extra_drafts(order: Mapping[str, Any], config: LinesConfig, rate: Decimal, has_tip_lines: bool) -> list[Draft]:
    """Tips, duties and additional fees, each on its own item; none when zero."""
    side, items = config.side, config.items
    drafts = []
    tip = bag_amount(order.get("total_tip_received_set"), side)
    if tip is None and order.get("total_tip_received") is not None:
        tip = shop_to_document(Decimal(order["total_tip_received"]), rate)  # the plain field is in shop money
    if tip and not has_tip_lines:  # a tip listed as a line item is already on the order
        drafts.append(Draft(TIP, items.tip, cents(tip), description="Tip"))
    duties = _duties(order, side, rate)
    if duties:
        drafts.append(Draft(DUTY, items.duty, duties, description="Duties"))
    fees = bag_amount(order.get("current_total_additional_fees_set"), side)
    if fees:
        drafts.append(Draft(FEE, items.fee, cents(fees), description="Additional fees"))
    return drafts


def order_drafts(order: Mapping[str, Any], config: LinesConfig, rate: Decimal) -> list[Draft]:
    """Every line of the sales order except tax variance and rounding, in Shopify's order."""
    drafts: list[Draft] = []
    fallback = fallback_allocations(order, config.side)
    for line in order["line_items"]:
        try:
            drafts.extend(_product_drafts(line, order, config, fallback))
        except MappingError as exc:
            raise MappingError(f"{exc} (order {order['name']})") from None
    if not any(d.kind in (PRODUCT, GIFT_CARD) for d in drafts):
        raise MappingError(f"order {order['name']} has no line with a quantity")
    has_tip_lines = any(d.kind == TIP for d in drafts)
    return drafts + shipping_drafts(order, config) + extra_drafts(order, config, rate, has_tip_lines)


def discount_codes(order: Mapping[str, Any]) -> str:
    """The discount codes, and the titles of automatic (or manual, script) discounts, as finance reads them."""
    names: list[str] = []
    for code in order.get("discount_codes") or []:
        if code.get("code"):
            names.append(str(code["code"]))
    for application in order.get("discount_applications") or []:
        name = application.get("code") if application.get("type") == "discount_code" else application.get("title")
        if name and name not in names:
            names.append(str(name))
    return ", ".join(names)[:999]


def gift_card_redeemed(order: Mapping[str, Any], side: str) -> Decimal | None:
    """What gift cards paid (a tender, not a discount), when the payload carries its transactions; else None."""
    tenders = [
        t
        for t in order.get("transactions") or []
        if t.get("gateway") == "gift_card" and t.get("kind") in ("sale", "capture") and t.get("status") == "success"
    ]
    if not tenders:
        return None
    return sum((amount(t, "amount", side) for t in tenders), ZERO)


def drafts_total(drafts: Sequence[Draft]) -> Decimal:
    return sum((d.amount for d in drafts), ZERO)
