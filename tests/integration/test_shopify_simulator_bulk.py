"""The Shopify simulator's bulk query operations over real HTTP on loopback: bulkOperationRunQuery, polling
currentBulkOperation, downloading the JSONL and its parent/child lines."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from simulators.shopify.server import SimulatorConfig, graphql_url, start_in_thread

TOKEN = "shpat_sim_token"
LOC_A, LOC_B = 905684977, 1002

RUN = """
mutation Run($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status objectCount rootObjectCount url query }
    userErrors { field message }
  }
}
"""

CURRENT = """
{ currentBulkOperation { id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url
  partialDataUrl query } }
"""

LEVELS_EDGES = """
{
  inventoryItems {
    edges { node { id sku inventoryLevels { edges { node {
      location { id } quantities(names: ["available"]) { name quantity }
    } } } } }
  }
}
"""

LEVELS_NODES = """
{
  inventoryItems {
    nodes { id sku inventoryLevels { nodes { location { id } quantities(names: ["available"]) { name quantity } } } }
  }
}
"""


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
        assert "errors" not in body, body
        return body

    def sim(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.base_url}/_sim{path}", json=body, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def run(self, query: str) -> dict[str, Any]:
        return self.gql(RUN, {"query": query})["data"]["bulkOperationRunQuery"]

    def wait(self, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            current = self.gql(CURRENT)["data"]["currentBulkOperation"]
            if current["status"] not in ("CREATED", "RUNNING") or time.monotonic() > deadline:
                return current
            time.sleep(0.02)

    def lines(self, url: str) -> list[dict[str, Any]]:
        response = self.http.get(url, timeout=30)  # no access token: the URL is the credential
        assert response.status_code == 200, response.text
        return [json.loads(line) for line in response.text.splitlines()]


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    srv, base_url = start_in_thread(SimulatorConfig())
    yield srv, base_url
    srv.shutdown()


@pytest.fixture
def sim(server: Any) -> Sim:
    client = Sim(server[1])
    client.sim("POST", "/reset")
    client.sim("POST", "/config", {"bulk_operation_latency_ms": 0})
    client.sim("POST", "/inventory/locations", [{"id": LOC_A, "name": "Main"}, {"id": LOC_B, "name": "Annex"}])
    client.sim("POST", "/inventory/items", [{"id": 101, "sku": "A-1"}, {"id": 102, "sku": "B-2"}, {"id": 103}])
    client.sim(
        "POST",
        "/inventory/levels",
        [
            {"inventory_item_id": 101, "location_id": LOC_A, "available": 5, "on_hand": 7},
            {"inventory_item_id": 101, "location_id": LOC_B, "available": 1},
            {"inventory_item_id": 102, "location_id": LOC_A, "available": 3},
        ],
    )
    return client


def level(location_id: int, available: int, item_id: int) -> dict[str, Any]:
    return {
        "location": {"id": f"gid://shopify/Location/{location_id}"},
        "quantities": [{"name": "available", "quantity": available}],
        "__parentId": f"gid://shopify/InventoryItem/{item_id}",
    }


EXPECTED = [
    {"id": "gid://shopify/InventoryItem/101", "sku": "A-1"},
    level(LOC_B, 1, 101),
    level(LOC_A, 5, 101),
    {"id": "gid://shopify/InventoryItem/102", "sku": "B-2"},
    level(LOC_A, 3, 102),
    {"id": "gid://shopify/InventoryItem/103", "sku": None},
]


@pytest.mark.parametrize("query", [LEVELS_EDGES, LEVELS_NODES], ids=["edges", "nodes"])
@pytest.mark.parametrize("generic", [False, True], ids=["fast", "generic"])
def test_bulk_query_of_inventory_levels(sim: Sim, server: Any, query: str, generic: bool) -> None:
    server[0].app.bulk.generic_only = generic
    try:
        run = sim.run(query)
        assert run["userErrors"] == []
        created = run["bulkOperation"]
        assert created["status"] == "CREATED" and created["url"] is None and created["query"] == query
        assert created["id"].startswith("gid://shopify/BulkOperation/")
        done = sim.wait()
    finally:
        server[0].app.bulk.generic_only = False
    assert done["status"] == "COMPLETED", done
    assert done["id"] == created["id"] and done["errorCode"] is None and done["completedAt"]
    assert (done["rootObjectCount"], done["objectCount"]) == ("3", "6")
    assert done["url"] == f"{sim.base_url}/_sim/bulk/{created['id'].rsplit('/', 1)[1]}.jsonl"
    response = sim.http.get(done["url"], timeout=10)
    assert done["fileSize"] == str(len(response.content))
    assert sim.lines(done["url"]) == EXPECTED
    # Compact JSON, one object a line, as Shopify writes it.
    assert response.text.splitlines()[0] == '{"id":"gid://shopify/InventoryItem/101","sku":"A-1"}'
    assert sim.sim("GET", "/stats")["bulk_operations"] == 1


def test_generic_path_keeps_other_fields_inline(sim: Sim) -> None:
    run = sim.run(
        '{ locations { edges { node { id name inventoryLevels { nodes { id item { sku } quantities(names: ["on_hand"])'
        " { quantity } } } } } } }"
    )
    assert run["userErrors"] == []
    done = sim.wait()
    assert done["status"] == "COMPLETED" and done["rootObjectCount"] == "2" and done["objectCount"] == "5"
    lines = sim.lines(done["url"])
    assert lines[0] == {"id": f"gid://shopify/Location/{LOC_B}", "name": "Annex"}
    assert lines[1] == {
        "id": f"gid://shopify/InventoryLevel/{LOC_B}?inventory_item_id=101",
        "item": {"sku": "A-1"},
        "quantities": [{"quantity": 1}],
        "__parentId": f"gid://shopify/Location/{LOC_B}",
    }
    assert lines[2]["id"] == f"gid://shopify/Location/{LOC_A}"
    assert [line.get("__parentId") for line in lines[3:]] == [f"gid://shopify/Location/{LOC_A}"] * 2


def test_second_run_while_one_is_in_progress_is_a_user_error(sim: Sim) -> None:
    sim.sim("POST", "/config", {"bulk_operation_latency_ms": 1500})
    first = sim.run(LEVELS_EDGES)
    assert first["userErrors"] == []
    second = sim.run(LEVELS_NODES)
    assert second["bulkOperation"] is None
    assert second["userErrors"] == [
        {"field": None, "message": "A bulk query operation for this app and shop is already in progress"}
    ]
    assert sim.gql(CURRENT)["data"]["currentBulkOperation"]["status"] in ("CREATED", "RUNNING")
    done = sim.wait()
    assert done["status"] == "COMPLETED" and done["id"] == first["bulkOperation"]["id"]
    # Once it finished, the next one may start.
    third = sim.run(LEVELS_NODES)
    assert third["userErrors"] == [] and third["bulkOperation"]["id"] != done["id"]
    assert sim.wait()["status"] == "COMPLETED"
    assert sim.sim("GET", "/stats")["bulk_operations"] == 2


@pytest.mark.parametrize(
    "query",
    [
        "{ inventoryItems { edges { node { id nope } } } }",
        "{ inventoryItems { edges { node { id ",
        "{ shop { name } }",
        'mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {uri: "x"}) { userErrors '
        "{ message } } }",
    ],
    ids=["unknown-field", "parse-error", "no-connection", "mutation"],
)
def test_invalid_inner_query_is_a_user_error(sim: Sim, query: str) -> None:
    run = sim.run(query)
    assert run["bulkOperation"] is None
    assert len(run["userErrors"]) == 1 and run["userErrors"][0]["field"] == ["query"]
    assert run["userErrors"][0]["message"].startswith("Invalid bulk query")
    assert sim.gql(CURRENT)["data"]["currentBulkOperation"] is None


def test_execution_error_fails_the_operation(sim: Sim) -> None:
    # Valid against the schema, but the resolver refuses the quantity name at run time.
    run = sim.run(
        '{ inventoryItems { nodes { id inventoryLevels { nodes { quantities(names: ["bogus"]) { name } } } } } }'
    )
    assert run["userErrors"] == []
    done = sim.wait()
    assert done["status"] == "FAILED" and done["errorCode"] == "INTERNAL_SERVER_ERROR" and done["url"] is None


def test_mutation_costs_10_points_and_the_bulk_run_spends_nothing(sim: Sim) -> None:
    body = sim.gql(RUN, {"query": LEVELS_EDGES})
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    sim.wait()
    stats = sim.sim("GET", "/stats")
    # The mutation's 10 points plus 1 for each currentBulkOperation poll; reading the data itself is free.
    assert stats["points_spent"] == 10 + (stats["requests_total"] - 1)


def test_bulk_query_of_100000_items_at_3_locations(sim: Sim) -> None:
    sim.sim("POST", "/inventory/seed", {"locations": 3, "items": 100_000, "available": 10, "sku_prefix": "S-"})
    started = time.perf_counter()
    run = sim.run(LEVELS_EDGES)
    assert run["userErrors"] == []
    done = sim.wait(timeout=30)
    elapsed = time.perf_counter() - started
    print(f"bulk query of 100,000 items x 3 locations: COMPLETED in {elapsed:.2f} s, {done['fileSize']} bytes")
    assert done["status"] == "COMPLETED", done
    assert (done["rootObjectCount"], done["objectCount"]) == ("100000", "400000")
    assert elapsed < 20
    response = sim.http.get(done["url"], timeout=60)
    lines = response.content.splitlines()
    assert len(lines) == 400_000 and done["fileSize"] == str(len(response.content))
    assert json.loads(lines[0])["sku"] == "S-1"
    last = json.loads(lines[-1])
    assert last["quantities"] == [{"name": "available", "quantity": 10}]
    assert last["__parentId"] == json.loads(lines[-4])["id"]
