"""Query cost and the leaky bucket of Shopify's GraphQL Admin API rate limit.

This approximates Shopify's documented calculation ("Calculating query costs" on shopify.dev); it is not the
exact algorithm, which Shopify does not publish in full:

- scalar and enum fields cost 0, `__typename` and introspection fields 0;
- an object field costs 1 plus its selection;
- a connection (a `...Connection` type) costs 2 plus `first` (or `last`) times the cost of one node, a node
  costing 1 plus its selection (`nodes {...}` and `edges { node {...} }` count once; `pageInfo`, edges and
  cursors are free);
- a list of objects costs `first` (1 when the field has no size argument) times 1 plus the item selection;
- a mutation field costs 10, whatever it selects.

The requested cost is computed from the query before execution; the actual cost from the response, with each
connection and list charged for the items it really returned, and never above the requested cost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MAX_PAGE_SIZE = 250
MUTATION_COST = 10
CONNECTION_BASE_COST = 2
# Shopify's per-query ceiling; a bigger bucket (Plus) does not raise it.
SINGLE_QUERY_MAX_COST = 1000
FREE_TYPES = frozenset({"PageInfo"})


def _unwrap(graphql_type: Any) -> tuple[Any, bool]:
    """(named type, whether it is a list) of a field type."""
    is_list = False
    while isinstance(graphql_type, GraphQLNonNull | GraphQLList):
        if isinstance(graphql_type, GraphQLList):
            is_list = True
        graphql_type = graphql_type.of_type
    return graphql_type, is_list


def _is_connection(named: GraphQLNamedType) -> bool:
    return isinstance(named, GraphQLObjectType) and named.name.endswith("Connection") and "nodes" in named.fields


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    errors: list[GraphQLError] = field(default_factory=list)

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def included(self, node: Any) -> bool:
        for directive in node.directives or ():
            if directive.name.value in ("skip", "include"):
                condition = None
                for argument in directive.arguments or ():
                    if argument.name.value == "if":
                        condition = value_from_ast_untyped(argument.value, self.variables)
                if directive.name.value == "skip" and condition is True:
                    return False
                if directive.name.value == "include" and condition is False:
                    return False
        return True

    def collect(self, selection_sets: Iterable[SelectionSetNode | None]) -> dict[str, list[FieldNode]]:
        """Fields by response key across selection sets, fragments flattened (as graphql execution merges)."""
        fields: dict[str, list[FieldNode]] = {}
        pending = [s for s in selection_sets if s is not None]
        seen_fragments: set[str] = set()
        while pending:
            selection_set = pending.pop(0)
            for selection in selection_set.selections:
                if not self.included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in seen_fragments:
                        seen_fragments.add(name)
                        pending.append(fragment.selection_set)
        return fields

    def page_size(self, node: FieldNode, path: Sequence[str | int], connection: bool) -> int | None:
        first = self.argument(node, "first")
        last = self.argument(node, "last")
        for name, value in (("first", first), ("last", last)):
            if isinstance(value, int) and not isinstance(value, bool):
                if value > MAX_PAGE_SIZE:
                    # Shopify's exact wording is not in API_FACTS (UNCONFIRMED); the limit itself is.
                    self.errors.append(
                        GraphQLError(
                            f"The {name} argument must be at most {MAX_PAGE_SIZE} (got {value}): "
                            f"connections return at most {MAX_PAGE_SIZE} records per page.",
                            nodes=[node],
                            path=list(path),
                            extensions={"code": "MAX_PAGE_SIZE_EXCEEDED", "maxPageSize": MAX_PAGE_SIZE},
                        )
                    )
                elif value < 0:
                    self.errors.append(
                        GraphQLError(
                            f"{name} must be a non-negative integer",
                            nodes=[node],
                            path=list(path),
                            extensions={"code": "BAD_REQUEST"},
                        )
                    )
        if connection and first is None and last is None:
            self.errors.append(
                GraphQLError(
                    "you must provide one of first or last",
                    nodes=[node],
                    path=list(path),
                    extensions={"code": "BAD_REQUEST"},
                )
            )
        size = first if first is not None else last
        return size if isinstance(size, int) and not isinstance(size, bool) else None

    def field(self, parent: Any, name: str) -> Any:
        """The definition of `name` on `parent`; on an interface or union, on whichever possible type has it (a
        field selected in an inline fragment)."""
        fields = getattr(parent, "fields", None) or {}
        if name in fields:
            return fields[name]
        if is_abstract_type(parent):
            for possible in self.schema.get_possible_types(parent):
                if name in possible.fields:
                    return possible.fields[name]
        return None

    # requested cost

    def estimate(self, parent: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode | None], path) -> int:
        total = 0
        for key, nodes in self.collect(selection_sets).items():
            total += self._estimate_field(parent, nodes, [*path, key])
        return total

    def _estimate_field(self, parent: GraphQLObjectType, nodes: list[FieldNode], path: list[Any]) -> int:
        name = nodes[0].name.value
        definition = self.field(parent, name)
        if definition is None or name.startswith("__"):
            return 0
        named, is_list = _unwrap(definition.type)
        if is_leaf_type(named) or named.name in FREE_TYPES:
            return 0
        children = [n.selection_set for n in nodes]
        if _is_connection(named):
            size = self.page_size(nodes[0], path, connection=True) or 0
            return CONNECTION_BASE_COST + max(size, 0) * self._node_estimate(named, children, path)
        if is_list:
            size = self.page_size(nodes[0], path, connection=False)
            count = 1 if size is None else max(size, 0)
            return count * (1 + self.estimate(named, children, path))
        return 1 + self.estimate(named, children, path)

    def _node_estimate(self, connection: GraphQLObjectType, children: list[Any], path: list[Any]) -> int:
        node_type = get_named_type(connection.fields["nodes"].type)
        fields = self.collect(children)
        costs = [0]
        node_sets = [n.selection_set for ns in fields.values() for n in ns if n.name.value == "nodes"]
        if node_sets:
            costs.append(1 + self.estimate(node_type, node_sets, [*path, "nodes"]))
        edge_sets = [n.selection_set for ns in fields.values() for n in ns if n.name.value == "edges"]
        inner = self.collect(edge_sets)
        inner_sets = [n.selection_set for ns in inner.values() for n in ns if n.name.value == "node"]
        if inner_sets:
            costs.append(1 + self.estimate(node_type, inner_sets, [*path, "edges", "node"]))
        return max(costs)

    # actual cost

    def actual(self, parent: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode | None], data: Any) -> int:
        if not isinstance(data, dict):
            return 0
        total = 0
        for key, nodes in self.collect(selection_sets).items():
            total += self._actual_field(parent, nodes, data.get(key))
        return total

    def _actual_field(self, parent: GraphQLObjectType, nodes: list[FieldNode], value: Any) -> int:
        name = nodes[0].name.value
        definition = self.field(parent, name)
        if definition is None or name.startswith("__"):
            return 0
        named, is_list = _unwrap(definition.type)
        if is_leaf_type(named) or named.name in FREE_TYPES:
            return 0
        children = [n.selection_set for n in nodes]
        if _is_connection(named):
            if not isinstance(value, dict):
                return 0
            return CONNECTION_BASE_COST + self._actual_nodes(named, children, value)
        if is_list:
            items = value if isinstance(value, list) else []
            return sum(1 + self.actual(named, children, item) for item in items)
        # A lookup that found nothing (order(id:) -> null) still did the lookup.
        return 1 + self.actual(named, children, value)

    def _actual_nodes(self, connection: GraphQLObjectType, children: list[Any], value: dict[str, Any]) -> int:
        node_type = get_named_type(connection.fields["nodes"].type)
        fields = self.collect(children)
        per_node: dict[int, int] = {}
        for key, ns in fields.items():
            field_name = ns[0].name.value
            items = value.get(key)
            if not isinstance(items, list):
                continue
            if field_name == "nodes":
                sets = [n.selection_set for n in ns]
                for index, item in enumerate(items):
                    per_node[index] = max(per_node.get(index, 0), 1 + self.actual(node_type, sets, item))
            elif field_name == "edges":
                inner = self.collect([n.selection_set for n in ns])
                for index, edge in enumerate(items):
                    cost = 0
                    for inner_key, inner_nodes in inner.items():
                        if inner_nodes[0].name.value == "node" and isinstance(edge, dict):
                            sets = [n.selection_set for n in inner_nodes]
                            cost = max(cost, 1 + self.actual(node_type, sets, edge.get(inner_key)))
                    per_node[index] = max(per_node.get(index, 0), cost)
        return sum(per_node.values())


@dataclass
class QueryCost:
    requested: int
    errors: list[GraphQLError]


def _root_type(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    if operation.operation == OperationType.MUTATION:
        return schema.mutation_type
    if operation.operation == OperationType.SUBSCRIPTION:
        return schema.subscription_type
    return schema.query_type


def _variables_with_defaults(operation: OperationDefinitionNode, variables: dict[str, Any] | None) -> dict[str, Any]:
    values = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value, {})
    return values


def _walker(schema: GraphQLSchema, document: Any, operation: OperationDefinitionNode, variables: Any) -> _Walk:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return _Walk(schema, fragments, _variables_with_defaults(operation, variables))


def requested_cost(
    schema: GraphQLSchema, document: Any, operation: OperationDefinitionNode, variables: dict[str, Any] | None
) -> QueryCost:
    """The cost Shopify would reserve before running the operation, and page-size errors found on the way."""
    walk = _walker(schema, document, operation, variables)
    root = _root_type(schema, operation)
    if root is None:
        return QueryCost(0, walk.errors)
    if operation.operation == OperationType.MUTATION:
        fields = walk.collect([operation.selection_set])
        mutation_fields = [k for k, ns in fields.items() if not ns[0].name.value.startswith("__")]
        return QueryCost(MUTATION_COST * len(mutation_fields), walk.errors)
    return QueryCost(walk.estimate(root, [operation.selection_set], []), walk.errors)


def actual_cost(
    schema: GraphQLSchema,
    document: Any,
    operation: OperationDefinitionNode,
    variables: dict[str, Any] | None,
    data: Any,
    requested: int,
) -> int:
    """What the executed operation cost, from what it returned; never above the requested cost."""
    if operation.operation == OperationType.MUTATION:
        return requested
    walk = _walker(schema, document, operation, variables)
    root = _root_type(schema, operation)
    if root is None:
        return 0
    return min(walk.actual(root, [operation.selection_set], data), requested)


class LeakyBucket:
    """Shopify's rate limit: `size` points, refilled at `restore_rate` points a second, shared by all callers.

    A query reserves its requested cost before it runs and is refunded the difference to its actual cost
    afterwards."""

    def __init__(self, size: float, restore_rate: float, clock: Any = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.size = float(size)
        self.restore_rate = float(restore_rate)
        self._available = float(size)
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._available = min(self.size, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def configure(self, size: float | None = None, restore_rate: float | None = None) -> None:
        """Change the limits; a new size starts full (a fresh bucket), a new rate keeps the level."""
        with self._lock:
            self._refill()
            if restore_rate is not None:
                self.restore_rate = float(restore_rate)
            if size is not None:
                self.size = float(size)
                self._available = self.size

    def refill_fully(self) -> None:
        with self._lock:
            self._available = self.size
            self._at = self._clock()

    def try_take(self, points: int) -> bool:
        with self._lock:
            self._refill()
            if self._available < points:
                return False
            self._available -= points
            return True

    def give_back(self, points: int) -> None:
        if points <= 0:
            return
        with self._lock:
            self._refill()
            self._available = min(self.size, self._available + points)

    def status(self) -> dict[str, Any]:
        """`extensions.cost.throttleStatus` as Shopify writes it (floats for the limits, whole points left)."""
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": self.size,
                "currentlyAvailable": int(self._available),
                "restoreRate": self.restore_rate,
            }
