"""Issue 11's proof through the real processes: realistic Shopify orders (the order factory), signed and sent as
webhooks to gunicorn, applied by the celery orders worker against both simulators, each land once with
NetSuite's own total (the NetSuite simulator computes it from the lines, the tax codes and the tax mode, as
NetSuite does) equal to Shopify's to the cent, and no dead letter for a valid order.

Cost: one setup for the module (no reset between cases: each case reads its own records by order id), the
orders worker restarted with the mapping's settings (TAX_CODE_MAP with the seeded codes' ids, BUNDLE_MAP, the EUR
currency), once more for SuiteTax (NETSUITE_TAX_MODE=suitetax) and once to give the session its worker back."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.adapters.netsuite import netsuite_auth
from app.config import get_settings
from app.db.models import DeadLetter, OrderState, WebhookEvent
from app.db.session import session_scope
from app.domain.customers import guest_external_id
from netsuite_client.client import NetSuiteClient
from simulators.shopify import order_factory as of
from simulators.shopify.webhooks import deliver_webhook
from tests.conftest import FIXTURE_SKUS, SECRET, SERVICE_ITEMS, SHOP
from tests.e2e.conftest import E2E, wait_until, workers_answering

WHEN = "2026-11-20T10:00:00-05:00"
PRODUCTS = [("RO-SHIRT", "Shirt"), ("RO-MUG", "Mug"), ("RO-HAT", "Hat"), ("RO-SOCKS", "Socks")]
BUNDLE_MAP = "RO-BUNDLE=RO-MUG:2+RO-HAT:1"  # the bundle SKU itself is not a NetSuite item
# Shopify tax line title -> the NetSuite tax code (a salesTaxItem with the same rate, in percent) seeded for it.
TAX_CODES = {"CA State Tax": ("CA-STATE", "6.25"), "LA County Tax": ("LA-COUNTY", "1"), "VAT": ("VAT-20", "20")}
STATE, COUNTY, VAT = ("CA State Tax", "0.0625"), ("LA County Tax", "0.01"), ("VAT", "0.20")
EXISTING_EMAIL = "pat.known@example.com"


@dataclass
class Real:
    e2e: E2E
    codes: dict[str, str]  # Shopify tax title -> NetSuite tax code id
    existing_customer: str
    sent: int = 0
    mode: str = "legacy"
    env: dict[str, str] = field(default_factory=dict)

    def worker_env(self, mode: str) -> dict[str, str]:
        env = {
            "TAX_CODE_MAP": ",".join(f"{title}={code}" for title, code in self.codes.items()),
            "BUNDLE_MAP": BUNDLE_MAP,
            "NETSUITE_CURRENCY_MAP": "USD=1,EUR=4",
        }
        if mode == "suitetax":
            env |= {"NETSUITE_TAX_MODE": "suitetax", "NETSUITE_DEFAULT_TAX_CODE_ID": self.codes["CA State Tax"]}
        return env

    def use(self, mode: str) -> None:
        """The orders worker (and the NetSuite simulator) in this tax mode."""
        if self.mode == mode and self.env:
            return
        self.e2e.sim_config(tax_mode=mode)
        restart_orders_worker(self.e2e, self.worker_env(mode))
        self.mode, self.env = mode, self.worker_env(mode)

    def send(self, topic: str, payload: dict) -> None:
        status, _ = deliver_webhook(f"{self.e2e.web}/webhooks/shopify", topic, payload, secret=SECRET, shop=SHOP)
        assert status == 200
        self.sent += 1
        wait_until(lambda: settled(self.sent), 45, what=f"{topic} {payload.get('id', '')} processed")

    def land(self, order: dict) -> dict:
        """Shopify holds the order (as it would: edits and late documents read it back), its orders/create is
        delivered; the one sales order NetSuite holds for it."""
        requests.post(f"{self.e2e.shopify}/_sim/orders", json=order, timeout=10).raise_for_status()
        before = dead_letters()
        self.send("orders/create", order)
        assert dead_letters() == before, "a valid order was dead-lettered"
        return sales_order(self.e2e, order["id"])


def restart_orders_worker(e2e: E2E, extra_env: Mapping[str, str]) -> None:
    e2e.stack.stop("worker_orders")
    e2e.stack.start("worker_orders", extra_env=extra_env)
    wait_until(
        lambda: any(n.startswith("orders@") for n in workers_answering(e2e.redis_port)),
        90,
        interval=0.5,
        what="the restarted orders worker to answer a ping",
    )


def settled(expected: int) -> bool:
    with session_scope() as s:
        statuses = list(s.scalars(select(WebhookEvent.status)))
    return len(statuses) == expected and all(st in ("done", "dead") for st in statuses)


def dead_letters() -> list[tuple[str | None, str | None, str]]:
    with session_scope() as s:
        return [(d.topic, d.error_code, d.error_message) for d in s.scalars(select(DeadLetter).order_by(DeadLetter.id))]


def sales_order(e2e: E2E, order_id: int) -> dict:
    orders = [r for r in e2e.sim_records("salesOrder") if r.get("externalId") == f"shopify-order-{order_id}"]
    assert len(orders) == 1, f"{len(orders)} sales orders for order {order_id}"
    return orders[0]


def lines(e2e: E2E, so: dict) -> list[tuple[str, dict]]:
    items = {str(i["id"]): i["itemid"] for i in requests.get(f"{e2e.sim}/_sim/items", timeout=10).json()}
    return [(items[str(line["item"]["id"])], line) for line in so["item"]["items"]]


def amounts(e2e: E2E, so: dict, sku: str) -> list[Decimal]:
    return [Decimal(str(line["amount"])) for s, line in lines(e2e, so) if s == sku]


def names(reference: dict, record: dict) -> bool:
    """A NetSuite reference ({"id"} or {"externalId"}) names this record."""
    if reference.get("id") is not None:
        return str(reference["id"]) == str(record["id"])
    return reference.get("externalId") == record.get("externalId")


def dec(value: Any) -> Decimal:
    return Decimal(str(value))


def shopify_total(order: dict) -> Decimal:
    """Shopify's total in the order's (presentment) currency."""
    return dec(order["current_total_price_set"]["presentment_money"]["amount"])


def shopify_tax(order: dict) -> Decimal:
    return dec(order["current_total_tax_set"]["presentment_money"]["amount"])


def money_mismatch(order_id: int) -> str | None:
    with session_scope() as s:
        state = s.get(OrderState, order_id)
        assert state is not None
        return state.money_mismatch


def assert_total_to_the_cent(real: Real, order: dict, so: dict) -> None:
    assert dec(so["total"]) == shopify_total(order), (so["total"], shopify_total(order))
    assert amounts(real.e2e, so, "SHOPIFY-ROUNDING") == [], "nothing left for a rounding line"
    assert money_mismatch(order["id"]) is None


def assert_legacy_tax(real: Real, order: dict, so: dict) -> None:
    """NetSuite computed its tax from the codes; the variance line carries the rest of Shopify's tax."""
    variance = sum(amounts(real.e2e, so, "SHOPIFY-TAX-VARIANCE"), Decimal(0))
    assert dec(so["taxTotal"]) + variance == shopify_tax(order)
    assert dec(so["taxTotal"]) > 0, "NetSuite computed tax from the mapped codes"


def customer(n: int, email: str | None = None) -> of.Customer:
    address = of.Address("Robin", f"Buyer{n}", f"{n} Main St", "Los Angeles", "CA", "90012")
    return of.Customer(7_700_000_000_000 + n, "Robin", f"Buyer{n}", email or f"buyer{n}@example.com", address)


def line(sku: str, price: str, quantity: int, **kw: Any) -> of.Line:
    n = sum(map(ord, sku))
    return of.Line(sku, sku.title(), price, quantity, 8_800_000_000 + n, 8_900_000_000 + n, **kw)


def order(n: int, lines_: list[of.Line], **kw: Any) -> dict:
    kw.setdefault("customer", customer(n))
    return of.build_order(order_id=6_611_000_000_000 + n, number=5000 + n, lines=lines_, created_at=WHEN, **kw)


@pytest.fixture(scope="module")
def real(e2e: E2E) -> Iterator[Real]:
    e2e.reset([{"itemid": s, "displayname": d} for s, d in FIXTURE_SKUS + PRODUCTS] + SERVICE_ITEMS)
    requests.post(
        f"{e2e.sim}/_sim/taxcodes",
        json=[{"itemid": code, "rate": rate} for code, rate in TAX_CODES.values()],
        timeout=10,
    ).raise_for_status()
    ids = {t["itemid"]: str(t["id"]) for t in requests.get(f"{e2e.sim}/_sim/taxcodes", timeout=10).json()}
    codes = {title: ids[code] for title, (code, _) in TAX_CODES.items()}
    # A customer someone else created in NetSuite (an import, the POS), with an email a Shopify buyer uses.
    netsuite = NetSuiteClient(base_url=f"{e2e.sim}/services/rest", auth=netsuite_auth(get_settings()))
    existing = netsuite.create(
        "customer", {"isPerson": True, "firstName": "Pat", "lastName": "Known", "email": EXISTING_EMAIL}
    )
    netsuite.close()
    real = Real(e2e, codes, str(existing))
    real.use("legacy")
    try:
        yield real
    finally:
        e2e.sim_config(tax_mode="legacy")
        restart_orders_worker(e2e, {})  # the session's other modules get the worker they started with


# --- legacy tax (the default): NetSuite computes tax from the codes, the variance line holds the rest ---------


def test_line_and_order_discounts_paid_discounted_taxed_shipping_multi_rate_tax_and_a_tip(real: Real):
    body = order(
        1,
        [line("RO-SHIRT", "28.00", 2, discount="3.00"), line("RO-MUG", "12.50", 3), line("RO-HAT", "19.99", 1)],
        taxes=[STATE, COUNTY],
        shipping=of.Shipping("Express", "15.00", discount="5.00", taxable=True),
        discount=of.Discount("SPRING", "10.00"),
        tip="4.00",
    )
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    assert_legacy_tax(real, body, so)
    assert amounts(real.e2e, so, "SHOPIFY-TAX-VARIANCE") != [], "the county tax has no line code: a variance"
    # Lines at Shopify's net amounts (its allocations of both discounts), no discount line, shipping net of its own.
    net = {li["sku"]: dec(li["price"]) * li["quantity"] for li in body["line_items"]}
    for li in body["line_items"]:
        net[li["sku"]] -= sum((dec(a["amount"]) for a in li["discount_allocations"]), Decimal(0))
    assert {sku: amounts(real.e2e, so, sku) for sku in net} == {sku: [amount] for sku, amount in net.items()}
    assert amounts(real.e2e, so, "SHOPIFY-DISCOUNT") == []
    assert amounts(real.e2e, so, "SHOPIFY-SHIPPING") == [Decimal("10.00")]
    assert amounts(real.e2e, so, "SHOPIFY-TIP") == [Decimal("4.00")]


def test_free_shipping_single_rate(real: Real):
    body = order(2, [line("RO-SOCKS", "9.99", 3)], taxes=[STATE], shipping=of.Shipping("Free shipping", "0.00"))
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    assert_legacy_tax(real, body, so)
    assert amounts(real.e2e, so, "SHOPIFY-SHIPPING") == []  # a free untaxed shipping line posts nothing


def test_taxes_included_prices(real: Real):
    body = order(
        3,
        [line("RO-SHIRT", "24.00", 1), line("RO-MUG", "11.99", 2, discount="2.00")],
        taxes=[VAT],
        taxes_included=True,
        shipping=of.Shipping("Standard", "6.00", taxable=True),
    )
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    assert_legacy_tax(real, body, so)


def test_a_gift_card_sold(real: Real):
    body = order(
        4,
        [
            line("RO-HAT", "19.99", 1),
            of.Line("", "Gift card", "50.00", 1, 8_800_000_004, 8_900_000_004, gift_card=True),
        ],
        taxes=[STATE],
        shipping=of.Shipping("Standard", "5.00"),
    )
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    assert amounts(real.e2e, so, "SHOPIFY-GIFT-CARD") == [Decimal("50.00")]
    [gift] = [li for sku, li in lines(real.e2e, so) if sku == "SHOPIFY-GIFT-CARD"]
    assert not gift.get("taxCode"), "a gift card is not taxed"


def test_a_gift_card_redeemed_is_a_payment_never_a_discount(real: Real):
    body = order(
        5,
        [line("RO-SHIRT", "28.00", 1), line("RO-SOCKS", "9.99", 2)],
        taxes=[STATE],
        shipping=of.Shipping("Standard", "5.00"),
        extras=of.Extras(gateway="gift_card"),
    )
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    assert amounts(real.e2e, so, "SHOPIFY-DISCOUNT") == [] and amounts(real.e2e, so, "SHOPIFY-GIFT-CARD") == []
    assert amounts(real.e2e, so, "RO-SHIRT") == [Decimal("28.00")]
    assert amounts(real.e2e, so, "RO-SOCKS") == [Decimal("19.98")]


def test_a_guest_checkout_gets_a_customer_created_by_the_service(real: Real):
    body = order(6, [line("RO-MUG", "12.50", 2)], taxes=[STATE], shipping=of.Shipping("Standard", "5.00"))
    del body["customer"]
    body["email"] = body["contact_email"] = "guest.six@example.com"
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    guests = [c for c in real.e2e.sim_records("customer") if c.get("externalId") == guest_external_id(body["email"])]
    assert len(guests) == 1
    assert names(so["entity"], guests[0])


def test_an_existing_netsuite_customer_is_matched_by_email(real: Real):
    body = order(7, [line("RO-HAT", "19.99", 2)], taxes=[STATE], customer=customer(7, EXISTING_EMAIL.upper()))
    before = len(real.e2e.sim_records("customer"))
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    assert str(so["entity"]["id"]) == real.existing_customer
    assert len(real.e2e.sim_records("customer")) == before, "no second customer created"


def test_a_bundle_posts_as_its_components(real: Real):
    body = order(8, [line("RO-BUNDLE", "45.00", 1), line("RO-SOCKS", "9.99", 1)], taxes=[STATE, COUNTY])
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    assert_legacy_tax(real, body, so)
    skus = [sku for sku, _ in lines(real.e2e, so) if not sku.startswith("SHOPIFY-")]
    assert sorted(skus) == ["RO-HAT", "RO-MUG", "RO-SOCKS"]
    quantities = {sku: li["quantity"] for sku, li in lines(real.e2e, so)}
    assert quantities["RO-MUG"] == 2 and quantities["RO-HAT"] == 1
    assert sum(amounts(real.e2e, so, "RO-MUG") + amounts(real.e2e, so, "RO-HAT"), Decimal(0)) == Decimal("45.00")


def test_an_order_in_eur_on_a_usd_shop(real: Real):
    body = order(
        9,
        [line("RO-SHIRT", "26.00", 2, discount="2.00"), line("RO-MUG", "11.50", 1)],
        taxes=[STATE],
        shipping=of.Shipping("Express", "9.00", taxable=True),
        currency="USD",
        presentment_currency="EUR",
        exchange_rate="1.0850",
    )
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)  # NetSuite's foreign total = Shopify's presentment total
    assert str(so["currency"]["id"]) == "4"
    shop, eur = (dec(body["total_price_set"][side]["amount"]) for side in ("shop_money", "presentment_money"))
    assert dec(so["exchangeRate"]) == (shop / eur).quantize(Decimal("1e-10"))
    assert shop != eur


def test_an_edit_removing_one_line_and_reducing_another(real: Real):
    body = order(
        10,
        [line("RO-SHIRT", "20.00", 3), line("RO-MUG", "12.00", 1), line("RO-HAT", "15.00", 1)],
        taxes=[STATE],
        shipping=of.Shipping("Standard", "5.00"),
    )
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    shirt, mug, hat = (li["id"] for li in body["line_items"])
    # Shopify's figures after the edit: two shirts (tax 2.50), the mug (0.75), no hat, the same shipping.
    total = Decimal("40.00") + Decimal("2.50") + Decimal("12.00") + Decimal("0.75") + Decimal("5.00")
    edit = {
        "line_items": [{"id": shirt, "quantity": 2}, {"id": hat, "quantity": 0}],
        **{f: str(total) for f in ("total_price", "current_total_price")},
        **{f: "52.00" for f in ("subtotal_price", "current_subtotal_price")},
    }
    url = f"{real.e2e.shopify}/_sim/orders/{body['id']}/edit"
    requests.post(url, json=edit, timeout=10).raise_for_status()
    before = dead_letters()
    real.send("orders/edited", edited(body["id"], {shirt: 1, hat: 1}))
    assert dead_letters() == before
    so = sales_order(real.e2e, body["id"])
    assert {sku: li["quantity"] for sku, li in lines(real.e2e, so) if not sku.startswith("SHOPIFY-")} == {
        "RO-SHIRT": 2,
        "RO-MUG": 1,
    }
    assert dec(so["total"]) == total
    assert money_mismatch(body["id"]) is None
    assert mug  # the untouched line is still there (above)


def test_an_edit_below_what_has_shipped_is_dead_lettered_with_its_reason(real: Real):
    body = order(11, [line("RO-SHIRT", "20.00", 2), line("RO-MUG", "12.00", 1)], taxes=[STATE])
    so = real.land(body)
    shirt = body["line_items"][0]["id"]
    shipped = requests.post(
        f"{real.e2e.shopify}/_sim/orders/{body['id']}/fulfillments",
        json={"line_items": [{"id": shirt, "quantity": 2}], "location_id": 1001, "status": "success"},
        timeout=10,
    )
    shipped.raise_for_status()
    real.send("fulfillments/create", shipped.json()["fulfillment"])
    fulfillment_eid = f"shopify-fulfillment-{shipped.json()['fulfillment']['id']}"
    assert [f["externalId"] for f in real.e2e.sim_records("itemFulfillment")] == [fulfillment_eid]
    # Shopify refuses to edit shipped units; what it reports here says otherwise (a payload out of order or wrong).
    claimed = copy.deepcopy(body)
    claimed["line_items"][0]["current_quantity"] = 1
    claimed["updated_at"] = "2026-11-21T09:00:00-05:00"
    requests.post(f"{real.e2e.shopify}/_sim/orders", json=claimed, timeout=10).raise_for_status()
    before = dead_letters()
    real.send("orders/edited", edited(body["id"], {shirt: 1}))
    [(topic, code, message)] = dead_letters()[len(before) :]
    assert (topic, code) == ("orders/edited", "INVALID_TRANSITION")
    assert f"takes line {shirt} (RO-SHIRT) of order {body['id']} to 1, below the 2 already shipped" in message
    so = sales_order(real.e2e, body["id"])
    quantities = {sku: li["quantity"] for sku, li in lines(real.e2e, so) if not sku.startswith("SHOPIFY-")}
    assert quantities == {"RO-SHIRT": 2, "RO-MUG": 1}


def edited(order_id: int, removals: dict[int, int]) -> dict:
    return {
        "order_edit": {
            "id": order_id % 100_000,
            "order_id": order_id,
            "committed_at": "2026-11-21T09:00:00-05:00",
            "line_items": {"additions": [], "removals": [{"id": i, "delta": d} for i, d in removals.items()]},
        }
    }


def test_a_bundle_shipped_twice_and_partly_refunded_lands_on_its_components(real: Real):
    """Two boxes (each 2 mugs + 1 hat) and socks: shipped in two fulfillments, one box returned. The fulfillments and
    refunds workers run without BUNDLE_MAP: what a bundle is comes from the sales order's own lines."""
    body = order(12, [line("RO-BUNDLE", "45.00", 2), line("RO-SOCKS", "9.99", 1)], taxes=[STATE, COUNTY])
    box, socks = (li["id"] for li in body["line_items"])
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    before = dead_letters()
    url = f"{real.e2e.shopify}/_sim/orders/{body['id']}"
    shipments = []
    for location, ships in ((1001, {box: 1, socks: 1}), (1002, {box: 1})):
        items = [{"id": i, "quantity": q} for i, q in ships.items()]
        made = requests.post(
            f"{url}/fulfillments", json={"line_items": items, "location_id": location, "status": "success"}, timeout=10
        )
        made.raise_for_status()
        shipments.append(made.json()["fulfillment"])
        real.send("fulfillments/create", shipments[-1])
        real.send("orders/updated", requests.get(url, timeout=10).json())  # as Shopify sends after each document
    returned = of.build_refund(
        body, refund_id=6_611_000_000_012_001, lines={box: 1}, location_id=1001, created_at=WHEN, transaction_id=1
    )
    requests.post(f"{url}/refunds", json=returned, timeout=10).raise_for_status()
    real.send("refunds/create", returned)
    now = requests.get(url, timeout=10).json()
    real.send("orders/updated", now)
    assert dead_letters() == before, "a bundle's documents were dead-lettered"

    so = sales_order(real.e2e, body["id"])
    bundle_lines = [(sku, li) for sku, li in lines(real.e2e, so) if sku in ("RO-MUG", "RO-HAT")]
    components = {li["custcol_shopify_line_id"]: (sku, li["line"]) for sku, li in bundle_lines}
    assert sorted(sku for sku, _ in components.values()) == ["RO-HAT", "RO-MUG"], "each component once"
    assert sorted(components) == [f"{box}:RO-HAT", f"{box}:RO-MUG"]
    numbers = {sku: number for sku, number in components.values()}
    for n, shipment in enumerate(shipments):
        [record] = [f for f in real.e2e.sim_records("itemFulfillment") if f["externalId"].endswith(str(shipment["id"]))]
        ship = {li["orderLine"]: li["quantity"] for li in record["item"]["items"]}
        assert {sku: ship.get(number) for sku, number in numbers.items()} == {"RO-MUG": 2, "RO-HAT": 1}
        assert len(ship) == (3 if n == 0 else 2), "the socks ship with the first box"
    memos = [m for m in real.e2e.sim_records("creditMemo") if m["externalId"] == f"shopify-refund-{returned['id']}"]
    [memo] = memos
    credited = {sku: li["quantity"] for sku, li in lines(real.e2e, memo) if not sku.startswith("SHOPIFY-")}
    assert credited == {"RO-MUG": 2, "RO-HAT": 1}
    assert sum(amounts(real.e2e, memo, "RO-MUG") + amounts(real.e2e, memo, "RO-HAT"), Decimal(0)) == Decimal("45.00")
    refunded = dec(returned["transactions"][0]["amount"])
    assert dec(memo["total"]) == refunded
    # NetSuite's own totals against Shopify's: the sales order is the order before refunds, the credit memo the
    # refund, what is left is Shopify's current total.
    assert dec(so["total"]) == shopify_total(body)
    assert dec(so["total"]) - dec(memo["total"]) == shopify_total(now)
    assert money_mismatch(body["id"]) is None


# --- SuiteTax: Shopify's tax posted through Tax Details Override, no variance line ------------------------------


def assert_suitetax(real: Real, order: dict, so: dict) -> None:
    assert dec(so["taxTotal"]) == shopify_tax(order)
    assert amounts(real.e2e, so, "SHOPIFY-TAX-VARIANCE") == []


def test_suitetax_discounts_shipping_and_multi_rate_tax(real: Real):
    real.use("suitetax")
    body = order(
        21,
        [line("RO-SHIRT", "28.00", 2, discount="3.00"), line("RO-MUG", "12.50", 3), line("RO-BUNDLE", "45.00", 1)],
        taxes=[STATE, COUNTY],
        shipping=of.Shipping("Express", "15.00", discount="5.00", taxable=True),
        discount=of.Discount("SPRING", "10.00"),
        tip="4.00",
    )
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    assert_suitetax(real, body, so)
    assert so.get("taxDetailsOverride") is True


def test_suitetax_taxes_included_in_eur(real: Real):
    real.use("suitetax")
    body = order(
        22,
        [line("RO-HAT", "19.99", 2, discount="1.00"), line("RO-SOCKS", "9.99", 1)],
        taxes=[VAT],
        taxes_included=True,
        shipping=of.Shipping("Standard", "6.00", taxable=True),
        currency="USD",
        presentment_currency="EUR",
        exchange_rate="1.0850",
    )
    so = real.land(body)
    assert_total_to_the_cent(real, body, so)
    assert_suitetax(real, body, so)
    assert str(so["currency"]["id"]) == "4"
