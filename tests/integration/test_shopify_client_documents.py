"""Every GraphQL document the package sends validates against Shopify's published schema, wherever it is defined.

The per-area tests (orders, inventory, subscriptions) validate their documents and check their costs case by case;
this one finds the documents itself, by walking every module of shopify_client, so that a document added to (or
moved into) a module no case lists still cannot escape validation.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import shopify_client

# Documents the simulator's copy of the schema cannot check, with the reason. The list may only shrink: the test
# below fails once one of them validates, so that it is then checked like the others.
NOT_IN_THE_SIMULATOR_SCHEMA = {
    # Query.node is real Shopify API, but the simulator's schema.graphql does not declare it; the client sends this
    # only when another bulk operation of the same app replaced ours as the current one.
    "bulk.BULK_NODE_QUERY",
}


def _documents() -> dict[str, list[str]]:
    """Each distinct document (module-level `*_QUERY` / `*_MUTATION` strings) -> where it is defined or re-exported."""
    found: dict[str, list[str]] = {}
    for module in pkgutil.iter_modules(shopify_client.__path__):
        namespace = vars(importlib.import_module(f"shopify_client.{module.name}"))
        for name, value in namespace.items():
            if name.endswith(("_QUERY", "_MUTATION")) and isinstance(value, str):
                found.setdefault(value, []).append(f"{module.name}.{name}")
    return found


def test_the_walk_finds_the_documents_of_every_area():
    names = {name for places in _documents().values() for name in places}
    for expected in (
        "access.ACCESS_SCOPES_QUERY",
        "bulk.BULK_RUN_QUERY_MUTATION",
        "inventory_documents.SET_AVAILABLE_MUTATION",
        "inventory_documents.BULK_LEVELS_QUERY",
        "orders.ORDERS_UPDATED_QUERY",
        "subscriptions.SUBSCRIPTION_CREATE_MUTATION",
    ):
        assert expected in names


def test_every_document_validates_against_the_schema():
    graphql = pytest.importorskip("graphql")
    api = pytest.importorskip("simulators.shopify.graphql_api")
    schema = api.load_schema()
    failures = {}
    for document, places in _documents().items():
        errors = graphql.validate(schema, graphql.parse(document))
        exempt = NOT_IN_THE_SIMULATOR_SCHEMA.intersection(places)
        if exempt:
            assert errors, f"{sorted(exempt)} validates now: take it off NOT_IN_THE_SIMULATOR_SCHEMA"
        elif errors:
            failures[", ".join(places)] = [e.message for e in errors]
    assert failures == {}
