"""The process's Shopify Admin API client, wired to settings."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from app.config import get_settings


@lru_cache(maxsize=1)
def get_shopify() -> Any:
    from shopify_client.client import ShopifyAdminClient

    s = get_settings()
    return ShopifyAdminClient(url=s.shopify_admin_url, access_token=s.shopify_admin_token)


def fetch_order(order_id: int) -> dict[str, Any] | None:
    """The order as Shopify has it now (REST shape, with its fulfillments and refunds), or None if it is gone."""
    from shopify_client.orders import get_order

    return get_order(get_shopify(), order_id)
