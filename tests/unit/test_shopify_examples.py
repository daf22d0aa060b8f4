"""Every handled topic's schema accepts Shopify's own 2026-04 example payloads, and the shapes of real payloads.

The examples are Shopify's webhook reference examples (`shared/reference/shopify-webhook-samples/metadatas/2026-04/
<topic>.json`, key `response`). Their numeric ids above 2^53 lost precision when they were scraped (the GID strings
kept the exact values), so these tests check acceptance and types, never exact ids. The exemplars
(`exemplars/2025-04/`) are anonymised real payloads with every value replaced ("example string", 123): they are
loaded for their shape, with the placeholders that no type allows (a price of "example string") replaced by the
value Shopify's example has at the same place.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.routing import TOPICS
from schemas.shopify import PAYLOAD_SCHEMAS, ValidationError, envelope_resource_id
from tests.conftest import WEBHOOK_SAMPLES

HANDLED = sorted(TOPICS)
WITH_SCHEMA = sorted({*TOPICS, "orders/edited"})


def example(topic: str) -> dict[str, Any]:
    """Shopify's 2026-04 example; inventory_levels/update's is empty there, so the 2026-07 one (the README says); a
    payment topic's is the repository's own (the shared reference lacks them)."""
    if topic in PAYMENT_TOPICS:
        return payment_example(topic)
    version = "2026-07" if topic == "inventory_levels/update" else "2026-04"
    return json.loads((WEBHOOK_SAMPLES / "metadatas" / version / f"{topic}.json").read_text())["response"]


def exemplar(name: str) -> dict[str, Any]:
    return json.loads((WEBHOOK_SAMPLES / "exemplars" / "2025-04" / f"{name}.json").read_text())


def with_example_values(shape: Any, values: Any) -> Any:
    """`shape` (an exemplar) with each non-null leaf taken from `values` (an example) where that has one at the same
    place (a list's items from the example list's first item); keys, nesting and nulls stay the exemplar's."""
    if isinstance(shape, dict):
        known = values if isinstance(values, dict) else {}
        return {key: with_example_values(child, known.get(key)) for key, child in shape.items()}
    if isinstance(shape, list):
        first = values[0] if isinstance(values, list) and values else None
        return [with_example_values(child, first) for child in shape]
    if shape is None or values is None or isinstance(values, dict | list):
        return shape
    return values


def test_every_topic_the_service_handles_has_a_payload_schema():
    assert set(TOPICS) <= set(PAYLOAD_SCHEMAS)
    assert "orders/edited" in PAYLOAD_SCHEMAS


def test_inventory_levels_update_has_an_empty_example_in_2026_04():
    path = WEBHOOK_SAMPLES / "metadatas" / "2026-04" / "inventory_levels" / "update.json"
    assert json.loads(path.read_text())["response"] == {}


@pytest.mark.parametrize("topic", WITH_SCHEMA)
def test_each_schema_accepts_shopifys_2026_04_example(topic: str):
    payload = example(topic)
    loaded = PAYLOAD_SCHEMAS[topic]().load(payload)
    assert loaded
    resource = envelope_resource_id(topic, payload)
    assert isinstance(resource, int) and resource > 0


def test_the_order_example_loads_money_as_decimal_and_every_line():
    order = PAYLOAD_SCHEMAS["orders/create"]().load(example("orders/create"))
    assert order["total_price"] == Decimal("404.95")
    assert order["total_discounts"] == Decimal("20.00")
    assert [line["sku"] for line in order["line_items"]] == [
        "SKU2006-001",
        "LENS-PROTECT-2YR",
        "CASE-LEATHER-PREM",
        "SKU2006-020",
        "SKU2006-035",
    ]
    assert all(line["variant_id"] is None for line in order["line_items"])
    assert order["shipping_lines"][0]["price"] == Decimal("10.00")
    assert order["customer"]["email"] == "john@example.com"
    assert order["cancelled_at"].utcoffset() is not None


def test_orders_create_updated_and_cancelled_share_one_example():
    assert example("orders/create") == example("orders/updated") == example("orders/cancelled")


def test_the_refund_example_loads_numbers_as_exact_decimals():
    """Its refund lines carry `subtotal` and `total_tax` as JSON numbers (89.99, 0), not strings."""
    refund = PAYLOAD_SCHEMAS["refunds/create"]().load(example("refunds/create"))
    assert [line["subtotal"] for line in refund["refund_line_items"]][:2] == [Decimal("89.99"), Decimal("19.99")]
    assert refund["refund_line_items"][0]["total_tax"] == Decimal("0")
    assert [line["restock_type"] for line in refund["refund_line_items"]] == ["no_restock"] * 5
    assert [t["amount"] for t in refund["transactions"]] == [Decimal("75.00"), Decimal("10.00")]


def test_the_fulfillment_example_loads_its_tracking_and_lines():
    fulfillment = PAYLOAD_SCHEMAS["fulfillments/create"]().load(example("fulfillments/create"))
    assert fulfillment["status"] == "pending"
    assert fulfillment["location_id"] is None
    assert fulfillment["tracking_numbers"] == ["1z827wk74630"]
    assert [line["quantity"] for line in fulfillment["line_items"]] == [1] * 5


def test_the_order_edit_example_loads_its_line_deltas():
    edit = PAYLOAD_SCHEMAS["orders/edited"]().load(example("orders/edited"))["order_edit"]
    assert [change["delta"] for change in edit["line_items"]["additions"]] == [1]
    assert [change["delta"] for change in edit["line_items"]["removals"]] == [1]
    assert edit["discounts"] == {"line_item": {"additions": [], "removals": []}}
    assert edit["shipping_lines"] == {"additions": [], "removals": []}
    assert edit["committed_at"].utcoffset() is not None and edit["staff_note"] == ""
    # The event is about the order, not the edit.
    assert envelope_resource_id("orders/edited", example("orders/edited")) == edit["order_id"]


def test_the_inventory_level_example_loads():
    level = PAYLOAD_SCHEMAS["inventory_levels/update"]().load(example("inventory_levels/update"))
    assert level["available"] == 10 and level["location_id"] == 24826418
    assert level["updated_at"].utcoffset() is not None


@pytest.mark.parametrize(
    ("name", "topic"),
    [
        ("orders/1", "orders/create"),
        ("orders/2", "orders/edited"),
        ("fulfillments/1", "fulfillments/create"),
        ("refunds/1", "refunds/create"),
        ("refunds/2", "refunds/create"),
        ("inventory_levels/1", "inventory_levels/update"),
    ],
)
def test_each_schema_accepts_the_shape_of_real_payloads(name: str, topic: str):
    shaped = money_placeholders_as_amounts(with_example_values(exemplar(name), example(topic)))
    assert PAYLOAD_SCHEMAS[topic]().load(shaped)


def money_placeholders_as_amounts(shape: Any) -> Any:
    """The order schema reads per-line tax lines and discount allocations (the money mapping), lists Shopify's
    example leaves empty: the exemplar's anonymised amounts there ("example string") get a plain amount."""
    if isinstance(shape, dict):
        return {
            key: "1.00"
            if key in ("price", "amount") and child == "example string"
            else money_placeholders_as_amounts(child)
            for key, child in shape.items()
        }
    if isinstance(shape, list):
        return [money_placeholders_as_amounts(child) for child in shape]
    return shape


@pytest.mark.parametrize(
    ("name", "topic"),
    [
        ("orders/2", "orders/edited"),
        ("fulfillments/1", "fulfillments/create"),
        ("inventory_levels/1", "inventory_levels/update"),
    ],
)
def test_where_no_placeholder_breaks_a_type_the_exemplar_loads_as_it_is(name: str, topic: str):
    # "2019-01-01 00:00:00.000Z" timestamps and 123 ids are valid values; these exemplars carry no money.
    assert PAYLOAD_SCHEMAS[topic]().load(exemplar(name))


def test_placeholders_are_refused_where_the_type_does_not_allow_them():
    # What with_example_values is for: an anonymised price is not money, and the schema says so.
    with pytest.raises(ValidationError, match="Not a valid number"):
        PAYLOAD_SCHEMAS["refunds/create"]().load(exemplar("refunds/2"))


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def test_shopifys_order_example_is_not_self_consistent():
    """Shopify's orders/create example (shared by orders/updated and orders/cancelled) does not add up, so it shows
    the shape only, never the money rule (docs/MAPPING.md, "Shopify's examples"):

    - the five lines total 414.95 (= total_line_items_price), each with total_discount 0.00 and no
      discount_allocations, no discount_applications and no discount_codes, yet total_discounts is 20.00;
    - subtotal_price 404.95 is the lines minus 10.00, not minus the 20.00 of discounts;
    - total_price 404.95 is not subtotal 404.95 + shipping 10.00 + tax 0.00 (= 414.95);
    - current_total_price 414.95 and current_subtotal_price 414.95 differ from total_price / subtotal_price 404.95,
      and current_total_discounts is 0.00, with no refund and no edit;
    - the shipping line's price is 10.00 but its discounted_price 0.00, with no discount allocation;
    - every line has variant_id null.
    """
    order = example("orders/create")
    lines = sum((_money(line["price"]) * line["quantity"] for line in order["line_items"]), Decimal(0))
    assert lines == _money(order["total_line_items_price"]) == Decimal("414.95")
    assert _money(order["total_discounts"]) == Decimal("20.00")
    assert not order["discount_applications"] and not order["discount_codes"]
    assert all(not line["discount_allocations"] and line["total_discount"] == "0.00" for line in order["line_items"])
    assert _money(order["subtotal_price"]) == lines - Decimal("10.00") != lines - _money(order["total_discounts"])
    shipping = sum((_money(s["price"]) for s in order["shipping_lines"]), Decimal(0))
    assert shipping == Decimal("10.00")
    assert _money(order["total_price"]) != _money(order["subtotal_price"]) + shipping + _money(order["total_tax"])
    assert _money(order["current_total_price"]) == Decimal("414.95") != _money(order["total_price"])
    assert order["refunds"] == [] and order["current_total_discounts"] == "0.00"
    assert order["shipping_lines"][0]["discounted_price"] == "0.00"


def test_shopifys_refund_and_fulfillment_examples_disagree_with_the_order_example():
    """The refunds/create example refunds all five lines (subtotals 414.95, tax 0) but its transactions return 85.00
    (75.00 + 10.00, dated 2019 and 2020, before the order's 2021 creation), with no order adjustment; the line
    SKU2006-020 carries total_discount 5.00 in the fulfillment and refund examples and 0.00 in the order example."""
    refund = example("refunds/create")
    subtotals = sum((_money(line["subtotal"]) for line in refund["refund_line_items"]), Decimal(0))
    refunded = sum((_money(t["amount"]) for t in refund["transactions"]), Decimal(0))
    assert (subtotals, refunded) == (Decimal("414.95"), Decimal("85.00"))
    assert refund["order_adjustments"] == []

    def discount_of(lines: list[dict[str, Any]]) -> str:
        return next(line["total_discount"] for line in lines if line["sku"] == "SKU2006-020")

    assert discount_of(example("orders/create")["line_items"]) == "0.00"
    assert discount_of(example("fulfillments/create")["line_items"]) == "5.00"
    assert discount_of([line["line_item"] for line in refund["refund_line_items"]]) == "5.00"


# --- the payment topics (issue 13): their examples are kept in the repository (schemas/examples/README.md) -----

PAYMENT_EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "2026-04"
PAYMENT_TOPICS = ("orders/paid", "order_transactions/create", "disputes/create", "disputes/update")


def payment_example(topic: str) -> dict[str, Any]:
    return json.loads((PAYMENT_EXAMPLES / f"{topic}.json").read_text())["response"]


@pytest.mark.parametrize("topic", PAYMENT_TOPICS)
def test_each_payment_topic_has_a_schema_that_accepts_its_example(topic: str):
    loaded = PAYLOAD_SCHEMAS[topic]().load(payment_example(topic))
    resource = envelope_resource_id(topic, payment_example(topic))
    assert loaded and isinstance(resource, int) and resource > 0


def test_the_orders_paid_example_is_the_order_body_and_loads_as_an_order():
    assert payment_example("orders/paid") == example("orders/create")
    order = PAYLOAD_SCHEMAS["orders/paid"]().load(payment_example("orders/paid"))
    assert order["total_price"] == Decimal("404.95") and len(order["line_items"]) == 5


def test_the_transaction_example_loads_its_money_and_is_about_its_order():
    payload = payment_example("order_transactions/create")
    transaction = PAYLOAD_SCHEMAS["order_transactions/create"]().load(payload)
    assert (transaction["kind"], transaction["status"], transaction["gateway"]) == ("authorization", "success", "visa")
    assert transaction["amount"] == Decimal("419.95") and transaction["currency"] == "USD"
    assert transaction["total_unsettled_set"]["shop_money"]["amount"] == Decimal("419.95")
    assert transaction["created_at"].utcoffset() is not None and transaction["parent_id"] is None
    assert envelope_resource_id("order_transactions/create", payload) == payload["order_id"]


def test_the_dispute_examples_load_and_refuse_a_float_id():
    created = PAYLOAD_SCHEMAS["disputes/create"]().load(payment_example("disputes/create"))
    updated = PAYLOAD_SCHEMAS["disputes/update"]().load(payment_example("disputes/update"))
    assert (created["status"], updated["status"]) == ("needs_response", "under_review")
    assert created["amount"] == Decimal("11.50") and created["evidence_sent_on"] is None
    assert updated["evidence_sent_on"].utcoffset() is not None
    with pytest.raises(ValidationError):
        PAYLOAD_SCHEMAS["disputes/create"]().load({**payment_example("disputes/create"), "id": 598735659.0})
