"""The Shopify simulator's access scopes: `currentAppInstallation.accessScopes`, and ACCESS_DENIED on the root fields
the granted scopes do not cover; the client's reading of them (shopify_client.access)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shopify_client import (
    QuantityChange,
    ShopifyAdminClient,
    ShopifyAuthError,
    granted_scopes,
    missing_scopes,
    set_available,
)
from simulators.shopify.access import DEFAULT_ACCESS_SCOPES
from simulators.shopify.cli import main
from simulators.shopify.server import SimulatorConfig, create_app
from tests.integration import test_shopify_simulator_inventory as inventory_tests
from tests.integration.test_shopify_simulator_inventory import LOC_A, TOKEN, Sim, q

SCOPES_QUERY = "{ currentAppInstallation { id accessScopes { handle description } } }"


# The inventory tests' server fixture: a big, fast bucket, one server for the module.
server = inventory_tests.server


@pytest.fixture
def sim(server: str) -> Iterator[Sim]:
    client = Sim(server)
    client.sim("POST", "/reset")
    client.sim("POST", "/inventory/locations", [{"id": LOC_A, "name": "Main"}])
    client.sim("POST", "/inventory/items", [{"id": 101, "sku": "A-1"}])
    client.sim("POST", "/inventory/levels", [{"inventory_item_id": 101, "location_id": LOC_A, "available": 5}])
    yield client
    # The scopes are configuration: they outlive /_sim/reset, so every test leaves the default behind.
    client.sim("POST", "/config", {"access_scopes": list(DEFAULT_ACCESS_SCOPES)})


def grant(sim: Sim, *scopes: str) -> None:
    sim.sim("POST", "/config", {"access_scopes": list(scopes)})


def admin_client(sim: Sim) -> ShopifyAdminClient:
    return ShopifyAdminClient(url=sim.url, access_token=TOKEN, max_tries=1)


def test_the_default_installation_has_every_scope_the_service_needs(sim: Sim) -> None:
    data = sim.data(SCOPES_QUERY)["currentAppInstallation"]
    assert data["id"] == "gid://shopify/AppInstallation/1"
    assert [s["handle"] for s in data["accessScopes"]] == [
        "read_orders",
        "read_inventory",
        "write_inventory",
        "read_locations",
        "read_shopify_payments_payouts",
        "read_shopify_payments_disputes",
    ]
    assert all(s["description"] for s in data["accessScopes"])
    assert sim.sim("GET", "/config")["access_scopes"] == list(DEFAULT_ACCESS_SCOPES)


def test_inventory_set_quantities_without_write_inventory_is_access_denied_and_applies_nothing(sim: Sim) -> None:
    grant(sim, "read_orders", "read_inventory", "read_locations")
    key = str(uuid.uuid4())
    body = sim.set_quantities([q(101, LOC_A, 9, 5)], key=key)
    assert body["data"] == {"inventorySetQuantities": None}
    assert body["errors"] == [
        {
            "message": "Access denied for inventorySetQuantities field. "
            "Required access: `write_inventory` access scope.",
            # SET_MUTATION's field sits on its third line.
            "locations": [{"line": 3, "column": 3}],
            "path": ["inventorySetQuantities"],
            "extensions": {"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes"},
        }
    ]
    assert sim.levels()[("A-1", LOC_A)] == (5, 5)
    stats = sim.stats()
    assert stats["inventory_changes"] == 0 and "inventorySetQuantities" not in stats["mutations_by_name"]
    # The refused call never claimed its idempotency key: granted again, the same key applies.
    grant(sim, *DEFAULT_ACCESS_SCOPES)
    again = sim.set_quantities([q(101, LOC_A, 9, 5)], key=key)
    assert again["data"]["inventorySetQuantities"]["userErrors"] == []
    assert sim.levels()[("A-1", LOC_A)] == (9, 9)


def test_write_inventory_covers_read_inventory_but_not_other_reads(sim: Sim) -> None:
    grant(sim, "write_inventory")
    items = sim.data("{ inventoryItems(first: 5) { nodes { sku } } }")
    assert items == {"inventoryItems": {"nodes": [{"sku": "A-1"}]}}
    for query, field, scope in (
        ("{ orders(first: 1) { nodes { id } } }", "orders", "read_orders"),
        ("{ locations(first: 1) { nodes { id } } }", "locations", "read_locations"),
    ):
        body = sim.gql(query)
        assert body["data"] is None  # the denied field is non-null, so null reaches the root
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "ACCESS_DENIED"
        assert error["message"] == f"Access denied for {field} field. Required access: `{scope}` access scope."
    # Fields that need no scope still answer.
    assert sim.data("{ shop { name } }")["shop"]["name"]
    scopes = sim.data(SCOPES_QUERY)["currentAppInstallation"]["accessScopes"]
    assert [s["handle"] for s in scopes] == ["write_inventory"]


def test_the_client_reads_granted_scopes_and_sees_access_denied_as_an_auth_error(sim: Sim) -> None:
    client = admin_client(sim)
    assert granted_scopes(client) == frozenset(DEFAULT_ACCESS_SCOPES)
    assert missing_scopes(DEFAULT_ACCESS_SCOPES, granted_scopes(client)) == []
    grant(sim, "read_orders", "read_inventory")
    assert missing_scopes(DEFAULT_ACCESS_SCOPES, granted_scopes(client)) == [
        "write_inventory",
        "read_locations",
        "read_shopify_payments_payouts",
        "read_shopify_payments_disputes",
    ]
    with pytest.raises(ShopifyAuthError) as denied:
        set_available(client, [QuantityChange(101, LOC_A, 3, 5)], idempotency_key=str(uuid.uuid4()))
    assert denied.value.code == "ACCESS_DENIED" and "write_inventory" in denied.value.message
    assert sim.levels()[("A-1", LOC_A)] == (5, 5)


def test_missing_scopes_keeps_the_required_order_and_lets_write_cover_read() -> None:
    required = ["read_orders", "read_inventory", "write_inventory", "read_locations", "read_orders"]
    assert missing_scopes(required, []) == ["read_orders", "read_inventory", "write_inventory", "read_locations"]
    assert missing_scopes(required, ["write_inventory", "write_locations"]) == ["read_orders"]
    assert missing_scopes(required, ["read_inventory", "read_orders", "read_locations"]) == ["write_inventory"]
    # Only read_ is implied: write_orders does not come with write_inventory.
    assert missing_scopes(["write_orders"], ["read_orders"]) == ["write_orders"]


@pytest.mark.parametrize("bad", ["read_orders", [""], [1], None])
def test_access_scopes_are_validated_from_config_and_constructor(sim: Sim, bad: Any) -> None:
    response = sim.http.post(f"{sim.base_url}/_sim/config", json={"access_scopes": bad}, timeout=5)
    assert response.status_code == 400 and "access_scopes" in response.json()["error"]
    with pytest.raises(ValueError, match="access_scopes"):
        create_app(SimulatorConfig(access_scopes=bad))


def test_the_command_line_sets_the_granted_scopes(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("simulators.shopify.server.serve", lambda config, **_kw: seen.update(config=config))
    assert main(["--access-scopes", "read_orders,write_inventory", "--port", "0"]) == 0
    assert seen["config"].access_scopes == ["read_orders", "write_inventory"]
    app = create_app(seen["config"])
    outcome = app.execute(SCOPES_QUERY, None, None)
    assert [s["handle"] for s in outcome.body["data"]["currentAppInstallation"]["accessScopes"]] == [
        "read_orders",
        "write_inventory",
    ]
