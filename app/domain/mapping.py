"""Shopify order -> NetSuite customer and sales order bodies. Pure: no I/O, plain data in and out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.domain.bundles import component_key
from app.domain.customers import CustomerConfig, CustomerNeed, order_customer
from app.domain.customers import netsuite_address as _address
from app.domain.errors import MappingError, UnknownSku
from app.domain.keys import order_external_id
from app.domain.money import SIDES, ZERO, amount, document_currency, exchange_rate, within_half_cent_per_line
from app.domain.order_lines import (
    ROUNDING,
    TAX_VARIANCE,
    Draft,
    LinesConfig,
    ServiceItems,
    discount_codes,
    drafts_total,
    gift_card_redeemed,
    order_drafts,
)
from app.domain.refunds import refund_value
from app.domain.state_machine import Component
from app.domain.tax import SUITETAX, TaxConfig, TaxOutcome, apply_tax, prepare_taxes


@dataclass(frozen=True)
class MappingConfig:
    currency_map: Mapping[str, str]
    default_customer_external_id: str
    # Customers (app/domain/customers.py): GUEST_CUSTOMERS and NETSUITE_SUBSIDIARY_ID.
    guest_customers: str = "per_email"
    subsidiary_id: str | None = None
    order_currency: str = "presentment"  # ORDER_CURRENCY: presentment | shop
    discount_mode: str = "net"  # DISCOUNT_MODE: net | item
    items: ServiceItems = field(default_factory=ServiceItems)
    shipping_item_map: Mapping[str, str] = field(default_factory=dict)
    bundles: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    tax: TaxConfig = field(default_factory=TaxConfig)
    # Per order: bundle lines as the sales order already holds them (app/domain/bundles.py posted_components).
    posted_bundles: Mapping[int, tuple[Component, ...]] = field(default_factory=dict)

    @property
    def side(self) -> str:
        return SIDES[self.order_currency]

    def lines(self) -> LinesConfig:
        return LinesConfig(
            self.side, self.discount_mode, self.items, self.shipping_item_map, self.bundles, self.posted_bundles
        )


@dataclass(frozen=True)
class MoneyCheck:
    """What NetSuite will total against Shopify's current total, in the document currency."""

    shopify_total: Decimal
    netsuite_total: Decimal  # Σ line amounts (rounding line included) + the tax NetSuite will have
    rounding: Decimal  # the SHOPIFY-ROUNDING line's amount (0: none)
    tax_variance: Decimal  # legacy tax: Shopify's tax - NetSuite's computed tax (the variance line)
    lines: int


@dataclass(frozen=True)
class OrderBodies:
    order_external_id: str
    customer: CustomerNeed  # which customer the order names (app/domain/customers.py)
    sales_order_body: dict[str, Any]
    money: MoneyCheck | None = None
    money_mismatch: str | None = None  # a difference beyond per-line rounding (alert), else None
    currency: str | None = None  # the document currency

    @property
    def customer_external_id(self) -> str:
        return self.customer.external_id

    @property
    def customer_body(self) -> dict[str, Any]:
        return self.customer.body


def order_skus(order: Mapping[str, Any], config: MappingConfig | None = None) -> list[str]:
    """SKUs an order needs resolved (service items included), in line order, without duplicates. A product line
    without a SKU is an error; a gift card or a tip needs none (they post to service items)."""
    return plan_skus(plan_order(order, config or MappingConfig(currency_map={}, default_customer_external_id="")))


def plan_skus(plan: OrderPlan) -> list[str]:
    """The SKUs of a planned order's lines, in line order, without duplicates."""
    return list(dict.fromkeys(d.sku for d in plan.drafts))


def map_order(
    order: Mapping[str, Any],
    item_ids: Mapping[str, str],
    config: MappingConfig,
    netsuite_lines: Mapping[int, int] | None = None,
    plan: OrderPlan | None = None,
) -> OrderBodies:
    """Build the NetSuite bodies for one Shopify order (already loaded through OrderSchema).

    The service upserts with `?replace=item`: NetSuite appends unkeyed lines on update, so a retried PUT would
    otherwise double every line. Lines whose NetSuite line number we know (`netsuite_lines`, by Shopify line id)
    carry it as `line`, so they are updated in place (a fulfilled line can't be removed and re-added); the others
    are added. Every order line carries its Shopify line id in `custcol_shopify_line_id` to be matched back.
    Amounts follow docs/MAPPING.md: NetSuite's own total equals Shopify's current total to the cent. `plan` is
    `plan_order(order, config)` when the caller already made it (to learn the SKUs to resolve).
    """
    plan = plan or plan_order(order, config)
    missing = [sku for sku in plan_skus(plan) if sku not in item_ids]
    if missing:
        raise UnknownSku(missing)
    currency_id = _currency_id(order, plan.currency, config)
    customer = order_customer(order, _customer_config(config))
    known: dict[int | str, int] = dict(netsuite_lines or {})
    known.update(
        (component_key(line_id, c.sku), c.netsuite_line)
        for line_id, components in config.posted_bundles.items()
        for c in components
    )
    lines = [netsuite_line(d, item_ids[d.sku], known) for d in plan.drafts]
    for n, extra in plan.tax.body_lines.items():
        lines[n].update(extra)
    return OrderBodies(
        order_external_id=order_external_id(order["id"]),
        customer=customer,
        sales_order_body=_sales_order_body(order, plan, customer.external_id, currency_id, lines),
        money=plan.check,
        money_mismatch=money_mismatch(order, plan.check),
        currency=plan.currency,
    )


@dataclass(frozen=True)
class _TaxFields:
    body: dict[str, Any]
    body_lines: dict[int, dict[str, Any]]  # draft index -> tax fields of its NetSuite line


@dataclass(frozen=True)
class OrderPlan:
    drafts: list[Draft]
    tax: _TaxFields
    check: MoneyCheck
    currency: str
    rate: Decimal
    side: str


def plan_order(order: Mapping[str, Any], config: MappingConfig) -> OrderPlan:
    """Every line with its amount and tax, the tax variance and rounding lines: the whole money decision."""
    side = config.side
    rate = exchange_rate(order, side)
    drafts = prepare_taxes(order_drafts(order, config.lines(), rate), order, side)
    outcome, variance = tax_with_variance(drafts, config)
    total = sales_order_total(order, side)
    netsuite_total = drafts_total(drafts) + outcome.netsuite_tax
    rounding = total - netsuite_total
    if rounding:
        drafts.append(Draft(ROUNDING, config.items.rounding, rounding, description="Shopify rounding"))
        outcome.lines.append({})
    check = MoneyCheck(total, netsuite_total + rounding, rounding, variance, len(drafts))
    body_lines = {n: fields for n, fields in enumerate(outcome.lines) if fields}
    return OrderPlan(drafts, _TaxFields(outcome.body, body_lines), check, document_currency(order, side), rate, side)


def tax_with_variance(drafts: list[Draft], config: MappingConfig) -> tuple[TaxOutcome, Decimal]:
    """The account's tax mode applied to `drafts` (sales order or credit memo) and, in legacy tax, Shopify's tax
    minus NetSuite's computed tax appended to `drafts` as a `SHOPIFY-TAX-VARIANCE` line. Returns the outcome (its
    `lines`: the tax fields, one per draft, the variance line's included) and the variance (0: no line)."""
    outcome = apply_tax(drafts, [{} for _ in drafts], config.tax)
    variance = outcome.shopify_tax - outcome.netsuite_tax if config.tax.mode != SUITETAX else ZERO
    if variance:
        drafts.append(Draft(TAX_VARIANCE, config.items.tax_variance, variance, description="Shopify tax variance"))
        outcome.lines.append({})
    return outcome, variance


def sales_order_total(order: Mapping[str, Any], side: str) -> Decimal:
    """Shopify's total for the sales order, in the document currency: the order after edits, before refunds.

    `current_total_price` is after edits and returns: refunded lines, shipping and duties are off it. Refunds
    reach NetSuite as credit memos and the sales order keeps what was sold, so what each refund took off is
    added back (app/domain/refunds.refund_value). A payload older than `current_*` has had neither. The nightly
    orders check compares NetSuite's own total with this same figure.
    """
    total = amount(order, "current_total_price", side, default=None)
    if total is None:
        return amount(order, "total_price", side)
    return total + sum((refund_value(refund, side) for refund in order.get("refunds") or ()), ZERO)


def netsuite_line(draft: Draft, item_id: str, netsuite_lines: Mapping[int | str, int] | None = None) -> dict[str, Any]:
    """One NetSuite item line of a draft; keyed by its NetSuite line number when `netsuite_lines` knows it (by
    Shopify line id, or by a bundle component's `custcol_shopify_line_id`)."""
    entry: dict[str, Any] = {
        "item": {"id": item_id},
        "quantity": draft.quantity,
        "rate": draft.rate if draft.rate is not None else draft.amount,
        "amount": draft.amount,
        "description": draft.description[:999],
    }
    if draft.line_key:
        entry["custcol_shopify_line_id"] = draft.line_key
    known = netsuite_lines or {}
    if draft.line_id is not None and draft.line_id in known:
        entry["line"] = known[draft.line_id]
    elif draft.line_id is None and draft.line_key is not None and draft.line_key in known:
        entry["line"] = known[draft.line_key]
    return entry


def _currency_id(order: Mapping[str, Any], currency: str, config: MappingConfig) -> str:
    currency_id = config.currency_map.get(currency)
    if currency_id is None:
        raise MappingError(
            f"currency {currency} of order {order['name']} has no NetSuite currency in NETSUITE_CURRENCY_MAP",
            code="UNMAPPED_CURRENCY",
        )
    return currency_id


def _customer_config(config: MappingConfig) -> CustomerConfig:
    return CustomerConfig(
        guest_customers=config.guest_customers,
        default_customer_external_id=config.default_customer_external_id,
        subsidiary_id=config.subsidiary_id,
    )


def _sales_order_body(
    order: Mapping[str, Any],
    plan: OrderPlan,
    cust_eid: str,
    currency_id: str,
    lines: list[dict[str, Any]],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "entity": {"externalId": cust_eid},
        "currency": {"id": currency_id},
        "exchangeRate": plan.rate,
        "tranDate": order["created_at"].date().isoformat(),
        "otherRefNum": order["name"],
        "memo": f"Shopify order {order['name']}",
        "item": {"items": lines},
        # Shopify's own figures travel with the order so reconciliation can compare totals to the cent.
        "custbody_shopify_order_id": str(order["id"]),
        "custbody_shopify_total": amount(order, "total_price", plan.side),  # in the document currency
        "custbody_shopify_tax": sum((p.amount for d in plan.drafts for p in d.taxes), ZERO),
    }
    body.update(plan.tax.body)
    if plan.check.tax_variance:
        body["custbody_shopify_tax_variance"] = plan.check.tax_variance
    codes = discount_codes(order)
    if codes:
        body["custbody_shopify_discount_codes"] = codes
    redeemed = gift_card_redeemed(order, plan.side)
    if redeemed is not None:  # a tender, for the payments flow: never a line of the sales order
        body["custbody_shopify_gift_card_redeemed"] = redeemed
    ship = _address(order.get("shipping_address"))
    if ship:
        body["shippingAddress"] = ship
    bill = _address(order.get("billing_address"))
    if bill:
        body["billingAddress"] = bill
    return body


def money_mismatch(order: Mapping[str, Any], check: MoneyCheck) -> str | None:
    """The money rule's alert: None when NetSuite's total (before the rounding line) is within half a cent a line
    of Shopify's current total; else the figures, for finance. The rounding line makes the totals agree either
    way: the alert says a difference was bigger than rounding can explain (an inconsistent payload, an unmapped
    amount), never absorbed silently."""
    before = check.netsuite_total - check.rounding
    if within_half_cent_per_line(check.rounding, check.lines):
        return None
    return (
        f"order {order['name']}: NetSuite lines and tax {before}, Shopify total {check.shopify_total} "
        f"(difference {check.rounding}, posted as a rounding line)"
    )
