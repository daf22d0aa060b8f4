"""The Shopify simulator validates every incoming document against Shopify's published Admin GraphQL schema before
running it on its own: a field real Shopify lacks is refused as Shopify refuses it (HTTP 200, `errors` with message,
locations and `extensions.code`), even though the simulator's own schema could have answered it.

The simulator's schema is a subset of Shopify's (test_shopify_client_documents holds that), so a "field Shopify
lacks" is made here by taking a field out of a copy of the published schema.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import simulators.shopify.published_schema as published_module
from simulators.shopify.published_schema import DEFAULT_PUBLISHED_SCHEMA, PublishedSchemaValidator
from simulators.shopify.server import SimulatorApp, SimulatorConfig, graphql_url, start_in_thread
from tests.conftest import PUBLISHED_SCHEMA, load_fixture

TOKEN = "shpat_sim_token"
ORDER_GID = "gid://shopify/Order/450789469"
NOTE_QUERY = "query Note($id: ID!) {\n  order(id: $id) { id note }\n}\n"
# The fields taken out of the copy: the simulator declares both.
REMOVED = {"Order": "note", "InventoryItem": "sku"}


@pytest.fixture(scope="module")
def trimmed_schema(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Shopify's published schema without Order.note and InventoryItem.sku (a Shopify that lacks them)."""
    raw = json.loads(PUBLISHED_SCHEMA.read_bytes())
    for named in raw["data"]["__schema"]["types"]:
        if named["name"] in REMOVED:
            named["fields"] = [f for f in named["fields"] if f["name"] != REMOVED[named["name"]]]
    path = tmp_path_factory.mktemp("schema") / "admin_trimmed.json"
    path.write_text(json.dumps(raw))
    return str(path)


def _post(base_url: str, query: str, variables: dict | None = None) -> requests.Response:
    return requests.post(
        graphql_url(base_url),
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": TOKEN},
        timeout=10,
    )


@pytest.fixture
def servers(trimmed_schema: str) -> Iterator[tuple[str, str]]:
    """(a simulator validating against the trimmed schema, one validating on its own schema only), both with the
    fixture order."""
    strict, strict_url = start_in_thread(SimulatorConfig(published_schema=trimmed_schema))
    lax, lax_url = start_in_thread(SimulatorConfig(published_schema=None))
    for url in (strict_url, lax_url):
        requests.post(f"{url}/_sim/orders", json=load_fixture("orders_create.json"), timeout=5).raise_for_status()
    yield strict_url, lax_url
    strict.shutdown()
    lax.shutdown()


def test_a_field_real_shopify_lacks_is_refused_as_shopify_refuses_it(servers: tuple[str, str]):
    strict_url, lax_url = servers
    response = _post(strict_url, NOTE_QUERY, {"id": ORDER_GID})
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": "Cannot query field 'note' on type 'Order'. Did you mean 'name'?",
            "locations": [{"line": 2, "column": 23}],
            "extensions": {"code": "undefinedField"},
        }
    ]
    assert body["extensions"]["cost"]["actualQueryCost"] == 0
    # The simulator's own schema has the field: without the published schema the same document is answered.
    answered = _post(lax_url, NOTE_QUERY, {"id": ORDER_GID}).json()
    assert answered["data"]["order"]["id"] == ORDER_GID and "errors" not in answered


def test_what_shopify_has_still_runs_on_the_simulators_schema(servers: tuple[str, str]):
    strict_url, _ = servers
    body = _post(strict_url, "query O($id: ID!) { order(id: $id) { id name } }", {"id": ORDER_GID}).json()
    assert body["data"] == {"order": {"id": ORDER_GID, "name": "#1001"}}


def test_a_bulk_query_with_a_field_shopify_lacks_is_a_user_error(trimmed_schema: str):
    app = SimulatorApp(SimulatorConfig(published_schema=trimmed_schema))
    mutation = (
        "mutation B($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } userErrors { message } } }"
    )
    inner = "{ inventoryItems { edges { node { id sku } } } }"
    data = app.execute(mutation, {"q": inner}, None).body["data"]["bulkOperationRunQuery"]
    assert data["bulkOperation"] is None
    assert data["userErrors"] == [{"message": "Invalid bulk query: Cannot query field 'sku' on type 'InventoryItem'."}]


def test_the_shared_reference_is_the_default_and_a_missing_file_fails_at_start():
    assert DEFAULT_PUBLISHED_SCHEMA.resolve() == PUBLISHED_SCHEMA.resolve()
    assert SimulatorConfig().published_schema == str(DEFAULT_PUBLISHED_SCHEMA)
    assert SimulatorApp(SimulatorConfig()).published is not None
    with pytest.raises(ValueError, match="published schema not found"):
        SimulatorApp(SimulatorConfig(published_schema="/nonexistent/admin.json"))


def test_without_the_published_schema_the_simulator_says_so_at_start(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="simulators.shopify"):
        app = SimulatorApp(SimulatorConfig(published_schema=None))
    assert app.published is None
    assert "a field real Shopify lacks is NOT refused" in caplog.text


def test_a_repeated_document_is_validated_once(monkeypatch: pytest.MonkeyPatch, trimmed_schema: str):
    validator = PublishedSchemaValidator(trimmed_schema)
    calls = []
    real_validate = published_module.validate
    monkeypatch.setattr(published_module, "validate", lambda *a: calls.append(1) or real_validate(*a))
    app = SimulatorApp(SimulatorConfig(published_schema=None))
    app.published = validator
    for _ in range(3):
        assert app.execute("{ shop { name } }", None, None).body["data"] == {"shop": {"name": "Demo Store"}}
        assert app.execute(NOTE_QUERY, {"id": ORDER_GID}, None).body["errors"][0]["extensions"]["code"] == (
            "undefinedField"
        )
    assert len(calls) == 2


def test_the_published_schema_is_parsed_once_per_process(trimmed_schema: str):
    assert PublishedSchemaValidator(trimmed_schema).schema is PublishedSchemaValidator(trimmed_schema).schema
    assert SimulatorApp(SimulatorConfig()).published.schema is published_module.load_published_schema(
        str(Path(PUBLISHED_SCHEMA).resolve())
    )
