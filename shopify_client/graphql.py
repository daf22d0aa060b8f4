"""What every Admin GraphQL read here shares: the executor it runs on, Shopify's query limits, and cursor paging.

Shopify prices a query before running it (1 per object, 2 + `first` x node per connection, `first` x item per
list) and refuses anything above MAX_QUERY_COST (MAX_COST_EXCEEDED); `first` is capped at MAX_PAGE_SIZE. Each
reader sizes its documents with its own cost function; `paged` walks a connection page by page under that
function, halving a page Shopify still refuses as too expensive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from .errors import ShopifyError, ShopifyGraphQLError

__all__ = [
    "MAX_PAGE_SIZE",
    "MAX_QUERY_COST",
    "GraphQLExecutor",
    "connection_nodes",
    "end_cursor",
    "has_next_page",
    "paged",
]

MAX_QUERY_COST = 1000
# Shopify caps `first` at 250.
MAX_PAGE_SIZE = 250


class GraphQLExecutor(Protocol):
    """What the readers and writers need of a client (ShopifyAdminClient, or a fake in tests)."""

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        expected_cost: float | None = None,
        correlation_id: str | None = None,
    ) -> dict[str, Any]: ...


def paged(
    client: GraphQLExecutor,
    query: str,
    operation: str,
    *,
    root: str | tuple[str, ...],
    first: int,
    variables: Mapping[str, Any],
    cost: Callable[[int], int],
    after: str | None = None,
) -> Iterator[Mapping[str, Any]]:
    """The nodes of a connection at `root` (a path of fields), page by page.

    Each page is requested at `cost(first)` (at most MAX_QUERY_COST). A page Shopify refuses as too expensive
    (MAX_COST_EXCEEDED: its rules may differ from ours) is asked again at half the size from the same cursor.
    """
    path = (root,) if isinstance(root, str) else root
    while True:
        try:
            data = client.execute(
                query,
                {**variables, "first": first, "after": after},
                operation_name=operation,
                expected_cost=min(cost(first), MAX_QUERY_COST),
            )
        except ShopifyGraphQLError as exc:
            if exc.code == "MAX_COST_EXCEEDED" and first > 1:
                first = max(1, first // 2)
                continue
            raise
        connection: Any = data
        for name in path:
            connection = connection.get(name) if isinstance(connection, Mapping) else None
            if connection is None and name != path[-1]:
                return  # the parent vanished meanwhile (an item deleted while its levels were paged)
        if not isinstance(connection, Mapping):
            raise ShopifyError(f"{operation} returned no {'.'.join(path)} connection", code="INVALID_RESPONSE")
        for node in connection.get("nodes") or ():
            if isinstance(node, Mapping):
                yield node
        page_info = connection.get("pageInfo")
        if not isinstance(page_info, Mapping) or not page_info.get("hasNextPage"):
            return
        cursor = end_cursor(page_info, ".".join(path))
        if cursor == after:
            raise ShopifyError(f"{operation} paging did not advance past {after!r}", code="INVALID_RESPONSE")
        after = cursor


def end_cursor(page_info: Mapping[str, Any], what: str) -> str:
    """The cursor of the next page of a connection that says it has one."""
    cursor = page_info.get("endCursor")
    if not isinstance(cursor, str) or not cursor:
        raise ShopifyError(f"{what} says hasNextPage but gives no endCursor", code="INVALID_RESPONSE")
    return cursor


def has_next_page(connection: Any) -> bool:
    return isinstance(connection, Mapping) and bool((connection.get("pageInfo") or {}).get("hasNextPage"))


def connection_nodes(connection: Any) -> list[Mapping[str, Any]]:
    """The object nodes of a connection (nothing when it is absent)."""
    if not isinstance(connection, Mapping):
        return []
    return [n for n in connection.get("nodes") or () if isinstance(n, Mapping)]
