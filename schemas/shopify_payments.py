"""Payload schemas of the payment topics: order_transactions/create (one order transaction) and disputes/create|
update (one Shopify Payments dispute). orders/paid carries the order itself and loads with `OrderSchema`.

The shapes are Shopify's 2026-04 webhook examples (`tests/fixtures/shopify_webhook_examples/`): ids are ints
(kept exact, never floats), money is Decimal, kinds and statuses stay Shopify's lower-case words.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

Money = fields.Decimal


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class _MoneyInCurrency(_Lenient):
    amount = Money(required=True)
    currency = fields.String(allow_none=True, load_default=None)


class _UnsettledSet(_Lenient):
    shop_money = fields.Nested(_MoneyInCurrency, allow_none=True, load_default=None)
    presentment_money = fields.Nested(_MoneyInCurrency, allow_none=True, load_default=None)


class OrderTransactionSchema(_Lenient):
    """order_transactions/create: sent when a transaction is created or its status changes (success, failure,
    error only). `amount` is in `currency`, the currency the buyer paid in."""

    id = fields.Integer(required=True, strict=True)
    order_id = fields.Integer(required=True, strict=True)
    kind = fields.String(required=True)  # sale | authorization | capture | void | refund | ...
    status = fields.String(required=True)  # success | failure | error | pending
    gateway = fields.String(allow_none=True, load_default=None)
    amount = Money(required=True)
    currency = fields.String(allow_none=True, load_default=None)
    parent_id = fields.Integer(allow_none=True, strict=True, load_default=None)
    created_at = fields.AwareDateTime(allow_none=True, load_default=None)
    processed_at = fields.AwareDateTime(allow_none=True, load_default=None)
    test = fields.Boolean(allow_none=True, load_default=None)
    error_code = fields.String(allow_none=True, load_default=None)
    payment_id = fields.String(allow_none=True, load_default=None)
    manual_payment_gateway = fields.Boolean(allow_none=True, load_default=None)
    total_unsettled_set = fields.Nested(_UnsettledSet, allow_none=True, load_default=None)
    admin_graphql_api_id = fields.String(allow_none=True, load_default=None)


class DisputeSchema(_Lenient):
    """disputes/create and disputes/update: the REST Dispute resource."""

    id = fields.Integer(required=True, strict=True)
    order_id = fields.Integer(allow_none=True, strict=True, load_default=None)
    type = fields.String(required=True)  # chargeback | inquiry
    amount = Money(required=True)
    currency = fields.String(required=True)
    reason = fields.String(allow_none=True, load_default=None)
    network_reason_code = fields.String(allow_none=True, load_default=None)
    status = fields.String(required=True)  # needs_response | under_review | won | lost | accepted | ...
    evidence_due_by = fields.AwareDateTime(allow_none=True, load_default=None)
    evidence_sent_on = fields.AwareDateTime(allow_none=True, load_default=None)
    finalized_on = fields.AwareDateTime(allow_none=True, load_default=None)
    initiated_at = fields.AwareDateTime(allow_none=True, load_default=None)
    admin_graphql_api_id = fields.String(allow_none=True, load_default=None)
