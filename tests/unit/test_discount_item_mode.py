"""DISCOUNT_MODE=item with tax (docs/MAPPING.md, Discounts and Tax): a discounted line posts at its full price and
is followed by a SHOPIFY-DISCOUNT line; Shopify taxed the line net of that discount, and each tax mode must say so."""

from __future__ import annotations

from decimal import Decimal

from app.domain.tax import TaxConfig, parse_tax_code_map
from tests.unit.test_order_money import config, kinds, line, lines_of, mapped, netsuite_total, order, tax

D = Decimal
RATES = {"62": D("6.25"), "20": D(20)}


def _discounted(taxes_included: bool = False) -> dict:
    """Two mugs at 28.00 with 4.60 off (Shopify's tax on the 51.40 net: 3.21 at 6.25 %), a tea not discounted."""
    return order(
        [
            line(1, "MUG", "28.00", 2, discount_allocations=[{"amount": "4.60"}], tax_lines=[tax("3.21", "0.0625")]),
            line(2, "TEA", "37.50", 1, tax_lines=[tax("2.34", "0.0625")]),
        ],
        "94.45",
        total_tax="5.55",
    )


def _vat_included() -> dict:
    """Two hats at 19.99 VAT included, 3.83 off: Shopify's VAT is on the 36.15 net, 6.03."""
    return order(
        [line(1, "MUG", "19.99", 2, discount_allocations=[{"amount": "3.83"}], tax_lines=[tax("6.03", "0.2", "VAT")])],
        "36.15",
        total_tax="6.03",
        taxes_included=True,
    )


def test_legacy_taxes_the_discount_line_at_its_products_code_so_netsuites_tax_is_on_the_net():
    cfg = config(discount_mode="item", tax=TaxConfig(code_map=parse_tax_code_map({"State tax": "62"}), rates=RATES))
    bodies = mapped(_discounted(), cfg)
    assert kinds(bodies) == ["MUG", "SHOPIFY-DISCOUNT", "TEA"]
    mug, discount, tea = lines_of(bodies)
    assert (mug["amount"], discount["amount"]) == (D("56.00"), D("-4.60"))
    assert mug["taxCode"] == discount["taxCode"] == tea["taxCode"] == {"id": "62"}
    # NetSuite (the discount item applied before sales tax): 3.50 - 0.29 + 2.34 = 5.55, Shopify's tax; untaxed, the
    # discount would leave 5.84 and a -0.29 variance.
    assert bodies.money.tax_variance == 0 and "custbody_shopify_tax_variance" not in bodies.sales_order_body
    assert netsuite_total(bodies, RATES) == D("94.45") and bodies.money.rounding == 0


def test_suitetax_gives_the_tax_basis_shopify_taxed_the_line_net_of_its_discount_line():
    cfg = config(discount_mode="item", tax=TaxConfig(mode="suitetax", default_code_id="62"))
    bodies = mapped(_discounted(), cfg)
    details = bodies.sales_order_body["taxDetails"]["items"]
    assert [(d["taxDetailsReference"], d["taxBasis"], d["taxAmount"]) for d in details] == [
        ("TD1", D("51.40"), D("3.21")),
        ("TD3", D("37.50"), D("2.34")),
    ]
    assert "taxDetailsReference" not in lines_of(bodies)[1]  # the discount line has no tax of its own
    assert netsuite_total(bodies) == D("94.45")


def test_taxes_included_splits_the_lines_tax_between_the_price_and_its_discount():
    cfg = config(discount_mode="item", tax=TaxConfig(code_map=parse_tax_code_map({"VAT": "20"}), rates=RATES))
    bodies = mapped(_vat_included(), cfg)
    assert kinds(bodies) == ["MUG", "SHOPIFY-DISCOUNT", "SHOPIFY-TAX-VARIANCE"]
    hat, discount, variance = lines_of(bodies)
    # The 6.03 shared by the tax-inclusive amounts: 6.67 on the 39.98, -0.64 on the 3.83 off; ex-tax 33.31 and
    # -3.19 (39.98 / 1.2 = 33.32, 3.83 / 1.2 = 3.19, to the cent of rounding) adding up to the 30.12 net ex-tax.
    assert (hat["amount"], discount["amount"]) == (D("33.31"), D("-3.19"))
    assert hat["rate"] == D("19.99")
    # NetSuite's VAT: 6.66 - 0.64 = 6.02; the cent of per-line rounding is the variance.
    assert bodies.money.tax_variance == variance["amount"] == D("0.01")
    assert netsuite_total(bodies, RATES) == D("36.15") and bodies.money.rounding == 0
    suitetax = mapped(
        _vat_included(), config(discount_mode="item", tax=TaxConfig(mode="suitetax", default_code_id="20"))
    )
    [detail] = suitetax.sales_order_body["taxDetails"]["items"]
    assert (detail["taxBasis"], detail["taxAmount"]) == (D("30.12"), D("6.03"))
    assert netsuite_total(suitetax) == D("36.15")


def test_net_mode_is_unchanged_a_line_net_of_its_discount_less_its_tax():
    cfg = config(tax=TaxConfig(mode="suitetax", default_code_id="20"))
    [hat] = lines_of(mapped(_vat_included(), cfg))
    assert hat["amount"] == D("30.12")
