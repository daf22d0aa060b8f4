"""Bulk query operations (`bulkOperationRunQuery`, `currentBulkOperation`), as Shopify documents them for API
version 2026-04.

- The inner query is parsed and validated against the schema; a parse/validation problem, a mutation, or a query
  without any connection is a user error (`field: ["query"]`) and no operation is created.
- Connections inside it need no `first`: the operation reads ALL the data.
- The result is JSONL, one compact JSON object per line per node: each node of the root connection is a line,
  each node of a nested connection is a separate line carrying `"__parentId": "<gid of the parent node>"`,
  written after its parent. Non-connection fields stay inline. Lines have the node's fields in query order.
- Status flow: CREATED (the mutation's answer) -> RUNNING (the background thread started) -> COMPLETED, with
  objectCount (all lines), rootObjectCount (root connection nodes), fileSize (bytes) and url; or FAILED with
  errorCode INTERNAL_SERVER_ERROR if execution raised. An operation that found nothing completes with
  objectCount 0 and url null, as Shopify does.
- One bulk query operation at a time per shop: a second run while one is CREATED/RUNNING is a user error.
- The url is served by the simulator itself at `/_sim/bulk/<id>.jsonl` (no auth). Real Shopify gives a signed,
  expiring cloud-storage URL instead.

Two executors produce the same lines (a test compares them):

- generic: the inner query with `first: 2147483647` added to every connection lacking first/last, executed by
  graphql-core over the normal resolvers, then the result tree flattened to lines. Fine for small data.
- fast path for the shape `inventoryItems { edges { node {...} } }` / `nodes {...}` with item scalars and an
  optional `inventoryLevels` connection of levels (id, updatedAt, location { id }, quantities(names:) {...}),
  no aliases, fragments or directives: a direct generator over the inventory store, streamed to the file
  (100,000 items x 3 locations in about a second; graphql-core would take far longer and build the whole
  result in memory).
- A nested connection's lines take `__parentId` from the parent node's `id`; select `id` on the parent (Shopify
  requires it; here a parent without `id` gives `"__parentId": null`).
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    IntValueNode,
    ListValueNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    execute_sync,
    get_named_type,
    get_operation_ast,
    parse,
    validate,
    visit,
)
from graphql.error import GraphQLError

from simulators.shopify.cost import _is_connection, _unwrap, _Walk
from simulators.shopify.inventory import OTHER_QUANTITY_NAMES, QUANTITY_NAMES, InventoryStore
from simulators.shopify.inventory_api import quantity_of, time_text
from simulators.shopify.published_schema import PublishedSchemaValidator

FIRST_BULK_ID = 720_000_000_001
UNLIMITED = 2_147_483_647
IN_PROGRESS = ("CREATED", "RUNNING")
ALREADY_RUNNING = "A bulk query operation for this app and shop is already in progress"


class BulkQueryError(Exception):
    """The inner query failed while executing (a resolver's error): the operation ends FAILED."""


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass
class BulkOperation:
    id: int
    query: str
    created_at: float
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: float | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    path: str | None = None

    def view(self, base_url: str) -> dict[str, Any]:
        done = self.status == "COMPLETED"
        has_file = done and self.object_count > 0
        return {
            "id": f"gid://shopify/BulkOperation/{self.id}",
            "status": self.status,
            "errorCode": self.error_code,
            "createdAt": time_text(self.created_at),
            "completedAt": time_text(self.completed_at) if self.completed_at is not None else None,
            "objectCount": str(self.object_count),
            "rootObjectCount": str(self.root_object_count),
            "fileSize": str(self.file_size) if has_file else None,
            # Real Shopify: a signed Google Cloud Storage URL that expires after a week.
            "url": f"{base_url.rstrip('/')}/_sim/bulk/{self.id}.jsonl" if has_file else None,
            "partialDataUrl": None,
            "query": self.query,
            "type": "QUERY",
        }


class _AddFirst(Visitor):
    """Adds `first: 2147483647` to every connection field without first/last (bulk queries page themselves)."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info

    def enter_field(self, node: FieldNode, *_args: Any) -> Any:
        definition = self.type_info.get_field_def()
        if definition is None:
            return None
        named, _ = _unwrap(definition.type)
        names = {a.name.value for a in node.arguments or ()}
        if not _is_connection(named) or names & {"first", "last"}:
            return None
        extra = ArgumentNode(name=NameNode(value="first"), value=IntValueNode(value=str(UNLIMITED)))
        return FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=(*(node.arguments or ()), extra),
            directives=node.directives,
            selection_set=node.selection_set,
        )


def _has_connection(schema: GraphQLSchema, document: DocumentNode) -> bool:
    type_info = TypeInfo(schema)
    found = []

    class Finder(Visitor):
        def enter_field(self, *_args: Any) -> None:
            definition = type_info.get_field_def()
            if definition is not None and _is_connection(_unwrap(definition.type)[0]):
                found.append(True)

    visit(document, TypeInfoVisitor(type_info, Finder()))
    return bool(found)


def check_query(
    schema: GraphQLSchema, query: str, published: PublishedSchemaValidator | None = None
) -> tuple[DocumentNode | None, str | None]:
    """(parsed document, None) or (None, the user error message). With `published`, the query must validate
    against Shopify's published schema too (as it must on Shopify)."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, f"Invalid bulk query: {error.message}"
    errors = published.validate(query, document) if published is not None else []
    errors = errors or validate(schema, document)
    if errors:
        return None, "Invalid bulk query: " + "; ".join(e.message for e in errors)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation != OperationType.QUERY:
        return None, "Invalid bulk query: the bulk query must be a single query operation (no mutations)."
    if operations[0].variable_definitions:
        return None, "Invalid bulk query: variables are not supported in bulk queries."
    if not _has_connection(schema, document):
        return None, "Invalid bulk query: Bulk queries must contain at least one connection."
    return document, None


# generic executor


class _Flattener:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, out: IO[str]) -> None:
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.walk = _Walk(schema, fragments, {})
        self.out = out
        self.objects = 0
        self.roots = 0

    def root(self, parent_type: Any, selection_sets: list[Any], data: dict[str, Any]) -> None:
        for key, nodes in self.walk.collect(selection_sets).items():
            definition = parent_type.fields.get(nodes[0].name.value)
            if definition is None:
                continue
            named, _ = _unwrap(definition.type)
            value = data.get(key)
            if _is_connection(named):
                for node in self._connection_nodes(named, nodes, value):
                    self.roots += 1
                    self._node(node, None)
            # Non-connection root fields (shop...) have no place in the JSONL; Shopify ignores them too.

    def _connection_nodes(self, connection: Any, nodes: list[FieldNode], value: Any) -> Iterator[tuple[Any, Any, list]]:
        """(node type, node data, node selection sets) of each node of a connection result, in order."""
        if not isinstance(value, dict):
            return
        node_type = get_named_type(connection.fields["nodes"].type)
        fields = self.walk.collect([n.selection_set for n in nodes])
        for key, ns in fields.items():
            name = ns[0].name.value
            items = value.get(key)
            if not isinstance(items, list):
                continue
            if name == "nodes":
                for item in items:
                    yield node_type, item, [n.selection_set for n in ns]
            elif name == "edges":
                inner = self.walk.collect([n.selection_set for n in ns])
                for edge in items:
                    for inner_key, inner_nodes in inner.items():
                        if inner_nodes[0].name.value == "node" and isinstance(edge, dict):
                            yield node_type, edge.get(inner_key), [n.selection_set for n in inner_nodes]

    def _node(self, node: tuple[Any, Any, list], parent_id: str | None) -> None:
        node_type, data, selection_sets = node
        if not isinstance(data, dict):
            return
        children: list[tuple[Any, Any, list]] = []
        line = self._inline(node_type, selection_sets, data, children)
        if parent_id is not None:
            line["__parentId"] = parent_id
        self.out.write(_ENCODE(line))
        self.out.write("\n")
        self.objects += 1
        own_id = data.get("id")
        for child in children:
            self._node(child, own_id)

    def _inline(self, parent_type: Any, selection_sets: list[Any], data: dict[str, Any], children: list) -> dict:
        """The node's fields without its connections (collected in `children` for lines of their own)."""
        line: dict[str, Any] = {}
        for key, nodes in self.walk.collect(selection_sets).items():
            name = nodes[0].name.value
            value = data.get(key)
            if name == "__typename":
                line[key] = value
                continue
            definition = parent_type.fields.get(name)
            if definition is None:
                continue
            named, is_list = _unwrap(definition.type)
            sets = [n.selection_set for n in nodes]
            if _is_connection(named):
                children.extend(self._connection_nodes(named, nodes, value))
            elif value is None or not sets[0]:
                line[key] = value
            elif is_list:
                line[key] = [self._inline(named, sets, v, children) if isinstance(v, dict) else v for v in value]
            else:
                line[key] = self._inline(named, sets, value, children)
        return line


def run_generic(
    schema: GraphQLSchema, document: DocumentNode, root: dict[str, Any], context: Any, out: IO[str]
) -> tuple[int, int]:
    type_info = TypeInfo(schema)
    unlimited = visit(document, TypeInfoVisitor(type_info, _AddFirst(type_info)))
    result = execute_sync(schema, unlimited, root_value=root, context_value=context)
    if result.errors:
        raise BulkQueryError("; ".join(e.message for e in result.errors))
    operation = get_operation_ast(unlimited)
    assert operation is not None  # noqa: S101 - checked by check_query
    flattener = _Flattener(schema, unlimited, out)
    flattener.root(schema.query_type, [operation.selection_set], result.data or {})
    return flattener.objects, flattener.roots


# fast path: inventoryItems with their levels

_ITEM_FIELDS: dict[str, Callable[[Any], Any]] = {
    "id": lambda item: f"gid://shopify/InventoryItem/{item.id}",
    "legacyResourceId": lambda item: str(item.id),
    "sku": lambda item: item.sku,
    "tracked": lambda item: item.tracked,
    "createdAt": lambda item: time_text(item.created_at),
    "updatedAt": lambda item: time_text(item.updated_at),
}
_QUANTITY_FIELDS = frozenset({"name", "quantity", "updatedAt"})


def _plain_fields(selection_set: Any) -> list[FieldNode] | None:
    """The fields of a selection set if it is only plain fields (no alias, fragment or directive), else None."""
    if selection_set is None:
        return None
    fields = []
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.alias is not None or selection.directives:
            return None
        fields.append(selection)
    return fields


def _connection_node_fields(field: FieldNode) -> list[FieldNode] | None:
    """The node selection of `edges { node {...} }` or `nodes {...}` when that is all the connection selects."""
    fields = _plain_fields(field.selection_set)
    if fields is None or len(fields) != 1:
        return None
    inner = fields[0]
    if inner.name.value == "nodes":
        return _plain_fields(inner.selection_set)
    if inner.name.value == "edges":
        edge_fields = _plain_fields(inner.selection_set)
        if edge_fields is None or len(edge_fields) != 1 or edge_fields[0].name.value != "node":
            return None
        return _plain_fields(edge_fields[0].selection_set)
    return None


@dataclass
class _InventoryPlan:
    item_fields: list[str]
    levels: bool
    # level fields in order: ("id"|"updatedAt"|"location", None) or ("quantities", (names, quantity fields))
    level_fields: list[tuple[str, Any]]


def inventory_plan(document: DocumentNode) -> _InventoryPlan | None:
    """The fast-path plan when the bulk query has the inventory shape, else None."""
    if len(document.definitions) != 1:
        return None
    operation = document.definitions[0]
    if not isinstance(operation, OperationDefinitionNode):
        return None
    roots = _plain_fields(operation.selection_set)
    if roots is None or len(roots) != 1 or roots[0].name.value != "inventoryItems" or roots[0].arguments:
        return None
    node_fields = _connection_node_fields(roots[0])
    if not node_fields:
        return None
    item_fields: list[str] = []
    level_fields: list[tuple[str, Any]] | None = None
    for field in node_fields:
        name = field.name.value
        if name in _ITEM_FIELDS and not field.arguments and field.selection_set is None:
            if name in item_fields:
                return None
            item_fields.append(name)
        elif name == "inventoryLevels" and not field.arguments and level_fields is None:
            level_fields = _level_plan(field)
            if level_fields is None:
                return None
        else:
            return None
    if level_fields is not None and "id" not in item_fields:
        return None  # a nested connection needs its parent's id (Shopify refuses it too); let generic decide
    return _InventoryPlan(item_fields, level_fields is not None, level_fields or [])


def _level_plan(field: FieldNode) -> list[tuple[str, Any]] | None:
    fields = _connection_node_fields(field)
    if not fields:
        return None
    plan: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for level_field in fields:
        name = level_field.name.value
        if name in seen:
            return None
        seen.add(name)
        if name in ("id", "updatedAt") and not level_field.arguments and level_field.selection_set is None:
            plan.append((name, None))
        elif name == "location" and not level_field.arguments:
            inner = _plain_fields(level_field.selection_set)
            if not inner or len(inner) != 1 or inner[0].name.value != "id" or inner[0].arguments:
                return None
            plan.append((name, None))
        elif name == "quantities":
            arguments = level_field.arguments or ()
            if len(arguments) != 1 or arguments[0].name.value != "names":
                return None
            value = arguments[0].value
            values = value.values if isinstance(value, ListValueNode) else (value,)
            if not all(isinstance(v, StringValueNode) for v in values):
                return None
            names = [v.value for v in values]
            if any(n not in QUANTITY_NAMES and n not in OTHER_QUANTITY_NAMES for n in names):
                return None  # the generic path reports the resolver's error
            inner = _plain_fields(level_field.selection_set)
            if not inner or any(f.name.value not in _QUANTITY_FIELDS or f.arguments for f in inner):
                return None
            plan.append((name, (names, [f.name.value for f in inner])))
        else:
            return None
    return plan


def run_inventory(plan: _InventoryPlan, store: InventoryStore, out: IO[str]) -> tuple[int, int]:
    getters = [(name, _ITEM_FIELDS[name]) for name in plan.item_fields]
    objects = roots = 0
    write = out.write
    items = store.items
    # Seeded levels share one Level value: their quantity lists are built once.
    quantity_cache: dict[int, tuple[Any, list[dict[str, Any]]]] = {}

    def quantities(level: Any, spec: tuple[list[str], list[str]]) -> list[dict[str, Any]]:
        cached = quantity_cache.get(id(level))
        if cached is not None and cached[0] is level:
            return cached[1]
        names, fields = spec
        stamp = time_text(level.updated_at)
        values = {"quantity": None, "updatedAt": stamp}
        result = []
        for name in names:
            values["name"], values["quantity"] = name, quantity_of(level, name)
            result.append({f: values[f] for f in fields})
        quantity_cache[id(level)] = (level, result)
        return result

    buffer: list[str] = []
    for item_id in list(store.sorted_item_ids()):
        item = items.get(item_id)
        if item is None:
            continue
        item_gid = f"gid://shopify/InventoryItem/{item_id}"
        buffer.append(_ENCODE({name: get(item) for name, get in getters}))
        roots += 1
        if plan.levels:
            for location_id, level in sorted(dict(item.levels).items()):
                line: dict[str, Any] = {}
                for name, spec in plan.level_fields:
                    if name == "id":
                        line["id"] = f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"
                    elif name == "updatedAt":
                        line["updatedAt"] = time_text(level.updated_at)
                    elif name == "location":
                        line["location"] = {"id": f"gid://shopify/Location/{location_id}"}
                    else:
                        line["quantities"] = quantities(level, spec)
                line["__parentId"] = item_gid
                buffer.append(_ENCODE(line))
                objects += 1
        if len(buffer) >= 4096:
            buffer.append("")
            write("\n".join(buffer))
            buffer.clear()
    if buffer:
        buffer.append("")
        write("\n".join(buffer))
    return objects + roots, roots


# the registry


class BulkOperations:
    """The shop's bulk operations; at most one query operation in progress."""

    def __init__(
        self,
        schema: GraphQLSchema,
        inventory: InventoryStore,
        latency: Callable[[], float] = lambda: 0.0,
        clock: Callable[[], float] = time.time,
        published: PublishedSchemaValidator | None = None,
    ) -> None:
        self.schema = schema
        self.published = published
        self.inventory = inventory
        self.latency = latency
        self.clock = clock
        self.lock = threading.Lock()
        self.directory = tempfile.mkdtemp(prefix="shopify-sim-bulk-")
        self.operations: dict[int, BulkOperation] = {}
        self.current: BulkOperation | None = None
        self.generic_only = False  # tests compare the two executors
        self._seq = itertools.count(FIRST_BULK_ID)

    def reset(self) -> None:
        with self.lock:
            for operation in self.operations.values():
                if operation.path is not None and operation.status not in IN_PROGRESS:
                    with_suppress_remove(operation.path)
            self.operations.clear()
            self.current = None

    def snapshot(self, operation: BulkOperation | None) -> BulkOperation | None:
        with self.lock:
            return None if operation is None else BulkOperation(**vars(operation))

    def run_query(
        self, query: str, root_factory: Callable[[], dict[str, Any]], context_factory: Callable[[], Any]
    ) -> tuple[BulkOperation | None, list[dict[str, Any]]]:
        """Start an operation: (its state as created, []) or (None, user errors)."""
        document, problem = check_query(self.schema, query, self.published)
        if problem is not None or document is None:
            return None, [{"field": ["query"], "message": problem}]
        with self.lock:
            if self.current is not None and self.current.status in IN_PROGRESS:
                return None, [{"field": None, "message": ALREADY_RUNNING}]
            operation = BulkOperation(next(self._seq), query, self.clock())
            self.operations[operation.id] = operation
            self.current = operation
            created = BulkOperation(**vars(operation))
        thread = threading.Thread(
            target=self._run,
            args=(operation, document, root_factory, context_factory),
            name=f"bulk-operation-{operation.id}",
            daemon=True,
        )
        thread.start()
        return created, []

    def _run(self, operation: BulkOperation, document: DocumentNode, root_factory: Any, context_factory: Any) -> None:
        started = time.monotonic()
        with self.lock:
            operation.status = "RUNNING"
        path = os.path.join(self.directory, f"{operation.id}.jsonl")
        try:
            with open(path, "w", encoding="utf-8", newline="\n") as out:
                plan = None if self.generic_only else inventory_plan(document)
                if plan is not None:
                    objects, roots = run_inventory(plan, self.inventory, out)
                else:
                    objects, roots = run_generic(self.schema, document, root_factory(), context_factory(), out)
            remaining = self.latency() - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)
            size = os.path.getsize(path)
        except Exception as exc:  # noqa: BLE001 - reported as Shopify does: FAILED with an error code
            if not isinstance(exc, BulkQueryError):
                traceback.print_exc()
            with self.lock:
                operation.status = "FAILED"
                operation.error_code = "INTERNAL_SERVER_ERROR"
                operation.completed_at = self.clock()
            with_suppress_remove(path)
            return
        with self.lock:
            operation.path = path
            operation.object_count = objects
            operation.root_object_count = roots
            operation.file_size = size
            operation.status = "COMPLETED"
            operation.completed_at = self.clock()

    def file_path(self, operation_id: int) -> str | None:
        with self.lock:
            operation = self.operations.get(operation_id)
            return operation.path if operation is not None and operation.status == "COMPLETED" else None


def with_suppress_remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
