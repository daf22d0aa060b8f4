"""A GraphQL Order node (as ORDER_FIELDS and the fulfillment/refund reads select it) in Shopify's REST/webhook shape.

Webhooks deliver orders in the REST resource shape (`orders/create`); reconciliation and backfill read them over
GraphQL. Converting here, once, lets every consumer keep one shape: ids as Python ints (they exceed 2**53, so
never through float), money as decimal strings, enums lower-cased as REST spells them.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from typing import Any

from .graphql import connection_nodes
from .ids import gid, id_of, legacy_id

__all__ = ["convert_order"]

_FULFILLMENT_STATUS = {
    "FULFILLED": "fulfilled",
    "PARTIALLY_FULFILLED": "partial",
    "RESTOCKED": "restocked",
}


def convert_order(node: Mapping[str, Any]) -> dict[str, Any]:
    """A GraphQL Order (as selected by ORDER_FIELDS, connections complete) in the REST/webhook shape."""
    order_id = id_of(node)
    if order_id is None:
        raise ValueError("order node has neither legacyResourceId nor id")
    lines = [_line_item(li) for li in connection_nodes(node.get("lineItems"))]
    lines_by_id = {line["id"]: line for line in lines}
    return {
        "id": order_id,
        "admin_graphql_api_id": node.get("id") or gid("Order", order_id),
        "name": node.get("name"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "currency": node.get("currencyCode"),
        "financial_status": _lower(node.get("displayFinancialStatus")),
        # REST knows only these three values and null: every state in which nothing has shipped yet (unfulfilled,
        # on hold, scheduled, in progress...) is null there.
        "fulfillment_status": _FULFILLMENT_STATUS.get(str(node.get("displayFulfillmentStatus") or "").upper()),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": _lower(node.get("cancelReason")),
        "total_price": _money(node.get("totalPriceSet")),
        "subtotal_price": _money(node.get("subtotalPriceSet")),
        "total_tax": _money(node.get("totalTaxSet")),
        "total_discounts": _money(node.get("totalDiscountsSet")),
        "total_shipping_price_set": _money_set(node.get("totalShippingPriceSet")),
        "line_items": lines,
        "shipping_lines": [_shipping_line(sl) for sl in connection_nodes(node.get("shippingLines"))],
        "tax_lines": [_tax_line(tl) for tl in node.get("taxLines") or ()],
        "billing_address": _address(node.get("billingAddress")),
        "shipping_address": _address(node.get("shippingAddress")),
        "customer": _customer(node.get("customer")),
        "fulfillments": [_fulfillment(f, order_id) for f in node.get("fulfillments") or ()],
        "refunds": [_refund(r, order_id, lines_by_id) for r in node.get("refunds") or ()],
    }


def _line_item(node: Mapping[str, Any]) -> dict[str, Any]:
    variant = node.get("variant")
    return {
        "id": legacy_id(node["id"]),
        "admin_graphql_api_id": node["id"],
        "variant_id": id_of(variant),
        "sku": node.get("sku"),
        "name": node.get("name"),
        "title": node.get("title"),
        "quantity": node.get("quantity"),
        "current_quantity": node.get("currentQuantity"),
        "price": _money(node.get("originalUnitPriceSet")),
        "total_discount": _money(node.get("totalDiscountSet")),
    }


def _shipping_line(node: Mapping[str, Any]) -> dict[str, Any]:
    return {"title": node.get("title"), "code": node.get("code"), "price": _money(node.get("originalPriceSet"))}


def _tax_line(node: Mapping[str, Any]) -> dict[str, Any]:
    return {"title": node.get("title"), "rate": node.get("rate"), "price": _money(node.get("priceSet"))}


_ADDRESS_KEYS = (
    ("first_name", "firstName"),
    ("last_name", "lastName"),
    ("name", "name"),
    ("company", "company"),
    ("address1", "address1"),
    ("address2", "address2"),
    ("city", "city"),
    ("province", "province"),
    ("province_code", "provinceCode"),
    ("zip", "zip"),
    ("country", "country"),
    ("country_code", "countryCodeV2"),
    ("phone", "phone"),
)


def _address(node: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(node, Mapping):
        return None
    return {rest: node.get(graphql) for rest, graphql in _ADDRESS_KEYS}


def _customer(node: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(node, Mapping):
        return None
    return {
        "id": id_of(node),
        "admin_graphql_api_id": node.get("id"),
        "email": node.get("email"),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "phone": node.get("phone"),
    }


def _fulfillment(node: Mapping[str, Any], order_id: int) -> dict[str, Any]:
    tracking = [t for t in node.get("trackingInfo") or () if isinstance(t, Mapping)]
    numbers = [t["number"] for t in tracking if t.get("number")]
    urls = [t["url"] for t in tracking if t.get("url")]
    company = next((t["company"] for t in tracking if t.get("company")), None)
    return {
        "id": id_of(node),
        "admin_graphql_api_id": node.get("id"),
        "order_id": order_id,
        "status": _lower(node.get("status")),
        "location_id": id_of(node.get("location")),
        "tracking_company": company,
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": numbers,
        "tracking_url": urls[0] if urls else None,
        "tracking_urls": urls,
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "line_items": [
            {
                # REST lists the ORDER's line items here, with the quantity this fulfillment ships.
                "id": legacy_id(fli["lineItem"]["id"]),
                "quantity": fli.get("quantity"),
                "sku": fli["lineItem"].get("sku"),
            }
            for fli in connection_nodes(node.get("fulfillmentLineItems"))
        ],
    }


def _refund(node: Mapping[str, Any], order_id: int, order_lines: Mapping[int, dict[str, Any]]) -> dict[str, Any]:
    lines = []
    for rli in connection_nodes(node.get("refundLineItems")):
        item = rli.get("lineItem") or {}
        line_item_id = legacy_id(item["id"])
        # The refund document asks only for the line's id; the order's own copy of the line has the rest.
        own = order_lines.get(line_item_id) or _line_item(item)
        lines.append(
            {
                "id": legacy_id(rli["id"]),
                "quantity": rli.get("quantity"),
                "line_item_id": line_item_id,
                "location_id": id_of(rli.get("location")),
                "restock_type": _lower(rli.get("restockType")),
                "line_item": {
                    "id": line_item_id,
                    "variant_id": own["variant_id"],
                    "sku": own["sku"] if own["sku"] is not None else item.get("sku"),
                    "title": own["title"],
                    "name": own["name"],
                    "price": own["price"],
                    "quantity": own["quantity"],
                },
                "subtotal": _money(rli.get("subtotalSet")),
                "total_tax": _money(rli.get("totalTaxSet")),
            }
        )
    transactions = []
    for tx in connection_nodes(node.get("transactions")):
        amount_set = tx.get("amountSet") or {}
        transactions.append(
            {
                "id": legacy_id(tx["id"]) if tx.get("id") else None,
                "order_id": order_id,
                "amount": _money(amount_set),
                "currency": (amount_set.get("shopMoney") or {}).get("currencyCode"),
                "kind": _lower(tx.get("kind")),
                "status": _lower(tx.get("status")),
                "gateway": tx.get("gateway"),
                "created_at": tx.get("createdAt"),
            }
        )
    return {
        "id": id_of(node),
        "admin_graphql_api_id": node.get("id"),
        "order_id": order_id,
        "created_at": node.get("createdAt"),
        "note": node.get("note"),
        "restock": any(bool(r.get("restocked")) for r in connection_nodes(node.get("refundLineItems"))),
        "refund_line_items": lines,
        "transactions": transactions,
    }


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _money(bag: Any) -> str | None:
    """The shop-currency amount of a MoneyBag as a decimal string with at least two places.

    Shopify's Decimal scalar drops trailing zeros ("199.0") where REST writes "199.00"; padding keeps the two
    shapes comparable as text without ever rounding a digit away.
    """
    if not isinstance(bag, Mapping):
        return None
    money = bag.get("shopMoney")
    amount = money.get("amount") if isinstance(money, Mapping) else None
    if amount is None:
        return None
    if isinstance(amount, bool) or not isinstance(amount, str | int | float | decimal.Decimal):
        raise ValueError(f"invalid money amount: {amount!r}")
    try:
        value = decimal.Decimal(str(amount))
    except decimal.InvalidOperation:
        raise ValueError(f"invalid money amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"invalid money amount: {amount!r}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(decimal.Decimal("0.01"))
    return format(value, "f")


def _money_set(bag: Any) -> dict[str, Any] | None:
    """A MoneyBag in REST's `*_set` shape (shop money only: the service books in the shop's currency)."""
    amount = _money(bag)
    if amount is None:
        return None
    currency = (bag.get("shopMoney") or {}).get("currencyCode")
    return {"shop_money": {"amount": amount, "currency_code": currency}}
