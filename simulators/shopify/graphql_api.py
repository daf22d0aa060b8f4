"""The Admin GraphQL schema of `schema.graphql` with resolvers over REST-shaped orders.

Orders stay in the REST shape of the webhook payloads; the views here translate them the way Shopify's GraphQL
API presents the same data: ids become gids, money becomes a MoneyBag, REST statuses become enum names,
timestamps become UTC `Z` strings, and lists become cursor-paged connections.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema, build_schema

from simulators.shopify.search import SORT_KEYS, SearchSyntaxError, parse_search, sort_entries
from simulators.shopify.store import (
    OrderEntry,
    OrderStore,
    current_quantity,
    gid,
    graphql_time,
    money_text,
    parse_gid,
    prorated_tax,
    refunded_amount,
    refunded_quantities,
    to_decimal,
)

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
CUSTOM_SCALARS = ("DateTime", "Decimal", "UnsignedInt64", "URL", "BigInt")

CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})
FULFILLMENT_STATUSES = frozenset({"CANCELLED", "ERROR", "FAILURE", "SUCCESS", "OPEN", "PENDING"})
RESTOCK_TYPES = frozenset({"CANCEL", "LEGACY_RESTOCK", "NO_RESTOCK", "RETURN"})
TRANSACTION_KINDS = frozenset(
    {"AUTHORIZATION", "CAPTURE", "CHANGE", "EMV_AUTHORIZATION", "REFUND", "SALE", "SUGGESTED_REFUND", "VOID"}
)
TRANSACTION_STATUSES = frozenset({"AWAITING_RESPONSE", "ERROR", "FAILURE", "PENDING", "SUCCESS", "UNKNOWN"})
ADJUSTMENT_REASONS = frozenset(
    {"CUSTOMER", "DAMAGE", "FULL_RETURN_BALANCING_ADJUSTMENT", "PENDING_REFUND_DISCREPANCY", "REFUND_DISCREPANCY",
     "RESTOCK"}
)  # fmt: skip
DISPLAY_FULFILLMENT = {None: "UNFULFILLED", "": "UNFULFILLED", "partial": "PARTIALLY_FULFILLED"}
# REST's discount application `type` -> the GraphQL type implementing DiscountApplication.
DISCOUNT_APPLICATION_TYPES = {
    "discount_code": "DiscountCodeApplication",
    "automatic": "AutomaticDiscountApplication",
    "manual": "ManualDiscountApplication",
    "script": "ScriptDiscountApplication",
}


def _as_string(value: Any) -> str:
    # Shopify sends these scalars as JSON strings, ids above 2^53 included.
    return value if isinstance(value, str) else str(value)


def load_schema(path: Path = SCHEMA_PATH) -> GraphQLSchema:
    """The executable schema; custom scalars the SDL forgot to declare are declared here."""
    sdl = path.read_text(encoding="utf-8")
    missing = [name for name in CUSTOM_SCALARS if not re.search(rf"^\s*scalar\s+{name}\b", sdl, re.MULTILINE)]
    schema = build_schema("".join(f"scalar {name}\n" for name in missing) + sdl)
    for name in CUSTOM_SCALARS:
        schema.type_map[name].serialize = _as_string  # type: ignore[attr-defined]
    return schema


def bad_request(message: str, code: str = "BAD_REQUEST") -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


# cursors


def encode_cursor(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode("ascii")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.b64decode(cursor.encode("ascii"), validate=True))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise bad_request(f"Invalid cursor: {cursor!r}") from None
    if not isinstance(payload, dict):
        raise bad_request(f"Invalid cursor: {cursor!r}")
    return payload


def _page_info(cursors: list[str], start: int, end: int, count: int) -> dict[str, Any]:
    return {
        "hasNextPage": end < count,
        "hasPreviousPage": start > 0,
        "startCursor": cursors[0] if cursors else None,
        "endCursor": cursors[-1] if cursors else None,
    }


def _connection(nodes: list[Any], cursors: list[str], start: int, end: int, count: int) -> dict[str, Any]:
    return {
        "nodes": nodes,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
        "pageInfo": _page_info(cursors, start, end, count),
    }


def _bounds(start: int, end: int, first: int | None, last: int | None) -> tuple[int, int]:
    if first is not None:
        end = min(end, start + max(first, 0))
    if last is not None:
        start = max(start, end - max(last, 0))
    return start, max(start, end)


def list_connection(items: list[Any], view: Callable[[Any], Any], first: int | None, after: str | None) -> dict:
    """A connection over a nested list (line items, refund lines...): cursors are positions in the list."""
    start = 0
    if after is not None:
        position = decode_cursor(after).get("index")
        if not isinstance(position, int):
            raise bad_request(f"Invalid cursor: {after!r}")
        start = position + 1
    start, end = _bounds(min(start, len(items)), len(items), first, None)
    cursors = [encode_cursor({"index": i}) for i in range(start, end)]
    return _connection([view(item) for item in items[start:end]], cursors, start, end, len(items))


def _first_n(items: list[Any], first: int | None) -> list[Any]:
    return items if first is None else items[: max(first, 0)]


# views


@dataclass
class ShopContext:
    """What the views need to know about the shop beyond the order itself."""

    name: str
    domain: str
    currency: str
    location_names: dict[int, str] = field(default_factory=dict)
    # The inventory's view of a location by id (None when the inventory has no such location).
    location_view: Callable[[int], dict[str, Any] | None] | None = None
    # The resolver of an order's `transactions` (payments_api.order_transactions), given the order and the view's
    # transaction money; None: no transactions.
    order_transactions: Callable[[dict[str, Any], Callable[[dict[str, Any]], dict[str, Any]]], Any] | None = None


def _amount(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        return value
    if value is None:
        return "0.00"
    return money_text(to_decimal(value))


def _is_set(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("shop_money"), dict)


def money_bag(rest_set: Any, amount: Any, shop_currency: str, presentment_currency: str) -> dict[str, Any]:
    """A MoneyBag from a REST `*_set` ({shop_money, presentment_money}) or from a plain amount."""
    if isinstance(rest_set, dict) and isinstance(rest_set.get("shop_money"), dict):
        shop = rest_set["shop_money"]
        presentment = rest_set.get("presentment_money") or shop
        return {
            "shopMoney": {
                "amount": _amount(shop.get("amount")),
                "currencyCode": shop.get("currency_code") or shop_currency,
            },
            "presentmentMoney": {
                "amount": _amount(presentment.get("amount")),
                "currencyCode": presentment.get("currency_code") or presentment_currency,
            },
        }
    text = _amount(amount)
    return {
        "shopMoney": {"amount": text, "currencyCode": shop_currency},
        "presentmentMoney": {"amount": text, "currencyCode": presentment_currency},
    }


def _upper_enum(value: Any, allowed: frozenset[str], fallback: str | None) -> str | None:
    if value is None or value == "":
        return fallback
    name = str(value).upper()
    return name if name in allowed else fallback


def _address(rest: Any) -> dict[str, Any] | None:
    if not isinstance(rest, dict):
        return None
    name = rest.get("name")
    if not name:
        name = " ".join(p for p in (rest.get("first_name"), rest.get("last_name")) if p) or None
    return {
        "firstName": rest.get("first_name"),
        "lastName": rest.get("last_name"),
        "name": name,
        "company": rest.get("company"),
        "address1": rest.get("address1"),
        "address2": rest.get("address2"),
        "city": rest.get("city"),
        "province": rest.get("province"),
        "provinceCode": rest.get("province_code"),
        "zip": rest.get("zip"),
        "country": rest.get("country"),
        "countryCodeV2": rest.get("country_code"),
        "phone": rest.get("phone"),
    }


class OrderView:
    """Builds the GraphQL view of one REST order; money is in the order's currencies."""

    def __init__(self, order: dict[str, Any], shop: ShopContext) -> None:
        self.order = order
        self.shop = shop
        self.currency = order.get("currency") or shop.currency
        self.presentment = order.get("presentment_currency") or self.currency
        self.line_items = {int(li["id"]): li for li in order.get("line_items") or [] if li.get("id") is not None}
        self._refunded: dict[int, int] | None = None

    def money(self, rest_set: Any, amount: Any) -> dict[str, Any]:
        """A MoneyBag from a REST `*_set`; from a plain (shop currency) amount when REST carries only that, its
        presentment side converted at the order's own rate."""
        bag = money_bag(rest_set, amount, self.currency, self.presentment)
        rate = self.rate()
        if not _is_set(rest_set) and rate is not None:
            converted = to_decimal(bag["shopMoney"]["amount"]) / rate
            bag["presentmentMoney"]["amount"] = money_text(converted)
        return bag

    def rate(self) -> Decimal | None:
        """Shop money per unit of presentment money, from the order's total (None when the currencies agree)."""
        if self.presentment == self.currency:
            return None
        total = self.order.get("total_price_set")
        if not _is_set(total) or not isinstance(total.get("presentment_money"), dict):
            return None
        shop = to_decimal(total["shop_money"].get("amount"))
        presentment = to_decimal(total["presentment_money"].get("amount"))
        return shop / presentment if shop and presentment else None

    def optional_money(self, rest_set: Any) -> dict[str, Any] | None:
        """A nullable MoneyBag (duties, additional fees): null when REST has none."""
        return self.money(rest_set, None) if _is_set(rest_set) else None

    def current_money(self, name: str) -> dict[str, Any]:
        """`current_<name>` after edits; the original amount for a REST order that predates the field."""
        order = self.order
        if order.get(f"current_{name}") is None and order.get(f"current_{name}_set") is None:
            return self.money(order.get(f"{name}_set"), order.get(name))
        return self.money(order.get(f"current_{name}_set"), order.get(f"current_{name}"))

    def transaction_money(self, rest: dict[str, Any]) -> dict[str, Any]:
        """A transaction's amountSet: REST's `amount` is in its `currency`, the currency the buyer paid in (the
        presentment side); the shop side is converted at the order's rate (UNCONFIRMED which side REST uses)."""
        if _is_set(rest.get("amount_set")):
            return self.money(rest["amount_set"], None)
        amount = _amount(rest.get("amount"))
        currency = rest.get("currency") or self.presentment
        shop = amount
        rate = self.rate()
        if currency != self.currency and rate is not None:
            shop = money_text(to_decimal(amount) * rate)
        return {
            "shopMoney": {"amount": shop, "currencyCode": self.currency},
            "presentmentMoney": {"amount": amount, "currencyCode": currency},
        }

    def refunded(self) -> dict[int, int]:
        if self._refunded is None:
            self._refunded = refunded_quantities(self.order)
        return self._refunded

    def location(self, location_id: Any) -> dict[str, Any] | None:
        if location_id is None:
            return None
        key = int(location_id)
        known = self.shop.location_view(key) if self.shop.location_view is not None else None
        if known is not None:
            return known
        # REST payloads carry only the location id; names come from the simulator's configuration.
        name = self.shop.location_names.get(key) or f"Location {key}"
        return {
            "id": gid("Location", key),
            "legacyResourceId": str(key),
            "name": name,
            "isActive": True,
            "inventoryLevels": lambda _info, first=None, after=None: list_connection([], lambda x: x, first, after),
            "inventoryLevel": None,
        }

    def node(self) -> dict[str, Any]:
        order = self.order
        shipping_lines = order.get("shipping_lines") or []
        shipping_total = sum((to_decimal(s.get("price")) for s in shipping_lines), Decimal(0))
        customer = order.get("customer")
        financial = order.get("financial_status")
        fulfillment = order.get("fulfillment_status")
        tags = order.get("tags") or ""
        return {
            "id": gid("Order", order["id"]),
            "legacyResourceId": str(order["id"]),
            "name": order.get("name") or f"#{order.get('order_number', order['id'])}",
            "email": order.get("email") or order.get("contact_email"),
            "phone": order.get("phone"),
            "createdAt": graphql_time(order.get("created_at")),
            "updatedAt": graphql_time(order.get("updated_at")),
            "cancelledAt": graphql_time(order.get("cancelled_at")),
            "cancelReason": _upper_enum(order.get("cancel_reason"), CANCEL_REASONS, None)
            or ("OTHER" if order.get("cancel_reason") else None),
            "closedAt": graphql_time(order.get("closed_at")),
            "processedAt": graphql_time(order.get("processed_at") or order.get("created_at")),
            "currencyCode": self.currency,
            "presentmentCurrencyCode": self.presentment,
            "displayFinancialStatus": str(financial).upper() if financial else None,
            "displayFulfillmentStatus": DISPLAY_FULFILLMENT.get(fulfillment) or str(fulfillment).upper(),
            "totalPriceSet": self.money(order.get("total_price_set"), order.get("total_price")),
            "subtotalPriceSet": self.money(order.get("subtotal_price_set"), order.get("subtotal_price")),
            "totalTaxSet": self.money(order.get("total_tax_set"), order.get("total_tax")),
            "totalDiscountsSet": self.money(order.get("total_discounts_set"), order.get("total_discounts")),
            "totalShippingPriceSet": self.money(order.get("total_shipping_price_set"), money_text(shipping_total)),
            "totalRefundedSet": self.money(None, money_text(refunded_amount(order))),
            "customer": self.customer(customer) if isinstance(customer, dict) else None,
            "billingAddress": _address(order.get("billing_address")),
            "shippingAddress": _address(order.get("shipping_address")),
            "note": order.get("note"),
            "tags": tags if isinstance(tags, list) else [t.strip() for t in str(tags).split(",") if t.strip()],
            "test": bool(order.get("test")),
            "lineItems": lambda _info, first=None, after=None: list_connection(
                order.get("line_items") or [], self.line_item, first, after
            ),
            "shippingLines": lambda _info, first=None, after=None, includeRemovals=False: list_connection(
                [s for s in shipping_lines if includeRemovals or not s.get("is_removed")],
                self.shipping_line,
                first,
                after,
            ),
            "discountApplications": lambda _info, first=None, after=None: list_connection(
                list(enumerate(order.get("discount_applications") or [])),
                lambda pair: self.discount_application(*pair),
                first,
                after,
            ),
            "taxLines": [self.tax_line(t) for t in order.get("tax_lines") or []],
            "taxesIncluded": bool(order.get("taxes_included")),
            "taxExempt": bool(order.get("tax_exempt")),
            "paymentGatewayNames": list(
                order.get("payment_gateway_names") or ([order["gateway"]] if order.get("gateway") else [])
            ),
            "discountCodes": [c["code"] for c in order.get("discount_codes") or [] if c.get("code")],
            "currentTotalPriceSet": self.current_money("total_price"),
            "currentTotalTaxSet": self.current_money("total_tax"),
            "totalTipReceivedSet": self.money(None, order.get("total_tip_received")),
            "currentTotalDutiesSet": self.optional_money(order.get("current_total_duties_set")),
            "currentTotalAdditionalFeesSet": self.optional_money(order.get("current_total_additional_fees_set")),
            "fulfillments": lambda _info, first=None: [
                self.fulfillment(f) for f in _first_n(order.get("fulfillments") or [], first)
            ],
            "refunds": lambda _info, first=None: [self.refund(r) for r in _first_n(order.get("refunds") or [], first)],
            "transactions": (
                self.shop.order_transactions(order, self.transaction_money)
                if self.shop.order_transactions is not None
                else lambda _info, **_args: []
            ),
        }

    def customer(self, customer: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": gid("Customer", customer.get("id")),
            "legacyResourceId": str(customer.get("id")),
            "email": customer.get("email"),
            "firstName": customer.get("first_name"),
            "lastName": customer.get("last_name"),
            "phone": customer.get("phone"),
        }

    def line_item(self, item: dict[str, Any]) -> dict[str, Any]:
        line_id = item.get("id")
        quantity = int(item.get("quantity") or 0)
        current = current_quantity(item, self.refunded())
        variant_id = item.get("variant_id")
        discount = item.get("total_discount")
        if discount is None and item.get("discount_allocations"):
            discount = money_text(sum((to_decimal(d.get("amount")) for d in item["discount_allocations"]), Decimal(0)))
        title = item.get("title") or item.get("name") or ""
        return {
            "id": gid("LineItem", line_id),
            "sku": item.get("sku") or None,
            "name": item.get("name") or title,
            "title": title,
            "variantTitle": item.get("variant_title"),
            "quantity": quantity,
            "currentQuantity": current,
            "refundableQuantity": current,
            "originalUnitPriceSet": self.money(item.get("price_set"), item.get("price")),
            "totalDiscountSet": self.money(item.get("total_discount_set"), discount),
            "isGiftCard": bool(item.get("gift_card")),
            "taxable": bool(item.get("taxable", True)),
            "discountAllocations": [self.allocation(a) for a in item.get("discount_allocations") or []],
            "taxLines": lambda _info, first=None: [
                self.tax_line(t) for t in _first_n(item.get("tax_lines") or [], first)
            ],
            "duties": [self.duty(d) for d in item.get("duties") or []],
            "variant": (
                {
                    "id": gid("ProductVariant", variant_id),
                    "legacyResourceId": str(variant_id),
                    "sku": item.get("sku") or None,
                }
                if variant_id is not None
                else None
            ),
        }

    def shipping_line(self, line: dict[str, Any]) -> dict[str, Any]:
        discounted = line.get("discounted_price")
        return {
            "id": gid("ShippingLine", line["id"]) if line.get("id") is not None else None,
            "title": line.get("title") or "",
            "code": line.get("code"),
            "isRemoved": bool(line.get("is_removed")),
            "originalPriceSet": self.money(line.get("price_set"), line.get("price")),
            "discountedPriceSet": self.money(
                line.get("discounted_price_set"), discounted if discounted is not None else line.get("price")
            ),
            "discountAllocations": [self.allocation(a) for a in line.get("discount_allocations") or []],
            "taxLines": [self.tax_line(t) for t in line.get("tax_lines") or []],
        }

    def tax_line(self, line: dict[str, Any]) -> dict[str, Any]:
        rate = line.get("rate")
        return {
            "title": line.get("title") or "",
            "rate": float(rate) if rate is not None else None,
            "channelLiable": line.get("channel_liable"),
            "priceSet": self.money(line.get("price_set"), line.get("price")),
        }

    def allocation(self, rest: dict[str, Any]) -> dict[str, Any]:
        index = int(rest.get("discount_application_index") or 0)
        applications = self.order.get("discount_applications") or []
        application = applications[index] if index < len(applications) else {}
        return {
            "allocatedAmountSet": self.money(rest.get("amount_set"), rest.get("amount")),
            "discountApplication": self.discount_application(index, application),
        }

    def discount_application(self, index: int, rest: dict[str, Any]) -> dict[str, Any]:
        """REST's discount application at position `index` (its `index` in GraphQL), typed as Shopify types it."""
        kind = str(rest.get("type") or "manual")
        typename = DISCOUNT_APPLICATION_TYPES.get(kind, "ManualDiscountApplication")
        if rest.get("value_type") == "percentage":
            value: dict[str, Any] = {
                "__typename": "PricingPercentageValue",
                "percentage": float(rest.get("value") or 0),
            }
        else:
            value = {"__typename": "MoneyV2", "amount": _amount(rest.get("value")), "currencyCode": self.presentment}
        view = {
            "__typename": typename,
            "index": index,
            "targetType": str(rest.get("target_type") or "line_item").upper(),
            "targetSelection": str(rest.get("target_selection") or "all").upper(),
            "allocationMethod": str(rest.get("allocation_method") or "across").upper(),
            "value": value,
            "code": rest.get("code") or "",
            "title": rest.get("title") or rest.get("code") or "",
            "description": rest.get("description"),
        }
        return view

    def duty(self, rest: dict[str, Any]) -> dict[str, Any]:
        # REST clients name the amount `price_set`; Shopify's own REST examples have shown it as the bag's two
        # sides inline (`shop_money`, `presentment_money`): either is read.
        price = rest.get("price_set") if _is_set(rest.get("price_set")) else rest
        return {
            "id": gid("Duty", rest.get("id")),
            "harmonizedSystemCode": rest.get("harmonized_system_code"),
            "countryCodeOfOrigin": rest.get("country_code_of_origin"),
            "price": self.money(price, None),
            "taxLines": [self.tax_line(t) for t in rest.get("tax_lines") or []],
        }

    def _order_line(self, line_id: Any, embedded: Any) -> dict[str, Any]:
        """The order's own line item; the copy embedded in a fulfillment or refund if the order lacks it."""
        item = self.line_items.get(int(line_id)) if line_id is not None else None
        return self.line_item(item if item is not None else (embedded or {"id": line_id}))

    def fulfillment(self, fulfillment: dict[str, Any]) -> dict[str, Any]:
        fulfillment_id = fulfillment.get("id")
        numbers = fulfillment.get("tracking_numbers") or (
            [fulfillment["tracking_number"]] if fulfillment.get("tracking_number") else []
        )
        urls = fulfillment.get("tracking_urls") or (
            [fulfillment["tracking_url"]] if fulfillment.get("tracking_url") else []
        )
        tracking = [
            {
                "company": fulfillment.get("tracking_company"),
                "number": number,
                "url": urls[i] if i < len(urls) else None,
            }
            for i, number in enumerate(numbers)
        ]
        lines = fulfillment.get("line_items") or []

        def fulfillment_line(indexed: tuple[int, dict[str, Any]]) -> dict[str, Any]:
            index, line = indexed
            # REST has no id of its own for a fulfillment line (its `id` is the order line's): derive a stable one.
            return {
                "id": gid("FulfillmentLineItem", int(fulfillment_id or 0) * 1000 + index + 1),
                "quantity": int(line.get("quantity") or 0),
                "lineItem": self._order_line(line.get("id"), line),
            }

        return {
            "id": gid("Fulfillment", fulfillment_id),
            "legacyResourceId": str(fulfillment_id),
            "status": _upper_enum(fulfillment.get("status"), FULFILLMENT_STATUSES, "SUCCESS"),
            "createdAt": graphql_time(fulfillment.get("created_at")),
            "updatedAt": graphql_time(fulfillment.get("updated_at") or fulfillment.get("created_at")),
            "location": self.location(fulfillment.get("location_id")),
            "trackingInfo": lambda _info, first=None: _first_n(tracking, first),
            "fulfillmentLineItems": lambda _info, first=None, after=None: list_connection(
                list(enumerate(lines)), fulfillment_line, first, after
            ),
        }

    def refund(self, refund: dict[str, Any]) -> dict[str, Any]:
        refund_id = refund.get("id")
        transactions = refund.get("transactions") or []
        refunded = sum(
            (
                to_decimal(t.get("amount"))
                for t in transactions
                if str(t.get("kind") or "refund").lower() == "refund"
                and str(t.get("status") or "success").lower() == "success"
            ),
            Decimal(0),
        )
        restock_default = "LEGACY_RESTOCK" if refund.get("restock") else "NO_RESTOCK"

        def refund_line(line: dict[str, Any]) -> dict[str, Any]:
            # Older payloads have only the refund-wide `restock` flag; newer ones a per-line restock_type.
            restock_type = _upper_enum(line.get("restock_type"), RESTOCK_TYPES, restock_default)
            embedded = line.get("line_item") or {}
            quantity = int(line.get("quantity") or 0)
            subtotal = line.get("subtotal")
            if subtotal is None and line.get("subtotal_set") is None:
                subtotal = money_text(to_decimal(embedded.get("price")) * quantity)
            total_tax = line.get("total_tax")
            if total_tax is None and line.get("total_tax_set") is None:
                total_tax = money_text(prorated_tax(embedded, quantity))
            return {
                "id": gid("RefundLineItem", line.get("id")),
                "quantity": quantity,
                "restockType": restock_type,
                "restocked": restock_type != "NO_RESTOCK",
                "location": self.location(line.get("location_id")),
                "lineItem": self._order_line(line.get("line_item_id", embedded.get("id")), embedded),
                "subtotalSet": self.money(line.get("subtotal_set"), subtotal),
                "totalTaxSet": self.money(line.get("total_tax_set"), total_tax),
            }

        def transaction(rest: dict[str, Any], position: int) -> dict[str, Any]:
            # Shopify always gives a transaction an id; a hand-written payload may not, so derive a stable one.
            tx_id = rest.get("id") or int(refund["id"]) * 1000 + position + 1
            return {
                "id": gid("OrderTransaction", tx_id),
                "kind": _upper_enum(rest.get("kind"), TRANSACTION_KINDS, "REFUND"),
                "status": _upper_enum(rest.get("status"), TRANSACTION_STATUSES, "UNKNOWN"),
                "gateway": rest.get("gateway"),
                "amountSet": self.transaction_money(rest),
                "createdAt": graphql_time(rest.get("created_at") or refund.get("created_at")),
                "processedAt": graphql_time(rest.get("processed_at") or rest.get("created_at")),
                "parentTransaction": None,
                "authorizationExpiresAt": None,
                "test": bool(rest.get("test")),
                "manuallyCapturable": False,
                "multiCapturable": False,
                "paymentId": rest.get("payment_id"),
                "order": None,
            }

        shipping_by_id = {x.get("id"): x for x in self.order.get("shipping_lines") or []}

        def refund_shipping_line(pair: tuple[int, dict[str, Any]]) -> dict[str, Any]:
            position, rest = pair
            shipping = rest.get("shipping_line") or shipping_by_id.get(rest.get("shipping_line_id")) or {}
            return {
                "id": gid("RefundShippingLine", rest.get("id") or int(refund_id) * 100 + position + 1),
                "shippingLine": self.shipping_line({"price": "0.00", **shipping}),
                "subtotalAmountSet": self.money(rest.get("subtotal_amount_set"), rest.get("subtotal_amount")),
                "taxAmountSet": self.money(rest.get("tax_amount_set"), rest.get("tax_amount")),
            }

        def order_adjustment(pair: tuple[int, dict[str, Any]]) -> dict[str, Any]:
            position, rest = pair
            return {
                "id": gid("OrderAdjustment", rest.get("id") or int(refund_id) * 100 + position + 1),
                "amountSet": self.money(rest.get("amount_set"), rest.get("amount")),
                "taxAmountSet": self.money(rest.get("tax_amount_set"), rest.get("tax_amount") or "0.00"),
                "reason": _upper_enum(rest.get("reason"), ADJUSTMENT_REASONS, "REFUND_DISCREPANCY"),
            }

        # Since 2024-10 shipping refunds are refund shipping lines; order adjustments are discrepancies only.
        adjustments = [
            a for a in refund.get("order_adjustments") or [] if str(a.get("kind") or "").lower() != "shipping_refund"
        ]
        duties = (
            [{"amountSet": self.money(refund.get("total_duties_set"), None)}] if refund.get("total_duties_set") else []
        )
        return {
            "id": gid("Refund", refund_id),
            "legacyResourceId": str(refund_id),
            "refundShippingLines": lambda _info, first=None, after=None: list_connection(
                list(enumerate(refund.get("refund_shipping_lines") or [])), refund_shipping_line, first, after
            ),
            "orderAdjustments": lambda _info, first=None, after=None: list_connection(
                list(enumerate(adjustments)), order_adjustment, first, after
            ),
            "duties": duties,
            "createdAt": graphql_time(refund.get("created_at")),
            "note": refund.get("note"),
            "totalRefundedSet": self.money(refund.get("total_refunded_set"), money_text(refunded)),
            "refundLineItems": lambda _info, first=None, after=None: list_connection(
                refund.get("refund_line_items") or [], refund_line, first, after
            ),
            "transactions": lambda _info, first=None, after=None: list_connection(
                list(enumerate(transactions)), lambda pair: transaction(pair[1], pair[0]), first, after
            ),
        }


# root fields


@dataclass
class RequestContext:
    """Per-request data the resolvers leave for the response (Shopify's `extensions.search`)."""

    search: list[dict[str, Any]] = field(default_factory=list)


def _order_cursor(entry: OrderEntry, sort_key: str) -> str:
    return encode_cursor({"last_id": entry.id, "last_value": SORT_KEYS[sort_key](entry)})


def _cursor_key(cursor: str) -> tuple[int, int]:
    payload = decode_cursor(cursor)
    last_id, last_value = payload.get("last_id"), payload.get("last_value")
    if not isinstance(last_id, int) or not isinstance(last_value, int):
        raise bad_request(f"Invalid cursor: {cursor!r}")
    return last_value, last_id


def root_value(store: OrderStore, shop: ShopContext) -> dict[str, Any]:
    """Resolvers of QueryRoot, reading the store as it is when the request starts."""
    entries = store.snapshot()

    def order(_info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:  # noqa: A002 - GraphQL's name
        try:
            order_id = parse_gid(id, "Order")
        except ValueError:
            raise GraphQLError(
                f"Invalid global id '{id}'", extensions={"code": "argumentLiteralsIncompatible"}
            ) from None
        if order_id is None:
            return None
        found = store.get(order_id)
        return OrderView(found, shop).node() if found is not None else None

    def orders(
        info: GraphQLResolveInfo,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        query: str | None = None,
        sortKey: str | None = None,  # noqa: N803 - GraphQL's name
        reverse: bool | None = None,
    ) -> dict[str, Any]:
        if last is not None and before is None:
            # Shopify refuses backward paging without a starting point (UNCONFIRMED wording, see a report of
            # the error); first + reverse: true is the documented way to read the newest records.
            raise bad_request("using last without before is not supported")
        try:
            parsed = parse_search(query)
        except SearchSyntaxError as exc:
            raise bad_request(f"Invalid search query: {exc}") from None
        if parsed.warnings:
            info.context.search.append({"path": list(info.path.as_list()), "query": query, "warnings": parsed.warnings})
        sort_key = sortKey or "ID"
        descending = bool(reverse)
        ordered = sort_entries([e for e in entries if parsed.predicate(e)], sort_key, descending)
        key = SORT_KEYS[sort_key]
        keys = [(key(e), e.id) for e in ordered]

        def beyond(item: tuple[int, int], cursor: tuple[int, int]) -> bool:
            return item < cursor if descending else item > cursor

        start, end = 0, len(ordered)
        if after is not None:
            cursor = _cursor_key(after)
            start = next((i for i, k in enumerate(keys) if beyond(k, cursor)), len(keys))
        if before is not None:
            cursor = _cursor_key(before)
            end = next((i for i, k in enumerate(keys) if k == cursor or beyond(k, cursor)), len(keys))
        start, end = _bounds(start, max(start, end), first, last)
        page = ordered[start:end]
        cursors = [_order_cursor(e, sort_key) for e in page]
        return _connection([OrderView(e.order, shop).node() for e in page], cursors, start, end, len(ordered))

    return {
        "order": order,
        "orders": orders,
        "shop": {"name": shop.name, "myshopifyDomain": shop.domain, "currencyCode": shop.currency},
    }
