"""The nightly orders check, decided: what NetSuite must hold for a Shopify order, and how what it reports
differs. Pure: Shopify's order (REST shape) and NetSuite's own figures (read by SuiteQL) in, differences out.

NetSuite's figures are the ones NetSuite computed (`foreigntotal`: the transaction total in its own currency),
never a copy of Shopify's total we wrote on the record: the point is to catch a mapping NetSuite totals
differently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.domain.keys import order_external_id, refund_external_id
from app.domain.mapping import sales_order_total
from app.domain.money import PRESENTMENT
from app.domain.shopify_events import refund_event

CENT = Decimal("0.01")
SHIPPED = frozenset({"success", "open", "pending"})  # the fulfillment statuses that become item fulfillments


@dataclass(frozen=True)
class Expected:
    """What NetSuite must hold for one Shopify order."""

    order_id: int
    name: str | None
    sales_order: str  # external id
    total: Decimal  # the sales order's total: Shopify's order total before refunds (refunds are credit memos)
    fulfillments: tuple[Mapping[str, Any], ...]  # Shopify's shipped fulfillments
    refunds: dict[str, Decimal]  # credit memo external id -> amount refunded
    refund_payloads: dict[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class NetSuiteOrder:
    """What NetSuite reports for one sales order."""

    internal_id: str
    total: Decimal
    fulfillments: int
    credit_memos: dict[str, Decimal]  # external id -> NetSuite's total
    lines: tuple[Mapping[str, Any], ...] = ()  # NetSuite's lines, read only when the totals differ


@dataclass(frozen=True)
class Difference:
    order_id: int
    name: str | None
    kind: str  # total | fulfillments | refund
    shopify: str
    netsuite: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "name": self.name,
            "kind": self.kind,
            "shopify": self.shopify,
            "netsuite": self.netsuite,
            "detail": self.detail,
        }


def money_of(value: Any) -> Decimal:
    """A money figure as SuiteQL or a REST payload gives it (a string, a number, empty or null), to the cent."""
    return Decimal(str(value if value not in (None, "") else "0")).quantize(CENT)


def expected(order: Mapping[str, Any], side: str = PRESENTMENT, *, refunds: Sequence[Mapping[str, Any]]) -> Expected:
    """NetSuite's side of a Shopify order: the sales order's total (the figure the mapping posts against, in the
    document currency), its shipments and its credit memos.

    `refunds` are the order's refunds as the lifecycle reads a refunds/create payload (loaded through its schema),
    so each credit memo is expected to carry what the lifecycle books for it: `refund_event`'s amount, in the
    document currency (Shopify's refund transactions are in the buyer's currency; with ORDER_CURRENCY=shop they are
    converted to the shop's). A refund that moved no money and restocked nothing has no credit memo."""
    raw = {int(r["id"]): r for r in order.get("refunds") or ()}
    credits = {}
    for refund in refunds:
        event = refund_event(dict(refund), side=side)
        if event.amount or event.lines:
            credits[refund_external_id(event.refund_id)] = (event.amount, raw.get(event.refund_id, refund))
    shipped = tuple(f for f in order.get("fulfillments") or () if str(f.get("status") or "").lower() in SHIPPED)
    return Expected(
        order_id=int(order["id"]),
        name=order.get("name"),
        sales_order=order_external_id(int(order["id"])),
        total=sales_order_total(order, side).quantize(CENT),
        fulfillments=shipped,
        refunds={eid: amount.quantize(CENT) for eid, (amount, _) in credits.items()},
        refund_payloads={eid: payload for eid, (_, payload) in credits.items()},
    )


def differences(want: Expected, have: NetSuiteOrder) -> list[Difference]:
    """Every way NetSuite's own figures differ from Shopify's for one order (empty when they agree)."""
    found: list[Difference] = []
    if have.total != want.total:
        found.append(
            Difference(want.order_id, want.name, "total", str(want.total), str(have.total), _line_detail(have.lines))
        )
    if have.fulfillments != len(want.fulfillments):
        found.append(
            Difference(want.order_id, want.name, "fulfillments", str(len(want.fulfillments)), str(have.fulfillments))
        )
    for eid, amount in sorted(want.refunds.items()):
        netsuite = have.credit_memos.get(eid)
        if netsuite is not None and netsuite != amount:
            found.append(Difference(want.order_id, want.name, "refund", str(amount), str(netsuite), eid))
    return found


def missing_refunds(want: Expected, have: NetSuiteOrder) -> list[str]:
    """Refunds Shopify made that have no credit memo in NetSuite (healed through the live path)."""
    return [eid for eid in sorted(want.refunds) if eid not in have.credit_memos]


def _line_detail(lines: Sequence[Mapping[str, Any]]) -> str:
    """NetSuite's lines, as a person reading the alert needs them to find the line that differs. SuiteQL gives a
    sales order's item lines with the accounting sign (negative quantity and amount: a credit to revenue); they
    are shown as sold."""
    parts = []
    for line in lines:
        shopify_line = line.get("custcol_shopify_line_id") or "-"
        quantity = abs(Decimal(str(line.get("quantity") or 0)))
        parts.append(
            f"line {line.get('linesequencenumber')}: item {line.get('item')} x {quantity.normalize():f} = "
            f"{abs(money_of(line.get('foreignamount')))} (Shopify line {shopify_line})"
        )
    return "; ".join(parts)[:2000]
