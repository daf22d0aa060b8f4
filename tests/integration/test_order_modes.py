"""NetSuite's own total equals Shopify's to the cent in the setting modes and order shapes test_order_totals.py
leaves out: DISCOUNT_MODE=item, GUEST_CUSTOMERS=single, ORDER_CURRENCY=shop with a EUR buyer on a USD shop (the
sales order, a partial refund, the nightly orders check), edits of a EUR order, duties, additional fees and tips.

Orders come from the order factory, are held by the Shopify simulator (the service reads edits and the orders
check from it) and go through the service's own path (process_event with the mode's settings, the lifecycle, the
orders check) into the NetSuite simulator over HTTP. Every figure checked is one NetSuite computed (SuiteQL
`foreigntotal`, `taxtotal`; a record's `total`), never a copy the service wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from app.adapters.netsuite import get_netsuite
from app.config import Settings, get_settings
from app.db.models import OrderState
from app.db.session import session_scope
from app.services import events
from app.services.orders_check import OrdersCheckReport, check_orders
from app.services.tax_rates import forget_rates
from shopify_client.client import ShopifyAdminClient
from simulators.shopify import order_factory as of
from tests.integration.test_services import records, store_event

D = Decimal
PRODUCTS = [("MD-SHIRT", "Shirt"), ("MD-MUG", "Mug"), ("MD-HAT", "Hat"), ("MD-SOCKS", "Socks")]
# Shopify tax line title -> the NetSuite tax code (a salesTaxItem with the same rate, in percent) seeded for it.
TAX_CODES = {"CA State Tax": ("MD-CA-STATE", "6.25"), "LA County Tax": ("MD-LA-COUNTY", "1"), "VAT": ("MD-VAT", "20")}
STATE, COUNTY, VAT = ("CA State Tax", "0.0625"), ("LA County Tax", "0.01"), ("VAT", "0.20")
EUR_RATE = "1.0850"  # USD (the shop's) per EUR (the buyer's)
CURRENCY_IDS = {"USD": "1", "EUR": "4"}  # the simulator's seeded currencies


@dataclass(frozen=True)
class Modes:
    tax: str = "legacy"  # NETSUITE_TAX_MODE
    discount: str = "net"  # DISCOUNT_MODE
    currency: str = "presentment"  # ORDER_CURRENCY
    guests: str = "per_email"  # GUEST_CUSTOMERS

    @property
    def side(self) -> str:
        return f"{self.currency}_money"


@dataclass
class Shop:
    """Both simulators, the tax codes seeded in NetSuite, and the service's settings for the modes under test."""

    sim: str
    shopify: str
    codes: dict[str, str]  # Shopify tax title -> NetSuite tax code id
    monkeypatch: pytest.MonkeyPatch
    settings: Settings | None = None
    sent: int = 0

    def use(self, modes: Modes) -> Settings:
        """The service (process_event) runs with these modes; the NetSuite simulator in the tax mode."""
        requests.post(f"{self.sim}/_sim/config", json={"tax_mode": modes.tax}, timeout=5).raise_for_status()
        base = get_settings()
        money = replace(
            base.order_money,
            tax_mode=modes.tax,
            discount_mode=modes.discount,
            order_currency=modes.currency,
            tax_code_map=dict(self.codes),
            default_tax_code_id=self.codes["CA State Tax"],
        )
        # An edit here is delivered without its orders/updated: read at once instead of waiting for one
        # (the wait itself is tests/integration/test_order_edits.py's).
        self.settings = replace(
            base,
            order_money=money,
            guest_customers=modes.guests,
            netsuite_currency_map=dict(CURRENCY_IDS),
            order_edit_wait_seconds=0.0,
        )
        self.monkeypatch.setattr(events, "get_settings", lambda: self.settings)
        return self.settings

    def deliver(self, topic: str, payload: dict) -> str:
        self.sent += 1
        event_id = store_event(json.dumps(payload).encode(), topic=topic, webhook_id=f"modes-{self.sent}")
        return events.process_event(event_id)

    def land(self, order: dict) -> dict:
        """Shopify holds the order, its orders/create is processed; the one sales order NetSuite holds for it."""
        requests.post(f"{self.shopify}/_sim/orders", json=order, timeout=5).raise_for_status()
        self.deliver("orders/create", order)
        return sales_order(self.sim, order["id"])

    def refund(self, order: dict, lines: dict[int, int], refund_id: int) -> dict:
        """A refund made in Shopify (the simulator keeps it on the order) and its refunds/create processed."""
        body = of.build_refund(
            order, refund_id=refund_id, lines=lines, location_id=1001, created_at=order["created_at"],
            transaction_id=refund_id + 1,
        )  # fmt: skip
        url = f"{self.shopify}/_sim/orders/{order['id']}/refunds"
        made = requests.post(url, json=body, timeout=5)
        made.raise_for_status()
        self.deliver("refunds/create", made.json()["refund"])
        return made.json()["refund"]

    def check(self) -> OrdersCheckReport:
        """The nightly orders check over both simulators (dry run: what it finds, nothing healed)."""
        shopify = ShopifyAdminClient(url=f"{self.shopify}/admin/api/2026-04/graphql.json", access_token="shpat_test")
        assert self.settings is not None
        with session_scope() as session:
            return check_orders(session, get_netsuite(), shopify, self.settings, dry_run=True)


@pytest.fixture
def shop(sim: str, shopify_server: str, monkeypatch: pytest.MonkeyPatch):
    requests.post(f"{shopify_server}/_sim/reset", json={}, timeout=5).raise_for_status()
    items = [{"itemid": sku, "displayname": name} for sku, name in PRODUCTS]
    requests.post(f"{sim}/_sim/items", json=items, timeout=5).raise_for_status()
    seeded = requests.post(
        f"{sim}/_sim/taxcodes",
        json=[{"itemid": code, "rate": rate} for code, rate in TAX_CODES.values()],
        timeout=5,
    )
    seeded.raise_for_status()
    ids = {code["itemid"]: str(code["id"]) for code in seeded.json()}
    forget_rates()
    yield Shop(sim, shopify_server, {title: ids[code] for title, (code, _) in TAX_CODES.items()}, monkeypatch)
    requests.post(f"{sim}/_sim/config", json={"tax_mode": "legacy"}, timeout=5).raise_for_status()
    forget_rates()


# --- orders, Shopify's figures and NetSuite's ----------------------------------------------------------------

STAMP = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()  # inside the check's window


def customer(n: int) -> of.Customer:
    address = of.Address("Robin", f"Mode{n}", f"{n} Main St", "Los Angeles", "CA", "90012")
    return of.Customer(7_710_000_000_000 + n, "Robin", f"Mode{n}", f"mode{n}@example.com", address)


def line(sku: str, price: str, quantity: int, **kw: Any) -> of.Line:
    n = sum(map(ord, sku))
    return of.Line(sku, sku.title(), price, quantity, 8_810_000_000 + n, 8_910_000_000 + n, **kw)


def order(n: int, lines: list[of.Line], **kw: Any) -> dict:
    kw.setdefault("customer", customer(n))
    return of.build_order(order_id=6_622_000_000_000 + n, number=6000 + n, lines=lines, created_at=STAMP, **kw)


def euro(**kw: Any) -> dict[str, Any]:
    return dict(currency="USD", presentment_currency="EUR", exchange_rate=EUR_RATE, **kw)


def dec(value: Any) -> D:
    return D(str(value))


def shopify_total(body: dict, side: str) -> D:
    """Shopify's current total on the side of its money bags the sales order is in."""
    return dec(body["current_total_price_set"][side]["amount"])


def shopify_tax(body: dict, side: str) -> D:
    return dec(body["current_total_tax_set"][side]["amount"])


def sales_order(sim: str, order_id: int) -> dict:
    [so] = [r for r in records(sim, "salesOrder") if r.get("externalId") == f"shopify-order-{order_id}"]
    return so


def netsuite_figures(external_id: str) -> dict[str, D]:
    """What NetSuite itself reports for a transaction (SuiteQL): its total in the document currency, its tax, its
    currency and exchange rate."""
    query = f"SELECT foreigntotal, taxtotal, currency, exchangerate FROM transaction WHERE externalid = '{external_id}'"
    [row] = list(get_netsuite().suiteql(query))
    return {key: dec(row.get(key) or 0) for key in ("foreigntotal", "taxtotal", "currency", "exchangerate")}


def skus_of(sim: str, record: dict) -> list[tuple[str, dict]]:
    items = {str(i["id"]): i["itemid"] for i in requests.get(f"{sim}/_sim/items", timeout=5).json()}
    return [(items[str(li["item"]["id"])], li) for li in record["item"]["items"]]


def amounts(sim: str, record: dict, sku: str) -> list[D]:
    return [dec(li["amount"]) for s, li in skus_of(sim, record) if s == sku]


def money_mismatch(order_id: int) -> str | None:
    with session_scope() as session:
        state = session.get(OrderState, order_id)
        assert state is not None
        return state.money_mismatch


def assert_netsuite_total_is_shopifys(body: dict, modes: Modes) -> dict[str, D]:
    """NetSuite's own total of the sales order is Shopify's current total, to the cent, with no alert; in the
    document currency the mode names."""
    figures = netsuite_figures(f"shopify-order-{body['id']}")
    assert figures["foreigntotal"] == shopify_total(body, modes.side), (figures, shopify_total(body, modes.side))
    assert money_mismatch(body["id"]) is None
    currency = body["current_total_price_set"][modes.side]["currency_code"]
    assert str(int(figures["currency"])) == CURRENCY_IDS[currency]
    return figures


# --- DISCOUNT_MODE=item ---------------------------------------------------------------------------------------


def discounts_multi_rate(n: int) -> dict:
    """Line, order (code) and shipping discounts; two rates; taxed shipping; a tip."""
    return order(
        n,
        [line("MD-SHIRT", "28.00", 2, discount="3.00"), line("MD-MUG", "12.50", 3), line("MD-HAT", "19.99", 1)],
        taxes=[STATE, COUNTY],
        shipping=of.Shipping("Express", "15.00", discount="5.00", taxable=True),
        discount=of.Discount("SPRING", "10.00"),
        tip="4.00",
    )


def discounts_one_rate(n: int) -> dict:
    """One rate, every line discounted: NetSuite's legacy tax is computed from one code per line."""
    return order(
        n,
        [line("MD-SHIRT", "28.00", 2, discount="3.00"), line("MD-MUG", "12.50", 3), line("MD-SOCKS", "9.99", 4)],
        taxes=[STATE],
        shipping=of.Shipping("Standard", "6.00", taxable=True),
        discount=of.Discount("TEN", "10.00"),
    )


def discounts_taxes_included(n: int) -> dict:
    """VAT inside the prices, a line discount, a code and a discounted taxed shipping line."""
    return order(
        n,
        [line("MD-HAT", "19.99", 2, discount="1.00"), line("MD-SOCKS", "9.99", 3)],
        taxes=[VAT],
        taxes_included=True,
        shipping=of.Shipping("Standard", "6.00", discount="1.50", taxable=True),
        discount=of.Discount("VAT5", "5.00"),
    )


def discounts_in_euros(n: int) -> dict:
    """A EUR buyer of a USD shop, a line discount and a code."""
    return order(
        n,
        [line("MD-SHIRT", "26.00", 2, discount="2.00"), line("MD-MUG", "11.50", 1)],
        taxes=[STATE],
        shipping=of.Shipping("Express", "9.00", taxable=True),
        discount=of.Discount("EURO", "4.00"),
        **euro(),
    )


ITEM_MODE_ORDERS = {
    "multi-rate": discounts_multi_rate,
    "one-rate": discounts_one_rate,
    "taxes-included": discounts_taxes_included,
    "euro": discounts_in_euros,
}


@pytest.mark.parametrize("tax", ["legacy", "suitetax"])
@pytest.mark.parametrize("shape", list(ITEM_MODE_ORDERS))
def test_discount_item_mode_posts_gross_lines_and_discount_lines_netsuite_totals_as_shopify(
    shop: Shop, tax: str, shape: str
):
    modes = Modes(tax=tax, discount="item")
    shop.use(modes)
    n = list(ITEM_MODE_ORDERS).index(shape) + (10 if tax == "suitetax" else 0)
    body = ITEM_MODE_ORDERS[shape](n)
    so = shop.land(body)
    figures = assert_netsuite_total_is_shopifys(body, modes)
    assert amounts(shop.sim, so, "SHOPIFY-ROUNDING") == [], "nothing left for a rounding line"
    side = modes.side
    posted = skus_of(shop.sim, so)
    details = {d["taxDetailsReference"]: d for d in (so.get("taxDetails") or {}).get("items", [])}
    for li in body["line_items"]:
        price = dec(li["price_set"][side]["amount"]) * li["quantity"]
        off = sum((dec(a["amount_set"][side]["amount"]) for a in li["discount_allocations"]), D(0))
        line_tax = sum((dec(t["price_set"][side]["amount"]) for t in li["tax_lines"]), D(0))
        [at] = [k for k, (_, nl) in enumerate(posted) if nl.get("custcol_shopify_line_id") == str(li["id"])]
        product, (discount_sku, discount) = posted[at][1], posted[at + 1]
        # The product line at its full price, followed by a SHOPIFY-DISCOUNT line of minus its allocations ...
        assert discount_sku == "SHOPIFY-DISCOUNT"
        if body["taxes_included"]:  # ... both ex-tax, sharing the line's tax (Shopify's, on the net)
            assert abs(dec(product["amount"]) - (price / (1 + D(VAT[1]))).quantize(D("0.01"))) <= D("0.01")
            assert abs(dec(discount["amount"]) + (off / (1 + D(VAT[1]))).quantize(D("0.01"))) <= D("0.01")
            assert dec(product["amount"]) + dec(discount["amount"]) == price - off - line_tax
        else:
            assert (dec(product["amount"]), dec(discount["amount"])) == (price, -off)
        if tax == "suitetax":  # the tax Shopify charged, on the amount it charged it on: the line net of the discount
            reference = product["taxDetailsReference"]
            assert {dec(d["taxBasis"]) for r, d in details.items() if r == reference} == {
                dec(product["amount"]) + dec(discount["amount"])
            }
    variance = sum(amounts(shop.sim, so, "SHOPIFY-TAX-VARIANCE"), D(0))
    assert figures["taxtotal"] + variance == shopify_tax(body, side)
    if tax == "suitetax":
        assert variance == 0
    elif shape != "multi-rate":
        # One rate a line: NetSuite taxes each discount line at its product's code (the discount item is applied
        # before sales tax), so its tax is Shopify's but for per-line rounding, not the tax on the full prices.
        discount_lines = len(amounts(shop.sim, so, "SHOPIFY-DISCOUNT"))
        assert abs(variance) <= D("0.01") * discount_lines, (figures["taxtotal"], shopify_tax(body, side))


# --- GUEST_CUSTOMERS=single -----------------------------------------------------------------------------------


def guest(n: int, email: str) -> dict:
    """A guest checkout (no Shopify customer, an email): line, code and shipping discounts, taxed shipping."""
    body = order(
        n,
        [line("MD-HAT", "19.99", 2, discount="2.00"), line("MD-SOCKS", "9.99", 3)],
        taxes=[STATE, COUNTY],
        shipping=of.Shipping("Standard", "7.00", discount="2.00", taxable=True),
        discount=of.Discount("GUEST", "3.00"),
    )
    del body["customer"]
    body["email"] = body["contact_email"] = email
    return body


@pytest.mark.parametrize("tax", ["legacy", "suitetax"])
def test_single_guest_customer_is_created_once_and_its_orders_total_as_shopify(shop: Shop, tax: str):
    modes = Modes(tax=tax, guests="single")
    settings = shop.use(modes)
    base = 30 if tax == "legacy" else 40
    first, second = guest(base, "first.guest@example.com"), guest(base + 1, "second.guest@example.com")
    orders = [shop.land(first), shop.land(second)]
    for body in (first, second):
        assert_netsuite_total_is_shopifys(body, modes)
    # The one guest customer the service created (NetSuite lacked it), no personal data on it; both orders name it.
    [the_guest] = records(shop.sim, "customer")
    assert the_guest["externalId"] == settings.netsuite_default_customer_external_id
    assert "email" not in the_guest and (the_guest["firstName"], the_guest["lastName"]) == ("Shopify", "Guest")
    assert [so["entity"] for so in orders] == [{"externalId": the_guest["externalId"]}] * 2


# --- ORDER_CURRENCY: a EUR buyer on a USD shop, its refund and the orders check ------------------------------


def eur_order(n: int) -> dict:
    return order(
        n,
        [line("MD-SHIRT", "26.00", 2, discount="2.00"), line("MD-MUG", "11.50", 1), line("MD-HAT", "19.99", 3)],
        taxes=[STATE],
        shipping=of.Shipping("Express", "9.00", taxable=True),
        discount=of.Discount("EURO", "4.00"),
        **euro(),
    )


@pytest.mark.parametrize("tax", ["legacy", "suitetax"])
@pytest.mark.parametrize("currency", ["shop", "presentment"])
def test_a_eur_order_its_partial_refund_and_the_orders_check_in_either_order_currency(
    shop: Shop, currency: str, tax: str
):
    modes = Modes(tax=tax, currency=currency)
    shop.use(modes)
    body = eur_order(50 + 2 * (currency == "shop") + (tax == "suitetax"))
    so = shop.land(body)
    figures = assert_netsuite_total_is_shopifys(body, modes)
    if currency == "shop":  # booked in the shop's money: USD, at rate 1
        assert (figures["currency"], figures["exchangerate"]) == (D(1), D(1))
    else:  # booked in EUR at Shopify's rate for the order
        shop_total, eur_total = (
            dec(body["total_price_set"][side]["amount"]) for side in ("shop_money", "presentment_money")
        )
        assert figures["currency"] == D(4) and dec(so["exchangeRate"]) == (shop_total / eur_total).quantize(D("1e-10"))

    hat = body["line_items"][2]
    refund = shop.refund(body, {hat["id"]: 2}, refund_id=body["id"] + 7)
    # The credit memo is in the sales order's currency, for what the buyer got back in that currency: the refund's
    # transactions are in EUR (what the buyer paid in); in USD they are worth the refund's own shop money.
    memo = netsuite_figures(f"shopify-refund-{refund['id']}")
    assert memo["currency"] == figures["currency"]
    returned = {
        side: sum(
            (
                dec(rl[f][side]["amount"])
                for rl in refund["refund_line_items"]
                for f in ("subtotal_set", "total_tax_set")
            ),
            D(0),
        )
        for side in ("shop_money", "presentment_money")
    }
    assert dec(refund["transactions"][0]["amount"]) == returned["presentment_money"]
    # (The EUR transaction at the refund's own rate may land a cent from the sum of its shop amounts.)
    assert abs(memo["foreigntotal"] - returned[modes.side]) <= D("0.01"), (memo, returned)

    # Shopify follows a refund with orders/updated, its current total after the refund: the sales order keeps the
    # refunded units (the credit memo credits them), so NetSuite's total stays Shopify's before refunds.
    after = requests.get(f"{shop.shopify}/_sim/orders/{body['id']}", timeout=5).json()
    shop.deliver("orders/updated", after)
    before_refunds = dec(after["current_total_price_set"][modes.side]["amount"]) + returned[modes.side]
    assert netsuite_figures(f"shopify-order-{body['id']}")["foreigntotal"] == before_refunds
    assert money_mismatch(body["id"]) is None
    if currency == "presentment":
        assert before_refunds == shopify_total(body, modes.side)
    else:  # Shopify converts each shop amount on its own: its figures after the refund may move by a cent
        assert abs(before_refunds - shopify_total(body, modes.side)) <= D("0.01")
    # The nightly check reads the order back from Shopify (refund included) and agrees with NetSuite's figures.
    report = shop.check()
    assert (report.orders_checked, report.missing) == (1, [])
    assert report.total_mismatches == [], json.dumps(report.total_mismatches, indent=1)


# --- an edit of a EUR order -------------------------------------------------------------------------------------

EDIT_LINES = [line("MD-SHIRT", "26.00", 3), line("MD-MUG", "11.50", 1), line("MD-HAT", "19.99", 1)]


def edited_in_shopify(body: dict, n: int) -> dict:
    """The order after an edit took a shirt off and removed the hat: each line keeps its `quantity` and gets its
    `current_quantity`; the current totals are Shopify's for what is left (the same order built with two shirts
    and the mug: each amount in EUR, each converted to USD on its own)."""
    kept = [replace(EDIT_LINES[0], quantity=2), EDIT_LINES[1]]
    now = order(n, kept, taxes=[STATE], shipping=of.Shipping("Express", "9.00", taxable=True), **euro())
    after = json.loads(json.dumps(body))
    for item, left in zip(after["line_items"], (2, 1, 0), strict=True):
        item["current_quantity"] = left
    for field in ("current_total_price", "current_subtotal_price", "current_total_tax", "current_total_discounts"):
        after[field], after[f"{field}_set"] = now[field], now[f"{field}_set"]
    after["updated_at"] = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat()
    return after


@pytest.mark.parametrize("currency", ["shop", "presentment"])
def test_an_edit_of_a_eur_order_removing_a_line_and_reducing_another(shop: Shop, currency: str):
    modes = Modes(currency=currency)
    shop.use(modes)
    n = 60 + (currency == "shop")
    body = order(n, EDIT_LINES, taxes=[STATE], shipping=of.Shipping("Express", "9.00", taxable=True), **euro())
    shop.land(body)
    assert_netsuite_total_is_shopifys(body, modes)
    shirt, _, hat = (li["id"] for li in body["line_items"])
    after = edited_in_shopify(body, n)
    requests.post(f"{shop.shopify}/_sim/orders", json=after, timeout=5).raise_for_status()
    edit = {
        "order_edit": {
            "id": n,
            "order_id": body["id"],
            "committed_at": after["updated_at"],
            "line_items": {"additions": [], "removals": [{"id": shirt, "delta": 1}, {"id": hat, "delta": 1}]},
        }
    }
    assert shop.deliver("orders/edited", edit) == f"edit {n}: synced order {body['id']}"
    so = sales_order(shop.sim, body["id"])
    products = {sku: li["quantity"] for sku, li in skus_of(shop.sim, so) if not sku.startswith("SHOPIFY-")}
    assert products == {"MD-SHIRT": 2, "MD-MUG": 1}
    assert shopify_total(after, modes.side) < shopify_total(body, modes.side)
    assert_netsuite_total_is_shopifys(after, modes)  # Shopify's current total after the edit
    report = shop.check()
    assert (report.missing, report.total_mismatches) == ([], [])


# --- duties, additional fees and tips ---------------------------------------------------------------------------

EXTRAS = {
    "usd": {},
    "eur": euro(),
}


@pytest.mark.parametrize("tax", ["legacy", "suitetax"])
@pytest.mark.parametrize("money_shape", list(EXTRAS))
def test_duties_additional_fees_and_a_tip_post_untaxed_on_their_own_items(shop: Shop, tax: str, money_shape: str):
    modes = Modes(tax=tax)
    shop.use(modes)
    n = 80 + 2 * list(EXTRAS).index(money_shape) + (tax == "suitetax")
    body = order(
        n,
        [line("MD-SHIRT", "28.00", 2, duty="4.35"), line("MD-MUG", "12.50", 1, duty="1.10", discount="1.00")],
        taxes=[STATE],
        shipping=of.Shipping("International", "18.00", taxable=True),
        discount=of.Discount("WELCOME", "5.00"),
        tip="3.00",
        fees="1.50",
        **EXTRAS[money_shape],
    )
    assert dec(body["current_total_duties_set"]["presentment_money"]["amount"]) == D("5.45")
    so = shop.land(body)
    figures = assert_netsuite_total_is_shopifys(body, modes)
    assert amounts(shop.sim, so, "SHOPIFY-ROUNDING") == []
    posted = dict(skus_of(shop.sim, so))
    side = modes.side
    assert dec(posted["SHOPIFY-DUTY"]["amount"]) == dec(body["current_total_duties_set"][side]["amount"])
    assert dec(posted["SHOPIFY-FEE"]["amount"]) == dec(body["current_total_additional_fees_set"][side]["amount"])
    assert dec(posted["SHOPIFY-TIP"]["amount"]) == D("3.00")  # the buyer's tip, from its shop-money field
    for sku in ("SHOPIFY-DUTY", "SHOPIFY-FEE", "SHOPIFY-TIP"):
        assert not posted[sku].get("taxCode") and not posted[sku].get("taxDetailsReference"), sku
        assert dec(posted[sku].get("tax1Amt") or posted[sku].get("taxAmount") or 0) == 0
    variance = sum(amounts(shop.sim, so, "SHOPIFY-TAX-VARIANCE"), D(0))
    assert figures["taxtotal"] + variance == shopify_tax(body, side)
