"""Bundle lines after the sales order, pure: the components learned from NetSuite's lines, what a fulfillment, a
close, a refund and a restock of a bundle become, and a sales order sent again keeping its posted components."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.bundles import number_lines, posted_components
from app.domain.credit_memo import credit_skus, map_credit, refunded_line_drafts
from app.domain.errors import MappingError
from app.domain.mapping import MappingConfig, map_order
from app.domain.money import TaxPart
from app.domain.order_lines import ServiceItems, bundle_drafts
from app.domain.state_machine import (
    CancelEvent,
    Component,
    CreateCredit,
    FulfillmentEvent,
    FulfillmentLine,
    Line,
    OrderView,
    RefundEvent,
    RefundLine,
    apply_cancel,
    apply_fulfillment,
    apply_refund,
)
from schemas.shopify import OrderSchema

D = Decimal
BOX, MUG = 21, 22  # Shopify line ids: a bundle (2 boxes) and a plain line
VIEW = OrderView(1, "created", (Line(BOX, "BOX", 2, D("30.00")), Line(MUG, "MUG", 1, D("12.00"))), D("72.00"))


def netsuite_line(line: int, key: str | None, quantity: int | str) -> dict:
    return {"line": line, "custcol_shopify_line_id": key, "quantity": quantity, "item": {"id": "7"}}


# The sales order as NetSuite returns it: BOX=CUP:2+TEA:1 posted as its components, shipping and tax lines.
SALES_ORDER = [
    netsuite_line(1, f"{BOX}:CUP", 4),
    netsuite_line(2, f"{BOX}:TEA", "2.0"),
    netsuite_line(3, str(MUG), 1),
    netsuite_line(4, "shipping:9", 1),
    netsuite_line(5, None, 1),
]
NUMBERED = number_lines(VIEW, SALES_ORDER, "SO-1")
BUNDLE = NUMBERED.lines[0]


def test_a_bundle_learns_its_components_from_the_sales_order_lines():
    box, mug = NUMBERED.lines
    assert box.netsuite_line is None and box.components == (Component("CUP", 1, 2), Component("TEA", 2, 1))
    assert mug.netsuite_line == 3 and mug.components == ()
    assert box.numbered and mug.numbered and not VIEW.lines[0].numbered


def test_what_a_quantity_of_a_line_is_in_netsuite():
    assert BUNDLE.netsuite_units(2) == (("CUP", 1, 4), ("TEA", 2, 2))
    assert NUMBERED.lines[1].netsuite_units(1) == (("MUG", 3, 1),)


def test_a_line_missing_from_the_sales_order_is_named():
    with pytest.raises(MappingError) as err:
        number_lines(VIEW, SALES_ORDER[2:], "SO-1")
    assert err.value.code == "NETSUITE_LINE_MISSING" and "has no line for BOX" in str(err.value)


def test_a_component_quantity_that_is_no_whole_multiple_of_the_bundles_is_refused():
    odd = [netsuite_line(1, f"{BOX}:CUP", 3), *SALES_ORDER[1:]]
    with pytest.raises(MappingError) as err:
        number_lines(VIEW, odd, "SO-1")
    assert err.value.code == "BUNDLE_QUANTITY" and "CUP of line 21 (BOX) has quantity 3" in str(err.value)


def test_a_line_edited_to_zero_needs_no_netsuite_line():
    view = OrderView(1, "created", (Line(BOX, "BOX", 0, D("30.00")), Line(MUG, "MUG", 1, D("12.00"))), D("12.00"))
    box, mug = number_lines(view, [SALES_ORDER[2]], "SO-1").lines
    assert not box.numbered and mug.netsuite_line == 3


def test_a_fulfillment_and_a_cancellation_address_the_components():
    shipped = apply_fulfillment(NUMBERED, FulfillmentEvent(5, 1, "success", 7, (FulfillmentLine(BOX, 1),)))
    [cmd] = shipped.commands
    assert [line.netsuite_units(q) for line, q in cmd.ship] == [(("CUP", 1, 2), ("TEA", 2, 1))]
    assert [line.line_id for line in cmd.hold] == [MUG]
    [close] = apply_cancel(shipped.view, CancelEvent(1)).commands
    assert [n for line in close.lines for _, n, _ in line.netsuite_units(0)] == [1, 2, 3]


def test_a_refunded_bundle_restocks_its_components_and_a_plain_line_itself():
    refund = RefundEvent(
        8,
        1,
        (RefundLine(BOX, 1, "return", 7, D("30.00")), RefundLine(MUG, 1, "no_restock", None, D("12.00"))),
        D("42.00"),
    )
    decision = apply_refund(NUMBERED, refund)
    assert decision.restocks == (("CUP", 7, 2), ("TEA", 7, 1))
    plain = apply_refund(NUMBERED, RefundEvent(9, 1, (RefundLine(MUG, 1, "return", 7, D("12.00")),), D("12.00")))
    assert plain.restocks == (("MUG", 7, 1),)


STATE = TaxPart("State", D("0.08"), D("2.40"))


def test_a_refunded_bundle_is_credited_on_its_components_as_the_sales_order_allocated_it():
    whole = refunded_line_drafts(BUNDLE, RefundLine(BOX, 2, "return", 7, D("59.99"), (STATE,)))
    posted = bundle_drafts({"id": BOX, "name": "Box"}, "BOX", 2, D("59.99"), (STATE,), {"CUP": 2, "TEA": 1})
    assert [(d.sku, d.quantity, d.amount, d.line_key, d.taxes) for d in whole] == [
        (d.sku, d.quantity, d.amount, d.line_key, d.taxes) for d in posted
    ]
    one = refunded_line_drafts(BUNDLE, RefundLine(BOX, 1, "return", 7, D("29.99"), (STATE,)))
    assert [(d.sku, d.quantity, d.amount, d.rate, d.taxes[0].amount) for d in one] == [
        ("CUP", 2, D("19.99"), D("10.00"), D("1.60")),  # 29.99 x 2/3 half up, and 2/3 of the tax
        ("TEA", 1, D("10.00"), D("10.00"), D("0.80")),  # the remainders: the parts add up to the refund line exactly
    ]


def test_a_credit_memo_names_the_components_restocked_where_the_refund_restocks():
    cmd = CreateCredit(
        "shopify-refund-8",
        (
            (BUNDLE, RefundLine(BOX, 1, "return", 7, D("30.00"))),
            (NUMBERED.lines[1], RefundLine(MUG, 1, "no_restock", None, D("12.00"))),
        ),
        D("42.00"),
        None,
    )
    config = MappingConfig(currency_map={"USD": "1"}, default_customer_external_id="guest")
    assert credit_skus(cmd, config)[:3] == ["CUP", "TEA", "MUG"]
    ids = {"CUP": "1", "TEA": "2", "MUG": "3", **{sku: f"9{n}" for n, sku in enumerate(ServiceItems().all())}}
    credit = map_credit(cmd, ids, config, {7: "11"})
    got = [(li["item"]["id"], li["quantity"], li["amount"], li["custcol_shopify_line_id"]) for li in credit.lines]
    assert got == [("1", 2, D("20.00"), f"{BOX}:CUP"), ("2", 1, D("10.00"), f"{BOX}:TEA"), ("3", 1, D("12.00"), "22")]
    assert [li.get("location") for li in credit.lines] == [{"id": "11"}, {"id": "11"}, None]
    assert credit.lines[2]["custcol_shopify_no_restock"] is True and credit.adjustment == 0


def test_a_plain_line_is_credited_as_itself():
    [draft] = refunded_line_drafts(NUMBERED.lines[1], RefundLine(MUG, 1, "return", 7, D("11.50")))
    assert (draft.sku, draft.quantity, draft.amount, draft.rate, draft.line_key) == (
        "MUG",
        1,
        D("11.50"),
        D("12.00"),
        "22",
    )


def _order(bundle_quantity: int) -> dict:
    box = {"id": BOX, "sku": "BOX", "title": "Box", "name": "Box", "quantity": 2, "price": "30.00"}
    box["current_quantity"] = bundle_quantity
    return {
        "id": 1,
        "name": "#1",
        "currency": "USD",
        "created_at": "2026-04-01T10:00:00Z",
        "updated_at": "2026-04-01T10:00:00Z",
        "total_price": f"{30 * bundle_quantity}.00",
        "line_items": [box],
        "shipping_lines": [],
        "customer": None,
    }


def test_a_sales_order_sent_again_keeps_its_posted_components_whatever_bundle_map_says_now():
    items = {"CUP": "1", "TEA": "2", "MUG": "3", "SHOPIFY-ROUNDING": "9", "SHOPIFY-TAX-VARIANCE": "8"}
    cfg = MappingConfig(
        currency_map={"USD": "1"},
        default_customer_external_id="guest",
        bundles={"BOX": {"MUG": 3}},  # BUNDLE_MAP changed since the order posted
        posted_bundles=posted_components(NUMBERED),
    )
    lines = map_order(OrderSchema().load(_order(1)), items, cfg).sales_order_body["item"]["items"]
    assert [(li["item"]["id"], li.get("line"), li["quantity"], li["custcol_shopify_line_id"]) for li in lines] == [
        ("1", 1, 2, f"{BOX}:CUP"),  # an edit took the order to one box: the same lines, updated in place
        ("2", 2, 1, f"{BOX}:TEA"),
    ]
    fresh = map_order(OrderSchema().load(_order(1)), items, MappingConfig({"USD": "1"}, "guest", bundles=cfg.bundles))
    assert [(li["item"]["id"], li.get("line")) for li in fresh.sales_order_body["item"]["items"]] == [("3", None)]
