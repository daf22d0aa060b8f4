"""Every GraphQL document the package sends validates against Shopify's published 2026-04 schema, wherever it is
defined.

The schema is Shopify's own (`shared/reference/shopify-admin-graphql-2026-04/admin_2026-04.json`), not the
simulator's copy: a field the simulator declares but real Shopify lacks would pass there and fail in production.
The per-area tests (orders, inventory, subscriptions) check their documents' costs case by case; this one finds the
documents itself, by walking every module of shopify_client, so that a document added to (or moved into) a module
no case lists still cannot escape validation. Documents built by functions are built with sample arguments.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    parse,
    validate,
)

import shopify_client
from shopify_client.inventory_documents import read_levels_document
from simulators.shopify.graphql_api import load_schema


def _documents() -> dict[str, list[str]]:
    """Each distinct document (module-level `*_QUERY` / `*_MUTATION` strings) -> where it is defined or re-exported."""
    found: dict[str, list[str]] = {}
    for module in pkgutil.iter_modules(shopify_client.__path__):
        namespace = vars(importlib.import_module(f"shopify_client.{module.name}"))
        for name, value in namespace.items():
            if name.endswith(("_QUERY", "_MUTATION")) and isinstance(value, str):
                found.setdefault(value, []).append(f"{module.name}.{name}")
    return found


# Documents built per call: (name, document) for the shapes the client builds (one item and one location; many items
# with different numbers of locations; the largest read the client sends in one document).
BUILT_DOCUMENTS = [
    ("read_levels_document([1])", read_levels_document([1])),
    ("read_levels_document([3, 1, 2])", read_levels_document([3, 1, 2])),
    ("read_levels_document([1] * 250)", read_levels_document([1] * 250)),
]


def test_the_walk_finds_the_documents_of_every_area():
    names = {name for places in _documents().values() for name in places}
    for expected in (
        "access.ACCESS_SCOPES_QUERY",
        "bulk.BULK_RUN_QUERY_MUTATION",
        "bulk.BULK_NODE_QUERY",
        "inventory_documents.SET_AVAILABLE_MUTATION",
        "inventory_documents.BULK_LEVELS_QUERY",
        "orders.ORDERS_UPDATED_QUERY",
        "payments_documents.PAYOUTS_QUERY",
        "payments_documents.BALANCE_TRANSACTIONS_QUERY",
        "payments_documents.DISPUTES_QUERY",
        "payments_documents.ORDER_TRANSACTIONS_QUERY",
        "subscriptions.SUBSCRIPTION_CREATE_MUTATION",
    ):
        assert expected in names


def test_every_document_validates_against_shopifys_published_schema(published_schema: GraphQLSchema):
    failures = {}
    for document, places in _documents().items():
        errors = validate(published_schema, parse(document))
        if errors:
            failures[", ".join(places)] = [e.message for e in errors]
    assert failures == {}


@pytest.mark.parametrize(("name", "document"), BUILT_DOCUMENTS, ids=[name for name, _ in BUILT_DOCUMENTS])
def test_every_built_document_validates_against_shopifys_published_schema(
    published_schema: GraphQLSchema, name: str, document: str
):
    assert [e.message for e in validate(published_schema, parse(document))] == []


def test_the_published_schema_refuses_what_real_shopify_lacks(published_schema: GraphQLSchema):
    """The check above can fail: a field, an argument and a type Shopify does not have are each refused."""
    for document, message in (
        ("{ shop { name loyaltyTier } }", "Cannot query field 'loyaltyTier' on type 'Shop'."),
        ('{ order(id: "gid://shopify/Order/1", legacy: true) { id } }', "Unknown argument 'legacy'"),
        ('{ order(id: "gid://shopify/Order/1") { ... on TrackingInfo { id } } }', "Unknown type 'TrackingInfo'."),
    ):
        assert message in " ".join(e.message for e in validate(published_schema, parse(document)))


def test_the_simulators_schema_declares_only_what_shopify_has(published_schema: GraphQLSchema):
    """The simulator executes on its own, smaller schema: every type, field and argument it declares exists in
    Shopify's (so a document written against the simulator cannot lean on something production lacks)."""
    own = load_schema()
    missing = []
    for name, own_type in own.type_map.items():
        if name.startswith("__"):
            continue
        real = published_schema.type_map.get(name)
        if real is None:
            missing.append(name)
            continue
        if isinstance(own_type, GraphQLEnumType):
            missing.extend(f"{name}.{value}" for value in own_type.values if value not in real.values)  # type: ignore[attr-defined]
        if isinstance(own_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, own_field in own_type.fields.items():
                real_field = real.fields.get(field_name)  # type: ignore[attr-defined]
                if real_field is None:
                    missing.append(f"{name}.{field_name}")
                    continue
                own_args = getattr(own_field, "args", {})
                missing.extend(f"{name}.{field_name}({arg})" for arg in own_args if arg not in real_field.args)
    assert missing == []
