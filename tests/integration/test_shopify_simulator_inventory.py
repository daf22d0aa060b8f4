"""The Shopify simulator's inventory and webhook subscriptions over real HTTP on loopback: seeding, level
queries, inventorySetQuantities / inventoryAdjustQuantities with compare-and-swap and @idempotent keys."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from simulators.shopify.server import SimulatorConfig, graphql_url, start_in_thread

TOKEN = "shpat_sim_token"
LOC_A, LOC_B = 905684977, 1002

SET_MUTATION = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup {
      id createdAt reason referenceDocumentUri
      changes { name delta quantityAfterChange item { id } location { id } }
    }
    userErrors { code field message }
  }
}
"""

ADJUST_MUTATION = """
mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes(quantityNames: ["available"]) { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}
"""

LEVEL_QUERY = """
query Level($id: ID!, $loc: ID!) {
  inventoryItem(id: $id) {
    sku
    inventoryLevel(locationId: $loc) { quantities(names: ["available", "on_hand"]) { name quantity } }
  }
}
"""


def item_gid(item_id: int) -> str:
    return f"gid://shopify/InventoryItem/{item_id}"


def location_gid(location_id: int) -> str:
    return f"gid://shopify/Location/{location_id}"


class Sim:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.url = graphql_url(base_url)
        self.http = requests.Session()

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(
            self.url,
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": TOKEN},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "cost" in body["extensions"], body
        return body

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.gql(query, variables)
        assert "errors" not in body, body
        return body["data"]

    def sim(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.http.request(method, f"{self.base_url}/_sim{path}", json=body, timeout=30)
        assert response.status_code == status, response.text
        return response.json()

    def stats(self) -> dict[str, Any]:
        return self.sim("GET", "/stats")

    def levels(self) -> dict[tuple[str, int], tuple[int, int]]:
        return {
            (row["sku"], row["location_id"]): (row["available"], row["on_hand"])
            for row in self.sim("GET", "/inventory/levels")
        }

    def set_quantities(self, quantities: list[dict[str, Any]], key: str | None = None, **input_fields: Any) -> Any:
        variables = {
            "input": {"name": "available", "reason": "correction", "quantities": quantities, **input_fields},
            "key": key or str(uuid.uuid4()),
        }
        return self.gql(SET_MUTATION, variables)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    # A big, fast bucket: these tests are about inventory, not the throttle.
    srv, base_url = start_in_thread(SimulatorConfig(bucket_size=50_000, restore_rate=50_000))
    yield base_url
    srv.shutdown()


@pytest.fixture
def sim(server: str) -> Sim:
    client = Sim(server)
    client.sim("POST", "/reset")
    client.sim("POST", "/config", {"mutation_latency_ms": 0})
    client.sim("POST", "/inventory/locations", [{"id": LOC_A, "name": "Main"}, {"id": LOC_B, "name": "Annex"}])
    ids = client.sim("POST", "/inventory/items", [{"id": 101, "sku": "A-1"}, {"id": 102, "sku": "B-2"}, {"sku": "C-3"}])
    assert ids["ids"][:2] == [101, 102]
    client.sim(
        "POST",
        "/inventory/levels",
        [
            {"inventory_item_id": 101, "location_id": LOC_A, "available": 5, "on_hand": 7},
            {"sku": "A-1", "location_id": LOC_B, "available": 1},
            {"sku": "B-2", "location_id": LOC_A, "available": 3},
        ],
    )
    return client


def q(item_id: int, location_id: int, quantity: int, change_from: Any = None, *, send: bool = True) -> dict:
    row: dict[str, Any] = {
        "inventoryItemId": item_gid(item_id),
        "locationId": location_gid(location_id),
        "quantity": quantity,
    }
    if send:
        row["changeFromQuantity"] = change_from
    return row


def test_control_api_seeds_items_and_levels(sim: Sim) -> None:
    assert sim.levels() == {("A-1", LOC_A): (5, 7), ("A-1", LOC_B): (1, 1), ("B-2", LOC_A): (3, 3)}
    # Without on_hand an existing level keeps its gap: on_hand moves with available.
    sim.sim("POST", "/inventory/levels", [{"sku": "A-1", "location_id": LOC_A, "available": 9}])
    assert sim.levels()[("A-1", LOC_A)] == (9, 11)
    assert sim.stats()["inventory"] == {"locations": 2, "items": 3, "levels": 3}
    assert [loc["name"] for loc in sim.sim("GET", "/inventory/locations")] == ["Annex", "Main"]
    rows = sim.sim("GET", "/inventory/levels?sku=A-1&location_id=1002")
    assert [(r["inventory_item_id"], r["available"]) for r in rows] == [(101, 1)]
    assert "error" in sim.sim("POST", "/inventory/levels", [{"sku": "nope", "location_id": LOC_A, "available": 1}], 400)
    bad_gap = [{"sku": "A-1", "location_id": LOC_A, "available": 5, "on_hand": 4}]
    assert "on_hand" in sim.sim("POST", "/inventory/levels", bad_gap, 400)["error"]


def test_level_queries_page_by_cursor(sim: Sim) -> None:
    sim.sim("POST", "/inventory/seed", {"locations": 2, "items": 7, "available": 4, "location_ids": [LOC_A, LOC_B]})
    query = """
    query Page($after: String) {
      locations(first: 5) {
        nodes {
          id name isActive
          inventoryLevels(first: 3, after: $after) {
            nodes { item { sku } quantities(names: ["available", "on_hand", "committed"]) { name quantity } }
            pageInfo { hasNextPage endCursor }
          }
        }
      }
    }
    """
    skus: list[str] = []
    after = None
    pages = 0
    while True:
        body = sim.gql(query, {"after": after})
        assert "errors" not in body, body
        location = body["data"]["locations"]["nodes"][0]
        assert location["id"] == location_gid(LOC_B) and location["isActive"] is True
        levels = location["inventoryLevels"]
        skus += [n["item"]["sku"] for n in levels["nodes"]]
        assert all(n["quantities"][0] == {"name": "available", "quantity": 4} for n in levels["nodes"])
        assert all(n["quantities"][2] == {"name": "committed", "quantity": 0} for n in levels["nodes"])
        pages += 1
        if not levels["pageInfo"]["hasNextPage"]:
            break
        after = levels["pageInfo"]["endCursor"]
    assert pages == 3
    assert skus == [f"SKU-{n}" for n in range(1, 8)]

    items_query = """
    query Items($after: String, $query: String) {
      inventoryItems(first: 4, after: $after, query: $query) {
        nodes { id sku tracked inventoryLevels(first: 5) { nodes { location { id } } } }
        pageInfo { hasNextPage endCursor }
      }
    }
    """
    first = sim.gql(items_query)
    page = first["data"]["inventoryItems"]
    assert [n["sku"] for n in page["nodes"]] == ["SKU-1", "SKU-2", "SKU-3", "SKU-4"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert [lv["location"]["id"] for lv in page["nodes"][0]["inventoryLevels"]["nodes"]] == [
        location_gid(LOC_B),
        location_gid(LOC_A),
    ]
    # Connections cost 2 + first x (1 + the node's selection): 2 + 4 x (1 + (2 + 5 x (1 + 1))).
    assert first["extensions"]["cost"]["requestedQueryCost"] == 2 + 4 * (1 + 2 + 5 * 2)
    second = sim.data(items_query, {"after": page["pageInfo"]["endCursor"]})["inventoryItems"]
    assert [n["sku"] for n in second["nodes"]] == ["SKU-5", "SKU-6", "SKU-7"]
    assert second["pageInfo"]["hasNextPage"] is False

    found = sim.data(items_query, {"query": "sku:SKU-6 OR sku:'SKU-2'"})["inventoryItems"]["nodes"]
    assert [n["sku"] for n in found] == ["SKU-2", "SKU-6"]
    recent = sim.data(items_query, {"query": "updated_at:>2020-01-01T00:00:00Z AND sku:SKU-7"})["inventoryItems"]
    assert [n["sku"] for n in recent["nodes"]] == ["SKU-7"]
    future = sim.data(items_query, {"query": "updated_at:>2999-01-01"})["inventoryItems"]
    assert future["nodes"] == [] and future["pageInfo"]["hasNextPage"] is False

    too_big = sim.gql("{ inventoryItems(first: 251) { nodes { id } } }")
    assert too_big["errors"][0]["extensions"]["code"] == "MAX_PAGE_SIZE_EXCEEDED"


def test_set_quantities_with_matching_change_from_applies(sim: Sim) -> None:
    body = sim.set_quantities(
        [q(101, LOC_A, 8, 5), q(102, LOC_A, 0, None)], referenceDocumentUri="gid://shopsync/InventoryPush/1"
    )
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    payload = body["data"]["inventorySetQuantities"]
    assert payload["userErrors"] == []
    group = payload["inventoryAdjustmentGroup"]
    assert group["id"].startswith("gid://shopify/InventoryAdjustmentGroup/")
    assert group["reason"] == "correction"
    assert group["referenceDocumentUri"] == "gid://shopsync/InventoryPush/1"
    assert group["createdAt"].endswith("Z")
    assert group["changes"] == [
        {"name": "available", "delta": 3, "quantityAfterChange": 8, "item": {"id": item_gid(101)},
         "location": {"id": location_gid(LOC_A)}},
        {"name": "on_hand", "delta": 3, "quantityAfterChange": 10, "item": {"id": item_gid(101)},
         "location": {"id": location_gid(LOC_A)}},
        {"name": "available", "delta": -3, "quantityAfterChange": 0, "item": {"id": item_gid(102)},
         "location": {"id": location_gid(LOC_A)}},
        {"name": "on_hand", "delta": -3, "quantityAfterChange": 0, "item": {"id": item_gid(102)},
         "location": {"id": location_gid(LOC_A)}},
    ]  # fmt: skip
    assert sim.levels()[("A-1", LOC_A)] == (8, 10)
    assert sim.levels()[("B-2", LOC_A)] == (0, 0)
    stats = sim.stats()
    assert stats["inventory_changes"] == 2
    assert stats["mutations_by_name"] == {"inventorySetQuantities": 1}
    level = sim.data(LEVEL_QUERY, {"id": item_gid(101), "loc": location_gid(LOC_A)})["inventoryItem"]
    assert level["inventoryLevel"]["quantities"] == [
        {"name": "available", "quantity": 8},
        {"name": "on_hand", "quantity": 10},
    ]
    # Setting on_hand moves available by the same delta.
    on_hand = sim.set_quantities([q(101, LOC_A, 12, 10)], name="on_hand")["data"]["inventorySetQuantities"]
    assert on_hand["userErrors"] == []
    assert sim.levels()[("A-1", LOC_A)] == (10, 12)


def test_stale_change_from_rejects_the_whole_call(sim: Sim) -> None:
    before = sim.levels()
    payload = sim.set_quantities([q(101, LOC_A, 9, 5), q(101, LOC_B, 4, 0)])["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("CHANGE_FROM_QUANTITY_STALE", ["input", "quantities", "1", "changeFromQuantity"])
    ]
    assert sim.levels() == before
    stats = sim.stats()
    assert stats["stale_rejections"] == 1
    assert stats["inventory_changes"] == 0


def test_change_from_quantity_must_be_sent(sim: Sim) -> None:
    payload = sim.set_quantities([q(101, LOC_A, 9, send=False)])["data"]["inventorySetQuantities"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("COMPARE_QUANTITY_REQUIRED", ["input", "quantities", "0", "changeFromQuantity"])
    ]
    assert sim.levels()[("A-1", LOC_A)] == (5, 7)


def test_missing_idempotent_directive_is_a_runtime_error(sim: Sim) -> None:
    mutation = SET_MUTATION.replace(" @idempotent(key: $key)", "").replace(", $key: String!", "")
    input_ = {"name": "available", "reason": "correction", "quantities": [q(101, LOC_A, 9, 5)]}
    body = sim.gql(mutation, {"input": input_})
    assert body["data"] == {"inventorySetQuantities": None}
    error = body["errors"][0]
    assert error["extensions"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert "@idempotent" in error["message"]
    assert error["path"] == ["inventorySetQuantities"]
    assert sim.levels()[("A-1", LOC_A)] == (5, 7)
    assert sim.stats()["inventory_changes"] == 0


def test_unknown_item_location_and_unstocked_level(sim: Sim) -> None:
    rows = [q(999, LOC_A, 1, None), q(101, 4242, 1, None), q(102, LOC_B, 1, None)]
    payload = sim.set_quantities(rows)["data"]["inventorySetQuantities"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INVENTORY_ITEM", ["input", "quantities", "0", "inventoryItemId"]),
        ("INVALID_LOCATION", ["input", "quantities", "1", "locationId"]),
        ("ITEM_NOT_STOCKED_AT_LOCATION", ["input", "quantities", "2", "locationId"]),
    ]
    bad_reason = sim.set_quantities([q(101, LOC_A, 1, None)], reason="because")["data"]["inventorySetQuantities"]
    assert [e["code"] for e in bad_reason["userErrors"]] == ["INVALID_REASON"]


def test_replay_of_the_same_key_returns_the_original_and_applies_once(sim: Sim) -> None:
    key = str(uuid.uuid4())
    first = sim.set_quantities([q(101, LOC_A, 6, 5)], key=key)
    second = sim.set_quantities([q(101, LOC_A, 6, 5)], key=key)
    assert first["data"] == second["data"]
    assert first["data"]["inventorySetQuantities"]["userErrors"] == []
    assert sim.levels()[("A-1", LOC_A)] == (6, 8)
    stats = sim.stats()
    assert stats["idempotent_replays"] == 1
    assert stats["inventory_changes"] == 1
    assert stats["mutations_by_name"] == {"inventorySetQuantities": 2}


def test_same_key_with_other_input_is_a_parameter_mismatch(sim: Sim) -> None:
    key = str(uuid.uuid4())
    assert sim.set_quantities([q(101, LOC_A, 6, 5)], key=key)["data"]["inventorySetQuantities"]["userErrors"] == []
    payload = sim.set_quantities([q(101, LOC_A, 7, 6)], key=key)["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", None)]
    assert sim.levels()[("A-1", LOC_A)] == (6, 8)


def test_same_key_while_the_first_runs_is_a_concurrent_request(sim: Sim) -> None:
    sim.sim("POST", "/config", {"mutation_latency_ms": 800})
    key = str(uuid.uuid4())
    results: dict[str, Any] = {}

    def first_call() -> None:
        results["first"] = Sim(sim.base_url).set_quantities([q(101, LOC_A, 6, 5)], key=key)

    thread = threading.Thread(target=first_call)
    thread.start()
    deadline = time.monotonic() + 5
    # Deterministic: the second call goes only once the first holds the key.
    while sim.stats()["idempotency_in_flight"] < 1:
        assert time.monotonic() < deadline, "the first call never started"
        time.sleep(0.01)
    second = sim.set_quantities([q(101, LOC_A, 6, 5)], key=key)["data"]["inventorySetQuantities"]
    thread.join(10)
    sim.sim("POST", "/config", {"mutation_latency_ms": 0})
    assert [(e["code"], e["field"]) for e in second["userErrors"]] == [("IDEMPOTENCY_CONCURRENT_REQUEST", None)]
    assert results["first"]["data"]["inventorySetQuantities"]["userErrors"] == []
    assert sim.levels()[("A-1", LOC_A)] == (6, 8)
    assert sim.stats()["inventory_changes"] == 1
    # Once the first is done the key replays it.
    third = sim.set_quantities([q(101, LOC_A, 6, 5)], key=key)
    assert third["data"] == results["first"]["data"]


def test_more_than_250_quantities_is_refused(sim: Sim) -> None:
    rows = [q(101, LOC_A, n, None) for n in range(251)]
    payload = sim.set_quantities(rows)["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("MAX_INPUT_SIZE_EXCEEDED", ["input", "quantities"])
    ]
    assert sim.levels()[("A-1", LOC_A)] == (5, 7)


def test_adjust_quantities_applies_deltas_with_compare_and_idempotency(sim: Sim) -> None:
    key = str(uuid.uuid4())
    change = {"inventoryItemId": item_gid(101), "locationId": location_gid(LOC_A), "delta": -2}
    variables = {"input": {"name": "available", "reason": "correction", "changes": [change]}, "key": key}
    first = sim.data(ADJUST_MUTATION, variables)["inventoryAdjustQuantities"]
    assert first["userErrors"] == []
    assert first["inventoryAdjustmentGroup"]["changes"] == [
        {"name": "available", "delta": -2, "quantityAfterChange": 3}
    ]
    assert sim.data(ADJUST_MUTATION, variables)["inventoryAdjustQuantities"] == first
    assert sim.levels()[("A-1", LOC_A)] == (3, 5)
    stale = {**change, "changeFromQuantity": 5}
    variables = {"input": {"name": "available", "reason": "correction", "changes": [stale]}, "key": str(uuid.uuid4())}
    payload = sim.data(ADJUST_MUTATION, variables)["inventoryAdjustQuantities"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("CHANGE_FROM_QUANTITY_STALE", ["input", "changes", "0", "changeFromQuantity"])
    ]
    assert sim.levels()[("A-1", LOC_A)] == (3, 5)


def test_bulk_seed_of_100000_items_at_3_locations(sim: Sim) -> None:
    started = time.perf_counter()
    seeded = sim.sim("POST", "/inventory/seed", {"locations": 3, "items": 100_000, "available": 10, "sku_prefix": "S-"})
    elapsed = time.perf_counter() - started
    print(f"seeded 100,000 items x 3 locations in {elapsed:.2f} s")
    assert seeded["items"] == 100_000 and seeded["levels"] == 300_000 and len(seeded["locations"]) == 3
    assert seeded["first_sku"] == "S-1" and seeded["last_sku"] == "S-100000"
    assert sim.stats()["inventory"] == {"locations": 3, "items": 100_000, "levels": 300_000}
    found = sim.data(
        LEVEL_QUERY, {"id": item_gid(seeded["last_item_id"]), "loc": location_gid(seeded["locations"][2])}
    )["inventoryItem"]
    assert found["sku"] == "S-100000"
    assert found["inventoryLevel"]["quantities"][0] == {"name": "available", "quantity": 10}
    by_sku = sim.data('{ inventoryItems(first: 2, query: "sku:S-99999") { nodes { legacyResourceId } } }')
    assert by_sku["inventoryItems"]["nodes"] == [{"legacyResourceId": str(seeded["last_item_id"] - 1)}]


SUBSCRIBE = """
mutation Sub($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri format apiVersion { handle } }
    userErrors { field message }
  }
}
"""


def test_webhook_subscriptions_create_list_update_fail_and_delete(sim: Sim) -> None:
    created = sim.data(SUBSCRIBE, {"topic": "ORDERS_CREATE", "uri": "https://hooks.example/shopify"})
    subscription = created["webhookSubscriptionCreate"]["webhookSubscription"]
    assert subscription["topic"] == "ORDERS_CREATE" and subscription["format"] == "JSON"
    assert subscription["apiVersion"] == {"handle": "2026-04"}
    again = sim.data(SUBSCRIBE, {"topic": "ORDERS_CREATE", "uri": "https://hooks.example/shopify"})
    assert again["webhookSubscriptionCreate"]["webhookSubscription"] is None
    assert again["webhookSubscriptionCreate"]["userErrors"][0]["field"] == ["webhookSubscription", "uri"]
    bad = sim.data(SUBSCRIBE, {"topic": "REFUNDS_CREATE", "uri": "not a url"})["webhookSubscriptionCreate"]
    assert bad["userErrors"] and bad["webhookSubscription"] is None
    other = sim.data(SUBSCRIBE, {"topic": "INVENTORY_LEVELS_UPDATE", "uri": "https://hooks.example/inv"})
    other_id = other["webhookSubscriptionCreate"]["webhookSubscription"]["id"]

    listed = sim.data(
        "{ webhookSubscriptions(first: 10, topics: [ORDERS_CREATE]) { nodes { id uri } pageInfo { hasNextPage } } }"
    )["webhookSubscriptions"]
    assert listed["nodes"] == [{"id": subscription["id"], "uri": "https://hooks.example/shopify"}]
    updated = sim.data(
        """mutation Up($id: ID!) { webhookSubscriptionUpdate(id: $id, webhookSubscription: {uri: "https://new.example/h"})
           { webhookSubscription { id uri } userErrors { field message } } }""",
        {"id": subscription["id"]},
    )["webhookSubscriptionUpdate"]
    assert updated == {
        "webhookSubscription": {"id": subscription["id"], "uri": "https://new.example/h"},
        "userErrors": [],
    }

    control = sim.sim("GET", "/webhook_subscriptions")
    assert [s["topic"] for s in control] == ["ORDERS_CREATE", "INVENTORY_LEVELS_UPDATE"]
    numeric_id = control[0]["id"]
    assert sim.sim("POST", f"/webhook_subscriptions/{numeric_id}/fail", {"count": 7}) == {
        "id": numeric_id,
        "consecutive_failures": 7,
        "deleted": False,
    }
    assert sim.sim("POST", f"/webhook_subscriptions/{numeric_id}/fail", {"count": 1})["deleted"] is True
    remaining = sim.data("{ webhookSubscriptions(first: 10) { nodes { id } } }")["webhookSubscriptions"]["nodes"]
    assert remaining == [{"id": other_id}]
    other_numeric = int(other_id.rsplit("/", 1)[-1])
    assert sim.sim("DELETE", f"/webhook_subscriptions/{other_numeric}") == {"deleted": other_numeric}
    assert sim.sim("GET", "/webhook_subscriptions") == []
    sim.sim("DELETE", f"/webhook_subscriptions/{other_numeric}", status=404)
    assert sim.stats()["mutations_by_name"] == {"webhookSubscriptionCreate": 4, "webhookSubscriptionUpdate": 1}
