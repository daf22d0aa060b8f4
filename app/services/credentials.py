"""Credentials health: authenticate to NetSuite and Shopify every 15 minutes, so a revoked or expiring token (or a
permission removed from the role) is caught before the orders stop. Results live in Redis for /metrics."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis

from app.services.redis_client import get_redis
from netsuite_client.errors import AuthError, NetSuiteError
from shopify_client.errors import ShopifyAuthError, ShopifyError

log = logging.getLogger(__name__)

KEY = "shopsync:credentials"


def _netsuite(client: Any) -> str:
    try:
        # The cheapest authenticated read that also proves the SuiteQL permission (SuiteAnalytics Workbook).
        list(client.suiteql("SELECT id FROM item ORDER BY id FETCH FIRST 1 ROWS ONLY", lane="reconcile"))
    except AuthError as exc:
        return f"red: {exc.code or 'AUTH'} ({exc.status}): {exc.detail[:200]}"
    except NetSuiteError as exc:
        return f"unknown: {exc.code or exc.status}: {exc.detail[:200]}"
    return "green"


def _shopify(client: Any) -> str:
    try:
        client.execute("query CredentialsCheck { shop { name } }", operation_name="CredentialsCheck")
    except ShopifyAuthError as exc:
        return f"red: {exc.code or 'AUTH'} ({exc.status})"
    except ShopifyError as exc:
        return f"unknown: {exc.code or exc.status}"
    return "green"


def check_credentials(netsuite: Any, shopify: Any, client: redis.Redis | None = None) -> dict[str, str]:
    results = {"netsuite": _netsuite(netsuite), "shopify": _shopify(shopify)}
    for system, result in results.items():
        if result != "green":
            log.error("credentials check: %s is %s", system, result)
    client = client or get_redis()
    client.set(KEY, json.dumps({"checked_at": time.time(), **results}))
    return results


def last_result(client: redis.Redis) -> dict[str, Any] | None:
    raw = client.get(KEY)
    return json.loads(raw) if raw else None
