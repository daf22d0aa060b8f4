"""Shopify order -> NetSuite customer and sales order bodies. Pure: no I/O, plain data in and out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.domain.customers import CustomerConfig, CustomerNeed, order_customer
from app.domain.customers import netsuite_address as _address
from app.domain.errors import MappingError, UnknownSku
from app.domain.keys import order_external_id
from app.domain.state_machine import sales_quantity

CENT = Decimal("0.01")


@dataclass(frozen=True)
class MappingConfig:
    currency_map: Mapping[str, str]
    default_customer_external_id: str
    discount_item_id: str | None = None
    # Customers (app/domain/customers.py): GUEST_CUSTOMERS and NETSUITE_SUBSIDIARY_ID.
    guest_customers: str = "per_email"
    subsidiary_id: str | None = None


@dataclass(frozen=True)
class OrderBodies:
    order_external_id: str
    customer: CustomerNeed  # which customer the order names (app/domain/customers.py)
    sales_order_body: dict[str, Any]

    @property
    def customer_external_id(self) -> str:
        return self.customer.external_id

    @property
    def customer_body(self) -> dict[str, Any]:
        return self.customer.body


def order_skus(order: Mapping[str, Any]) -> list[str]:
    """SKUs an order needs resolved, in line order, without duplicates; a line without a SKU is an error."""
    skus: list[str] = []
    for line in order["line_items"]:
        sku = (line.get("sku") or "").strip()
        if not sku:
            raise MappingError(f"line item {line['id']} of order {order['name']} has no SKU")
        if sku not in skus:
            skus.append(sku)
    return skus


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal("0")).quantize(CENT)


def map_order(
    order: Mapping[str, Any],
    item_ids: Mapping[str, str],
    config: MappingConfig,
    netsuite_lines: Mapping[int, int] | None = None,
) -> OrderBodies:
    """Build the NetSuite bodies for one Shopify order (already loaded through OrderSchema).

    The service upserts with `?replace=item`: NetSuite appends unkeyed lines on update, so a retried PUT would
    otherwise double every line. Lines whose NetSuite line number we know (`netsuite_lines`, by Shopify line id)
    carry it as `line`, so they are updated in place (a fulfilled line can't be removed and re-added); the others
    are added. Every line carries its Shopify line id in `custcol_shopify_line_id` to be matched back.
    """
    missing = [sku for sku in order_skus(order) if sku not in item_ids]
    if missing:
        raise UnknownSku(missing)
    currency_id = _currency_id(order, config)
    customer = order_customer(order, _customer_config(config))
    lines = _sales_order_lines(order, item_ids, netsuite_lines or {})
    return OrderBodies(
        order_external_id=order_external_id(order["id"]),
        customer=customer,
        sales_order_body=_sales_order_body(order, config, customer.external_id, currency_id, lines),
    )


def _currency_id(order: Mapping[str, Any], config: MappingConfig) -> str:
    currency = order["currency"].upper()
    currency_id = config.currency_map.get(currency)
    if currency_id is None:
        raise MappingError(
            f"currency {currency} of order {order['name']} has no NetSuite currency in NETSUITE_CURRENCY_MAP",
            code="UNMAPPED_CURRENCY",
        )
    return currency_id


def _customer_config(config: MappingConfig) -> CustomerConfig:
    return CustomerConfig(
        guest_customers=config.guest_customers,
        default_customer_external_id=config.default_customer_external_id,
        subsidiary_id=config.subsidiary_id,
    )


def _sales_order_lines(
    order: Mapping[str, Any], item_ids: Mapping[str, str], netsuite_lines: Mapping[int, int]
) -> list[dict[str, Any]]:
    lines = []
    for line in order["line_items"]:
        quantity = sales_quantity(line, order)
        if quantity == 0:
            continue  # a line edited down to zero is not a sale
        entry: dict[str, Any] = {
            "custcol_shopify_line_id": str(line["id"]),
            "item": {"id": item_ids[line["sku"].strip()]},
            "quantity": quantity,
            "rate": _money(line["price"]),
            "amount": _money(line["price"] * quantity),
            "description": (line.get("name") or line.get("title") or "")[:999],
        }
        if line["id"] in netsuite_lines:
            entry["line"] = netsuite_lines[line["id"]]
        lines.append(entry)
    if not lines:
        raise MappingError(f"order {order['name']} has no line with a quantity")
    return lines


def _sales_order_body(
    order: Mapping[str, Any],
    config: MappingConfig,
    cust_eid: str,
    currency_id: str,
    lines: list[dict[str, Any]],
) -> dict[str, Any]:
    shipping = sum((_money(s["price"]) for s in order.get("shipping_lines") or []), Decimal("0"))
    body: dict[str, Any] = {
        "entity": {"externalId": cust_eid},
        "currency": {"id": currency_id},
        "tranDate": order["created_at"].date().isoformat(),
        "otherRefNum": order["name"],
        "memo": f"Shopify order {order['name']}",
        "shippingCost": shipping,
        "item": {"items": lines},
        # Shopify's own figures travel with the order so reconciliation can compare totals to the cent.
        "custbody_shopify_order_id": str(order["id"]),
        "custbody_shopify_total": _money(order["total_price"]),
        "custbody_shopify_tax": _money(order.get("total_tax")),
    }
    body.update(_discount_fields(order, config))
    ship = _address(order.get("shipping_address"))
    if ship:
        body["shippingAddress"] = ship
    bill = _address(order.get("billing_address"))
    if bill:
        body["billingAddress"] = bill
    return body


def _discount_fields(order: Mapping[str, Any], config: MappingConfig) -> dict[str, Any]:
    """The order-level discount as NetSuite's discount item and (negative) rate; none without discounts."""
    discounts = _money(order.get("total_discounts"))
    if not discounts:
        return {}
    if not config.discount_item_id:
        raise MappingError(
            f"order {order['name']} has discounts of {discounts} but NETSUITE_DISCOUNT_ITEM_ID is not set",
            code="NO_DISCOUNT_ITEM",
        )
    return {"discountItem": {"id": config.discount_item_id}, "discountRate": -discounts}


def money_mismatch(order: Mapping[str, Any]) -> str | None:
    """Compare what the sales order carries with Shopify's total, to the cent. None when they agree.

    lines (price x quantity - line discounts) + shipping + tax - order-level discounts must equal total_price;
    when it does not (an edit Shopify totals differently, a rounding rule, a payload Shopify built by hand) the
    difference is recorded on the order for finance to see, never silently absorbed.
    """
    lines = sum(
        (
            _money(line["price"]) * line["quantity"] - _money(line.get("total_discount"))
            for line in order["line_items"]
            if line["quantity"]
        ),
        Decimal("0"),
    )
    shipping = sum((_money(s["price"]) for s in order.get("shipping_lines") or []), Decimal("0"))
    tax = _money(order.get("total_tax"))
    line_discounts = sum((_money(line.get("total_discount")) for line in order["line_items"]), Decimal("0"))
    order_discounts = _money(order.get("total_discounts")) - line_discounts
    computed = (lines + shipping + tax - max(order_discounts, Decimal("0"))).quantize(CENT)
    total = _money(order["total_price"])
    if computed == total:
        return None
    return (
        f"order {order['name']}: lines {lines.quantize(CENT)} + shipping {shipping} + tax {tax} - discounts "
        f"{max(order_discounts, Decimal('0'))} = {computed}, Shopify total {total} (difference {total - computed})"
    )
