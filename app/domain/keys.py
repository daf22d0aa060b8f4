"""External ids: the idempotency backbone. A retry addresses the same NetSuite record, never a new one."""

from __future__ import annotations

import re

_ALLOWED = re.compile(r"^[A-Za-z0-9_-]+$")


def _eid(kind: str, shopify_id: int | str) -> str:
    value = f"shopify-{kind}-{shopify_id}"
    if not _ALLOWED.match(value):
        raise ValueError(f"external id {value!r} has characters NetSuite does not allow")
    return value


def customer_external_id(customer_id: int) -> str:
    return _eid("customer", customer_id)


def order_external_id(order_id: int) -> str:
    return _eid("order", order_id)


def fulfillment_external_id(fulfillment_id: int) -> str:
    return _eid("fulfillment", fulfillment_id)


def refund_external_id(refund_id: int) -> str:
    return _eid("refund", refund_id)


def transaction_external_id(transaction_id: int | str) -> str:
    """A Shopify order transaction (sale, capture, refund) as the one NetSuite receipt or refund record it becomes."""
    return _eid("txn", transaction_id)


def payout_external_id(payout_id: int | str) -> str:
    """A Shopify Payments payout (its legacyResourceId) as the one NetSuite deposit it becomes."""
    return _eid("payout", payout_id)
