"""The one factory of Shopify orders: money adds up to the cent, the payload loads through our orders/create
schema and maps, a seed always gives the same order, and two customers differ."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from schemas.shopify import OrderSchema, order_schema_for
from simulators.shopify import order_factory as of

CATALOG = [
    ("TEE-BLK-M", "Classic Tee - Black / M", "28.00"),
    ("HOODIE-GRY-M", "Fleece Hoodie - Grey / M", "74.00"),
    ("SOCK-3PK", "Merino Socks 3-pack", "24.50"),
    ("BOTTLE-750", "Steel Bottle 750ml", "29.95"),
    ("JACKET-BLK-L", "Shell Jacket - Black / L", "189.00"),
]
PLACES = [("Austin", "TX", "78701"), ("Denver", "CO", "80202"), ("Boston", "MA", "02108")]
WHEN = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def random_order(seed: int, *, customer_id: int = 7_000_000_000_001, **kw) -> dict:
    rng = random.Random(seed)
    customer, _ = of.random_customer(rng, customer_id, first_names=["Ava", "Noah"], last_names=["Hart"], places=PLACES)
    lines = of.random_lines(
        rng, CATALOG, ids=lambda r, _i: (r.randint(1, 10**9), 7), quantity=lambda r: r.randint(1, 5)
    )
    values = dict(
        order_id=5_000_000_000_000 + seed,
        number=1001,
        customer=customer,
        lines=lines,
        created_at=WHEN,
        tax_rate="0.0825",
        shipping=of.Shipping("Standard", "6.95"),
    )
    values.update(kw)
    return of.build_order(**values)


def d(value: str) -> Decimal:
    return Decimal(value)


@pytest.mark.parametrize("compact", [False, True])
@pytest.mark.parametrize("seed", range(40))
def test_money_adds_up_to_the_cent(seed: int, compact: bool):
    discount = of.Discount("TENOFF", "10.00") if seed % 3 == 0 else None
    order = random_order(seed, discount=discount, compact=compact, tax_rate=("0.0825", "0.1035", "0")[seed % 3])
    items = sum(d(li["price"]) * li["quantity"] for li in order["line_items"])
    discounts = d(order["total_discounts"])
    assert discounts == (Decimal("10.00") if discount else 0)
    shipping = sum(d(s["price"]) for s in order["shipping_lines"])
    tax = d(order["total_tax"])
    assert d(order["subtotal_price"]) == items - discounts
    assert d(order["total_price"]) == items + tax + shipping - discounts
    assert sum((d(t["price"]) for t in order["tax_lines"]), Decimal(0)) == tax
    if not compact:
        assert d(order["total_line_items_price"]) == items
        # Each line's tax is its own (discounted amount x rate, in cents); the order's tax is their sum.
        line_tax = [sum((d(t["price"]) for t in li["tax_lines"]), Decimal(0)) for li in order["line_items"]]
        assert sum(line_tax, Decimal(0)) == tax
        rate = Decimal(str(order["tax_lines"][0]["rate"])) if order["tax_lines"] else Decimal(0)
        for li, t in zip(order["line_items"], line_tax, strict=True):
            off = sum((d(a["amount"]) for a in li["discount_allocations"]), Decimal(0))
            # Half-up to the cent, as Shopify rounds tax.
            assert t == ((d(li["price"]) * li["quantity"] - off) * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert sum(d(a["amount"]) for li in order["line_items"] for a in li["discount_allocations"]) == discounts
        assert order["total_price_set"]["shop_money"]["amount"] == order["total_price"]
        assert order["current_total_price"] == order["total_price"]


@pytest.mark.parametrize("compact", [False, True])
def test_the_payload_loads_through_the_orders_create_schema_and_maps(compact: bool):
    from app.domain.mapping import MappingConfig, map_order, order_skus

    order = json.loads(json.dumps(random_order(3, compact=compact)))  # as the intake sees it: parsed JSON
    loaded = order_schema_for("2026-04").load(order)
    assert loaded["id"] == order["id"] and loaded["total_price"] == Decimal(order["total_price"])
    assert [li["sku"] for li in loaded["line_items"]] == [li["sku"] for li in order["line_items"]]
    assert loaded["created_at"].utcoffset() is not None
    config = MappingConfig(currency_map={"USD": "1"}, default_customer_external_id="guest")
    skus = order_skus(loaded, config)
    bodies = map_order(OrderSchema().load(order), {sku: str(n) for n, sku in enumerate(skus)}, config)
    assert bodies.money_mismatch is None and bodies.money.rounding == 0


def test_both_shapes_carry_only_fields_shopify_documents_for_2026_04():
    from schemas.drift import unknown_fields

    assert unknown_fields("orders/create", random_order(5, compact=True)) == []
    assert unknown_fields("orders/create", random_order(5)) == []


def test_the_same_seed_gives_the_same_order_byte_for_byte():
    assert json.dumps(random_order(11)) == json.dumps(random_order(11))
    assert json.dumps(random_order(11)) != json.dumps(random_order(12))


def test_different_customers_differ_and_one_customer_keeps_its_identity():
    rng = random.Random(1)
    a, _ = of.random_customer(rng, 1, first_names=["Ava", "Noah"], last_names=["Hart", "Chen"], places=PLACES)
    b, _ = of.random_customer(rng, 2, first_names=["Ava", "Noah"], last_names=["Hart", "Chen"], places=PLACES)
    assert a != b and a.id != b.id
    lines = [of.line_from_catalog(CATALOG[0], 1, 1, 1)]
    first = of.build_order(order_id=1, number=1001, customer=a, lines=lines, created_at=WHEN)
    again = of.build_order(order_id=2, number=1002, customer=a, lines=lines, created_at=WHEN)
    other = of.build_order(order_id=3, number=1003, customer=b, lines=lines, created_at=WHEN)
    assert first["customer"] == again["customer"] and first["billing_address"] == again["billing_address"]
    assert first["customer"] != other["customer"]


def test_refund_and_fulfillment_follow_the_order():
    order = random_order(7, tax_rate="0.08")
    [first, *_] = order["line_items"]
    fulfillment = of.build_fulfillment(
        order,
        fulfillment_id=9,
        lines={first["id"]: first["quantity"]},
        location_id=1,
        created_at="2026-04-02T10:00:00-04:00",
        tracking_company="UPS",
        tracking_number="1Z",
    )
    assert fulfillment["order_id"] == order["id"] and fulfillment["line_items"][0]["sku"] == first["sku"]
    refund = of.build_refund(
        order, refund_id=8, lines={first["id"]: 1}, location_id=1, created_at=order["created_at"], transaction_id=7
    )
    unit = d(first["price"])
    tax = (sum(d(t["price"]) for t in first["tax_lines"]) / first["quantity"]).quantize(Decimal("0.01"))
    assert d(refund["transactions"][0]["amount"]) == unit + tax


def test_the_story_and_the_intake_bench_body_are_built_here_with_their_figures():
    from bench.intake.run import make_order_body
    from tests import story

    assert (story.ORDER["total_price"], story.ORDER["total_tax"]) == ("108.00", "8.00")
    assert story.R1["transactions"][0]["amount"] == story.REFUNDED
    body = json.loads(make_order_body())
    assert (body["total_price"], body["total_tax"], len(body["line_items"])) == ("722.73", "40.23", 3)


def test_every_money_feature_adds_up_on_both_sides():
    """Line and code discounts, a discounted taxed shipping line, three rates, a gift card, a duty and a tip,
    priced in EUR for a USD shop: each side's figures add up on their own (amounts are computed in the
    buyer's currency and each converted to the shop's), and the tax lines carry the tax."""
    rng = random.Random(3)
    customer, _ = of.random_customer(rng, 7_000_000_000_009, first_names=["Ava"], last_names=["Hart"], places=PLACES)
    lines = [
        of.Line("A", "Tee", "28.00", 2, 1, 2, discount="3.00"),
        of.Line("G", "Gift card", "50.00", 1, 3, 4, gift_card=True),
        of.Line("J", "Jacket", "189.00", 1, 5, 6, duty="12.40"),
    ]
    order = of.build_order(
        order_id=77,
        number=1077,
        customer=customer,
        lines=lines,
        created_at=WHEN,
        taxes=[("State", "0.0625"), ("City", "0.005")],
        shipping=of.Shipping("Express", "15.00", discount="5.00", taxable=True),
        discount=of.Discount("SPRING", "20.00"),
        presentment_currency="EUR",
        exchange_rate="1.0850",
        tip="4.00",
    )
    p = lambda value: d(value["presentment_money"]["amount"])  # noqa: E731
    gift, jacket = order["line_items"][1], order["line_items"][2]
    assert gift["tax_lines"] == [] and gift["discount_allocations"] == [] and gift["taxable"] is False
    # The tee: its share of the code (application 0, the gift card takes none) and its own 3.00 (application 1).
    tee = order["line_items"][0]["discount_allocations"]
    assert [a["discount_application_index"] for a in tee] == [0, 1] and p(tee[1]["amount_set"]) == d("3.00")
    code_shares = [
        a for li in order["line_items"] for a in li["discount_allocations"] if a["discount_application_index"] == 0
    ]
    assert sum(p(a["amount_set"]) for a in code_shares) == d("20.00")
    shipping = order["shipping_lines"][0]
    assert p(shipping["discounted_price_set"]) == d("10.00")
    assert [t["title"] for t in shipping["tax_lines"]] == ["State", "City"]
    line_tax = sum(p(t["price_set"]) for li in order["line_items"] for t in li["tax_lines"])
    shipping_tax = sum(p(t["price_set"]) for t in shipping["tax_lines"])
    assert p(order["total_tax_set"]) == line_tax + shipping_tax == sum(p(t["price_set"]) for t in order["tax_lines"])
    assert p(order["current_total_duties_set"]) == d("12.40") == p(jacket["duties"][0]["price_set"])
    assert p(order["total_price_set"]) == (
        p(order["subtotal_price_set"]) + d("10.00") + p(order["total_tax_set"]) + d("12.40") + d("4.00")
    )
    assert p(order["total_discounts_set"]) == d("3.00") + d("20.00") + d("5.00")
    # The shop side: each amount converted on its own, the plain fields are the shop side.
    assert order["total_price"] == order["total_price_set"]["shop_money"]["amount"]
    assert d(order["total_price"]) == (p(order["total_price_set"]) * d("1.0850")).quantize(Decimal("0.01"))
    assert order["total_tip_received"] == "4.34"
    assert order["discount_codes"] == [
        {"code": "SPRING", "amount": order["discount_codes"][0]["amount"], "type": "fixed_amount"}
    ]
    assert d(order["discount_codes"][0]["amount"]) == sum(
        d(a["amount"])
        for li in order["line_items"]
        for a in li["discount_allocations"]
        if a["discount_application_index"] == 0
    )


def test_additional_fees_are_their_own_money_set_and_part_of_the_total():
    """Shopify's additional fees (a retail delivery fee, say): untaxed, in current_total_additional_fees_set, added
    to the total on both sides; the order loads, shows no drift and maps with no mismatch."""
    from app.domain.mapping import MappingConfig, map_order, order_skus
    from schemas.drift import unknown_fields

    plain = random_order(8, tip="2.00")
    order = random_order(8, tip="2.00", fees="0.28", presentment_currency="EUR", exchange_rate="1.0850")
    p = lambda value, side="presentment_money": d(value[side]["amount"])  # noqa: E731
    assert p(order["current_total_additional_fees_set"]) == d("0.28") == p(order["original_total_additional_fees_set"])
    assert p(order["current_total_additional_fees_set"], "shop_money") == d("0.30")  # 0.28 x 1.085, to the cent
    assert p(order["total_price_set"]) == d(plain["total_price"]) + d("0.28")
    assert p(order["total_price_set"]) == (
        p(order["subtotal_price_set"]) + p(order["total_shipping_price_set"]) + p(order["total_tax_set"]) + d("2.28")
    )
    assert "current_total_additional_fees_set" not in plain
    assert unknown_fields("orders/create", order) == []
    config = MappingConfig(currency_map={"EUR": "4"}, default_customer_external_id="guest")
    loaded = OrderSchema().load(order)
    bodies = map_order(loaded, {sku: str(n) for n, sku in enumerate(order_skus(loaded, config))}, config)
    assert bodies.money_mismatch is None and bodies.money.rounding == 0
