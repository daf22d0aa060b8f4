"""Credentials health: authenticate to NetSuite and Shopify every 15 minutes, so a revoked or expiring token (or a
permission removed from the role or the app) is caught before the orders stop. Results live in Redis for /metrics.

Each system's result is "green", "red: ..." or "unknown: ..." (the check itself could not tell). A missing
permission makes the system red and is named as docs/PERMISSIONS.md writes it:

- Shopify: `currentAppInstallation.accessScopes` lists the scopes granted to the app; every scope in
  `SHOPIFY_REQUIRED_SCOPES` must be there (`write_x` covers `read_x`).
- NetSuite has no API that lists a role's permissions, so each probe in `NETSUITE_PROBES` makes the cheapest read
  that needs one, and a `403 INSUFFICIENT_PERMISSION` names what is missing (the permission NetSuite's detail
  names, `'Lists -> Customers'`, else the probe's own). Reads only: a probe never writes. Permissions needed only
  to write (Create/Edit levels, the create-only transactions) show only at the first write, as `auth` dead letters.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from app.adapters.redis_client import get_redis
from netsuite_client import NetSuiteClient, suiteql_in
from netsuite_client.errors import AuthError, NetSuiteError
from shopify_client.access import granted_scopes, missing_scopes
from shopify_client.client import ShopifyAdminClient
from shopify_client.errors import ShopifyAuthError, ShopifyError

log = logging.getLogger(__name__)

KEY = "shopsync:credentials"
LANE = "reconcile"

# docs/PERMISSIONS.md, "Shopify app access scopes".
SHOPIFY_REQUIRED_SCOPES: tuple[str, ...] = (
    "read_orders",
    "read_inventory",
    "write_inventory",
    "read_locations",
    "read_shopify_payments_disputes",
)


@dataclass(frozen=True)
class NetSuiteProbe:
    """One read that needs `permission` (as docs/PERMISSIONS.md names it): a SuiteQL query or a one-row GET of a
    record type's collection."""

    permission: str
    query: str | None = None
    record_type: str | None = None

    def run(self, client: NetSuiteClient) -> None:
        if self.query is not None:
            list(client.suiteql(self.query, page_size=1, lane=LANE))
        else:
            client.list_ids(self.record_type, limit=1, lane=LANE)


NETSUITE_PROBES: tuple[NetSuiteProbe, ...] = (
    # First: the cheapest authenticated read, which also proves SuiteQL works (it needs Items (Lists) as well;
    # NetSuite's 403 says which of the two is missing).
    NetSuiteProbe("SuiteAnalytics Workbook (Reports)", query="SELECT id FROM item ORDER BY id FETCH FIRST 1 ROWS ONLY"),
    NetSuiteProbe("Customers (Lists)", record_type="customer"),
    NetSuiteProbe("Items (Lists)", record_type="inventoryItem"),
    NetSuiteProbe("Locations (Lists)", record_type="location"),
    NetSuiteProbe("Currency (Lists)", record_type="currency"),
    # Reading a sales order also needs Find Transaction (Transactions); the 403 names whichever is missing.
    NetSuiteProbe("Sales Order (Transactions)", record_type="salesOrder"),
)

# NetSuite's detail names the permission as the UI does: "You need  the 'Lists -> Customers' permission ...".
_NAMED_PERMISSION = re.compile(r"'\s*([^'>]+?)\s*->\s*([^']+?)\s*'")


def permission_from_detail(detail: str) -> str | None:
    """`Customers (Lists)` from a NetSuite detail naming `'Lists -> Customers'`; None if it names none."""
    match = _NAMED_PERMISSION.search(detail or "")
    return f"{match.group(2)} ({match.group(1)})" if match else None


def missing_text(names: list[str]) -> str:
    return "red: missing permission(s): " + ", ".join(names)


def _is_permission_error(exc: AuthError) -> bool:
    return exc.status == 403 and (
        exc.code == "INSUFFICIENT_PERMISSION" or permission_from_detail(exc.detail) is not None
    )


def _netsuite(client: NetSuiteClient) -> tuple[str, list[str]]:
    missing: list[str] = []
    stopped: str | None = None
    for probe in NETSUITE_PROBES:
        try:
            probe.run(client)
        except AuthError as exc:
            if not _is_permission_error(exc):
                # The token itself was refused: no probe can tell anything more.
                return f"red: {exc.code or 'AUTH'} ({exc.status}): {exc.detail[:200]}", []
            name = permission_from_detail(exc.detail) or probe.permission
            if name not in missing:
                missing.append(name)
        except NetSuiteError as exc:
            # NetSuite is down or refusing for another reason: the remaining probes would fail the same way.
            stopped = f"{exc.code or exc.status}: {exc.detail[:200]}"
            break
    if missing:
        return missing_text(missing) + (f" (probing stopped: {stopped})" if stopped else ""), missing
    if stopped:
        return f"unknown: {stopped}", []
    return "green", []


def _shopify(client: ShopifyAdminClient) -> tuple[str, list[str]]:
    try:
        granted = granted_scopes(client)
    except ShopifyAuthError as exc:
        return f"red: {exc.code or 'AUTH'} ({exc.status})", []
    except ShopifyError as exc:
        return f"unknown: {exc.code or exc.status}", []
    missing = missing_scopes(SHOPIFY_REQUIRED_SCOPES, granted)
    if missing:
        return missing_text(missing), missing
    return "green", []


def missing_items(client: NetSuiteClient, skus: Sequence[str], sku_field: str) -> list[str]:
    """The service item SKUs (docs/MAPPING.md) NetSuite has no item for: an order that needs one dead-letters."""
    if not skus:
        return []
    query = f"SELECT {sku_field} AS sku FROM item WHERE {sku_field} IN {suiteql_in(skus)} ORDER BY id"
    found = {row.get("sku") for row in client.suiteql(query, lane=LANE)}
    return [sku for sku in skus if sku not in found]


def _service_items(client: NetSuiteClient, skus: Sequence[str], sku_field: str) -> tuple[str | None, list[str]]:
    try:
        missing = missing_items(client, skus, sku_field)
    except NetSuiteError as exc:
        return f"unknown: service items not checked ({exc.code or exc.status})", []
    if not missing:
        return None, []
    return "red: missing NetSuite item(s): " + ", ".join(missing), [f"item {sku}" for sku in missing]


def check_credentials(
    netsuite: NetSuiteClient,
    shopify: ShopifyAdminClient,
    client: redis.Redis | None = None,
    *,
    service_items: Sequence[str] = (),
    sku_field: str = "itemid",
) -> dict[str, str]:
    """{"netsuite": result, "shopify": result}; stored in Redis under KEY with `checked_at` and `missing`
    ({"netsuite": [permission names], "shopify": [scope handles]}, empty lists when nothing is missing).

    With NetSuite green, each of `service_items` (the SKUs the order mapping posts shipping, tax variance, rounding
    ... to) must exist: a missing one makes NetSuite red and is named (`item SHOPIFY-ROUNDING` in `missing`)."""
    netsuite_result, netsuite_missing = _netsuite(netsuite)
    if netsuite_result == "green":
        items_result, netsuite_missing = _service_items(netsuite, service_items, sku_field)
        netsuite_result = items_result or netsuite_result
    shopify_result, shopify_missing = _shopify(shopify)
    results = {"netsuite": netsuite_result, "shopify": shopify_result}
    missing = {"netsuite": netsuite_missing, "shopify": shopify_missing}
    for system, result in results.items():
        if result != "green":
            log.error(
                "credentials check: %s is %s",
                system,
                result,
                extra={"credentials_system": system, "missing_permissions": missing[system]},
            )
    client = client or get_redis()
    client.set(KEY, json.dumps({"checked_at": time.time(), **results, "missing": missing}))
    return results


def last_result(client: redis.Redis) -> dict[str, Any] | None:
    """The last check as stored: `checked_at`, `netsuite`, `shopify` and `missing` (absent in results stored by
    versions before it existed)."""
    raw = client.get(KEY)
    return json.loads(raw) if raw else None
