"""The NetSuite simulator computes totals the way NetSuite does (simulators/netsuite/totals.py): line amounts,
discounts, shipping, tax per account mode, currencies, and SuiteQL's view of them. Over real HTTP, signed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from tests.integration import test_netsuite_simulator as base
from tests.integration.test_netsuite_simulator import Sim, error_code, make_customer, order_body

# The simulator module's own fixtures: one server for the module, reset before each test.
server = base.server

ORACLE_LEGACY_TAX = "REST web services do not support legacy tax features."


@pytest.fixture
def sim(server: str) -> Sim:
    return base.fresh_sim(server, tax_mode="legacy")


def seed(sim: Sim, *entries: dict[str, Any]) -> dict[str, str]:
    """Items by itemid -> internal id."""
    return {entry["itemid"]: entry["id"] for entry in sim.control("POST", "items", list(entries))}


def put_order(sim: Sim, eid: str, lines: list[dict[str, Any]], **header: Any) -> requests.Response:
    return sim.http.put(
        sim.url(f"record/v1/salesOrder/eid:{eid}"), json={**order_body("shopify-customer-1", lines), **header}
    )


def get_order(sim: Sim, eid: str) -> dict[str, Any]:
    response = sim.http.get(sim.url(f"record/v1/salesOrder/eid:{eid}"), params={"expandSubResources": "true"})
    assert response.status_code == 200, response.text
    return response.json()


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def totals(record: dict[str, Any]) -> tuple[Decimal, ...]:
    return tuple(money(record[k]) for k in ("subtotal", "discountTotal", "taxTotal", "total"))


def rows(sim: Sim, query: str, **params: Any) -> list[dict[str, Any]]:
    response = sim.suiteql(query, **params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_item_types_show_in_suiteql_and_only_inventory_items_carry_inventory(sim: Sim) -> None:
    ids = seed(
        sim,
        {"itemid": "SKU-A"},
        {"itemid": "KIT-1", "type": "kitItem"},
        {"itemid": "NONINV", "type": "nonInventorySaleItem"},
        {"itemid": "SHIP", "type": "OthCharge"},
        {"itemid": "SETUP", "type": "serviceSaleItem"},
        {"itemid": "DISC", "type": "discountItem", "rate": "-10%"},
        {"itemid": "GIFT", "type": "giftCertificateItem", "istaxable": False},
    )
    found = rows(sim, "SELECT itemid, itemtype FROM item ORDER BY id")
    assert [(r["itemid"], r["itemtype"]) for r in found] == [
        ("SKU-A", "InvtPart"),
        ("KIT-1", "Kit"),
        ("NONINV", "NonInvtPart"),
        ("SHIP", "OthCharge"),
        ("SETUP", "Service"),
        ("DISC", "Discount"),
        ("GIFT", "GiftCert"),
    ]
    stocked = rows(sim, "SELECT DISTINCT item FROM InventoryItemLocations ORDER BY item")
    assert [r["item"] for r in stocked] == [ids["SKU-A"]]
    refused = requests.post(f"{sim.root}/_sim/inventory", json=[{"item": "KIT-1", "location": 1}], timeout=5)
    assert refused.status_code == 400 and "carries no inventory" in refused.json()["error"]
    refused = requests.post(
        f"{sim.root}/_sim/items", json=[{"itemid": "K2", "type": "Kit", "quantityonhand": 3}], timeout=5
    )
    assert refused.status_code == 400
    # A line names an item of any type by id or external id; a record type GET works per type.
    assert sim.http.get(sim.url(f"record/v1/kitItem/{ids['KIT-1']}")).json()["itemId"] == "KIT-1"
    listed = {i["itemid"]: (i["type"], i["itemtype"]) for i in sim.control("GET", "items")}
    assert listed["GIFT"] == ("giftCertificateItem", "GiftCert")


def test_tax_codes_and_currencies_are_seeded(sim: Sim) -> None:
    codes = sim.control("POST", "taxcodes", [{"itemid": "CA-SF", "rate": 8.625}, {"itemid": "EXEMPT", "rate": 0}])
    assert [(c["itemid"], c["rate"], c["type"]) for c in codes] == [
        ("CA-SF", 8.625, "salesTaxItem"),
        ("EXEMPT", 0, "salesTaxItem"),
    ]
    assert [(r["itemid"], r["rate"]) for r in rows(sim, "SELECT itemid, rate FROM salestaxitem ORDER BY id")] == [
        ("CA-SF", "8.625"),
        ("EXEMPT", "0"),
    ]
    assert rows(sim, "SELECT id FROM item WHERE itemid = 'CA-SF'") == []  # a tax code is not a sale item
    missing_rate = requests.post(f"{sim.root}/_sim/taxcodes", json=[{"itemid": "NO-RATE"}], timeout=5)
    assert missing_rate.status_code == 400
    currencies = rows(sim, "SELECT id, symbol, isbasecurrency FROM currency ORDER BY id")
    assert [(c["id"], c["symbol"], c["isbasecurrency"]) for c in currencies] == [
        ("1", "USD", "T"),
        ("2", "GBP", "F"),
        ("3", "CAD", "F"),
        ("4", "EUR", "F"),
    ]
    added = sim.control("POST", "currencies", [{"symbol": "jpy", "exchangerate": 0.0067}])
    assert added[-1] == {"id": "5", "symbol": "JPY", "name": "JPY", "exchangerate": 0.0067, "isbasecurrency": False}
    sim.control("POST", "reset", {"items": True})
    assert [c["symbol"] for c in sim.control("GET", "currencies")] == ["USD", "GBP", "CAD", "EUR", "JPY"]


def test_line_amounts_round_half_up_and_shipping_and_handling_add(sim: Sim) -> None:
    ids = seed(sim, {"itemid": "A"}, {"itemid": "B"}, {"itemid": "KIT", "type": "kitItem", "rate": 12.5})
    lines = [
        {"item": {"id": ids["A"]}, "quantity": 3, "rate": 2.335},  # 7.005 -> 7.01
        {"item": {"id": ids["B"]}, "quantity": 5, "rate": 3, "amount": 10},  # the amount wins
        {"item": {"externalId": None, "id": ids["KIT"]}, "quantity": 2},  # the item's own rate
    ]
    response = put_order(sim, "o-1", lines, shippingCost=5.5, handlingCost=1.25)
    assert response.status_code == 204, response.text
    order = get_order(sim, "o-1")
    assert [money(line["amount"]) for line in order["item"]["items"]] == [Decimal("7.01"), Decimal(10), Decimal(25)]
    assert totals(order) == (Decimal("42.01"), Decimal(0), Decimal(0), Decimal("48.76"))
    assert order["currency"] == {"id": "1"} and order["exchangeRate"] == 1
    assert [line["itemType"]["id"] for line in order["item"]["items"]] == ["InvtPart", "InvtPart", "Kit"]


def test_discount_lines_and_the_header_discount_reduce_the_total(sim: Sim) -> None:
    ids = seed(sim, {"itemid": "A"}, {"itemid": "B"}, {"itemid": "DISC", "type": "discountItem"})
    lines = [
        {"item": {"id": ids["A"]}, "quantity": 1, "rate": 100},
        {"item": {"id": ids["DISC"]}, "rate": "-10%"},  # 10 % of the line before it
        {"item": {"id": ids["B"]}, "quantity": 2, "rate": 25},
        {"item": {"id": ids["DISC"]}, "amount": -5},
    ]
    header = {"discountItem": {"id": ids["DISC"]}, "discountRate": "-10%"}  # of the lines' net, 135
    assert put_order(sim, "o-1", lines, **header).status_code == 204
    order = get_order(sim, "o-1")
    assert [money(line["amount"]) for line in order["item"]["items"]] == [
        Decimal(100),
        Decimal(-10),
        Decimal(50),
        Decimal(-5),
    ]
    assert totals(order) == (Decimal(150), Decimal("-28.5"), Decimal(0), Decimal("121.5"))
    assert put_order(sim, "o-2", lines[:1], discountItem={"id": ids["DISC"]}, discountRate=-7.005).status_code == 204
    assert totals(get_order(sim, "o-2")) == (Decimal(100), Decimal("-7.01"), Decimal(0), Decimal("92.99"))

    refused = put_order(sim, "o-3", [{"item": {"id": ids["A"]}, "rate": "-10%"}])
    assert refused.status_code == 400 and error_code(refused) == "USER_ERROR"
    refused = put_order(sim, "o-3", [{"item": {"id": ids["DISC"]}, "rate": "-10%"}])
    assert refused.status_code == 400 and "must follow" in refused.json()["o:errorDetails"][0]["detail"]
    refused = put_order(sim, "o-3", lines[:1], discountRate=-5)
    assert refused.status_code == 400 and refused.json()["o:errorDetails"][0]["o:errorPath"] == "discountItem"
    refused = put_order(sim, "o-3", lines[:1], discountItem={"id": ids["A"]}, discountRate=-5)
    assert refused.status_code == 400 and error_code(refused) == "INVALID_KEY_OR_REF"
    assert [o["externalId"] for o in sim.sales_orders()] == ["o-1", "o-2"]


def test_legacy_tax_is_computed_per_line_from_tax_codes_with_rounding(sim: Sim) -> None:
    ids = seed(
        sim,
        {"itemid": "A"},
        {"itemid": "GIFT", "type": "giftCertificateItem", "istaxable": False},
        {"itemid": "DISC", "type": "discountItem"},
        {"itemid": "TX", "type": "salesTaxItem", "rate": 8.25},
    )
    tax = {"taxCode": {"id": ids["TX"]}}
    lines = [
        {"item": {"id": ids["A"]}, "amount": 19.99, **tax},  # 1.649175 -> 1.65
        {"item": {"id": ids["A"]}, "amount": 0.07, **tax},  # 0.005775 -> 0.01
        {"item": {"id": ids["A"]}, "amount": 10, "isTaxable": False, **tax},
        {"item": {"id": ids["GIFT"]}, "amount": 25, **tax},
        {"item": {"id": ids["DISC"]}, "amount": -2, **tax},
        {"item": {"id": ids["A"]}, "amount": 3},  # no tax code
    ]
    assert put_order(sim, "o-1", lines).status_code == 204
    order = get_order(sim, "o-1")
    # Per line: 1.65 + 0.01; rounding the sum instead (20.06 x 8.25 % = 1.65495) would give 1.65.
    assert [money(line.get("tax1Amt", 0)) for line in order["item"]["items"]] == [
        Decimal("1.65"),
        Decimal("0.01"),
        Decimal(0),
        Decimal(0),
        Decimal(0),
        Decimal(0),
    ]
    assert order["item"]["items"][0]["taxRate1"] == 8.25
    assert totals(order) == (Decimal("58.06"), Decimal(-2), Decimal("1.66"), Decimal("57.72"))
    unknown = put_order(sim, "o-2", [{"item": {"id": ids["A"]}, "amount": 1, "taxCode": {"id": ids["A"]}}])
    assert unknown.status_code == 400 and error_code(unknown) == "INVALID_KEY_OR_REF"


def test_a_discount_item_applied_before_sales_tax_lowers_the_tax_by_its_own_line(sim: Sim) -> None:
    ids = seed(
        sim,
        {"itemid": "A"},
        {"itemid": "PRE", "type": "discountItem", "ispretax": True},
        {"itemid": "POST", "type": "discountItem"},
        {"itemid": "TX", "type": "salesTaxItem", "rate": 6.25},
    )
    tax = {"taxCode": {"id": ids["TX"]}}
    lines = [
        {"item": {"id": ids["A"]}, "amount": 56, **tax},  # 3.50
        {"item": {"id": ids["PRE"]}, "amount": -4.6, **tax},  # -0.2875 -> -0.29, on its own line
        {"item": {"id": ids["A"]}, "amount": 37.5, **tax},  # 2.34375 -> 2.34
        {"item": {"id": ids["POST"]}, "amount": -2.2, **tax},  # applied after tax: no tax
        {"item": {"id": ids["PRE"]}, "amount": -1},  # no tax code: no tax
    ]
    assert put_order(sim, "o-1", lines).status_code == 204
    order = get_order(sim, "o-1")
    assert [money(line.get("tax1Amt", 0)) for line in order["item"]["items"]] == [
        Decimal("3.5"),
        Decimal("-0.29"),
        Decimal("2.34"),
        Decimal(0),
        Decimal(0),
    ]
    assert totals(order) == (Decimal("93.5"), Decimal("-7.8"), Decimal("5.55"), Decimal("91.25"))
    listed = {i["itemid"]: i.get("ispretax") for i in sim.control("GET", "items")}
    assert (listed["PRE"], listed["POST"]) == (True, None)
    refused = requests.post(f"{sim.root}/_sim/items", json=[{"itemid": "B", "ispretax": True}], timeout=5)
    assert refused.status_code == 400 and "only a discount item" in refused.json()["error"]


def test_legacy_tax_accounts_refuse_tax_details_as_oracle_says(sim: Sim) -> None:
    (item,) = sim.item_ids("A")
    line = {"item": {"id": item}, "amount": 10, "taxDetailsReference": "L1"}
    details = {"taxDetailsOverride": True, "taxDetails": {"items": [{"taxDetailsReference": "L1", "taxAmount": 1}]}}
    refused = put_order(sim, "o-1", [line], **details)
    assert refused.status_code == 400 and error_code(refused) == "USER_ERROR"
    assert refused.json()["o:errorDetails"][0]["detail"].startswith(ORACLE_LEGACY_TAX)
    assert sim.sales_orders() == []
    assert put_order(sim, "o-1", [line]).status_code == 204
    patched = sim.http.patch(sim.url("record/v1/salesOrder/eid:o-1"), json={"taxDetails": {"items": []}})
    assert patched.status_code == 400 and ORACLE_LEGACY_TAX in patched.json()["o:errorDetails"][0]["detail"]


def test_suitetax_override_sums_the_tax_details_and_the_mode_survives_reset(sim: Sim) -> None:
    ids = seed(sim, {"itemid": "A"}, {"itemid": "TX", "type": "salesTaxItem", "rate": 10})
    sim.control("POST", "config", {"tax_mode": "suitetax"})
    sim.control("POST", "reset", {})
    assert sim.control("GET", "config")["tax_mode"] == "suitetax"
    make_customer(sim)
    lines = [
        {"item": {"id": ids["A"]}, "amount": 10, "taxDetailsReference": "L1", "taxCode": {"id": ids["TX"]}},
        {"item": {"id": ids["A"]}, "amount": 5, "taxDetailsReference": "L2"},
    ]
    detail = {"taxType": {"id": "1"}, "taxCode": {"id": ids["TX"]}, "taxBasis": 10, "taxRate": 8.875}
    details = [
        {**detail, "taxDetailsReference": "L1", "taxAmount": 0.89},
        {**detail, "taxDetailsReference": "L1", "taxAmount": 0.1},
        {**detail, "taxDetailsReference": "L2", "taxAmount": 0.44},
    ]
    override = {"taxDetailsOverride": True, "taxDetails": {"items": details}}
    assert put_order(sim, "o-1", lines, **override).status_code == 204
    order = get_order(sim, "o-1")
    assert [money(line["taxAmount"]) for line in order["item"]["items"]] == [Decimal("0.99"), Decimal("0.44")]
    assert totals(order) == (Decimal(15), Decimal(0), Decimal("1.43"), Decimal("16.43"))
    # Without the override the tax comes from the tax codes, as in legacy.
    assert put_order(sim, "o-2", lines).status_code == 204
    assert totals(get_order(sim, "o-2"))[2:] == (Decimal(1), Decimal(16))
    stray = {
        "taxDetailsOverride": True,
        "taxDetails": {"items": [{**detail, "taxDetailsReference": "L9", "taxAmount": 1}]},
    }
    refused = put_order(sim, "o-3", lines, **stray)
    assert refused.status_code == 400
    assert refused.json()["o:errorDetails"][0]["o:errorPath"] == "taxDetails.items[0].taxDetailsReference"


def test_exchange_rate_is_pinned_and_suiteql_total_is_in_the_base_currency(sim: Sim) -> None:
    (item,) = sim.item_ids("A")
    lines = [{"item": {"id": item}, "quantity": 1, "rate": 99.99}]
    assert put_order(sim, "o-eur", lines, currency={"id": "4"}, exchangeRate=1.0837).status_code == 204
    assert put_order(sim, "o-gbp", lines, currency={"id": "2"}).status_code == 204  # the currency's own rate
    changed = sim.http.patch(
        sim.url("record/v1/salesOrder/eid:o-eur"), json={"exchangeRate": 2, "currency": {"id": "1"}}
    )
    assert changed.status_code == 204  # ignored, not refused (UNCONFIRMED choice)
    order = get_order(sim, "o-eur")
    assert (order["currency"], order["exchangeRate"], order["total"]) == ({"id": "4"}, 1.0837, 99.99)
    found = rows(
        sim,
        "SELECT externalid, currency, exchangerate, foreigntotal, total FROM transaction "
        "WHERE recordtype = 'salesorder' ORDER BY externalid",
    )
    assert [(r["externalid"], r["currency"], r["exchangerate"], r["foreigntotal"], r["total"]) for r in found] == [
        ("o-eur", "4", "1.0837", "99.99", "108.36"),  # 108.359163
        ("o-gbp", "2", "1.27", "99.99", "126.99"),  # 126.9873
    ]
    unknown = put_order(sim, "o-x", lines, currency={"id": "99"})
    assert unknown.status_code == 400 and error_code(unknown) == "INVALID_KEY_OR_REF"
    bad_rate = put_order(sim, "o-x", lines, currency={"id": "4"}, exchangeRate=0)
    assert bad_rate.status_code == 400


def test_totals_sent_by_a_client_are_ignored(sim: Sim) -> None:
    (item,) = sim.item_ids("A")
    sent = {"total": 1, "subtotal": 1, "taxTotal": 5, "discountTotal": -3}
    assert put_order(sim, "o-1", [{"item": {"id": item}, "quantity": 2, "rate": 4}], **sent).status_code == 204
    assert totals(get_order(sim, "o-1")) == (Decimal(8), Decimal(0), Decimal(0), Decimal(8))
    assert sim.http.patch(sim.url("record/v1/salesOrder/eid:o-1"), json={"total": 1000}).status_code == 204
    assert get_order(sim, "o-1")["total"] == 8
    assert rows(sim, "SELECT foreigntotal FROM transaction")[0]["foreigntotal"] == "8"


def test_closed_lines_still_count_and_a_new_quantity_recomputes_the_amount(sim: Sim) -> None:
    (item,) = sim.item_ids("A")
    lines = [{"item": {"id": item}, "quantity": 2, "rate": 4}, {"item": {"id": item}, "amount": 9, "quantity": 3}]
    assert put_order(sim, "o-1", lines).status_code == 204
    url = sim.url("record/v1/salesOrder/eid:o-1")
    assert sim.http.patch(url, json={"item": {"items": [{"line": 1, "isClosed": True}]}}).status_code == 204
    assert get_order(sim, "o-1")["total"] == 17  # UNCONFIRMED assumption: closing does not lower the total
    closed = rows(sim, "SELECT id, isclosed FROM transactionline WHERE mainline = 'F' ORDER BY id")
    assert [(r["id"], r["isclosed"]) for r in closed] == [("1", "T"), ("2", "F")]
    assert (
        sim.http.patch(
            url, json={"item": {"items": [{"line": 1, "quantity": 5}, {"line": 2, "quantity": 1}]}}
        ).status_code
        == 204
    )
    order = get_order(sim, "o-1")
    assert [money(line["amount"]) for line in order["item"]["items"]] == [Decimal(20), Decimal(3)]
    assert order["total"] == 23


def test_suiteql_reads_totals_and_lines_of_several_orders_in_one_page(sim: Sim) -> None:
    ids = seed(
        sim,
        {"itemid": "A"},
        {"itemid": "DISC", "type": "discountItem"},
        {"itemid": "TX", "type": "salesTaxItem", "rate": 5},
    )
    for n in range(1, 4):
        lines = [
            {
                "item": {"id": ids["A"]},
                "quantity": n,
                "rate": 10,
                "custcol_shopify_line_id": f"{n}01",
                "taxCode": {"id": ids["TX"]},
            },
            {"item": {"id": ids["DISC"]}, "amount": -1},
        ]
        assert put_order(sim, f"o-{n}", lines, shippingCost=2).status_code == 204
    query = (
        "SELECT t.externalid, t.foreigntotal, t.taxtotal, t.discounttotal, tl.linesequencenumber, tl.item, "
        "tl.itemtype, tl.quantity, tl.foreignamount, tl.custcol_shopify_line_id FROM transaction t "
        "JOIN transactionline tl ON tl.transaction = t.id WHERE t.recordtype = 'salesorder' AND tl.mainline = 'F' "
        "AND tl.taxline = 'F' ORDER BY t.id, tl.linesequencenumber"
    )
    page = sim.suiteql(query, limit=1000, offset=0).json()
    assert (page["count"], page["hasMore"]) == (6, False)
    got = [
        (
            r["externalid"],
            r["foreigntotal"],
            r["taxtotal"],
            r["linesequencenumber"],
            r["itemtype"],
            r.get("quantity"),
            r["foreignamount"],
            r.get("custcol_shopify_line_id"),
        )
        for r in page["items"]
    ]
    assert got == [
        ("o-1", "11.5", "0.5", "1", "InvtPart", "-1", "-10", "101"),
        ("o-1", "11.5", "0.5", "2", "Discount", None, "1", None),
        ("o-2", "22", "1", "1", "InvtPart", "-2", "-20", "201"),
        ("o-2", "22", "1", "2", "Discount", None, "1", None),
        ("o-3", "32.5", "1.5", "1", "InvtPart", "-3", "-30", "301"),
        ("o-3", "32.5", "1.5", "2", "Discount", None, "1", None),
    ]
    mains = rows(
        sim, "SELECT transaction, foreignamount FROM transactionline WHERE mainline = 'T' ORDER BY transaction"
    )
    assert [r["foreignamount"] for r in mains] == ["11.5", "22", "32.5"]
    taxes = rows(sim, "SELECT item, foreignamount FROM transactionline WHERE taxline = 'T' ORDER BY transaction")
    assert [(r["item"], r["foreignamount"]) for r in taxes] == [
        (ids["TX"], "-0.5"),
        (ids["TX"], "-1"),
        (ids["TX"], "-1.5"),
    ]


def test_customer_subsidiary_is_in_suiteql(sim: Sim) -> None:
    body = {"email": "b@example.com", "subsidiary": {"id": "3"}}
    assert sim.http.put(sim.url("record/v1/customer/eid:c-2"), json=body).status_code == 204
    found = rows(sim, "SELECT externalid, subsidiary FROM customer WHERE email = 'b@example.com'")
    assert found == [{"links": [], "externalid": "c-2", "subsidiary": "3"}]


def test_fulfillments_ship_only_fulfillable_lines_and_transforms_keep_the_currency(sim: Sim) -> None:
    ids = seed(
        sim,
        {"itemid": "A"},
        {"itemid": "SHIP", "type": "otherChargeSaleItem"},
        {"itemid": "DISC", "type": "discountItem"},
    )
    lines = [
        {"item": {"id": ids["A"]}, "quantity": 2, "rate": 10},
        {"item": {"id": ids["SHIP"]}, "amount": 4.99},
        {"item": {"id": ids["DISC"]}, "amount": -1},
    ]
    assert put_order(sim, "o-1", lines, currency={"id": "3"}, exchangeRate=0.7321).status_code == 204
    order_id = sim.sales_orders()[0]["id"]
    fulfilled = sim.http.post(sim.url(f"record/v1/salesOrder/{order_id}/!transform/itemFulfillment"), json={})
    assert fulfilled.status_code == 204
    (fulfillment,) = sim.control("GET", "records/itemFulfillment")
    assert [line["orderLine"] for line in fulfillment["item"]["items"]] == [1]
    sold = sim.http.post(sim.url(f"record/v1/salesOrder/{order_id}/!transform/cashSale"), json={})
    assert sold.status_code == 204
    (sale,) = sim.control("GET", "records/cashSale")
    assert (sale["currency"], sale["exchangeRate"], sale["total"]) == ({"id": "3"}, 0.7321, 23.99)


def test_customer_refund_total_is_the_sum_applied(sim: Sim) -> None:
    ids = seed(sim, {"itemid": "A"})
    memo = {**order_body("shopify-customer-1", [{"item": {"id": ids["A"]}, "amount": 30}])}
    created = sim.http.put(sim.url("record/v1/creditMemo/eid:cm-1"), json=memo)
    credit_memo = created.headers["Location"].rsplit("/", 1)[1]
    body = {
        "customer": {"externalId": "shopify-customer-1"},
        "total": 1,
        "apply": {
            "items": [
                {"doc": {"id": credit_memo}, "apply": True, "amount": 20.5},
                # A line not applied is not checked or counted.
                {"doc": {"id": "99999"}, "apply": False, "amount": 7},
            ]
        },
    }
    assert sim.http.put(sim.url("record/v1/customerRefund/eid:r-1"), json=body).status_code == 204
    (refund,) = sim.control("GET", "records/customerRefund")
    assert refund["total"] == 20.5
