"""Realistic Shopify orders (REST / webhook shape, API 2026-04), built in one place for the demo, the benchmarks
and the tests.

An order carries the field set Shopify sends on orders/create (money sets, client details, tokens, per-line tax
lines, the customer with its default address ...), the same shape as ../shared/fixtures/shopify/orders_create.json
and the webhook samples under ../shared/reference/. Money is Decimal throughout and adds up to the cent:

    total_line_items_price = sum(price x quantity)
    tax of a line          = round((price x quantity - its share of the discount) x tax rate, cents)
    total_tax              = sum of the lines' taxes (the order's tax_lines carry that sum)
    subtotal_price         = total_line_items_price - total_discounts
    total_price            = subtotal_price + total_tax + shipping

`build_order` is deterministic (same arguments, same order, byte for byte); randomness lives in the helpers
that take a seeded `random.Random` (`random_customer`, `random_lines`), so callers keep control of the sequence
of draws. No import from app/ or tasks/ (simulators sit below them).
"""

from __future__ import annotations

import copy
import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

US_STATES = {
    "CA": "California",
    "CO": "Colorado",
    "IL": "Illinois",
    "MA": "Massachusetts",
    "NY": "New York",
    "OR": "Oregon",
    "TX": "Texas",
    "WA": "Washington",
}

CatalogItem = tuple[str, str, str]  # (sku, "Product title - Variant title", price)


def money(value: Decimal | str | int) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _fmt(value: Decimal) -> str:
    return f"{money(value):.2f}"


def _side(item: Mapping[str, Any], side: str, name: str = "price") -> str:
    """One side of an item's amount `name`: `<name>_set[side]` when it has one, else its plain (shop) `name`."""
    bag = item.get(f"{name}_set")
    if isinstance(bag, Mapping) and isinstance(bag.get(side), Mapping):
        return str(bag[side]["amount"])
    return str(item[name])


def _sides(sides: Mapping[str, tuple[Decimal, Decimal]], which: int, shop: str, presentment: str) -> dict[str, Any]:
    return {
        "shop_money": {"amount": _fmt(sides["shop_money"][which]), "currency_code": shop},
        "presentment_money": {"amount": _fmt(sides["presentment_money"][which]), "currency_code": presentment},
    }


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


@dataclass(frozen=True)
class Address:
    first_name: str
    last_name: str
    address1: str
    city: str
    province_code: str
    zip: str
    country_code: str = "US"
    country: str = "United States"
    province: str | None = None  # defaults to the state's name for US addresses
    address2: str | None = None
    company: str | None = None
    phone: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def as_dict(self, *, compact: bool = False) -> dict[str, Any]:
        if compact:
            out = {
                "first_name": self.first_name,
                "last_name": self.last_name,
                "name": f"{self.first_name} {self.last_name}",
                "address1": self.address1,
                "address2": self.address2,
                "city": self.city,
                "province_code": self.province_code,
                "zip": self.zip,
                "country_code": self.country_code,
                "phone": self.phone,
            }
            return {k: v for k, v in out.items() if v is not None}
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "name": f"{self.first_name} {self.last_name}",
            "company": self.company,
            "address1": self.address1,
            "address2": self.address2,
            "city": self.city,
            "province": self.province or US_STATES.get(self.province_code, self.province_code),
            "province_code": self.province_code,
            "country": self.country,
            "country_code": self.country_code,
            "zip": self.zip,
            "phone": self.phone,
            "latitude": self.latitude,
            "longitude": self.longitude,
        }


@dataclass(frozen=True)
class Customer:
    """A customer with a fixed identity: every order of theirs carries the same body."""

    id: int
    first_name: str
    last_name: str
    email: str
    address: Address
    phone: str | None = None
    created_at: str = "2025-11-02T10:15:00-04:00"
    address_id: int | None = None  # the default address's id; derived from the customer id when None

    def as_dict(self, *, updated_at: str, currency: str) -> dict[str, Any]:
        address_id = self.address_id if self.address_id is not None else 9_000_000_000_000 + self.id % 10**12
        return {
            "id": self.id,
            "email": self.email,
            "created_at": self.created_at,
            "updated_at": updated_at,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "state": "enabled",
            "note": None,
            "verified_email": True,
            "multipass_identifier": None,
            "tax_exempt": False,
            "phone": self.phone,
            "currency": currency,
            "tax_exemptions": [],
            "admin_graphql_api_id": f"gid://shopify/Customer/{self.id}",
            # A customer's address book entry carries no coordinates (the order's addresses do).
            "default_address": {
                **{k: v for k, v in self.address.as_dict().items() if k not in ("latitude", "longitude")},
                "id": address_id,
                "customer_id": self.id,
                "default": True,
            },
        }


@dataclass(frozen=True)
class Line:
    sku: str
    title: str  # the product's title
    price: str
    quantity: int
    variant_id: int
    product_id: int
    variant_title: str | None = None
    vendor: str | None = None
    grams: int = 0
    id: int | None = None  # the line item id; numbered from the order's line_id_base when None
    discount: str | None = None  # a fixed amount off this line alone (an automatic discount of its own)
    gift_card: bool = False  # a gift card sold: not taxable, no order discount, nothing to ship
    duty: str | None = None  # import duty charged on the line (cross-border orders)

    @property
    def name(self) -> str:
        return f"{self.title} - {self.variant_title}" if self.variant_title else self.title

    @property
    def amount(self) -> Decimal:
        return money(Decimal(self.price) * self.quantity)


@dataclass(frozen=True)
class Shipping:
    title: str
    price: str
    code: str | None = None  # defaults to the title
    discount: str | None = None  # a fixed amount off the shipping (an automatic shipping discount)
    taxable: bool = False  # shipping taxed at the order's rates


@dataclass(frozen=True)
class Discount:
    code: str
    amount: str  # a fixed amount off the order, spread over the lines in proportion to their amounts


@dataclass(frozen=True)
class Extras:
    """The order's free text and storefront details (what a merchant or the storefront fills in)."""

    note: str | None = None
    note_attributes: Sequence[Mapping[str, str]] = ()
    tags: str = ""
    source_name: str = "web"
    landing_site: str = "/"
    referring_site: str | None = None
    browser_ip: str | None = None  # derived from the order id when None
    user_agent: str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15"
    shop: str = "example-store.myshopify.com"
    gateway: str = "shopify_payments"
    financial_status: str = "paid"


def line_from_catalog(item: CatalogItem, quantity: int, variant_id: int, product_id: int, **kw: Any) -> Line:
    """A line for a catalog entry whose title reads "Product - Variant" (the variant part is optional)."""
    sku, title, price = item
    product, _, variant = title.partition(" - ")
    return Line(sku, product, price, quantity, variant_id, product_id, variant_title=variant or None, **kw)


def lines_subtotal(lines: Sequence[Line]) -> Decimal:
    return sum((line.amount for line in lines), ZERO)


def _allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`total` split over the weights to the cent; the last share takes the rounding remainder."""
    whole = sum(weights, ZERO)
    if not total or not whole:
        return [ZERO for _ in weights]
    shares = [money(total * w / whole) for w in weights[:-1]]
    return [*shares, money(total - sum(shares, ZERO))]


@dataclass(frozen=True)
class _Money:
    """Amounts are computed in the currency the buyer sees (presentment) and converted to the shop's at `rate`
    (shop money per unit of presentment money), each amount rounded on its own as Shopify rounds them."""

    shop: str
    presentment: str
    rate: Decimal

    def plain(self, value: Decimal) -> str:
        """A REST plain amount: shop money."""
        return _fmt(value * self.rate)

    def set(self, value: Decimal) -> dict[str, dict[str, str]]:
        """A REST `*_set`: both sides."""
        return {
            "shop_money": {"amount": self.plain(value), "currency_code": self.shop},
            "presentment_money": {"amount": _fmt(value), "currency_code": self.presentment},
        }

    def pair(self, value: Decimal) -> dict[str, Any]:
        return {"price": self.plain(value), "price_set": self.set(value)}


def _tax_lines(taxes: Sequence[tuple[str, Decimal, Decimal]], cur: _Money) -> list[dict[str, Any]]:
    return [
        {"channel_liable": False, **cur.pair(tax), "rate": float(rate), "title": title}
        for title, rate, tax in taxes
        if rate
    ]


def _allocation_dicts(allocations: Sequence[tuple[int, Decimal]], cur: _Money) -> list[dict[str, Any]]:
    return [
        {"amount": cur.plain(amount), "amount_set": cur.set(amount), "discount_application_index": index}
        for index, amount in allocations
        if amount
    ]


def _line_dict(
    line: Line,
    line_id: int,
    taxes: Sequence[tuple[str, Decimal, Decimal]],
    allocations: Sequence[tuple[int, Decimal]],
    cur: _Money,
) -> dict[str, Any]:
    duties = []
    if line.duty:
        duties.append(
            {
                "id": line_id,
                "harmonized_system_code": "6109100010",
                "country_code_of_origin": "US",
                "price_set": cur.set(money(line.duty)),
                "tax_lines": [],
                "admin_graphql_api_id": f"gid://shopify/Duty/{line_id}",
            }
        )
    return {
        "id": line_id,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
        "attributed_staffs": [],
        "current_quantity": line.quantity,
        "fulfillable_quantity": line.quantity,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": line.gift_card,
        "grams": line.grams,
        "name": line.name,
        **cur.pair(Decimal(line.price)),
        "product_exists": True,
        "product_id": line.product_id,
        "properties": [],
        "quantity": line.quantity,
        "requires_shipping": not line.gift_card,
        "sku": line.sku,
        "taxable": not line.gift_card,
        "title": line.title,
        "total_discount": "0.00",
        "total_discount_set": cur.set(ZERO),
        "variant_id": line.variant_id,
        "variant_inventory_management": "shopify",
        "variant_title": line.variant_title,
        "vendor": line.vendor,
        "tax_lines": _tax_lines(taxes, cur),
        "duties": duties,
        "discount_allocations": _allocation_dicts(allocations, cur),
    }


@dataclass
class _Figures:
    """What an order's money comes to, in the presentment currency (see `_figures`)."""

    applications: list[dict[str, Any]]
    line_taxes: list[list[tuple[str, Decimal, Decimal]]]  # per line: (title, rate, tax) per rate
    line_allocations: list[list[tuple[int, Decimal]]]  # per line: (application index, amount)
    code_allocations: list[Decimal]  # the discount code's share of each line
    shipping_taxes: list[tuple[str, Decimal, Decimal]]
    shipping_allocations: list[tuple[int, Decimal]]
    totals: dict[str, Decimal]


def _figures(
    lines: Sequence[Line],
    rates: Sequence[tuple[str, Decimal]],
    ship: Shipping,
    discount: Discount | None,
    taxes_included: bool,
    tip: Decimal,
    fees: Decimal = ZERO,
) -> _Figures:
    """Shopify's arithmetic, to the cent: a discount code spread over the (non gift card) lines after their own
    discounts, each line's tax per rate on its net amount (inside the price when taxes are included), shipping
    net of its discount and taxed at the same rates when taxable."""
    applications: list[dict[str, Any]] = []
    if discount:
        applications.append(
            {
                "target_type": "line_item",
                "type": "discount_code",
                "value": _fmt(money(discount.amount)),
                "value_type": "fixed_amount",
                "allocation_method": "across",
                "target_selection": "all",
                "code": discount.code,
            }
        )
    own = [money(line.discount) if line.discount else ZERO for line in lines]
    allocations: list[list[tuple[int, Decimal]]] = [[] for _ in lines]
    weights = [ZERO if line.gift_card else line.amount - off for line, off in zip(lines, own, strict=True)]
    code_shares = _allocate(money(discount.amount) if discount else ZERO, weights)
    for n, share in enumerate(code_shares):
        allocations[n].append((0, share))
    for n, (line, off) in enumerate(zip(lines, own, strict=True)):
        if off:
            allocations[n].append((len(applications), off))
            applications.append(_automatic("line_item", "explicit", off, f"{line.title} discount"))
    ship_off = money(ship.discount) if ship.discount else ZERO
    shipping_allocations = []
    if ship_off:
        shipping_allocations.append((len(applications), ship_off))
        applications.append(_automatic("shipping_line", "all", ship_off, "Shipping discount"))
    inclusive = sum((r for _, r in rates), ZERO) if taxes_included else ZERO

    def taxed(net: Decimal, taxable: bool) -> list[tuple[str, Decimal, Decimal]]:
        return [(t, r, money(net * r / (1 + inclusive))) for t, r in rates] if taxable else []

    nets = [line.amount - sum((a for _, a in allocs), ZERO) for line, allocs in zip(lines, allocations, strict=True)]
    line_taxes = [taxed(net, not line.gift_card) for line, net in zip(lines, nets, strict=True)]
    shipping = money(ship.price)
    shipping_taxes = taxed(shipping - ship_off, ship.taxable)
    tax = sum((t for taxes in [*line_taxes, shipping_taxes] for _, _, t in taxes), ZERO)
    items = lines_subtotal(lines)
    line_discounts = sum(own, ZERO) + sum(code_shares, ZERO)
    subtotal = items - line_discounts
    duties = sum((money(line.duty) for line in lines if line.duty), ZERO)
    total = subtotal + shipping - ship_off + (ZERO if taxes_included else tax) + duties + fees + tip
    totals = {
        "items": items,
        "subtotal": subtotal,
        "tax": tax,
        "discounts": line_discounts + ship_off,
        "total": total,
        "ship": shipping,
        "ship_net": shipping - ship_off,
        "duties": duties,
        "fees": fees,
        "tip": tip,
    }
    return _Figures(applications, line_taxes, allocations, code_shares, shipping_taxes, shipping_allocations, totals)


def _automatic(target: str, selection: str, amount: Decimal, title: str) -> dict[str, Any]:
    return {
        "target_type": target,
        "type": "automatic",
        "value": _fmt(amount),
        "value_type": "fixed_amount",
        "allocation_method": "across",
        "target_selection": selection,
        "title": title,
    }


def _order_tax_lines(fig: _Figures, cur: _Money) -> list[dict[str, Any]]:
    """The order's tax lines: per rate, the sum of what the lines and the shipping pay at it."""
    sums: dict[tuple[str, Decimal], Decimal] = {}
    for taxes in [*fig.line_taxes, fig.shipping_taxes]:
        for title, rate, tax in taxes:
            sums[(title, rate)] = sums.get((title, rate), ZERO) + tax
    return _tax_lines([(title, rate, tax) for (title, rate), tax in sums.items()], cur)


def build_order(
    *,
    order_id: int,
    number: int,
    customer: Customer,
    lines: Sequence[Line],
    created_at: datetime | str,
    tax_rate: Decimal | str = ZERO,
    tax_title: str = "Sales Tax",
    shipping: Shipping | None = None,
    discount: Discount | None = None,
    currency: str = "USD",
    billing_address: Address | None = None,
    shipping_address: Address | None = None,
    line_id_base: int | None = None,
    extras: Extras | None = None,
    compact: bool = False,
    taxes: Sequence[tuple[str, Decimal | str]] | None = None,
    taxes_included: bool = False,
    presentment_currency: str | None = None,
    exchange_rate: Decimal | str = "1",
    tip: Decimal | str | None = None,
    fees: Decimal | str | None = None,
) -> dict[str, Any]:
    """One orders/create payload. `number` is the shop's order number (name "#<number>"); line ids are
    `line_id_base + 1, + 2, ...` (default `order_id * 10`) unless a line names its own id; both addresses default
    to the customer's; the customer's default address is their address.

    Money: `taxes` ((title, rate) pairs, several rates at once) replaces `tax_rate`/`tax_title`;
    `taxes_included` puts the tax inside the prices; a `presentment_currency` other than `currency` makes every
    price one the buyer sees in that currency, converted to the shop's at `exchange_rate` (shop money per unit
    of presentment money) on the shop side of each `*_set` and in the plain amounts; `tip` is added to the total,
    and so are `fees` (Shopify's additional fees, such as a retail delivery fee: untaxed, in
    `current_total_additional_fees_set`).
    Lines and shipping may carry discounts of their own, a line may be a gift card or carry a duty.

    `compact=True` keeps only the fields of the drift baseline that the schemas and the mapping read (no money
    sets, storefront details or per-line tax lines): the same figures in a small body, for payloads that tests
    edit by hand (one `total_price`, no `total_price_set` to keep in step) or that must not count as drift."""
    ex = extras or Extras()
    rate = Decimal(str(tax_rate))
    rates = [(title, Decimal(str(r))) for title, r in taxes] if taxes is not None else [(tax_title, rate)]
    rates = [(title, r) for title, r in rates if r]
    created = created_at.isoformat() if isinstance(created_at, datetime) else created_at
    base = order_id * 10 if line_id_base is None else line_id_base
    ship = shipping or Shipping("Standard", "0.00")
    cur = _Money(currency, presentment_currency or currency, Decimal(str(exchange_rate)))
    fig = _figures(
        lines,
        rates,
        ship,
        discount,
        taxes_included,
        money(tip) if tip is not None else ZERO,
        money(fees) if fees is not None else ZERO,
    )
    totals = fig.totals
    line_items = [
        _line_dict(line, line.id if line.id is not None else base + n, line_taxes, allocs, cur)
        for n, (line, line_taxes, allocs) in enumerate(
            zip(lines, fig.line_taxes, fig.line_allocations, strict=True), start=1
        )
    ]
    billing = (billing_address or customer.address).as_dict()
    shipping_to = (shipping_address or customer.address).as_dict()
    token = _digest("token", order_id)[:32]
    ip = ex.browser_ip or f"203.0.113.{int(token[:2], 16) % 250 + 1}"
    if compact:
        return _compact_order(
            order_id,
            number,
            customer,
            lines,
            line_items,
            created,
            currency,
            ex,
            ship,
            totals,
            _order_tax_lines(fig, cur),
            billing_address or customer.address,
            shipping_address or customer.address,
            discount,
        )
    m = cur.set
    s = cur.plain
    # What the code took, as the sum of its shop-money shares (each rounded on its own, as REST adds them).
    code_amount = sum((Decimal(s(share)) for share in fig.code_allocations), ZERO)
    order = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "app_id": 580111,
        "browser_ip": ip,
        "buyer_accepts_marketing": False,
        "cancel_reason": None,
        "cancelled_at": None,
        "cart_token": f"c1-{_digest('cart', order_id)[:16]}",
        "checkout_id": 38_000_000_000_000 + order_id % 10**12,
        "checkout_token": token,
        "client_details": {
            "accept_language": "en-US,en;q=0.9",
            "browser_height": 900,
            "browser_ip": ip,
            "browser_width": 1440,
            "session_hash": None,
            "user_agent": ex.user_agent,
        },
        "closed_at": None,
        "confirmation_number": _digest("confirmation", order_id)[:9].upper(),
        "confirmed": True,
        "contact_email": customer.email,
        "created_at": created,
        "currency": currency,
        "current_subtotal_price": s(totals["subtotal"]),
        "current_subtotal_price_set": m(totals["subtotal"]),
        "current_total_discounts": s(totals["discounts"]),
        "current_total_discounts_set": m(totals["discounts"]),
        "current_total_price": s(totals["total"]),
        "current_total_price_set": m(totals["total"]),
        "current_total_tax": s(totals["tax"]),
        "current_total_tax_set": m(totals["tax"]),
        "customer_locale": "en-US",
        "discount_codes": (
            [{"code": discount.code, "amount": _fmt(code_amount), "type": "fixed_amount"}] if discount else []
        ),
        "email": customer.email,
        "estimated_taxes": False,
        "financial_status": ex.financial_status,
        "fulfillment_status": None,
        "landing_site": ex.landing_site,
        "landing_site_ref": None,
        "location_id": None,
        "name": f"#{number}",
        "note": ex.note,
        "note_attributes": [dict(a) for a in ex.note_attributes],
        "number": number - 1000 if number > 1000 else number,
        "order_number": number,
        "order_status_url": f"https://{ex.shop}/70123456/orders/{token[:16]}/authenticate",
        "payment_gateway_names": [ex.gateway],
        "phone": None,
        "po_number": None,
        "presentment_currency": cur.presentment,
        "processed_at": created,
        "reference": None,
        "referring_site": ex.referring_site,
        "source_identifier": None,
        "source_name": ex.source_name,
        "subtotal_price": s(totals["subtotal"]),
        "subtotal_price_set": m(totals["subtotal"]),
        "tags": ex.tags,
        "tax_exempt": False,
        "tax_lines": _order_tax_lines(fig, cur),
        "taxes_included": taxes_included,
        "test": False,
        "token": token,
        "total_discounts": s(totals["discounts"]),
        "total_discounts_set": m(totals["discounts"]),
        "total_line_items_price": s(totals["items"]),
        "total_line_items_price_set": m(totals["items"]),
        "total_outstanding": "0.00",
        "total_price": s(totals["total"]),
        "total_price_set": m(totals["total"]),
        "total_shipping_price_set": m(totals["ship"]),
        "total_tax": s(totals["tax"]),
        "total_tax_set": m(totals["tax"]),
        "total_tip_received": s(totals["tip"]),
        "total_weight": sum(line.grams * line.quantity for line in lines),
        "updated_at": created,
        "user_id": None,
        "billing_address": billing,
        "customer": customer.as_dict(updated_at=created, currency=currency),
        "discount_applications": fig.applications,
        "fulfillments": [],
        "line_items": line_items,
        "payment_terms": None,
        "refunds": [],
        "shipping_address": shipping_to,
        "shipping_lines": [
            {
                "id": 5_000_000_000_000 + order_id % 10**12,
                "carrier_identifier": None,
                "code": ship.code or ship.title,
                "discounted_price": s(totals["ship_net"]),
                "discounted_price_set": m(totals["ship_net"]),
                "is_removed": False,
                "phone": None,
                **cur.pair(totals["ship"]),
                "requested_fulfillment_service_id": None,
                "source": "shopify",
                "title": ship.title,
                "tax_lines": _tax_lines(fig.shipping_taxes, cur),
                "discount_allocations": _allocation_dicts(fig.shipping_allocations, cur),
            }
        ],
    }
    if totals["duties"]:
        order["current_total_duties_set"] = m(totals["duties"])
        order["original_total_duties_set"] = m(totals["duties"])
    if totals["fees"]:
        order["current_total_additional_fees_set"] = m(totals["fees"])
        order["original_total_additional_fees_set"] = m(totals["fees"])
    return order


def _compact_order(
    order_id: int,
    number: int,
    customer: Customer,
    lines: Sequence[Line],
    line_items: list[dict[str, Any]],
    created: str,
    currency: str,
    ex: Extras,
    ship: Shipping,
    totals: Mapping[str, Decimal],
    tax_lines: list[dict[str, Any]],
    billing: Address,
    shipping_to: Address,
    discount: Discount | None,
) -> dict[str, Any]:
    keep = ("id", "variant_id", "product_id", "sku", "title", "name", "quantity", "price", "fulfillment_status")
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{number}",
        "order_number": number,
        "email": customer.email,
        "currency": currency,
        "financial_status": ex.financial_status,
        # The payments the order was paid with: which of them reach a Shopify Payments payout (issue 13).
        "payment_gateway_names": [ex.gateway],
        "fulfillment_status": None,
        "created_at": created,
        "updated_at": created,
        "cancelled_at": None,
        "cancel_reason": None,
        "subtotal_price": _fmt(totals["subtotal"]),
        "total_tax": _fmt(totals["tax"]),
        "total_discounts": _fmt(totals["discounts"]),
        "total_price": _fmt(totals["total"]),
        "line_items": [{k: li[k] for k in keep} for li in line_items],
        "shipping_lines": [{"code": ship.code or ship.title, "title": ship.title, "price": _fmt(totals["ship"])}],
        "tax_lines": [{k: t[k] for k in ("title", "price", "rate")} for t in tax_lines],
        "discount_codes": [{"code": discount.code, "amount": _fmt(totals["discounts"])}] if discount else [],
        "billing_address": billing.as_dict(compact=True),
        "shipping_address": shipping_to.as_dict(compact=True),
        "customer": {
            "id": customer.id,
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
        },
    }


# --- fulfillments and refunds of a built order -------------------------------------------------------------


def build_fulfillment(
    order: Mapping[str, Any],
    *,
    fulfillment_id: int,
    lines: Mapping[int, int],
    location_id: int,
    created_at: str,
    tracking_company: str,
    tracking_number: str,
) -> dict[str, Any]:
    """A fulfillments/create payload shipping `lines` ({line item id: quantity}) of `order` from a location."""
    by_id = {li["id"]: li for li in order["line_items"]}
    return {
        "id": fulfillment_id,
        "order_id": order["id"],
        "status": "success",
        "location_id": location_id,
        "tracking_company": tracking_company,
        "tracking_number": tracking_number,
        "tracking_numbers": [tracking_number],
        "created_at": created_at,
        "line_items": [{"id": lid, "quantity": qty, "sku": by_id[lid]["sku"]} for lid, qty in lines.items()],
    }


def build_refund(
    order: Mapping[str, Any],
    *,
    refund_id: int,
    lines: Mapping[int, int],
    location_id: int,
    created_at: str,
    transaction_id: int,
    note: str | None = None,
    shipping: bool = False,
    short_by: Decimal | str = ZERO,
) -> dict[str, Any]:
    """A refunds/create payload returning (restocking) `lines` ({line item id: quantity}) of `order`, as Shopify
    computes it: each line's subtotal is its share of what the line was sold for (after its discounts) and its
    tax its share of the line's tax; `shipping` also refunds the order's shipping (a `refund_shipping_lines` entry
    with its tax). One transaction returns their sum (subtotals alone in a tax-inclusive store) in the currency
    the buyer paid in, less `short_by` (presentment money): a refund for less than its value, which Shopify records
    as a refund-discrepancy order adjustment."""
    shop_currency = order.get("currency") or "USD"
    paid_in = order.get("presentment_currency") or shop_currency
    with_tax = not order.get("taxes_included")
    by_id = {li["id"]: li for li in order["line_items"]}
    refund_lines = []
    paid = ZERO
    for n, (lid, qty) in enumerate(lines.items(), start=1):
        sides = _refunded_line(order, by_id[lid], qty)
        refund_line = {
            "id": n,
            "quantity": qty,
            "line_item_id": lid,
            "location_id": location_id,
            "restock_type": "return",
            "subtotal": _fmt(sides["shop_money"][0]),
            "total_tax": _fmt(sides["shop_money"][1]),
            "line_item": dict(by_id[lid]),
        }
        if by_id[lid].get("price_set"):
            refund_line["subtotal_set"] = _sides(sides, 0, shop_currency, paid_in)
            refund_line["total_tax_set"] = _sides(sides, 1, shop_currency, paid_in)
        refund_lines.append(refund_line)
        paid += sides["presentment_money"][0] + (sides["presentment_money"][1] if with_tax else ZERO)
    shipping_lines = [_refunded_shipping(s, shop_currency, paid_in) for s in order.get("shipping_lines") or []]
    shipping_lines = [x for x in shipping_lines if shipping and x is not None]
    for x in shipping_lines:
        paid += Decimal(x["subtotal_amount_set"]["presentment_money"]["amount"])
        paid += Decimal(x["tax_amount_set"]["presentment_money"]["amount"]) if with_tax else ZERO
    short = money(short_by)
    transaction = {"id": transaction_id, "amount": _fmt(paid - short), "kind": "refund", "status": "success",
                   "gateway": "shopify_payments"}  # fmt: skip
    if order.get("presentment_currency"):  # a full order (the compact shape carries no currency pairs)
        transaction["currency"] = paid_in
    adjustments = []
    if short:
        adjustments.append(
            {
                "id": refund_id,
                "order_id": order["id"],
                "refund_id": refund_id,
                "kind": "refund_discrepancy",
                "reason": "Refund discrepancy",
                "amount": _fmt(-short),
                "tax_amount": "0.00",
            }
        )
    return {
        "id": refund_id,
        "order_id": order["id"],
        "created_at": created_at,
        "note": note,
        "restock": True,
        "refund_line_items": refund_lines,
        "refund_shipping_lines": shipping_lines,
        "transactions": [transaction],
        "order_adjustments": adjustments,
    }


def _refunded_line(order: Mapping[str, Any], line: Mapping[str, Any], qty: int) -> dict[str, tuple[Decimal, Decimal]]:
    """(subtotal, tax) of `qty` units of `line` on each side: their share of the line's price less its discount
    allocations, and of its tax lines (a compact order's one rate when the line has none)."""
    share = Decimal(qty) / Decimal(line["quantity"])
    sides = {}
    for side in ("shop_money", "presentment_money"):
        discount = sum((Decimal(_side(a, side, "amount")) for a in line.get("discount_allocations") or []), ZERO)
        gross = Decimal(_side(line, side)) * line["quantity"]
        if line.get("tax_lines") is not None:
            line_tax = sum((Decimal(_side(t, side)) for t in line["tax_lines"]), ZERO)
        else:  # a compact order: its one tax rate applies to every line
            rate = sum((Decimal(str(t["rate"])) for t in order.get("tax_lines") or []), ZERO)
            line_tax = money(Decimal(line["price"]) * line["quantity"] * rate)
        sides[side] = (money((gross - discount) * share), money(line_tax * share))
    return sides


def _refunded_shipping(shipping: Mapping[str, Any], shop: str, presentment: str) -> dict[str, Any] | None:
    """A `refund_shipping_lines` entry giving back all of a shipping line (what was charged, after its discounts,
    and its tax); None for a free one."""
    sides = {}
    for side in ("shop_money", "presentment_money"):
        discount = sum((Decimal(_side(a, side, "amount")) for a in shipping.get("discount_allocations") or []), ZERO)
        tax = sum((Decimal(_side(t, side)) for t in shipping.get("tax_lines") or []), ZERO)
        sides[side] = (money(Decimal(_side(shipping, side)) - discount), money(tax))
    if not any(sides["presentment_money"]):
        return None
    return {
        "id": shipping.get("id"),
        "shipping_line_id": shipping.get("id"),
        "shipping_line": {
            "id": shipping.get("id"),
            "title": shipping.get("title"),
            "code": shipping.get("code"),
            "tax_lines": copy.deepcopy(shipping.get("tax_lines") or []),
        },  # fmt: skip
        "subtotal_amount": _fmt(sides["shop_money"][0]),
        "subtotal_amount_set": _sides(sides, 0, shop, presentment),
        "tax_amount": _fmt(sides["shop_money"][1]),
        "tax_amount_set": _sides(sides, 1, shop, presentment),
    }


# --- random helpers (a seeded random.Random in, the same draws in the same order every time) ----------------

Place = tuple[str, str, str]  # city, state code, zip


def random_customer(
    rng: random.Random,
    customer_id: int,
    *,
    first_names: Sequence[str],
    last_names: Sequence[str],
    places: Sequence[tuple[Any, ...]],
    email: Callable[[str, str], str] | None = None,
) -> tuple[Customer, tuple[Any, ...]]:
    """A customer with a fixed identity and the place drawn for them (the caller may carry more in a place, such
    as its tax rate). Draws, in order: first name, last name, place, street number, phone."""
    first, last = rng.choice(first_names), rng.choice(last_names)
    place = rng.choice(places)
    city, state, zip_code = place[:3]
    street = rng.randint(10, 999)
    phone = f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    address = Address(first, last, f"{street} Market Street", city, state, zip_code, phone=phone)
    mail = email(first, last) if email else f"{first.lower()}.{last.lower()}@example.com"
    return Customer(customer_id, first, last, mail, address), place


def random_lines(
    rng: random.Random,
    catalog: Sequence[CatalogItem],
    *,
    max_lines: int = 4,
    ids: Callable[[random.Random, CatalogItem], tuple[int, int]],
    quantity: Callable[[random.Random], int],
) -> list[Line]:
    """1..max_lines distinct catalog entries. Draws: the count, the sample, then per line `ids` (variant id,
    product id) and `quantity`."""
    lines = []
    for item in rng.sample(list(catalog), rng.randint(1, max_lines)):
        variant_id, product_id = ids(rng, item)
        lines.append(line_from_catalog(item, quantity(rng), variant_id, product_id))
    return lines


__all__ = [
    "Address",
    "CatalogItem",
    "Customer",
    "Discount",
    "Extras",
    "Line",
    "Shipping",
    "build_fulfillment",
    "build_order",
    "build_refund",
    "line_from_catalog",
    "lines_subtotal",
    "money",
    "random_customer",
    "random_lines",
]
