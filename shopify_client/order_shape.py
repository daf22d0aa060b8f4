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
    shipping_lines = [_shipping_line(sl) for sl in connection_nodes(node.get("shippingLines"))]
    applications = sorted(
        (_discount_application(a) for a in connection_nodes(node.get("discountApplications"))),
        key=lambda a: a.pop("_index"),
    )
    return {
        "id": order_id,
        "admin_graphql_api_id": node.get("id") or gid("Order", order_id),
        "name": node.get("name"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "currency": node.get("currencyCode"),
        "presentment_currency": node.get("presentmentCurrencyCode"),
        "taxes_included": node.get("taxesIncluded"),
        "tax_exempt": node.get("taxExempt"),
        "payment_gateway_names": list(node.get("paymentGatewayNames") or ()),
        "financial_status": _lower(node.get("displayFinancialStatus")),
        # REST knows only these three values and null: every state in which nothing has shipped yet (unfulfilled,
        # on hold, scheduled, in progress...) is null there.
        "fulfillment_status": _FULFILLMENT_STATUS.get(str(node.get("displayFulfillmentStatus") or "").upper()),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": _lower(node.get("cancelReason")),
        **_money_fields(node, _ORDER_MONEY),
        "total_tip_received": _money(node.get("totalTipReceivedSet")),
        "line_items": lines,
        "shipping_lines": shipping_lines,
        "tax_lines": _tax_lines(node.get("taxLines")),
        "discount_applications": applications,
        "discount_codes": _discount_codes(node.get("discountCodes"), applications, [*lines, *shipping_lines]),
        "billing_address": _address(node.get("billingAddress")),
        "shipping_address": _address(node.get("shippingAddress")),
        "customer": _customer(node.get("customer")),
        "fulfillments": [_fulfillment(f, order_id) for f in node.get("fulfillments") or ()],
        "refunds": [_refund(r, order_id, lines_by_id) for r in node.get("refunds") or ()],
        # Absent when the node was read without them (a document that does not select them).
        **(
            {"transactions": [_order_transaction(t, order_id) for t in node["transactions"] if isinstance(t, Mapping)]}
            if isinstance(node.get("transactions"), list)
            else {}
        ),
    }


# (REST name, GraphQL MoneyBag field, whether REST also carries the shop amount on its own as a plain string)
_ORDER_MONEY = (
    ("total_price", "totalPriceSet", True),
    ("current_total_price", "currentTotalPriceSet", True),
    ("subtotal_price", "subtotalPriceSet", True),
    ("total_tax", "totalTaxSet", True),
    ("current_total_tax", "currentTotalTaxSet", True),
    ("total_discounts", "totalDiscountsSet", True),
    ("total_shipping_price", "totalShippingPriceSet", False),
    ("current_total_duties", "currentTotalDutiesSet", False),
    ("current_total_additional_fees", "currentTotalAdditionalFeesSet", False),
)


def _money_fields(node: Mapping[str, Any], fields: tuple[tuple[str, str, bool], ...]) -> dict[str, Any]:
    """REST's `<name>_set` (both sides) and, where REST has it, `<name>` (the shop amount) for each bag."""
    out: dict[str, Any] = {}
    for rest, graphql, plain in fields:
        if plain:
            out[rest] = _money(node.get(graphql))
        out[f"{rest}_set"] = _money_set(node.get(graphql))
    return out


def _line_item(node: Mapping[str, Any]) -> dict[str, Any]:
    variant = node.get("variant")
    return {
        "id": legacy_id(node["id"]),
        "admin_graphql_api_id": node["id"],
        "variant_id": id_of(variant),
        "sku": node.get("sku"),
        "name": node.get("name"),
        "title": node.get("title"),
        "variant_title": node.get("variantTitle"),
        "quantity": node.get("quantity"),
        "current_quantity": node.get("currentQuantity"),
        "gift_card": node.get("isGiftCard"),
        "taxable": node.get("taxable"),
        "price": _money(node.get("originalUnitPriceSet")),
        "price_set": _money_set(node.get("originalUnitPriceSet")),
        "total_discount": _money(node.get("totalDiscountSet")),
        "total_discount_set": _money_set(node.get("totalDiscountSet")),
        "discount_allocations": _allocations(node.get("discountAllocations")),
        "tax_lines": _tax_lines(node.get("taxLines")),
        "duties": [_duty(d) for d in node.get("duties") or () if isinstance(d, Mapping)],
    }


def _shipping_line(node: Mapping[str, Any]) -> dict[str, Any]:
    shipping_id = node.get("id")
    return {
        "id": legacy_id(shipping_id) if shipping_id else None,
        "title": node.get("title"),
        "code": node.get("code"),
        "price": _money(node.get("originalPriceSet")),
        "price_set": _money_set(node.get("originalPriceSet")),
        "discounted_price": _money(node.get("discountedPriceSet")),
        "discounted_price_set": _money_set(node.get("discountedPriceSet")),
        "discount_allocations": _allocations(node.get("discountAllocations")),
        "tax_lines": _tax_lines(node.get("taxLines")),
        "is_removed": bool(node.get("isRemoved")),
    }


def _tax_lines(nodes: Any) -> list[dict[str, Any]]:
    return [
        {
            "title": t.get("title"),
            "rate": t.get("rate"),
            "price": _money(t.get("priceSet")),
            "price_set": _money_set(t.get("priceSet")),
            "channel_liable": t.get("channelLiable"),
        }
        for t in nodes or ()
        if isinstance(t, Mapping)
    ]


def _allocations(nodes: Any) -> list[dict[str, Any]]:
    return [
        {
            "amount": _money(a.get("allocatedAmountSet")),
            "amount_set": _money_set(a.get("allocatedAmountSet")),
            "discount_application_index": (a.get("discountApplication") or {}).get("index"),
        }
        for a in nodes or ()
        if isinstance(a, Mapping)
    ]


def _duty(node: Mapping[str, Any]) -> dict[str, Any]:
    # REST's duty (UNCONFIRMED beyond the field names REST clients declare): its amount as `price_set`.
    return {
        "id": legacy_id(node["id"]),
        "admin_graphql_api_id": node["id"],
        "harmonized_system_code": node.get("harmonizedSystemCode"),
        "country_code_of_origin": node.get("countryCodeOfOrigin"),
        "price_set": _money_set(node.get("price")),
        "tax_lines": _tax_lines(node.get("taxLines")),
    }


_APPLICATION_TYPES = {
    "DiscountCodeApplication": "discount_code",
    "AutomaticDiscountApplication": "automatic",
    "ManualDiscountApplication": "manual",
    "ScriptDiscountApplication": "script",
}


def _discount_application(node: Mapping[str, Any]) -> dict[str, Any]:
    """REST's discount application; `_index` (GraphQL's index, REST's position in the list) is popped by the
    caller once it has ordered the list by it."""
    value = node.get("value") or {}
    if value.get("percentage") is not None:
        value_type, text = "percentage", str(float(value["percentage"]))
    else:
        value_type, text = "fixed_amount", _decimal_text(value.get("amount"))
    out: dict[str, Any] = {
        "_index": node.get("index"),
        "target_type": _lower(node.get("targetType")),
        "type": _APPLICATION_TYPES.get(str(node.get("__typename"))),
        "value": text,
        "value_type": value_type,
        "allocation_method": _lower(node.get("allocationMethod")),
        "target_selection": _lower(node.get("targetSelection")),
    }
    for key in ("code", "title", "description"):
        if key in node:
            out[key] = node[key]
    return out


def _discount_codes(
    codes: Any, applications: list[dict[str, Any]], allocated_to: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """REST's `discount_codes`: GraphQL lists only the codes; each one's amount is what its applications took
    off the lines and shipping lines (shop money), its type that of its application (`shipping` for one that
    targets shipping lines)."""
    taken: dict[int, decimal.Decimal] = {}
    for line in allocated_to:
        for allocation in line.get("discount_allocations") or ():
            index = allocation.get("discount_application_index")
            if isinstance(index, int) and allocation.get("amount") is not None:
                taken[index] = taken.get(index, decimal.Decimal(0)) + decimal.Decimal(allocation["amount"])
    out = []
    for code in codes or ():
        indexed = [(i, a) for i, a in enumerate(applications) if a.get("code") == code]
        amount = sum((taken.get(i, decimal.Decimal(0)) for i, _ in indexed), decimal.Decimal(0))
        kind = "fixed_amount"
        if indexed and indexed[0][1]["target_type"] == "shipping_line":
            kind = "shipping"
        elif indexed and indexed[0][1]["value_type"] == "percentage":
            kind = "percentage"
        out.append({"code": code, "amount": _decimal_text(amount), "type": kind})
    return out


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
                    "price_set": own.get("price_set"),
                    "quantity": own["quantity"],
                    "gift_card": own.get("gift_card", False),
                    "tax_lines": own.get("tax_lines") or [],
                },
                "subtotal": _money(rli.get("subtotalSet")),
                "subtotal_set": _money_set(rli.get("subtotalSet")),
                "total_tax": _money(rli.get("totalTaxSet")),
                "total_tax_set": _money_set(rli.get("totalTaxSet")),
            }
        )
    transactions = [_transaction(tx, order_id) for tx in connection_nodes(node.get("transactions"))]
    return {
        "id": id_of(node),
        "admin_graphql_api_id": node.get("id"),
        "order_id": order_id,
        "created_at": node.get("createdAt"),
        "note": node.get("note"),
        "restock": any(bool(r.get("restocked")) for r in connection_nodes(node.get("refundLineItems"))),
        "refund_line_items": lines,
        **_refund_outside_lines(node),
        "transactions": transactions,
    }


def _transaction(tx: Mapping[str, Any], order_id: int) -> dict[str, Any]:
    # A REST transaction's amount is in the currency the buyer paid in (its `currency`): the presentment side.
    paid = _side(tx.get("amountSet"), "presentmentMoney")
    return {
        "id": legacy_id(tx["id"]) if tx.get("id") else None,
        "order_id": order_id,
        "amount": _decimal_text(paid.get("amount")) if paid.get("amount") is not None else None,
        "currency": paid.get("currencyCode"),
        "kind": _lower(tx.get("kind")),
        "status": _lower(tx.get("status")),
        "gateway": tx.get("gateway"),
        "created_at": tx.get("createdAt"),
    }


def _order_transaction(tx: Mapping[str, Any], order_id: int) -> dict[str, Any]:
    """An order's own transaction (Order.transactions) as REST lists it, with both sides (`amount_set`) and its
    parent (a capture's authorization)."""
    parent = tx.get("parentTransaction") or {}
    return {
        **_transaction(tx, order_id),
        "amount_set": _money_set(tx.get("amountSet")),
        "parent_id": legacy_id(parent["id"]) if parent.get("id") else None,
        "test": bool(tx.get("test")),
        "processed_at": tx.get("processedAt"),
        "authorization_expires_at": tx.get("authorizationExpiresAt"),
    }


def _refund_outside_lines(node: Mapping[str, Any]) -> dict[str, Any]:
    """What a refund gives back besides its lines, as REST (2024-10 and later) lists it: `refund_shipping_lines`,
    `order_adjustments` (discrepancies only since shipping refunds have their own lines) and `total_duties_set`."""
    shipping = []
    for rsl in connection_nodes(node.get("refundShippingLines")):
        line = rsl.get("shippingLine") or {}
        shipping.append(
            {
                "subtotal_amount": _money(rsl.get("subtotalAmountSet")),
                "subtotal_amount_set": _money_set(rsl.get("subtotalAmountSet")),
                "tax_amount": _money(rsl.get("taxAmountSet")),
                "tax_amount_set": _money_set(rsl.get("taxAmountSet")),
                "shipping_line": {
                    "title": line.get("title"),
                    "code": line.get("code"),
                    "tax_lines": _tax_lines(line.get("taxLines")),
                },  # fmt: skip
            }
        )
    adjustments = [
        {
            "kind": "refund_discrepancy",
            "reason": _lower(adjustment.get("reason")),
            "amount": _money(adjustment.get("amountSet")),
            "amount_set": _money_set(adjustment.get("amountSet")),
            "tax_amount": _money(adjustment.get("taxAmountSet")),
            "tax_amount_set": _money_set(adjustment.get("taxAmountSet")),
        }
        for adjustment in connection_nodes(node.get("orderAdjustments"))
    ]
    outside: dict[str, Any] = {"refund_shipping_lines": shipping, "order_adjustments": adjustments}
    duties = [d.get("amountSet") for d in node.get("duties") or () if d.get("amountSet")]
    if duties:
        outside["total_duties_set"] = _sum_sets(duties)
    return outside


def _sum_sets(bags: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Several MoneyBags added side by side, as one REST `*_set`."""
    total: dict[str, Any] = {}
    for bag in bags:
        for rest_side, value in (_money_set(bag) or {}).items():
            known = total.setdefault(rest_side, {"amount": "0", "currency_code": value.get("currency_code")})
            known["amount"] = _decimal_text(
                decimal.Decimal(known["amount"]) + decimal.Decimal(str(value.get("amount") or 0))
            )
    return total or None


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _side(bag: Any, side: str) -> Mapping[str, Any]:
    """One side of a MoneyBag (`shopMoney` or `presentmentMoney`); a bag read with shop money only stands for
    both sides."""
    if not isinstance(bag, Mapping):
        return {}
    money = bag.get(side)
    if not isinstance(money, Mapping):
        money = bag.get("shopMoney")
    return money if isinstance(money, Mapping) else {}


def _money(bag: Any) -> str | None:
    """The shop-currency amount of a MoneyBag as a decimal string (see `_decimal_text`)."""
    if not isinstance(bag, Mapping):
        return None
    amount = _side(bag, "shopMoney").get("amount")
    return None if amount is None else _decimal_text(amount)


def _decimal_text(amount: Any) -> str:
    """A money amount as a decimal string with at least two places.

    Shopify's Decimal scalar drops trailing zeros ("199.0") where REST writes "199.00"; padding keeps the two
    shapes comparable as text without ever rounding a digit away.
    """
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
    """A MoneyBag in REST's `*_set` shape: `shop_money` and `presentment_money`, each `{amount, currency_code}`."""
    if not isinstance(bag, Mapping) or _side(bag, "shopMoney").get("amount") is None:
        return None
    out = {}
    for rest, side in (("shop_money", "shopMoney"), ("presentment_money", "presentmentMoney")):
        money = _side(bag, side)
        out[rest] = {"amount": _decimal_text(money.get("amount")), "currency_code": money.get("currencyCode")}
    return out
