"""The app's access scopes: `currentAppInstallation { accessScopes { handle description } }`, and the scope checks
the simulator makes on the root fields it serves.

A field the app's scopes do not cover is answered as Shopify does (HTTP 200): the field is null and `errors[]`
carries `"Access denied for <field> field. Required access: `<scope>` access scope."` with `path`, `locations` and
`extensions {code: "ACCESS_DENIED", documentation}`. A `write_` scope includes its `read_` scope, as on Shopify.
Only root fields are checked, each by the one scope Shopify documents for it; nested fields (an order's
fulfillment location, a location's levels) and the query inside a bulk operation are not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from graphql import GraphQLError

ACCESS_SCOPES_DOC = "https://shopify.dev/api/usage/access-scopes"
APP_INSTALLATION_ID = "gid://shopify/AppInstallation/1"

# What the service needs (docs/PERMISSIONS.md); the simulator grants these unless told otherwise.
DEFAULT_ACCESS_SCOPES: tuple[str, ...] = (
    "read_orders",
    "read_inventory",
    "write_inventory",
    "read_locations",
    "read_shopify_payments_payouts",
    "read_shopify_payments_disputes",
)

SCOPE_DESCRIPTIONS = {
    "read_orders": "Read orders, transactions, and fulfillments",
    "write_orders": "Modify orders, transactions, and fulfillments",
    "read_all_orders": "Read all orders, not only those of the last 60 days",
    "read_inventory": "Read inventory",
    "write_inventory": "Modify inventory",
    "read_locations": "Read locations",
    "write_locations": "Modify locations",
    "read_products": "Read products, variants, and collections",
    "write_products": "Modify products, variants, and collections",
    "read_customers": "Read customer details and customer groups",
    "write_customers": "Modify customer details and customer groups",
    "read_shopify_payments_payouts": "Read Shopify Payments payouts, balance transactions, and account",
    "read_shopify_payments_disputes": "Read Shopify Payments disputes",
}

# root field -> the access scope it needs
ROOT_FIELD_SCOPES: dict[str, str] = {
    "order": "read_orders",
    "orders": "read_orders",
    "locations": "read_locations",
    "inventoryItems": "read_inventory",
    "inventoryItem": "read_inventory",
    "inventorySetQuantities": "write_inventory",
    "inventoryAdjustQuantities": "write_inventory",
    "shopifyPaymentsAccount": "read_shopify_payments_payouts",
    "dispute": "read_shopify_payments_disputes",
}


def check_scopes(value: Any) -> list[str]:
    """A scope list as configured: non-empty strings, each once, in the given order."""
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) and s.strip() for s in value):
        raise ValueError('access_scopes must be a list of scope handles, e.g. ["read_orders", "write_inventory"]')
    scopes: list[str] = []
    for scope in value:
        if scope.strip() not in scopes:
            scopes.append(scope.strip())
    return scopes


def has_scope(granted: Iterable[str], scope: str) -> bool:
    """Whether the granted scopes cover `scope` (`write_x` covers `read_x`)."""
    held = set(granted)
    return scope in held or (scope.startswith("read_") and "write_" + scope[len("read_") :] in held)


def field_allowed(field_name: str, granted: Iterable[str]) -> bool:
    """Whether the granted scopes let the app use a root field (fields without a listed scope always)."""
    scope = ROOT_FIELD_SCOPES.get(field_name)
    return scope is None or has_scope(granted, scope)


def access_denied(field_name: str, scope: str) -> GraphQLError:
    return GraphQLError(
        f"Access denied for {field_name} field. Required access: `{scope}` access scope.",
        extensions={"code": "ACCESS_DENIED", "documentation": ACCESS_SCOPES_DOC},
    )


def _denied(field_name: str, scope: str) -> Callable[..., Any]:
    def resolve(*_args: Any, **_kwargs: Any) -> Any:
        raise access_denied(field_name, scope)

    return resolve


def guard_root(root: dict[str, Any], granted: Iterable[str]) -> dict[str, Any]:
    """The root value with every field the scopes do not cover replaced by one that raises ACCESS_DENIED."""
    scopes = list(granted)
    guarded = dict(root)
    for field_name, scope in ROOT_FIELD_SCOPES.items():
        if field_name in guarded and not field_allowed(field_name, scopes):
            guarded[field_name] = _denied(field_name, scope)
    return guarded


def app_installation(granted: Iterable[str]) -> dict[str, Any]:
    """The view of `currentAppInstallation`: the granted scopes as configured, in order."""
    return {
        "id": APP_INSTALLATION_ID,
        "accessScopes": [
            {"handle": scope, "description": SCOPE_DESCRIPTIONS.get(scope, scope.replace("_", " ").capitalize())}
            for scope in granted
        ],
    }
