"""A refund's money: what it took off Shopify's current total (lines, shipping, duties, tax) and the credit memo
that books it, in both tax modes (app/domain/refunds.py, app/domain/credit_memo.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.credit_memo import credit_skus, map_credit
from app.domain.errors import UnknownSku
from app.domain.mapping import MappingConfig, sales_order_total
from app.domain.money import TaxPart
from app.domain.order_lines import ServiceItems
from app.domain.refunds import has_discrepancy, refund_line_taxes, refund_value, shipping_refunds
from app.domain.shopify_events import refund_event
from app.domain.state_machine import CreateCredit, Line, RefundLine
from app.domain.tax import SUITETAX, TaxConfig

D = Decimal
SIDE = "presentment_money"
ITEMS = ServiceItems()
ITEM_IDS = {"MUG": "10", **{sku: f"9{n}" for n, sku in enumerate(ITEMS.all())}}
NY = TaxPart("NY State", D("0.04"), D("0"))


def bag(amount: str, shop: str | None = None) -> dict:
    return {
        "shop_money": {"amount": shop or amount, "currency_code": "USD"},
        "presentment_money": {"amount": amount, "currency_code": "USD"},
    }


REFUND = {
    "id": 71,
    "order_id": 7,
    "refund_line_items": [
        {
            "line_item_id": 5,
            "quantity": 1,
            "subtotal": "18.00",
            "subtotal_set": bag("18.00"),
            "total_tax": "1.60",
            "total_tax_set": bag("1.60"),
            "line_item": {
                "id": 5,
                "tax_lines": [
                    {"title": "NY State", "rate": "0.04", "price": "2.40", "price_set": bag("2.40")},
                    {"title": "NYC", "rate": "0.04", "price": "0.80", "price_set": bag("0.80")},
                ],
            },
        }
    ],
    "refund_shipping_lines": [
        {
            "subtotal_amount_set": bag("5.00"),
            "tax_amount_set": bag("0.40"),
            "shipping_line": {
                "title": "Express",
                "tax_lines": [{"title": "NY State", "rate": "0.08", "price": "0.40"}],
            },
        }
    ],
    "total_duties_set": bag("2.00"),
    "order_adjustments": [],
    "transactions": [{"kind": "refund", "status": "success", "amount": D("27.00")}],
}


def test_a_refund_took_off_its_lines_shipping_duties_and_their_tax():
    assert refund_value(REFUND, SIDE) == D("18.00") + D("1.60") + D("5.00") + D("0.40") + D("2.00")


def test_the_refund_lines_tax_is_split_over_the_lines_tax_lines_by_their_amounts():
    parts = refund_line_taxes(REFUND["refund_line_items"][0], SIDE)
    assert [(p.title, p.amount) for p in parts] == [("NY State", D("1.20")), ("NYC", D("0.40"))]
    assert sum(p.amount for p in parts) == D("1.60")


def test_shipping_refunds_of_older_versions_are_order_adjustments_with_negative_amounts():
    old = {"order_adjustments": [{"kind": "shipping_refund", "amount": "-5.00", "tax_amount": "-0.40"}]}
    [charge] = shipping_refunds(old, SIDE)
    assert (charge.amount, sum(p.amount for p in charge.taxes)) == (D("5.00"), D("0.40"))
    assert not has_discrepancy(old)
    assert has_discrepancy({"order_adjustments": [{"kind": "refund_discrepancy", "amount": "-1.00"}]})


def test_the_sales_order_total_adds_back_what_refunds_took_off_the_current_total():
    order = {
        "current_total_price": "10.00",
        "current_total_price_set": bag("10.00"),
        "total_price": "37.00",
        "refunds": [REFUND],
    }
    assert sales_order_total(order, SIDE) == D("10.00") + refund_value(REFUND, SIDE)


def _command(amount: str, adjusted: bool = False) -> CreateCredit:
    event = refund_event(REFUND, side=SIDE)
    line = Line(5, "MUG", 2, D("20.00"))
    return CreateCredit("shopify-refund-71", ((line, event.lines[0]),), D(amount), None, (), event.charges, adjusted)


def _config(mode: str = "legacy", rates: dict | None = None) -> MappingConfig:
    tax = TaxConfig(
        mode=mode, code_map={("ny state", None): "7"}, default_code_id="7", rates=rates if rates is not None else {}
    )
    return MappingConfig(currency_map={"USD": "1"}, default_customer_external_id="", tax=tax)


def _total(lines: list[dict], tax: Decimal = D(0)) -> Decimal:
    return sum((D(str(x["amount"])) for x in lines), D(0)) + tax


def test_suitetax_posts_shopifys_refund_tax_and_the_credit_equals_the_money_returned():
    credit = map_credit(_command("27.00"), ITEM_IDS, _config(SUITETAX), {None: "1"})
    details = credit.tax_body["taxDetails"]["items"]
    tax = sum(D(str(d["taxAmount"])) for d in details)
    assert tax == D("2.00")  # 1.60 on the mug, 0.40 on the shipping
    assert credit.tax_body["taxDetailsOverride"] is True
    assert [x["item"]["id"] for x in credit.lines] == ["10", ITEM_IDS[ITEMS.shipping], ITEM_IDS[ITEMS.duty]]
    assert _total(credit.lines, tax) == D("27.00") and credit.adjustment == 0 and credit.mismatch is None


def test_legacy_tax_posts_the_variance_so_netsuites_total_is_the_money_returned():
    # NetSuite computes 4 % on the mug (0.72) and on the shipping (0.20): 1.08 short of Shopify's 2.00.
    credit = map_credit(_command("27.00"), ITEM_IDS, _config(rates={"7": D("4")}), {None: "1"})
    assert [x.get("taxCode") for x in credit.lines[:2]] == [{"id": "7"}, {"id": "7"}]
    variance = [x for x in credit.lines if x["item"]["id"] == ITEM_IDS[ITEMS.tax_variance]]
    assert [x["amount"] for x in variance] == [D("1.08")]
    assert _total(credit.lines, D("0.92")) == D("27.00") and credit.mismatch is None


def test_a_refund_for_less_than_its_value_books_the_difference_on_the_adjustment_item():
    credit = map_credit(_command("20.00", adjusted=True), ITEM_IDS, _config(SUITETAX), {None: "1"})
    [adjustment] = [x for x in credit.lines if x["item"]["id"] == ITEM_IDS[ITEMS.refund_adjustment]]
    assert adjustment["amount"] == D("-7.00") and credit.adjustment == D("-7.00")
    assert credit.mismatch is None  # Shopify recorded the discrepancy
    unexplained = map_credit(_command("20.00"), ITEM_IDS, _config(SUITETAX), {None: "1"})
    assert "difference -7.00" in unexplained.mismatch
    # A restock without money (an unpaid order) is not a mismatch either.
    assert map_credit(_command("0.00"), ITEM_IDS, _config(SUITETAX), {None: "1"}).mismatch is None


def test_a_refunded_gift_card_reverses_the_liability_and_is_never_taxed():
    card = RefundLine(8, 1, "no_restock", None, D("50.00"), gift_card=True)
    cmd = CreateCredit("shopify-refund-72", (), D("50.00"), None, (card,))
    credit = map_credit(cmd, ITEM_IDS, _config(SUITETAX), {})
    assert [(x["item"]["id"], x["amount"]) for x in credit.lines] == [(ITEM_IDS[ITEMS.gift_card], D("50.00"))]
    assert credit.tax_body["taxDetails"]["items"] == [] and credit.adjustment == 0


def test_a_tax_inclusive_stores_refund_is_booked_ex_tax():
    line = RefundLine(5, 1, "no_restock", None, D("21.60"), (TaxPart("VAT", D("0.2"), D("3.60")),))
    cmd = CreateCredit("shopify-refund-73", ((Line(5, "MUG", 1, D("21.60")), line),), D("21.60"), None)
    credit = map_credit(cmd, ITEM_IDS, _config(SUITETAX), {}, taxes_included=True)
    assert credit.lines[0]["amount"] == D("18.00") and credit.lines[0]["custcol_shopify_no_restock"] is True
    assert credit.value == D("21.60") and credit.adjustment == 0


def test_every_item_the_credit_may_post_to_is_named_and_a_missing_one_is_refused():
    cmd = _command("27.00")
    assert credit_skus(cmd, _config()) == [
        "MUG",
        ITEMS.shipping,
        ITEMS.duty,
        ITEMS.tax_variance,
        ITEMS.refund_adjustment,
    ]
    with pytest.raises(UnknownSku):
        map_credit(cmd, {"MUG": "10"}, _config(SUITETAX), {None: "1"})


def test_a_restocked_line_names_its_location():
    event = refund_event({**REFUND, "refund_line_items": [{**REFUND["refund_line_items"][0], "location_id": 3,
                                                           "restock_type": "return"}]}, side=SIDE)  # fmt: skip
    cmd = CreateCredit("shopify-refund-74", ((Line(5, "MUG", 2, D("20.00")), event.lines[0]),), D("19.60"), None)
    credit = map_credit(cmd, ITEM_IDS, _config(SUITETAX), {3: "12"})
    assert credit.lines[0]["location"] == {"id": "12"} and credit.lines[0]["custcol_shopify_line_id"] == "5"
