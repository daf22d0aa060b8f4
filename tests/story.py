"""The split-shipment story as Shopify would send it: three items ordered, two shipped from one warehouse and one
from another, the first shipment returned (refunded, restocked), the second kept."""

from __future__ import annotations

import copy
from decimal import Decimal

from simulators.shopify import order_factory as of

ORDER_ID = 7_100_000_000_000_001
CUSTOMER_ID = 7_200_000_000_000_001
LINE_A, LINE_B, LINE_C = 7_300_000_000_000_001, 7_300_000_000_000_002, 7_300_000_000_000_003
F1_ID, F2_ID, R1_ID = 7_400_000_000_000_001, 7_400_000_000_000_002, 7_500_000_000_000_001
WAREHOUSE_EAST, WAREHOUSE_WEST = 1001, 1002

STORY_CUSTOMER = of.Customer(
    id=CUSTOMER_ID,
    first_name="Ada",
    last_name="Story",
    email="ada.story@example.com",
    address=of.Address("Ada", "Story", "1 Main St", "Portland", "OR", "97205"),
)

# 100.00 of goods at 8% tax (4.00 + 2.40 + 1.60 = 8.00), free shipping: 108.00.
ORDER = of.build_order(
    order_id=ORDER_ID,
    number=7001,
    customer=STORY_CUSTOMER,
    lines=[
        of.Line("SKU-A", "Item A", "50.00", 1, variant_id=1, product_id=1, id=LINE_A),
        of.Line("SKU-B", "Item B", "30.00", 1, variant_id=2, product_id=2, id=LINE_B),
        of.Line("SKU-C", "Item C", "20.00", 1, variant_id=3, product_id=3, id=LINE_C),
    ],
    created_at="2026-11-20T10:00:00-05:00",
    tax_rate="0.08",
    tax_title="Sales tax",
    shipping=of.Shipping("Free", "0.00"),
    compact=True,  # tests edit it by hand and count its fields as drift: the baseline's fields only
)

F1 = of.build_fulfillment(
    ORDER,
    fulfillment_id=F1_ID,
    lines={LINE_A: 1, LINE_B: 1},
    location_id=WAREHOUSE_EAST,
    created_at="2026-11-21T09:00:00-05:00",
    tracking_company="UPS",
    tracking_number="1ZEAST",
)
F2 = of.build_fulfillment(
    ORDER,
    fulfillment_id=F2_ID,
    lines={LINE_C: 1},
    location_id=WAREHOUSE_WEST,
    created_at="2026-11-21T11:00:00-05:00",
    tracking_company="USPS",
    tracking_number="9400WEST",
)
# The first shipment comes back: 50.00 + 4.00 tax and 30.00 + 2.40 tax.
R1 = of.build_refund(
    ORDER,
    refund_id=R1_ID,
    lines={LINE_A: 1, LINE_B: 1},
    location_id=WAREHOUSE_EAST,
    created_at="2026-11-25T12:00:00-05:00",
    transaction_id=7_600_000_000_000_001,
    note="first shipment returned",
)
REFUNDED = "86.40"

EVENTS = {
    "create": ("orders/create", ORDER),
    "F1": ("fulfillments/create", F1),
    "F2": ("fulfillments/create", F2),
    "R1": ("refunds/create", R1),
}
SEQUENCES = {
    "natural": ["create", "F1", "F2", "R1"],
    "reversed": ["R1", "F2", "F1", "create"],
    "refund-first": ["R1", "create", "F1", "F2"],
    "each-duplicated": ["create", "create", "F1", "F1", "F2", "F2", "R1", "R1"],
}


def order_as_shopify_has_it_now() -> dict:
    """What the Admin API returns after all of it happened: the order with its fulfillments and refund."""
    order = copy.deepcopy(ORDER)
    order["updated_at"] = "2026-11-25T12:00:00-05:00"
    order["financial_status"] = "partially_refunded"
    order["fulfillment_status"] = "fulfilled"
    order["fulfillments"] = [copy.deepcopy(F1), copy.deepcopy(F2)]
    order["refunds"] = [copy.deepcopy(R1)]
    # Shopify's current figures leave the refunded first shipment out (80.00 + 6.40 tax): the Admin API reports
    # them for every order, and the sales order's total adds the refunded lines back to them.
    order.update(current_subtotal_price="20.00", current_total_tax="1.60", current_total_price="21.60")
    return order


def _records(sim: str, record_type: str) -> list[dict]:
    import requests

    return requests.get(f"{sim}/_sim/records/{record_type}", timeout=10).json()


def lines_by_sku(sim: str, record: dict, *, products_only: bool = True) -> dict[str, dict]:
    """The record's lines by item SKU; by default only the product lines (not the SHOPIFY-* service lines the money
    mapping adds: with no tax code configured, the story's 8.00 tax is a SHOPIFY-TAX-VARIANCE line)."""
    import requests

    items = {str(i["id"]): i["itemid"] for i in requests.get(f"{sim}/_sim/items", timeout=10).json()}
    lines = {items[str(line["item"]["id"])]: line for line in record["item"]["items"]}
    return {sku: line for sku, line in lines.items() if not (products_only and sku.startswith("SHOPIFY-"))}


def assert_story_in_netsuite(sim: str) -> None:
    """Exactly one sales order, two item fulfillments with the right lines and locations, one credit for the
    returned shipment and one customer refund, both equal to what Shopify refunded."""

    [so] = _records(sim, "salesOrder")
    assert so["externalId"] == f"shopify-order-{ORDER_ID}"
    assert sorted(lines_by_sku(sim, so)) == ["SKU-A", "SKU-B", "SKU-C"]
    assert sorted(lines_by_sku(sim, so, products_only=False)) == ["SHOPIFY-TAX-VARIANCE", "SKU-A", "SKU-B", "SKU-C"]
    fulfillments = {f["externalId"]: f for f in _records(sim, "itemFulfillment")}
    assert sorted(fulfillments) == [f"shopify-fulfillment-{F1_ID}", f"shopify-fulfillment-{F2_ID}"]

    def shipped(external_id: str) -> dict[str, tuple[int, str]]:
        lines = lines_by_sku(sim, fulfillments[external_id], products_only=False)  # no service line is shipped
        return {sku: (line["quantity"], str(line["location"]["id"])) for sku, line in lines.items()}

    assert shipped(f"shopify-fulfillment-{F1_ID}") == {"SKU-A": (1, "1"), "SKU-B": (1, "1")}
    assert shipped(f"shopify-fulfillment-{F2_ID}") == {"SKU-C": (1, "2")}
    [credit] = _records(sim, "creditMemo")
    assert credit["externalId"] == f"shopify-refund-{R1_ID}"
    assert sum(Decimal(str(line["amount"])) for line in credit["item"]["items"]) == Decimal(REFUNDED)
    [payment] = _records(sim, "customerRefund")
    assert Decimal(str(payment["total"])) == Decimal(REFUNDED)
