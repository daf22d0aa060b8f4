"""Shopify's own published Admin GraphQL schema (an introspection result), used to validate what clients send.

The simulator executes on its own, smaller `schema.graphql`; a field that file declares but real Shopify lacks would
pass there and fail in production. So every incoming document is first validated against the schema Shopify
publishes for the API version (`../shared/reference/shopify-admin-graphql-2026-04/admin_2026-04.json`, beside the
repository), and refused as Shopify refuses it when it does not validate.

The file is 10 MB: it is parsed once per process (`load_published_schema` is cached by path), and the outcome of
validating a document is cached by its text (a service sends the same few documents over and over).
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from pathlib import Path

from graphql import DocumentNode, GraphQLError, GraphQLSchema, build_client_schema, validate

from simulators.shared import shared_dir

__all__ = ["DEFAULT_PUBLISHED_SCHEMA", "PublishedSchemaValidator", "default_published_schema", "load_published_schema"]

DEFAULT_PUBLISHED_SCHEMA = shared_dir() / "reference" / "shopify-admin-graphql-2026-04" / "admin_2026-04.json"
CACHED_DOCUMENTS = 512


def default_published_schema() -> str | None:
    """The shared reference's path when it is there, else None (the simulator then validates on its own schema)."""
    return str(DEFAULT_PUBLISHED_SCHEMA) if DEFAULT_PUBLISHED_SCHEMA.is_file() else None


@functools.lru_cache(maxsize=4)
def load_published_schema(path: str) -> GraphQLSchema:
    """The schema of an introspection JSON file (`{"data": {"__schema": ...}}` or `{"__schema": ...}`)."""
    raw = json.loads(Path(path).read_bytes())
    introspection = raw.get("data", raw) if isinstance(raw, dict) else raw
    if not isinstance(introspection, dict) or "__schema" not in introspection:
        raise ValueError(f"{path}: not a GraphQL introspection result")
    schema = build_client_schema(introspection)
    # Shopify deprecates some implementations' fields that their interface does not deprecate, which graphql-core's
    # schema check refuses; the schema is Shopify's own and valid for its server, so that check is skipped.
    schema._validation_errors = []  # type: ignore[attr-defined]  # noqa: SLF001
    return schema


class PublishedSchemaValidator:
    """Validates documents against the published schema, remembering the errors of the last documents seen."""

    def __init__(self, path: str) -> None:
        if not Path(path).is_file():
            raise ValueError(f"published schema not found: {path}")
        self.path = path
        self.schema = load_published_schema(str(Path(path).resolve()))
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, list[GraphQLError]] = OrderedDict()

    def validate(self, query: str, document: DocumentNode) -> list[GraphQLError]:
        """graphql-core's validation errors for `document` (parsed from `query`), [] when it is valid."""
        with self._lock:
            errors = self._seen.get(query)
            if errors is not None:
                self._seen.move_to_end(query)
                return errors
        errors = validate(self.schema, document)
        with self._lock:
            self._seen[query] = errors
            while len(self._seen) > CACHED_DOCUMENTS:
                self._seen.popitem(last=False)
        return errors
