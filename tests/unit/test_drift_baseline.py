"""The drift baseline knows API 2026-04: Shopify's own example payloads of every topic the service takes produce no
drift, a made-up field still does, and the committed baseline is what its generator gives (devtools.drift_baseline).
"""

from __future__ import annotations

import ast
import json

import pytest

from app.routing import TOPICS
from devtools import drift_baseline
from schemas.drift import unknown_fields
from tests.conftest import FIXTURES, WEBHOOK_SAMPLES
from tests.unit.test_shopify_examples import example, exemplar

EXAMPLE_TOPICS = sorted({*TOPICS, "orders/edited"})


def test_the_committed_baseline_is_what_the_generator_gives():
    texts = drift_baseline.render(drift_baseline.known_fields())
    assert set(texts) == {drift_baseline.BASELINE} | {drift_baseline.family_module(f) for f in drift_baseline.FAMILIES}
    for path, text in texts.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name}: run python -m devtools.drift_baseline"
    assert drift_baseline.main(["--check"]) == 0


def test_each_family_module_is_a_sorted_literal_without_repeats():
    for fam in drift_baseline.FAMILIES:
        tree = ast.parse(drift_baseline.family_module(fam).read_text(encoding="utf-8"))
        paths = [
            node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
        listed = paths[1:]  # the first string is the docstring
        assert listed == sorted(set(listed)) and listed


@pytest.mark.parametrize("topic", EXAMPLE_TOPICS)
def test_shopifys_2026_04_example_of_each_topic_has_no_unknown_field(topic: str):
    assert unknown_fields(topic, example(topic)) == []


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
def test_the_shape_of_real_payloads_has_no_unknown_field(name: str, topic: str):
    assert unknown_fields(topic, exemplar(name)) == []


@pytest.mark.parametrize(
    ("name", "topic"),
    [
        ("orders_create.json", "orders/create"),
        ("fulfillments_create.json", "fulfillments/create"),
        ("refunds_create.json", "refunds/create"),
        ("inventory_levels_update.json", "inventory_levels/update"),
    ],
)
def test_the_real_fixtures_still_have_no_unknown_field(name: str, topic: str):
    assert unknown_fields(topic, json.loads((FIXTURES / name).read_text())) == []


def test_a_made_up_field_still_counts_at_the_top_and_deep_inside():
    order = example("orders/create")
    order["loyalty_tier"] = "gold"
    order["line_items"][0]["carbon_offset_set"] = {"shop_money": {"amount": "0.10"}}
    assert unknown_fields("orders/create", order) == [
        "line_items[].carbon_offset_set",
        "line_items[].carbon_offset_set.shop_money",
        "line_items[].carbon_offset_set.shop_money.amount",
        "loyalty_tier",
    ]
    refund = example("refunds/create")
    refund["refund_line_items"][0]["restocking_fee"] = "1.00"
    assert unknown_fields("refunds/create", refund) == ["refund_line_items[].restocking_fee"]
    level = example("inventory_levels/update")
    level["committed"] = 2
    assert unknown_fields("inventory_levels/update", level) == ["committed"]


def test_a_body_of_another_topic_is_not_taken_for_an_order():
    # exemplars/2025-04/orders/3.json is a risk assessment: the generator leaves it out, so it reads as drift.
    assert "orders/3.json" not in drift_baseline.EXEMPLARS
    assert "provider_title" in unknown_fields("orders/create", exemplar("orders/3"))


def test_a_json_schema_becomes_a_payload_with_every_property_it_declares():
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "discount_applications": {
                "type": "array",
                "items": {"anyOf": [{"properties": {"code": {}}}, {"properties": {"title": {}, "value": {}}}]},
            },
            "customer": {"anyOf": [{"type": "null"}, {"properties": {"email": {"type": "string"}}}]},
        },
    }
    assert drift_baseline.schema_payload(schema) == {
        "id": None,
        "discount_applications": [{"code": None, "title": None, "value": None}],
        "customer": {"email": None},
    }


def test_inventory_levels_paths_come_from_the_2026_07_example_where_2026_04_is_empty():
    assert (
        drift_baseline.example_payload("inventory_levels/update")
        == json.loads((WEBHOOK_SAMPLES / "metadatas" / "2026-07" / "inventory_levels" / "update.json").read_text())[
            "response"
        ]
    )


@pytest.mark.parametrize("topic", drift_baseline.PAYMENT_TOPICS)
def test_the_payment_topics_examples_have_no_unknown_field_and_a_made_up_one_counts(topic: str):
    payload = drift_baseline.example_payload(topic)
    assert unknown_fields(topic, payload) == []
    assert unknown_fields(topic, {**payload, "settlement_batch": 1}) == ["settlement_batch"]
