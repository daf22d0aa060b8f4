"""Inbound Shopify webhook payloads (REST resource shapes), loaded per API version.

Unknown fields are tolerated (Shopify adds fields every quarter); fields the mapping needs are required and
typed. Ids exceed 2**53, so they are loaded as Python ints from the JSON text (never through float), and money
is Decimal.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from schemas.shopify_payments import DisputeSchema, OrderTransactionSchema

__all__ = [
    "ValidationError",
    "OrderSchema",
    "OrderEditedSchema",
    "InventoryLevelSchema",
    "PAYLOAD_SCHEMAS",
    "envelope_resource_id",
    "order_schema_for",
    "SUPPORTED_API_VERSIONS",
]

# Versions whose order payload shape we have checked against the real fixtures. Unknown versions load with the
# newest schema; the count of unknown fields per version arrives with the schema-drift work.
SUPPORTED_API_VERSIONS = ("2024-10", "2025-01", "2025-04", "2025-07", "2025-10", "2026-01", "2026-04")

Money = fields.Decimal  # shorthand: money is always Decimal, never float


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class MoneySchema(_Lenient):
    amount = Money(required=True)
    currency_code = fields.String(allow_none=True)


class MoneySetSchema(_Lenient):
    """Shopify's MoneyBag: the amount in the shop's currency and in the customer's (presentment) currency."""

    shop_money = fields.Nested(MoneySchema, allow_none=True, load_default=None)
    presentment_money = fields.Nested(MoneySchema, allow_none=True, load_default=None)


def MoneySet() -> fields.Nested:  # noqa: N802 (a field factory, read like a field class)
    return fields.Nested(MoneySetSchema, allow_none=True, load_default=None)


class TaxLineSchema(_Lenient):
    title = fields.String(allow_none=True)
    price = Money(required=True)
    price_set = MoneySet()
    rate = fields.Decimal(allow_none=True)


class DiscountAllocationSchema(_Lenient):
    amount = Money(required=True)
    amount_set = MoneySet()
    discount_application_index = fields.Integer(allow_none=True, load_default=None)


class DutySchema(_Lenient):
    """A duty on a line: REST puts the money bag either under price_set or as shop_money/presentment_money."""

    price = Money(allow_none=True, load_default=None)
    price_set = MoneySet()
    shop_money = fields.Nested(MoneySchema, allow_none=True, load_default=None)
    presentment_money = fields.Nested(MoneySchema, allow_none=True, load_default=None)


class DiscountApplicationSchema(_Lenient):
    type = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    target_type = fields.String(allow_none=True)


class TransactionSummarySchema(_Lenient):
    """A transaction as an order payload may carry it (orders read through the Admin API): gift-card tenders."""

    gateway = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    amount = Money(allow_none=True, load_default=None)
    amount_set = MoneySet()


class AddressSchema(_Lenient):
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    company = fields.String(allow_none=True)
    address1 = fields.String(allow_none=True)
    address2 = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    province = fields.String(allow_none=True)
    province_code = fields.String(allow_none=True)
    zip = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    country_code = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class CustomerSchema(_Lenient):
    id = fields.Integer(required=True, strict=True)
    email = fields.String(allow_none=True)
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class LineItemSchema(_Lenient):
    id = fields.Integer(required=True, strict=True)
    variant_id = fields.Integer(allow_none=True, strict=True)
    product_id = fields.Integer(allow_none=True, strict=True)
    sku = fields.String(required=True, allow_none=True)
    title = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    price = Money(required=True)
    total_discount = Money(load_default=None, allow_none=True)
    fulfillment_status = fields.String(allow_none=True)
    # After order edits and refunds (None in payloads older than the field).
    current_quantity = fields.Integer(strict=True, allow_none=True, load_default=None, validate=validate.Range(min=0))
    # the money mapping (docs/MAPPING.md)
    price_set = MoneySet()
    gift_card = fields.Boolean(allow_none=True, load_default=None)
    taxable = fields.Boolean(allow_none=True, load_default=None)
    tax_lines = fields.List(fields.Nested(TaxLineSchema), load_default=list)
    discount_allocations = fields.List(fields.Nested(DiscountAllocationSchema), load_default=list)
    duties = fields.List(fields.Nested(DutySchema), load_default=list)


class OrderRefundLineSchema(_Lenient):
    line_item_id = fields.Integer(required=True, strict=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    # what the refunded units were worth (the money rule adds them back to Shopify's current total)
    subtotal = Money(allow_none=True, load_default=None)
    subtotal_set = MoneySet()
    total_tax = Money(allow_none=True, load_default=None)
    total_tax_set = MoneySet()


class _RefundOutsideLines(_Lenient):
    """What a refund gives back besides its line items (app/domain/refunds.py): shipping (`refund_shipping_lines`;
    before 2024-10 an order adjustment of kind shipping_refund), duties, and order adjustments (discrepancies)."""

    refund_shipping_lines = fields.List(fields.Dict(), load_default=list)
    order_adjustments = fields.List(fields.Dict(), load_default=list)
    duties = fields.List(fields.Dict(), load_default=list)
    total_duties_set = MoneySet()


class OrderRefundSchema(_RefundOutsideLines):
    """A refund as the order payload lists it: which units of which lines it took back, and what else."""

    id = fields.Integer(required=True, strict=True)
    refund_line_items = fields.List(fields.Nested(OrderRefundLineSchema), load_default=list)


class ShippingLineSchema(_Lenient):
    id = fields.Integer(allow_none=True, strict=True, load_default=None)
    code = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    price = Money(required=True)
    price_set = MoneySet()
    is_removed = fields.Boolean(allow_none=True, load_default=None)
    tax_lines = fields.List(fields.Nested(TaxLineSchema), load_default=list)
    discount_allocations = fields.List(fields.Nested(DiscountAllocationSchema), load_default=list)


class DiscountCodeSchema(_Lenient):
    code = fields.String(allow_none=True)
    amount = Money(allow_none=True)


class OrderSchema(_Lenient):
    id = fields.Integer(required=True, strict=True)
    name = fields.String(required=True)
    order_number = fields.Integer(allow_none=True, strict=True)
    email = fields.String(allow_none=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    financial_status = fields.String(allow_none=True)
    fulfillment_status = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    total_price = Money(required=True)
    subtotal_price = Money(allow_none=True)
    total_tax = Money(load_default=None, allow_none=True)
    total_discounts = Money(load_default=None, allow_none=True)
    line_items = fields.List(fields.Nested(LineItemSchema), required=True)
    shipping_lines = fields.List(fields.Nested(ShippingLineSchema), load_default=list)
    tax_lines = fields.List(fields.Nested(TaxLineSchema), load_default=list)
    discount_codes = fields.List(fields.Nested(DiscountCodeSchema), load_default=list)
    billing_address = fields.Nested(AddressSchema, allow_none=True)
    shipping_address = fields.Nested(AddressSchema, allow_none=True)
    customer = fields.Nested(CustomerSchema, allow_none=True)
    refunds = fields.List(fields.Nested(OrderRefundSchema), load_default=list)
    # the money mapping (docs/MAPPING.md): amounts in both currencies, tax flags, tips, duties, fees, tenders
    presentment_currency = fields.String(allow_none=True, load_default=None)
    current_total_price = Money(allow_none=True, load_default=None)
    current_total_tax = Money(allow_none=True, load_default=None)
    current_total_discounts = Money(allow_none=True, load_default=None)
    total_discounts_set = MoneySet()
    current_total_discounts_set = MoneySet()
    total_tip_received = Money(allow_none=True, load_default=None)
    total_price_set = MoneySet()
    current_total_price_set = MoneySet()
    total_tax_set = MoneySet()
    current_total_tax_set = MoneySet()
    total_tip_received_set = MoneySet()
    current_total_duties_set = MoneySet()
    current_total_additional_fees_set = MoneySet()
    taxes_included = fields.Boolean(allow_none=True, load_default=None)
    tax_exempt = fields.Boolean(allow_none=True, load_default=None)
    discount_applications = fields.List(fields.Nested(DiscountApplicationSchema), load_default=list)
    payment_gateway_names = fields.List(fields.String(allow_none=True), load_default=list)
    transactions = fields.List(fields.Nested(TransactionSummarySchema), load_default=list)


def order_schema_for(api_version: str) -> OrderSchema:
    """The order schema for a delivery's X-Shopify-API-Version (one shape for every version so far).

    One instance per process: building it (its fields and every nested schema) cost more CPU than loading an order
    with it, and `load` keeps no state on the instance, so threads may share it."""
    return _ORDER_SCHEMA


_ORDER_SCHEMA = OrderSchema()


def envelope_resource_id(topic: str, payload: dict) -> int | None:
    """The id of the resource an event is about (order id for orders/*, the order behind a refund...)."""
    key = "order_id" if topic.startswith(("fulfillments/", "refunds/", "order_transactions/")) else "id"
    if topic.startswith("inventory_levels/"):
        key = "inventory_item_id"
    if topic == "orders/edited":
        # {"order_edit": {"id": <the edit>, "order_id": <the order>, ...}}: the event is about the order.
        edit = payload.get("order_edit")
        payload, key = (edit if isinstance(edit, dict) else {}), "order_id"
    value = payload.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class FulfillmentLineSchema(_Lenient):
    id = fields.Integer(required=True, strict=True)  # the order's line item id
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    sku = fields.String(allow_none=True)
    gift_card = fields.Boolean(allow_none=True, load_default=None)


class FulfillmentSchema(_Lenient):
    id = fields.Integer(required=True, strict=True)
    order_id = fields.Integer(required=True, strict=True)
    status = fields.String(required=True)
    location_id = fields.Integer(allow_none=True, strict=True, load_default=None)
    tracking_company = fields.String(allow_none=True)
    tracking_number = fields.String(allow_none=True)
    tracking_numbers = fields.List(fields.String(), load_default=list)
    created_at = fields.AwareDateTime(allow_none=True)
    updated_at = fields.AwareDateTime(allow_none=True)
    line_items = fields.List(fields.Nested(FulfillmentLineSchema), required=True)


class RefundLineItemSchema(_Lenient):
    id = fields.Integer(required=True, strict=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    line_item_id = fields.Integer(required=True, strict=True)
    location_id = fields.Integer(allow_none=True, strict=True, load_default=None)
    restock_type = fields.String(allow_none=True, load_default=None)
    subtotal = Money(allow_none=True, load_default=None)
    subtotal_set = MoneySet()
    total_tax = Money(allow_none=True, load_default=None)
    total_tax_set = MoneySet()
    line_item = fields.Nested(LineItemSchema(partial=True), allow_none=True, load_default=None)


class TransactionSchema(_Lenient):
    amount = Money(required=True)
    currency = fields.String(allow_none=True, load_default=None)  # the currency the buyer paid
    kind = fields.String(required=True)
    status = fields.String(allow_none=True, load_default=None)
    gateway = fields.String(allow_none=True)


class RefundSchema(_RefundOutsideLines):
    id = fields.Integer(required=True, strict=True)
    order_id = fields.Integer(required=True, strict=True)
    created_at = fields.AwareDateTime(allow_none=True)
    note = fields.String(allow_none=True)
    restock = fields.Boolean(allow_none=True, load_default=None)
    refund_line_items = fields.List(fields.Nested(RefundLineItemSchema), load_default=list)
    transactions = fields.List(fields.Nested(TransactionSchema), load_default=list)


class InventoryLevelSchema(_Lenient):
    """inventory_levels/update: Shopify's level of one item at one location (recorded, never written to NetSuite)."""

    inventory_item_id = fields.Integer(required=True, strict=True)
    location_id = fields.Integer(required=True, strict=True)
    available = fields.Integer(required=True, allow_none=True, strict=True)  # null: the item is not tracked
    updated_at = fields.AwareDateTime(allow_none=True, load_default=None)
    admin_graphql_api_id = fields.String(allow_none=True, load_default=None)


class OrderEditLineChangeSchema(_Lenient):
    id = fields.Integer(required=True, strict=True)  # the order's line item id (a new one for an addition)
    delta = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class OrderEditLineChangesSchema(_Lenient):
    additions = fields.List(fields.Nested(OrderEditLineChangeSchema), load_default=list)
    removals = fields.List(fields.Nested(OrderEditLineChangeSchema), load_default=list)


class OrderEditRawChangesSchema(_Lenient):
    # Shopify's examples only ever show these lists empty: their items are kept as they come.
    additions = fields.List(fields.Dict(), load_default=list)
    removals = fields.List(fields.Dict(), load_default=list)


class OrderEditDiscountsSchema(_Lenient):
    line_item = fields.Nested(OrderEditRawChangesSchema, load_default=lambda: {"additions": [], "removals": []})


class OrderEditSchema(_Lenient):
    id = fields.Integer(required=True, strict=True)
    app_id = fields.Integer(allow_none=True, strict=True, load_default=None)
    created_at = fields.AwareDateTime(allow_none=True, load_default=None)
    committed_at = fields.AwareDateTime(allow_none=True, load_default=None)
    notify_customer = fields.Boolean(allow_none=True, load_default=None)
    order_id = fields.Integer(required=True, strict=True)
    staff_note = fields.String(allow_none=True, load_default=None)
    user_id = fields.Integer(allow_none=True, strict=True, load_default=None)
    line_items = fields.Nested(OrderEditLineChangesSchema, load_default=lambda: {"additions": [], "removals": []})
    discounts = fields.Nested(
        OrderEditDiscountsSchema, load_default=lambda: {"line_item": {"additions": [], "removals": []}}
    )
    shipping_lines = fields.Nested(OrderEditRawChangesSchema, load_default=lambda: {"additions": [], "removals": []})


class OrderEditedSchema(_Lenient):
    """orders/edited: what an order edit changed (line quantities as deltas); the edited order itself comes with the
    orders/updated that Shopify sends alongside, or is read from the Admin API."""

    order_edit = fields.Nested(OrderEditSchema, required=True)


# The schema of each topic's payload.
PAYLOAD_SCHEMAS: dict[str, type[Schema]] = {
    "orders/create": OrderSchema,
    "orders/updated": OrderSchema,
    "orders/cancelled": OrderSchema,
    "orders/edited": OrderEditedSchema,
    "fulfillments/create": FulfillmentSchema,
    "fulfillments/update": FulfillmentSchema,
    "refunds/create": RefundSchema,
    "inventory_levels/update": InventoryLevelSchema,
    # The payment topics (issue 13): schemas ready before the service routes them (app/routing.py TOPICS).
    "orders/paid": OrderSchema,
    "order_transactions/create": OrderTransactionSchema,
    "disputes/create": DisputeSchema,
    "disputes/update": DisputeSchema,
}
