"""Shopify: webhook HMAC verify/sign, and the Admin GraphQL client (cost-aware throttle, typed errors, orders).

A reusable library: it imports nothing from the application.
"""

from shopify_client.client import ShopifyAdminClient, ShopifyCallRecord, ThrottleStatus
from shopify_client.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyServerError,
    ShopifyThrottled,
    ShopifyTransportError,
    ShopifyUserError,
    UserErrorDetail,
    error_from_response,
    is_retryable,
    user_error_from_payload,
)
from shopify_client.orders import get_order, gid, iter_orders_updated_between, legacy_id
from shopify_client.webhooks import sign, verify

__all__ = [
    "ShopifyAdminClient",
    "ShopifyAuthError",
    "ShopifyCallRecord",
    "ShopifyError",
    "ShopifyGraphQLError",
    "ShopifyServerError",
    "ShopifyThrottled",
    "ShopifyTransportError",
    "ShopifyUserError",
    "ThrottleStatus",
    "UserErrorDetail",
    "error_from_response",
    "get_order",
    "gid",
    "is_retryable",
    "iter_orders_updated_between",
    "legacy_id",
    "sign",
    "user_error_from_payload",
    "verify",
]
