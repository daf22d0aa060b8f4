"""The app's granted access scopes (`currentAppInstallation.accessScopes`) and which required ones are missing.

The query needs no scope of its own, so it also serves as the cheapest authenticated call: a revoked token fails
it with 401 like any other.
"""

from __future__ import annotations

from collections.abc import Iterable

from .client import ShopifyAdminClient
from .errors import ShopifyError

__all__ = ["ACCESS_SCOPES_QUERY", "granted_scopes", "missing_scopes"]

ACCESS_SCOPES_QUERY = """
query AccessScopes {
  currentAppInstallation {
    accessScopes { handle }
  }
}
"""


def granted_scopes(client: ShopifyAdminClient, *, correlation_id: str | None = None) -> frozenset[str]:
    """The handles of the access scopes granted to the app on this shop (`read_orders`, `write_inventory`...)."""
    data = client.execute(ACCESS_SCOPES_QUERY, operation_name="AccessScopes", correlation_id=correlation_id)
    installation = data.get("currentAppInstallation")
    scopes = installation.get("accessScopes") if isinstance(installation, dict) else None
    if not isinstance(scopes, list):
        raise ShopifyError("currentAppInstallation.accessScopes missing from the answer", code="INVALID_RESPONSE")
    return frozenset(s["handle"] for s in scopes if isinstance(s, dict) and isinstance(s.get("handle"), str))


def missing_scopes(required: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The required scopes the granted ones do not cover, in the order required. A `write_x` scope covers
    `read_x`, as Shopify grants it."""
    held = set(granted)
    missing = []
    for scope in required:
        covered = scope in held or (scope.startswith("read_") and "write_" + scope[len("read_") :] in held)
        if not covered and scope not in missing:
            missing.append(scope)
    return missing
