"""Shopify: webhook HMAC verify/sign, and the Admin GraphQL client (cost-aware throttle, typed errors, orders,
inventory levels and keyed quantity pushes, bulk queries, webhook subscriptions, granted access scopes, Shopify
Payments payouts, balance transactions, order transactions and disputes).

A reusable library: it imports nothing from the application.
"""

from shopify_client.access import ACCESS_SCOPES_QUERY, granted_scopes, missing_scopes
from shopify_client.bulk import BulkResult, ShopifyBulkTimeout, iter_jsonl, run_bulk_query
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
from shopify_client.ids import gid, legacy_id
from shopify_client.inventory import (
    Level,
    Location,
    QuantityChange,
    SetResult,
    batched,
    idempotency_key,
    iter_inventory_items,
    iter_levels,
    iter_levels_bulk,
    iter_locations,
    read_levels,
    set_available,
)
from shopify_client.orders import get_order, iter_orders_updated_between
from shopify_client.payments import (
    BalanceTransaction,
    Dispute,
    OrderTransaction,
    Payout,
    PayoutTransactions,
    iter_disputes,
    iter_payouts,
    order_transactions,
    payout_balance_transactions,
    payouts_search_query,
)
from shopify_client.subscriptions import (
    Subscription,
    create_subscription,
    list_subscriptions,
    topic_from_enum,
    topic_to_enum,
    update_subscription,
)
from shopify_client.webhooks import sign, verify

__all__ = [
    "ACCESS_SCOPES_QUERY",
    "BalanceTransaction",
    "BulkResult",
    "Dispute",
    "OrderTransaction",
    "Payout",
    "PayoutTransactions",
    "iter_disputes",
    "iter_payouts",
    "order_transactions",
    "payout_balance_transactions",
    "payouts_search_query",
    "Level",
    "Location",
    "QuantityChange",
    "SetResult",
    "ShopifyAdminClient",
    "ShopifyAuthError",
    "ShopifyBulkTimeout",
    "ShopifyCallRecord",
    "ShopifyError",
    "ShopifyGraphQLError",
    "ShopifyServerError",
    "ShopifyThrottled",
    "ShopifyTransportError",
    "ShopifyUserError",
    "ThrottleStatus",
    "Subscription",
    "UserErrorDetail",
    "batched",
    "create_subscription",
    "error_from_response",
    "get_order",
    "gid",
    "granted_scopes",
    "idempotency_key",
    "is_retryable",
    "iter_inventory_items",
    "iter_jsonl",
    "iter_levels",
    "iter_levels_bulk",
    "iter_locations",
    "iter_orders_updated_between",
    "legacy_id",
    "list_subscriptions",
    "missing_scopes",
    "read_levels",
    "run_bulk_query",
    "set_available",
    "sign",
    "topic_from_enum",
    "topic_to_enum",
    "update_subscription",
    "user_error_from_payload",
    "verify",
]
