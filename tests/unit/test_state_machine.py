"""The order state machine, pure: the split-shipment story in every delivery order, and the illegal moves."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal

import pytest

from app.domain.errors import SchemaError
from app.domain.state_machine import (
    CancelEvent,
    CloseOpenLines,
    CreateCredit,
    CreateItemFulfillment,
    FulfillmentEvent,
    FulfillmentLine,
    InvalidTransition,
    Line,
    OrderView,
    RefundEvent,
    RefundLine,
    apply_cancel,
    apply_fulfillment,
    apply_refund,
    derive_state,
)

D = Decimal
ORDER = OrderView(
    order_id=1,
    state="created",
    lines=(Line(11, "SKU-A", 1, D("100.00")), Line(12, "SKU-B", 1, D("100.00")), Line(13, "SKU-C", 1, D("100.00"))),
    total=D("300.00"),
)
F1 = FulfillmentEvent(101, 1, "success", 501, (FulfillmentLine(11, 1), FulfillmentLine(12, 1)), "UPS", ("1Z1",))
F2 = FulfillmentEvent(102, 1, "success", 502, (FulfillmentLine(13, 1),), "DHL", ("JD2",))
R1 = RefundEvent(
    201, 1, (RefundLine(11, 1, "return", 501, D("100.00")), RefundLine(12, 1, "return", 501, D("100.00"))), D("200.00")
)


def apply(view: OrderView, event):
    if isinstance(event, FulfillmentEvent):
        return apply_fulfillment(view, event)
    if isinstance(event, RefundEvent):
        return apply_refund(view, event)
    return apply_cancel(view, event)


def test_natural_order_walks_the_states_by_the_numbers():
    d1 = apply(ORDER, F1)
    assert d1.view.state == "partially_fulfilled"
    [cmd] = d1.commands
    assert isinstance(cmd, CreateItemFulfillment) and cmd.external_id == "shopify-fulfillment-101"
    assert [(line.sku, q) for line, q in cmd.ship] == [("SKU-A", 1), ("SKU-B", 1)]
    assert [line.sku for line in cmd.hold] == ["SKU-C"] and cmd.location_id == 501
    d2 = apply(d1.view, F2)
    assert d2.view.state == "fulfilled"
    d3 = apply(d2.view, R1)
    assert d3.view.state == "partially_refunded"
    [credit] = d3.commands
    assert isinstance(credit, CreateCredit) and credit.amount == D("200.00")
    assert credit.external_id == "shopify-refund-201"
    assert d3.restocks == (("SKU-A", 501, 1), ("SKU-B", 501, 1))


@pytest.mark.parametrize(
    "sequence",
    list(itertools.permutations([F1, F2, R1])),
    ids=lambda s: "-".join({F1: "F1", F2: "F2", R1: "R1"}[e] for e in s),
)
def test_every_delivery_order_with_duplicates_ends_in_the_same_place(sequence):
    view = ORDER
    commands = []
    for event in sequence:
        for _ in range(2):  # each event delivered twice
            decision = apply(view, event)
            view = decision.view
            commands.extend(decision.commands)
    assert view.state == "partially_refunded"
    assert [(line.fulfilled, line.refunded, line.restocked) for line in view.lines] == [(1, 1, 1), (1, 1, 1), (1, 0, 0)]
    assert view.refunded_amount == D("200.00")
    assert sorted(type(c).__name__ for c in commands) == [
        "CreateCredit",
        "CreateItemFulfillment",
        "CreateItemFulfillment",
    ]


def test_refund_larger_than_what_was_paid_is_invalid():
    big = RefundEvent(202, 1, (), D("300.01"))
    with pytest.raises(InvalidTransition) as err:
        apply_refund(ORDER, big)
    assert err.value.current == "created" and "exceeds the 300.00 still paid" in err.value.reason
    after = apply_refund(ORDER, R1).view
    with pytest.raises(InvalidTransition, match="exceeds the 100.00"):
        apply_refund(after, RefundEvent(203, 1, (), D("150.00")))


def test_refunding_more_items_than_ordered_is_invalid():
    double = RefundEvent(204, 1, (RefundLine(11, 2, "no_restock", None, D("200.00")),), D("0"))
    with pytest.raises(InvalidTransition, match="refunds 2 of 1 left"):
        apply_refund(ORDER, double)


def test_fulfilling_a_cancelled_order_or_more_than_open_is_invalid():
    cancelled = apply_cancel(ORDER, CancelEvent(1, "customer")).view
    assert cancelled.state == "cancelled"
    with pytest.raises(InvalidTransition, match="is cancelled"):
        apply_fulfillment(cancelled, F1)
    shipped = apply_fulfillment(ORDER, F1).view
    again = FulfillmentEvent(105, 1, "success", 501, (FulfillmentLine(11, 1),))
    with pytest.raises(InvalidTransition, match="ships 1 but only 0 open"):
        apply_fulfillment(shipped, again)
    stranger = FulfillmentEvent(106, 1, "success", 501, (FulfillmentLine(99, 1),))
    with pytest.raises(InvalidTransition, match="line item 99 is not on order 1"):
        apply_fulfillment(ORDER, stranger)


def test_cancel_after_partial_fulfillment_closes_only_the_open_lines():
    partial = apply_fulfillment(ORDER, F1).view
    decision = apply_cancel(partial, CancelEvent(1, "customer"))
    assert decision.view.state == "cancelled"
    [close] = decision.commands
    assert isinstance(close, CloseOpenLines) and [line.sku for line in close.lines] == ["SKU-C"]
    assert apply_cancel(decision.view, CancelEvent(1)).duplicate


def test_fully_fulfilled_order_cannot_be_cancelled():
    done = apply_fulfillment(apply_fulfillment(ORDER, F1).view, F2).view
    with pytest.raises(InvalidTransition, match="nothing left to cancel"):
        apply_cancel(done, CancelEvent(1))


def test_unknown_values_are_schema_errors_naming_field_and_value():
    with pytest.raises(SchemaError, match="unknown fulfillment status 'teleported'"):
        apply_fulfillment(ORDER, FulfillmentEvent(107, 1, "teleported", 501, (FulfillmentLine(11, 1),)))
    weird = RefundEvent(205, 1, (RefundLine(11, 1, "recycle", 501, D("100.00")),), D("100.00"))
    with pytest.raises(SchemaError, match="unknown restock_type 'recycle'"):
        apply_refund(ORDER, weird)


def test_voided_fulfillment_ships_nothing():
    decision = apply_fulfillment(ORDER, FulfillmentEvent(108, 1, "cancelled", 501, (FulfillmentLine(11, 1),)))
    assert decision.ignored and decision.commands == () and decision.view == ORDER


def test_full_refund_is_refunded():
    every = RefundEvent(
        206, 1, tuple(RefundLine(line.line_id, 1, "cancel", 501, D("100.00")) for line in ORDER.lines), D("300.00")
    )
    assert derive_state(apply_refund(ORDER, every).view) == "refunded"


def test_sales_quantity_counts_edits_but_adds_refunded_units_back():
    from app.domain.state_machine import sales_quantity

    order = {"refunds": [{"refund_line_items": [{"line_item_id": 1, "quantity": 1}]}]}
    assert sales_quantity({"id": 1, "quantity": 3}, order) == 3  # a payload older than current_quantity
    # Shopify's current_quantity excludes refunded units: the credit memo carries those, the sales order keeps them.
    assert sales_quantity({"id": 1, "quantity": 3, "current_quantity": 2}, order) == 3
    # One unit removed by an edit and one refunded: the sales order carries two.
    assert sales_quantity({"id": 1, "quantity": 3, "current_quantity": 1}, order) == 2
    assert sales_quantity({"id": 2, "quantity": 2, "current_quantity": 0}, order) == 0  # removed by the edit


def test_an_edit_below_what_has_shipped_is_an_invalid_transition():
    from app.domain.state_machine import InvalidTransition, Line, OrderView, check_edit

    shipped = OrderView(9, "partially_fulfilled", (Line(1, "A", 3, Decimal("10"), fulfilled=2),), Decimal("30"))
    check_edit(shipped, replace(shipped, lines=(Line(1, "A", 2, Decimal("10")),)), "orders/edited")  # down to 2: fine
    with pytest.raises(InvalidTransition, match="to 1, below the 2 already shipped"):
        check_edit(shipped, replace(shipped, lines=(Line(1, "A", 1, Decimal("10")),)), "orders/edited")
    with pytest.raises(InvalidTransition, match="to 0"):
        check_edit(shipped, replace(shipped, lines=()), "orders/edited")  # a shipped line can't vanish either
    check_edit(None, shipped, "orders/edited")  # a first sync has nothing to compare
