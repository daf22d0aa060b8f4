"""The process's Shopify Admin API client, wired to settings and to the fleet counters."""

from __future__ import annotations

from typing import Any

from app.adapters import counters
from app.config import get_settings
from app.once import built_once
from shopify_client.client import ShopifyAdminClient, ShopifyCallRecord
from shopify_client.orders import get_order
from shopify_client.payments import OrderTransaction, order_transactions


@built_once
def get_shopify() -> ShopifyAdminClient:
    s = get_settings()
    # Every worker process has its own client (and estimate of the bucket): after a THROTTLED answer they come back
    # spread over the query's restore time rather than all at once (shopify_client.client._throttle_window).
    return ShopifyAdminClient(
        url=s.shopify_admin_url, access_token=s.shopify_admin_token, on_call=_observe, throttle_spread=1.0
    )


def _observe(record: ShopifyCallRecord) -> None:
    """Every Shopify attempt feeds the fleet counters (calls, query cost, throttle points) behind /metrics."""
    counters.shopify_call(record, get_shopify().throttle_status)


def fetch_order(order_id: int) -> dict[str, Any] | None:
    """The order as Shopify has it now (REST shape, with its fulfillments and refunds), or None if it is gone."""
    return get_order(get_shopify(), order_id)


def fetch_order_transactions(order_id: int) -> list[OrderTransaction] | None:
    """The order's transactions as Shopify has them now (Order.transactions), or None if the order is gone."""
    return order_transactions(get_shopify(), order_id)
