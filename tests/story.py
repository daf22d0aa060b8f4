"""The split-shipment story as Shopify would send it: three items ordered, two shipped from one warehouse and one
from another, the first shipment returned (refunded, restocked), the second kept."""

from __future__ import annotations

import copy

ORDER_ID = 7_100_000_000_000_001
CUSTOMER_ID = 7_200_000_000_000_001
LINE_A, LINE_B, LINE_C = 7_300_000_000_000_001, 7_300_000_000_000_002, 7_300_000_000_000_003
F1_ID, F2_ID, R1_ID = 7_400_000_000_000_001, 7_400_000_000_000_002, 7_500_000_000_000_001
WAREHOUSE_EAST, WAREHOUSE_WEST = 1001, 1002

ORDER = {
    "id": ORDER_ID,
    "admin_graphql_api_id": f"gid://shopify/Order/{ORDER_ID}",
    "name": "#7001",
    "order_number": 7001,
    "email": "ada.story@example.com",
    "currency": "USD",
    "financial_status": "paid",
    "fulfillment_status": None,
    "created_at": "2026-11-20T10:00:00-05:00",
    "updated_at": "2026-11-20T10:00:00-05:00",
    "cancelled_at": None,
    "cancel_reason": None,
    "subtotal_price": "100.00",
    "total_tax": "8.00",
    "total_discounts": "0.00",
    "total_price": "108.00",
    "line_items": [
        {
            "id": LINE_A,
            "sku": "SKU-A",
            "name": "Item A",
            "title": "Item A",
            "quantity": 1,
            "price": "50.00",
            "variant_id": 1,
            "product_id": 1,
            "fulfillment_status": None,
        },
        {
            "id": LINE_B,
            "sku": "SKU-B",
            "name": "Item B",
            "title": "Item B",
            "quantity": 1,
            "price": "30.00",
            "variant_id": 2,
            "product_id": 2,
            "fulfillment_status": None,
        },
        {
            "id": LINE_C,
            "sku": "SKU-C",
            "name": "Item C",
            "title": "Item C",
            "quantity": 1,
            "price": "20.00",
            "variant_id": 3,
            "product_id": 3,
            "fulfillment_status": None,
        },
    ],
    "shipping_lines": [{"code": "Free", "title": "Free", "price": "0.00"}],
    "tax_lines": [{"title": "Sales tax", "price": "8.00", "rate": 0.08}],
    "discount_codes": [],
    "billing_address": {
        "first_name": "Ada",
        "last_name": "Story",
        "address1": "1 Main St",
        "city": "Portland",
        "province_code": "OR",
        "zip": "97205",
        "country_code": "US",
    },
    "shipping_address": {
        "first_name": "Ada",
        "last_name": "Story",
        "address1": "1 Main St",
        "city": "Portland",
        "province_code": "OR",
        "zip": "97205",
        "country_code": "US",
    },
    "customer": {"id": CUSTOMER_ID, "email": "ada.story@example.com", "first_name": "Ada", "last_name": "Story"},
}

F1 = {
    "id": F1_ID,
    "order_id": ORDER_ID,
    "status": "success",
    "location_id": WAREHOUSE_EAST,
    "tracking_company": "UPS",
    "tracking_number": "1ZEAST",
    "tracking_numbers": ["1ZEAST"],
    "created_at": "2026-11-21T09:00:00-05:00",
    "line_items": [{"id": LINE_A, "quantity": 1, "sku": "SKU-A"}, {"id": LINE_B, "quantity": 1, "sku": "SKU-B"}],
}
F2 = {
    "id": F2_ID,
    "order_id": ORDER_ID,
    "status": "success",
    "location_id": WAREHOUSE_WEST,
    "tracking_company": "USPS",
    "tracking_number": "9400WEST",
    "tracking_numbers": ["9400WEST"],
    "created_at": "2026-11-21T11:00:00-05:00",
    "line_items": [{"id": LINE_C, "quantity": 1, "sku": "SKU-C"}],
}
R1 = {
    "id": R1_ID,
    "order_id": ORDER_ID,
    "created_at": "2026-11-25T12:00:00-05:00",
    "note": "first shipment returned",
    "restock": True,
    "refund_line_items": [
        {
            "id": 1,
            "quantity": 1,
            "line_item_id": LINE_A,
            "location_id": WAREHOUSE_EAST,
            "restock_type": "return",
            "subtotal": "50.00",
            "total_tax": "4.00",
        },
        {
            "id": 2,
            "quantity": 1,
            "line_item_id": LINE_B,
            "location_id": WAREHOUSE_EAST,
            "restock_type": "return",
            "subtotal": "30.00",
            "total_tax": "2.40",
        },
    ],
    "transactions": [
        {
            "id": 7_600_000_000_000_001,
            "amount": "86.40",
            "kind": "refund",
            "status": "success",
            "gateway": "shopify_payments",
        }
    ],
    "order_adjustments": [],
}
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
    return order


def _records(sim: str, record_type: str) -> list[dict]:
    import requests

    return requests.get(f"{sim}/_sim/records/{record_type}", timeout=10).json()


def lines_by_sku(sim: str, record: dict) -> dict[str, dict]:
    import requests

    items = {str(i["id"]): i["itemid"] for i in requests.get(f"{sim}/_sim/items", timeout=10).json()}
    return {items[str(line["item"]["id"])]: line for line in record["item"]["items"]}


def assert_story_in_netsuite(sim: str) -> None:
    """Exactly one sales order, two item fulfillments with the right lines and locations, one credit for the
    returned shipment and one customer refund, both equal to what Shopify refunded."""
    from decimal import Decimal

    [so] = _records(sim, "salesOrder")
    assert so["externalId"] == f"shopify-order-{ORDER_ID}"
    assert sorted(lines_by_sku(sim, so)) == ["SKU-A", "SKU-B", "SKU-C"]
    fulfillments = {f["externalId"]: f for f in _records(sim, "itemFulfillment")}
    assert sorted(fulfillments) == [f"shopify-fulfillment-{F1_ID}", f"shopify-fulfillment-{F2_ID}"]

    def shipped(external_id: str) -> dict[str, tuple[int, str]]:
        lines = lines_by_sku(sim, fulfillments[external_id])
        return {sku: (line["quantity"], str(line["location"]["id"])) for sku, line in lines.items()}

    assert shipped(f"shopify-fulfillment-{F1_ID}") == {"SKU-A": (1, "1"), "SKU-B": (1, "1")}
    assert shipped(f"shopify-fulfillment-{F2_ID}") == {"SKU-C": (1, "2")}
    [credit] = _records(sim, "creditMemo")
    assert credit["externalId"] == f"shopify-refund-{R1_ID}"
    assert sum(Decimal(str(line["amount"])) for line in credit["item"]["items"]) == Decimal(REFUNDED)
    [payment] = _records(sim, "customerRefund")
    assert Decimal(str(payment["total"])) == Decimal(REFUNDED)
