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
