"""Tax on the sales order, in either NetSuite tax mode (NETSUITE_TAX_MODE). Pure: plain data in and out.

- suitetax: Shopify's tax per line goes to NetSuite verbatim (Tax Details Override), so NetSuite's tax is Shopify's
  to the cent.
- legacy: NetSuite computes tax itself from each line's tax code (REST cannot set legacy tax amounts). We predict
  what it will compute (round(amount x rate) per line, from the codes' rates read from NetSuite) and post the
  difference from Shopify's tax as a non-taxable `SHOPIFY-TAX-VARIANCE` line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.errors import MappingError
from app.domain.money import ZERO, allocate, cents
from app.domain.order_lines import GIFT_CARD, PRODUCT, SHIPPING, Draft, TaxPart, tax_parts

LEGACY, SUITETAX = "legacy", "suitetax"
HUNDRED = Decimal(100)

TaxKey = tuple[str, Decimal | None]  # (Shopify tax title, lower case; its rate as a fraction, or None: any rate)


@dataclass(frozen=True)
class TaxConfig:
    mode: str = LEGACY
    code_map: Mapping[TaxKey, str] = field(default_factory=dict)  # TAX_CODE_MAP, parsed by parse_tax_code_map
    default_code_id: str | None = None  # NETSUITE_DEFAULT_TAX_CODE_ID
    rates: Mapping[str, Decimal] = field(default_factory=dict)  # NetSuite tax code id -> rate in percent


@dataclass(frozen=True)
class TaxOutcome:
    lines: list[dict[str, Any]]  # the NetSuite lines, with their tax fields
    body: dict[str, Any]  # sales order fields (suitetax: the override and the tax details)
    netsuite_tax: Decimal  # the tax NetSuite will have on the order
    shopify_tax: Decimal  # Shopify's tax, as the lines carry it


def parse_tax_code_map(pairs: Mapping[str, str]) -> dict[TaxKey, str]:
    """TAX_CODE_MAP entries `title[:rate]=code id` as lookup keys; the rate is Shopify's (a fraction: 0.0725)."""
    parsed: dict[TaxKey, str] = {}
    for key, code in pairs.items():
        title, sep, rate_text = key.rpartition(":")
        rate: Decimal | None = None
        if sep:
            try:
                rate = Decimal(rate_text.strip())
            except InvalidOperation:
                title, rate = key, None  # a colon inside the title, no rate
        else:
            title = key
        if not title.strip():
            raise ValueError(f"entry {key!r} has no tax title")
        if not code.strip().isdigit():
            raise ValueError(f"tax code of {key!r} must be a NetSuite internal id (digits), got {code!r}")
        parsed[(title.strip().lower(), rate)] = code.strip()
    return parsed


def parse_rate(value: Any) -> Decimal | None:
    """A NetSuite tax rate as SuiteQL returns it ("8.25%", "8.25" or 8.25), in percent; None if unreadable."""
    try:
        return Decimal(str(value).strip().rstrip("%").strip())
    except (InvalidOperation, AttributeError):
        return None


def code_for(part: TaxPart, config: TaxConfig) -> str | None:
    title = part.title.strip().lower()
    for key, code in config.code_map.items():
        if key[0] == title and key[1] is not None and key[1] == part.rate:
            return code
    return config.code_map.get((title, None)) or config.default_code_id


def prepare_taxes(drafts: Sequence[Draft], order: Mapping[str, Any], side: str) -> list[Draft]:
    """Shopify's tax as the lines will carry it: none on a tax-exempt order; the order's tax lines spread over its
    taxable lines when no line carries its own (older payloads); ex-tax amounts when prices include tax."""
    if order.get("tax_exempt"):
        return [replace(d, taxes=()) for d in drafts]
    drafts = list(drafts)
    if not any(d.taxes for d in drafts):
        drafts = _spread_order_tax(drafts, tax_parts(order, side))
    if order.get("taxes_included"):
        drafts = ex_tax(drafts)
    return drafts


def ex_tax(drafts: list[Draft]) -> list[Draft]:
    """Tax-inclusive prices as ex-tax amounts: each line less its tax. With DISCOUNT_MODE=item a discounted line is
    followed by its discount line (`follows_tax`), and Shopify's tax is on the line net of the discount: the two
    share that tax by their tax-inclusive amounts, so the product line is its price ex-tax and the discount line the
    discount ex-tax (together still the line's net less its tax, to the cent)."""
    amounts = [d.amount - sum((p.amount for p in d.taxes), ZERO) for d in drafts]
    for n, (line, discount) in enumerate(zip(drafts, drafts[1:], strict=False)):
        tax = line.amount - amounts[n]
        net = line.amount + discount.amount
        if discount.follows_tax and tax and net > 0:
            on_gross = cents(tax * line.amount / net)
            amounts[n] = line.amount - on_gross
            amounts[n + 1] = discount.amount + on_gross - tax
    return [replace(d, amount=a) for d, a in zip(drafts, amounts, strict=True)]


def _spread_order_tax(drafts: list[Draft], order_parts: tuple[TaxPart, ...]) -> list[Draft]:
    taxable = [n for n, d in enumerate(drafts) if d.kind == PRODUCT and d.amount > 0]
    if not taxable or not any(p.amount for p in order_parts):
        return drafts
    weights = [drafts[n].amount for n in taxable]
    shares = [allocate(part.amount, weights) for part in order_parts]
    for i, n in enumerate(taxable):
        parts = tuple(replace(part, amount=s[i]) for part, s in zip(order_parts, shares, strict=True))
        drafts[n] = replace(drafts[n], taxes=parts)
    return drafts


def apply_tax(drafts: Sequence[Draft], lines: list[dict[str, Any]], config: TaxConfig) -> TaxOutcome:
    """Add the tax fields of the configured mode to the NetSuite lines (one per draft, same order)."""
    shopify_tax = sum((p.amount for d in drafts for p in d.taxes if d.kind != GIFT_CARD), ZERO)
    if config.mode == SUITETAX:
        body = _suitetax(drafts, lines, config)
        return TaxOutcome(lines, body, shopify_tax, shopify_tax)
    return TaxOutcome(lines, {}, _legacy(drafts, lines, config), shopify_tax)


def _tax_bases(drafts: Sequence[Draft]) -> list[Decimal]:
    """What Shopify computed each line's tax on: its amount, net of the DISCOUNT_MODE=item discount line that
    follows it (the discount line itself carries no tax of its own)."""
    bases = [d.amount for d in drafts]
    for n, following in enumerate(drafts[1:]):
        if following.follows_tax:
            bases[n] += following.amount
    return bases


def _suitetax(drafts: Sequence[Draft], lines: list[dict[str, Any]], config: TaxConfig) -> dict[str, Any]:
    details = []
    bases = _tax_bases(drafts)
    for n, (draft, line) in enumerate(zip(drafts, lines, strict=True), start=1):
        if not draft.taxes or draft.kind == GIFT_CARD:
            continue
        reference = f"TD{n}"
        line["taxDetailsReference"] = reference
        for part in draft.taxes:
            code = code_for(part, config)
            if code is None:
                raise MappingError(
                    f"tax {part.title!r} at {part.rate} has no NetSuite tax code in TAX_CODE_MAP and "
                    "NETSUITE_DEFAULT_TAX_CODE_ID is not set",
                    code="UNMAPPED_TAX",
                )
            details.append(
                {
                    "taxDetailsReference": reference,
                    "taxCode": {"id": code},
                    "taxBasis": bases[n - 1],
                    "taxRate": (part.rate * HUNDRED).normalize(),
                    "taxAmount": part.amount,
                }
            )
    return {"taxDetailsOverride": True, "taxDetails": {"items": details}}


def _legacy(drafts: Sequence[Draft], lines: list[dict[str, Any]], config: TaxConfig) -> Decimal:
    """Each taxed line gets the code of its first Shopify tax line; returns the tax NetSuite will compute."""
    predicted = ZERO
    previous_code: str | None = None
    for draft, line in zip(drafts, lines, strict=True):
        code = None
        if draft.kind in (PRODUCT, SHIPPING) and draft.taxes:
            code = code_for(draft.taxes[0], config)
        elif draft.follows_tax:
            code = previous_code
        if draft.kind in (PRODUCT, SHIPPING):
            previous_code = code
        if code is None:
            continue
        line["taxCode"] = {"id": code}
        predicted += cents(draft.amount * config.rates.get(code, ZERO) / HUNDRED)
    return predicted
