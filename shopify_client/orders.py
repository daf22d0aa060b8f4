"""Order reads over Admin GraphQL, each order returned whole in the REST shape the rest of the service consumes
(the conversion is `order_shape.convert_order`).

Shopify prices a query before running it: 1 per object, 2 + `first` x (node) per connection, `first` x (item)
per list, and refuses anything above 1000 (MAX_COST_EXCEEDED). Lists nested in lists multiply, so one
document holding an order with its fulfillments' lines and its refunds' lines would cost thousands at any
useful size. An order is therefore read in up to three documents:

- `OrderFields`: the order with its money on both sides (shop and presentment), its line items, shipping lines
  and discount applications (each pageable on its own), tax lines, and whether it has any fulfillment or
  refund (`first: 1 { id }`, 1 point each);
- `OrderFulfillments` and `OrderRefunds`, only when there is one, each sized to stay under the ceiling and
  asked again with sizes re-balanced when a list comes back full (their nested connections cannot be paged
  on their own: the schema has no root field for a fulfillment or refund). An order too large for any sizing
  is refused (ORDER_TOO_LARGE) rather than returned incomplete.

The documents and their cost functions are in `order_documents.py`; a test checks the functions against the
simulator's implementation of Shopify's rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .errors import ShopifyError
from .graphql import MAX_PAGE_SIZE, MAX_QUERY_COST, GraphQLExecutor, has_next_page, paged
from .ids import gid, legacy_id
from .order_shape import convert_order

__all__ = [
    "GET_ORDER_QUERY",
    "MAX_QUERY_COST",
    "ORDER_DISCOUNT_APPLICATIONS_QUERY",
    "ORDER_FIELDS",
    "ORDER_FULFILLMENTS_QUERY",
    "ORDER_LINE_ITEMS_QUERY",
    "ORDER_REFUNDS_QUERY",
    "ORDER_SHIPPING_LINES_QUERY",
    "ORDERS_UPDATED_QUERY",
    "GraphQLExecutor",
    "convert_order",
    "get_order",
    "gid",
    "iter_orders_updated_between",
    "legacy_id",
    "orders_search_query",
]


from .order_documents import (
    GET_ORDER_QUERY,
    ORDER_DISCOUNT_APPLICATIONS_QUERY,
    ORDER_FIELDS,
    ORDER_FULFILLMENTS_QUERY,
    ORDER_LINE_ITEMS_QUERY,
    ORDER_REFUNDS_QUERY,
    ORDER_SHIPPING_LINES_QUERY,
    ORDERS_UPDATED_QUERY,
    discount_applications_page_cost,
    fulfillments_cost,
    get_order_cost,
    line_items_page_cost,
    order_node_cost,
    orders_page_cost,
    refunds_cost,
    shipping_lines_page_cost,
)

# Shopify lets a query start only when the bucket holds its whole requested cost (the unused part is refunded
# afterwards), so sizes are chosen for the common order and kept well under the ceiling: a worker then waits
# less for a bucket other workers are draining. Larger orders cost an extra request, never missing data.
# A single order: 593 points with its first 20 line items; longer orders page the rest 30 at a time (753).
GET_ORDER_LINE_ITEMS = 20
# Page sizes of a connection read on its own (line items, shipping lines, discount applications).
NESTED_PAGE_SIZES = {"lineItems": 30, "shippingLines": 40, "discountApplications": 100}
# A list page multiplies the order's cost by the page size, so list pages carry few line items each (188 points
# an order: at most 5 orders a page) and page the rare longer order on its own.
LIST_LINE_ITEMS = 4
# First sizes of the fulfillment and refund reads (321 and 484 points), re-balanced when something is cut.
FULFILLMENTS_FIRST = (5, 25)
REFUNDS_FIRST = (3, 12)
_MAX_SIZING_ROUNDS = 4

_CONNECTION_QUERIES = {
    "lineItems": (ORDER_LINE_ITEMS_QUERY, "OrderLineItems", line_items_page_cost),
    "shippingLines": (ORDER_SHIPPING_LINES_QUERY, "OrderShippingLines", shipping_lines_page_cost),
    "discountApplications": (
        ORDER_DISCOUNT_APPLICATIONS_QUERY,
        "OrderDiscountApplications",
        discount_applications_page_cost,
    ),
}


# --- reads ----------------------------------------------------------------------------------------------


def get_order(client: GraphQLExecutor, order_id: int) -> dict[str, Any] | None:
    """The order in REST shape, with every line item, fulfillment and refund; None if Shopify has no such order.

    Raises ShopifyError (code ORDER_TOO_LARGE, not retryable) for an order whose fulfillments or refunds
    cannot be read whole under Shopify's query cost ceiling.
    """
    order_gid = gid("Order", order_id)
    data = client.execute(
        GET_ORDER_QUERY,
        {"id": order_gid, "lineItemsFirst": GET_ORDER_LINE_ITEMS},
        operation_name="GetOrder",
        expected_cost=get_order_cost(GET_ORDER_LINE_ITEMS),
    )
    node = data.get("order") if isinstance(data, Mapping) else None
    if node is None:
        return None
    return _assemble(client, node)


def orders_search_query(since: dt.datetime, until: dt.datetime | None = None) -> str:
    """Shopify search syntax for `since <= updated_at < until`, in UTC, whole seconds.

    `since` is rounded down and `until` up: a window a little too wide repeats an order (harmless: every
    consumer is idempotent) where one too narrow would lose it.
    """
    lower = _utc(since, "since").replace(microsecond=0)
    parts = [f"updated_at:>='{_iso(lower)}'"]
    if until is not None:
        upper = _utc(until, "until")
        if upper.microsecond:
            upper = upper.replace(microsecond=0) + dt.timedelta(seconds=1)
        if upper <= lower:
            raise ValueError("until must be later than since")
        parts.append(f"updated_at:<'{_iso(upper)}'")
    return " AND ".join(parts)


def iter_orders_updated_between(
    client: GraphQLExecutor,
    since: dt.datetime,
    until: dt.datetime | None = None,
    *,
    page_size: int = 50,
) -> Iterator[dict[str, Any]]:
    """Every order updated in [since, until), oldest update first, in REST shape, each complete as `get_order`.

    Cursor paging over `orders(sortKey: UPDATED_AT)`. A page holds at most `page_size` orders and never more
    than fit under Shopify's cost ceiling; should Shopify still refuse one as too expensive (MAX_COST_EXCEEDED)
    the page size is halved and the same cursor asked again.
    """
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be an int between 1 and {MAX_PAGE_SIZE}")
    search = orders_search_query(since, until)
    affordable = (MAX_QUERY_COST - 2) // order_node_cost(LIST_LINE_ITEMS)
    return _orders_pages(client, search, max(1, min(page_size, affordable)))


def _orders_pages(client: GraphQLExecutor, search: str, page_size: int) -> Iterator[dict[str, Any]]:
    for node in paged(
        client,
        ORDERS_UPDATED_QUERY,
        "OrdersUpdatedBetween",
        root="orders",
        first=page_size,
        variables={"query": search, "lineItemsFirst": LIST_LINE_ITEMS},
        cost=lambda n: orders_page_cost(n, LIST_LINE_ITEMS),
    ):
        order = _assemble(client, node)
        if order is not None:
            yield order


def _assemble(client: GraphQLExecutor, node: Mapping[str, Any]) -> dict[str, Any] | None:
    """The REST order from an OrderFields node, reading whatever it holds only a first page or a probe of;
    None if the order disappeared meanwhile."""
    completed = _complete_connections(client, node)
    if completed is None:
        return None
    order_gid = completed["id"]
    if completed.get("fulfillments"):
        fulfillments = _read_nested(
            client,
            order_gid,
            field="fulfillments",
            query=ORDER_FULFILLMENTS_QUERY,
            operation="OrderFulfillments",
            sizes=FULFILLMENTS_FIRST,
            cost=fulfillments_cost,
            inner=("fulfillmentLineItems",),
        )
        if fulfillments is None:
            return None
        completed["fulfillments"] = fulfillments
    if completed.get("refunds"):
        refunds = _read_nested(
            client,
            order_gid,
            field="refunds",
            query=ORDER_REFUNDS_QUERY,
            operation="OrderRefunds",
            sizes=REFUNDS_FIRST,
            cost=refunds_cost,
            inner=("refundLineItems", "transactions", "refundShippingLines", "orderAdjustments"),
        )
        if refunds is None:
            return None
        completed["refunds"] = refunds
    return convert_order(completed)


def _read_nested(
    client: GraphQLExecutor,
    order_gid: str,
    *,
    field: str,
    query: str,
    operation: str,
    sizes: tuple[int, int],
    cost: Callable[[int, int], int],
    inner: tuple[str, ...],
) -> list[Mapping[str, Any]] | None:
    """Every fulfillment (or refund) of the order with every nested line, sized to Shopify's cost ceiling.

    Neither the list nor its nested connections can be paged, so a result that may be cut is asked for again:
    more entries (with fewer lines each) when the list came back full, then exactly as many entries as there
    are plus one, with as many lines as the ceiling then allows. One spare entry proves the list is whole.
    """
    first, lines_first = sizes
    for _ in range(_MAX_SIZING_ROUNDS):
        data = client.execute(
            query,
            {"id": order_gid, "first": first, "linesFirst": lines_first},
            operation_name=operation,
            expected_cost=cost(first, lines_first),
        )
        order = data.get("order") if isinstance(data, Mapping) else None
        if order is None:
            return None
        items = [i for i in order.get(field) or () if isinstance(i, Mapping)]
        list_cut = len(items) >= first
        lines_cut = any(has_next_page(item.get(name)) for item in items for name in inner)
        if not list_cut and not lines_cut:
            return items
        if list_cut:
            new_first = min(MAX_PAGE_SIZE, first * 4)
            if new_first <= first:
                break
        else:
            new_first = len(items) + 1
        new_lines = _largest_fitting(lambda n, f=new_first: cost(f, n))
        if new_lines < 1 or (lines_cut and not list_cut and new_lines <= lines_first):
            break
        first, lines_first = new_first, new_lines
    raise ShopifyError(
        f"order {order_gid} has more {field} or nested lines than fit in one query under Shopify's cost ceiling",
        code="ORDER_TOO_LARGE",
    )


def _largest_fitting(cost: Callable[[int], int]) -> int:
    """The largest page size in 1..250 whose cost stays within the ceiling; 0 if none does."""
    low, high = 0, MAX_PAGE_SIZE
    while low < high:
        middle = (low + high + 1) // 2
        if cost(middle) <= MAX_QUERY_COST:
            low = middle
        else:
            high = middle - 1
    return low


def _complete_connections(client: GraphQLExecutor, node: Mapping[str, Any]) -> dict[str, Any] | None:
    """The order node with every page of its line items, shipping lines and discount applications; None if it
    vanished meanwhile."""
    node = dict(node)
    for field, (query, operation, page_cost) in _CONNECTION_QUERIES.items():
        connection = node.get(field)
        if not has_next_page(connection):
            continue
        nodes = list(connection.get("nodes") or ())
        page_info = connection.get("pageInfo") or {}
        while page_info.get("hasNextPage"):
            cursor = page_info.get("endCursor")
            if not cursor:
                raise ShopifyError(f"{field} says hasNextPage but gives no endCursor", code="INVALID_RESPONSE")
            data = client.execute(
                query,
                {"id": node["id"], "first": NESTED_PAGE_SIZES[field], "after": cursor},
                operation_name=operation,
                expected_cost=page_cost(NESTED_PAGE_SIZES[field]),
            )
            order = data.get("order") if isinstance(data, Mapping) else None
            if order is None:
                return None
            page = order.get(field) or {}
            nodes.extend(page.get("nodes") or ())
            page_info = page.get("pageInfo") or {}
            if page_info.get("hasNextPage") and page_info.get("endCursor") == cursor:
                raise ShopifyError(f"{field} paging did not advance past {cursor!r}", code="INVALID_RESPONSE")
        node[field] = {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": page_info.get("endCursor")}}
    return node


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (a naive time is ambiguous)")
    return value.astimezone(dt.UTC)


def _iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
