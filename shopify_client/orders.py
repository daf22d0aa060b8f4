"""Order reads over Admin GraphQL, converted to the REST shape the rest of the service already consumes.

Webhooks deliver orders in the REST resource shape (`orders/create`); reconciliation and backfill read them
over GraphQL. Converting here, once, lets every consumer keep one shape: ids as Python ints (they exceed 2**53,
so never through float), money as decimal strings, enums lower-cased as REST spells them.

Shopify prices a query before running it: 1 per object, 2 + `first` x (node) per connection, `first` x (item)
per list, and refuses anything above 1000 (MAX_COST_EXCEEDED). Lists nested in lists multiply, so one
document holding an order with its fulfillments' lines and its refunds' lines would cost thousands at any
useful size. An order is therefore read in up to three documents:

- `OrderFields`: the order, its line items and shipping lines (both pageable on their own), tax lines, and
  whether it has any fulfillment or refund (`first: 1 { id }`, 1 point each);
- `OrderFulfillments` and `OrderRefunds`, only when there is one, each sized to stay under the ceiling and
  asked again with sizes re-balanced when a list comes back full (their nested connections cannot be paged
  on their own: the schema has no root field for a fulfillment or refund). An order too large for any sizing
  is refused (ORDER_TOO_LARGE) rather than returned incomplete.

The cost functions below mirror that calculation for these exact documents; a unit test checks them against
the simulator's implementation of Shopify's rules.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from .errors import ShopifyError, ShopifyGraphQLError

__all__ = [
    "GET_ORDER_QUERY",
    "MAX_QUERY_COST",
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


class GraphQLExecutor(Protocol):
    """What these functions need of a client (ShopifyAdminClient, or a fake in tests)."""

    def execute(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        expected_cost: float | None = None,
    ) -> dict[str, Any]: ...


# --- documents ------------------------------------------------------------------------------------------

MAX_QUERY_COST = 1000
# Shopify caps `first` at 250.
MAX_PAGE_SIZE = 250
SHIPPING_LINES_FIRST = 5
TRACKING_INFO_FIRST = 10

MONEY_FIELDS = """
fragment MoneyFields on MoneyBag {
  shopMoney { amount currencyCode }
}
"""

ADDRESS_FIELDS = """
fragment AddressFields on MailingAddress {
  firstName lastName name company address1 address2 city province provinceCode zip country countryCodeV2 phone
}
"""

LINE_ITEM_FIELDS = """
fragment LineItemFields on LineItem {
  id sku name title quantity currentQuantity
  originalUnitPriceSet { ...MoneyFields }
  totalDiscountSet { ...MoneyFields }
  variant { id legacyResourceId sku }
}
"""

SHIPPING_LINE_FIELDS = """
fragment ShippingLineFields on ShippingLine {
  title code
  originalPriceSet { ...MoneyFields }
}
"""

# Every scalar and object of the schema's Order; fulfillments and refunds only as "are there any" (their
# details come from ORDER_FULFILLMENTS_QUERY / ORDER_REFUNDS_QUERY). Operations using it declare
# $lineItemsFirst.
ORDER_FIELDS = (
    """
fragment OrderFields on Order {
  id legacyResourceId name email phone createdAt updatedAt cancelledAt cancelReason currencyCode
  displayFinancialStatus displayFulfillmentStatus
  totalPriceSet { ...MoneyFields }
  subtotalPriceSet { ...MoneyFields }
  totalTaxSet { ...MoneyFields }
  totalDiscountsSet { ...MoneyFields }
  totalShippingPriceSet { ...MoneyFields }
  customer { id legacyResourceId email firstName lastName phone }
  billingAddress { ...AddressFields }
  shippingAddress { ...AddressFields }
  lineItems(first: $lineItemsFirst) {
    nodes { ...LineItemFields }
    pageInfo { hasNextPage endCursor }
  }
  shippingLines(first: 5) {
    nodes { ...ShippingLineFields }
    pageInfo { hasNextPage endCursor }
  }
  taxLines { title rate priceSet { ...MoneyFields } }
  fulfillments(first: 1) { id }
  refunds(first: 1) { id }
}
"""
    + LINE_ITEM_FIELDS
    + SHIPPING_LINE_FIELDS
    + ADDRESS_FIELDS
    + MONEY_FIELDS
)

GET_ORDER_QUERY = (
    """
query GetOrder($id: ID!, $lineItemsFirst: Int!) {
  order(id: $id) { ...OrderFields }
}
"""
    + ORDER_FIELDS
)

ORDERS_UPDATED_QUERY = (
    """
query OrdersUpdatedBetween($first: Int!, $after: String, $query: String!, $lineItemsFirst: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { ...OrderFields }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + ORDER_FIELDS
)

ORDER_LINE_ITEMS_QUERY = (
    """
query OrderLineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) {
      nodes { ...LineItemFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
    + LINE_ITEM_FIELDS
    + MONEY_FIELDS
)

ORDER_SHIPPING_LINES_QUERY = (
    """
query OrderShippingLines($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    shippingLines(first: $first, after: $after) {
      nodes { ...ShippingLineFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
    + SHIPPING_LINE_FIELDS
    + MONEY_FIELDS
)

ORDER_FULFILLMENTS_QUERY = """
query OrderFulfillments($id: ID!, $first: Int!, $linesFirst: Int!) {
  order(id: $id) {
    fulfillments(first: $first) {
      id legacyResourceId status createdAt updatedAt
      location { id legacyResourceId }
      trackingInfo(first: 10) { company number url }
      fulfillmentLineItems(first: $linesFirst) {
        nodes { id quantity lineItem { id sku } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""

# The refunded line's sku, price and quantity come from the order's own line items (already read), so the
# refund asks only for the line's id: 1 point per refunded line instead of 3.
ORDER_REFUNDS_QUERY = (
    """
query OrderRefunds($id: ID!, $first: Int!, $linesFirst: Int!) {
  order(id: $id) {
    refunds(first: $first) {
      id legacyResourceId createdAt note
      refundLineItems(first: $linesFirst) {
        nodes {
          id quantity restockType restocked
          location { id legacyResourceId }
          lineItem { id sku }
          subtotalSet { ...MoneyFields }
          totalTaxSet { ...MoneyFields }
        }
        pageInfo { hasNextPage endCursor }
      }
      transactions(first: $linesFirst) {
        nodes { id kind status gateway createdAt amountSet { ...MoneyFields } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""
    + MONEY_FIELDS
)


# Requested cost of each document, by Shopify's rules (see the module docstring).
def order_node_cost(line_items_first: int) -> int:
    """One order under OrderFields: the order 1, five MoneyBags 2 each, customer and two addresses 1 each,
    line items 2 + n x 6, shipping lines 2 + 5 x 3, tax lines (a list without size: 1) 3, the two probes 1 each."""
    return 1 + 10 + 3 + (2 + 6 * line_items_first) + (2 + 3 * SHIPPING_LINES_FIRST) + 3 + 1 + 1


def get_order_cost(line_items_first: int) -> int:
    return order_node_cost(line_items_first)


def orders_page_cost(first: int, line_items_first: int) -> int:
    return 2 + first * order_node_cost(line_items_first)


def line_items_page_cost(first: int) -> int:
    return 1 + 2 + 6 * first


def shipping_lines_page_cost(first: int) -> int:
    return 1 + 2 + 3 * first


def fulfillments_cost(first: int, lines_first: int) -> int:
    """Order 1 + per fulfillment: itself 1, location 1, tracking 10, line items 2 + m x (line 1 + item 1)."""
    return 1 + first * (1 + 1 + TRACKING_INFO_FIRST + 2 + 2 * lines_first)


def refunds_cost(first: int, lines_first: int) -> int:
    """Order 1 + per refund: itself 1, refund lines 2 + m x 7, transactions 2 + m x 3."""
    return 1 + first * (1 + (2 + 7 * lines_first) + (2 + 3 * lines_first))


# Shopify lets a query start only when the bucket holds its whole requested cost (the unused part is refunded
# afterwards), so sizes are chosen for the common order and kept well under the ceiling: a worker then waits
# less for a bucket other workers are draining. Larger orders cost an extra request, never missing data.
# A single order: 338 points; longer orders page their line items 100 at a time (603 points).
GET_ORDER_LINE_ITEMS = 50
NESTED_PAGE_SIZE = 100
# A list page multiplies the order's cost by the page size, so list pages carry few line items each (68 points
# an order: at most 14 orders a page) and page the rare longer order on its own.
LIST_LINE_ITEMS = 5
# First sizes of the fulfillment and refund reads (321 and 466 points), re-balanced when something is cut.
FULFILLMENTS_FIRST = (5, 25)
REFUNDS_FIRST = (3, 15)
_MAX_SIZING_ROUNDS = 4

_CONNECTION_QUERIES = {
    "lineItems": (ORDER_LINE_ITEMS_QUERY, "OrderLineItems", line_items_page_cost),
    "shippingLines": (ORDER_SHIPPING_LINES_QUERY, "OrderShippingLines", shipping_lines_page_cost),
}


# --- ids ------------------------------------------------------------------------------------------------

_GID = re.compile(r"^gid://shopify/([A-Za-z][A-Za-z0-9]*)/([0-9]+)(?:\?.*)?$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def gid(kind: str, id: int | str) -> str:
    """`gid("Order", 450789469)` -> `"gid://shopify/Order/450789469"`."""
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ValueError(f"invalid Shopify resource kind: {kind!r}")
    return f"gid://shopify/{kind}/{_int_id(id, what=f'{kind} id')}"


def legacy_id(gid: str) -> int:
    """The numeric id inside a Shopify global id: `"gid://shopify/LineItem/466157049"` -> 466157049."""
    match = _GID.match(gid) if isinstance(gid, str) else None
    if match is None:
        raise ValueError(f"not a Shopify global id: {gid!r}")
    return int(match.group(2))


def _int_id(value: Any, *, what: str = "id") -> int:
    # Ids arrive as strings (UnsignedInt64, gids) and must never pass through float on the way to int.
    if isinstance(value, bool):
        raise ValueError(f"invalid {what}: {value!r}")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str) and value.isdigit() and value.isascii():
        result = int(value)
    else:
        raise ValueError(f"invalid {what}: {value!r}")
    if result <= 0:
        raise ValueError(f"invalid {what}: {value!r}")
    return result


def _id_of(node: Mapping[str, Any] | None) -> int | None:
    """The legacy id of a node that has `legacyResourceId` and/or a gid `id`."""
    if not isinstance(node, Mapping):
        return None
    legacy = node.get("legacyResourceId")
    if legacy is not None:
        return _int_id(legacy, what="legacyResourceId")
    raw = node.get("id")
    return legacy_id(raw) if raw is not None else None


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
    after: str | None = None
    while True:
        variables = {"first": page_size, "after": after, "query": search, "lineItemsFirst": LIST_LINE_ITEMS}
        try:
            data = client.execute(
                ORDERS_UPDATED_QUERY,
                variables,
                operation_name="OrdersUpdatedBetween",
                expected_cost=orders_page_cost(page_size, LIST_LINE_ITEMS),
            )
        except ShopifyGraphQLError as exc:
            if exc.code == "MAX_COST_EXCEEDED" and page_size > 1:
                page_size = max(1, page_size // 2)
                continue
            raise
        connection = data.get("orders") if isinstance(data, Mapping) else None
        if not isinstance(connection, Mapping):
            raise ShopifyError("orders query returned no connection", code="INVALID_RESPONSE")
        for node in connection.get("nodes") or ():
            order = _assemble(client, node)
            if order is not None:
                yield order
        page_info = connection.get("pageInfo") or {}
        if not page_info.get("hasNextPage"):
            return
        cursor = page_info.get("endCursor")
        if not cursor or cursor == after:
            # Asking again with the same cursor would loop on the same page forever.
            raise ShopifyError("orders page says hasNextPage but gives no new endCursor", code="INVALID_RESPONSE")
        after = cursor


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
            inner=("refundLineItems", "transactions"),
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
        lines_cut = any(_has_next(item.get(name)) for item in items for name in inner)
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


def _has_next(connection: Any) -> bool:
    return isinstance(connection, Mapping) and bool((connection.get("pageInfo") or {}).get("hasNextPage"))


def _complete_connections(client: GraphQLExecutor, node: Mapping[str, Any]) -> dict[str, Any] | None:
    """The order node with every page of its line items and shipping lines; None if it vanished meanwhile."""
    node = dict(node)
    for field, (query, operation, page_cost) in _CONNECTION_QUERIES.items():
        connection = node.get(field)
        if not _has_next(connection):
            continue
        nodes = list(connection.get("nodes") or ())
        page_info = connection.get("pageInfo") or {}
        while page_info.get("hasNextPage"):
            cursor = page_info.get("endCursor")
            if not cursor:
                raise ShopifyError(f"{field} says hasNextPage but gives no endCursor", code="INVALID_RESPONSE")
            data = client.execute(
                query,
                {"id": node["id"], "first": NESTED_PAGE_SIZE, "after": cursor},
                operation_name=operation,
                expected_cost=page_cost(NESTED_PAGE_SIZE),
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


# --- conversion -----------------------------------------------------------------------------------------

_FULFILLMENT_STATUS = {
    "FULFILLED": "fulfilled",
    "PARTIALLY_FULFILLED": "partial",
    "RESTOCKED": "restocked",
}


def convert_order(node: Mapping[str, Any]) -> dict[str, Any]:
    """A GraphQL Order (as selected by ORDER_FIELDS, connections complete) in the REST/webhook shape."""
    order_id = _id_of(node)
    if order_id is None:
        raise ValueError("order node has neither legacyResourceId nor id")
    lines = [_line_item(li) for li in _nodes(node.get("lineItems"))]
    lines_by_id = {line["id"]: line for line in lines}
    return {
        "id": order_id,
        "admin_graphql_api_id": node.get("id") or gid("Order", order_id),
        "name": node.get("name"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "currency": node.get("currencyCode"),
        "financial_status": _lower(node.get("displayFinancialStatus")),
        # REST knows only these three values and null: every state in which nothing has shipped yet (unfulfilled,
        # on hold, scheduled, in progress...) is null there.
        "fulfillment_status": _FULFILLMENT_STATUS.get(str(node.get("displayFulfillmentStatus") or "").upper()),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": _lower(node.get("cancelReason")),
        "total_price": _money(node.get("totalPriceSet")),
        "subtotal_price": _money(node.get("subtotalPriceSet")),
        "total_tax": _money(node.get("totalTaxSet")),
        "total_discounts": _money(node.get("totalDiscountsSet")),
        "total_shipping_price_set": _money_set(node.get("totalShippingPriceSet")),
        "line_items": lines,
        "shipping_lines": [_shipping_line(sl) for sl in _nodes(node.get("shippingLines"))],
        "tax_lines": [_tax_line(tl) for tl in node.get("taxLines") or ()],
        "billing_address": _address(node.get("billingAddress")),
        "shipping_address": _address(node.get("shippingAddress")),
        "customer": _customer(node.get("customer")),
        "fulfillments": [_fulfillment(f, order_id) for f in node.get("fulfillments") or ()],
        "refunds": [_refund(r, order_id, lines_by_id) for r in node.get("refunds") or ()],
    }


def _line_item(node: Mapping[str, Any]) -> dict[str, Any]:
    variant = node.get("variant")
    return {
        "id": legacy_id(node["id"]),
        "admin_graphql_api_id": node["id"],
        "variant_id": _id_of(variant),
        "sku": node.get("sku"),
        "name": node.get("name"),
        "title": node.get("title"),
        "quantity": node.get("quantity"),
        "current_quantity": node.get("currentQuantity"),
        "price": _money(node.get("originalUnitPriceSet")),
        "total_discount": _money(node.get("totalDiscountSet")),
    }


def _shipping_line(node: Mapping[str, Any]) -> dict[str, Any]:
    return {"title": node.get("title"), "code": node.get("code"), "price": _money(node.get("originalPriceSet"))}


def _tax_line(node: Mapping[str, Any]) -> dict[str, Any]:
    return {"title": node.get("title"), "rate": node.get("rate"), "price": _money(node.get("priceSet"))}


_ADDRESS_KEYS = (
    ("first_name", "firstName"),
    ("last_name", "lastName"),
    ("name", "name"),
    ("company", "company"),
    ("address1", "address1"),
    ("address2", "address2"),
    ("city", "city"),
    ("province", "province"),
    ("province_code", "provinceCode"),
    ("zip", "zip"),
    ("country", "country"),
    ("country_code", "countryCodeV2"),
    ("phone", "phone"),
)


def _address(node: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(node, Mapping):
        return None
    return {rest: node.get(graphql) for rest, graphql in _ADDRESS_KEYS}


def _customer(node: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(node, Mapping):
        return None
    return {
        "id": _id_of(node),
        "admin_graphql_api_id": node.get("id"),
        "email": node.get("email"),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "phone": node.get("phone"),
    }


def _fulfillment(node: Mapping[str, Any], order_id: int) -> dict[str, Any]:
    tracking = [t for t in node.get("trackingInfo") or () if isinstance(t, Mapping)]
    numbers = [t["number"] for t in tracking if t.get("number")]
    urls = [t["url"] for t in tracking if t.get("url")]
    company = next((t["company"] for t in tracking if t.get("company")), None)
    return {
        "id": _id_of(node),
        "admin_graphql_api_id": node.get("id"),
        "order_id": order_id,
        "status": _lower(node.get("status")),
        "location_id": _id_of(node.get("location")),
        "tracking_company": company,
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": numbers,
        "tracking_url": urls[0] if urls else None,
        "tracking_urls": urls,
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "line_items": [
            {
                # REST lists the ORDER's line items here, with the quantity this fulfillment ships.
                "id": legacy_id(fli["lineItem"]["id"]),
                "quantity": fli.get("quantity"),
                "sku": fli["lineItem"].get("sku"),
            }
            for fli in _nodes(node.get("fulfillmentLineItems"))
        ],
    }


def _refund(node: Mapping[str, Any], order_id: int, order_lines: Mapping[int, dict[str, Any]]) -> dict[str, Any]:
    lines = []
    for rli in _nodes(node.get("refundLineItems")):
        item = rli.get("lineItem") or {}
        line_item_id = legacy_id(item["id"])
        # The refund document asks only for the line's id; the order's own copy of the line has the rest.
        own = order_lines.get(line_item_id) or _line_item(item)
        lines.append(
            {
                "id": legacy_id(rli["id"]),
                "quantity": rli.get("quantity"),
                "line_item_id": line_item_id,
                "location_id": _id_of(rli.get("location")),
                "restock_type": _lower(rli.get("restockType")),
                "line_item": {
                    "id": line_item_id,
                    "variant_id": own["variant_id"],
                    "sku": own["sku"] if own["sku"] is not None else item.get("sku"),
                    "title": own["title"],
                    "name": own["name"],
                    "price": own["price"],
                    "quantity": own["quantity"],
                },
                "subtotal": _money(rli.get("subtotalSet")),
                "total_tax": _money(rli.get("totalTaxSet")),
            }
        )
    transactions = []
    for tx in _nodes(node.get("transactions")):
        amount_set = tx.get("amountSet") or {}
        transactions.append(
            {
                "id": legacy_id(tx["id"]) if tx.get("id") else None,
                "order_id": order_id,
                "amount": _money(amount_set),
                "currency": (amount_set.get("shopMoney") or {}).get("currencyCode"),
                "kind": _lower(tx.get("kind")),
                "status": _lower(tx.get("status")),
                "gateway": tx.get("gateway"),
                "created_at": tx.get("createdAt"),
            }
        )
    return {
        "id": _id_of(node),
        "admin_graphql_api_id": node.get("id"),
        "order_id": order_id,
        "created_at": node.get("createdAt"),
        "note": node.get("note"),
        "restock": any(bool(r.get("restocked")) for r in _nodes(node.get("refundLineItems"))),
        "refund_line_items": lines,
        "transactions": transactions,
    }


def _nodes(connection: Any) -> list[Mapping[str, Any]]:
    if not isinstance(connection, Mapping):
        return []
    return [n for n in connection.get("nodes") or () if isinstance(n, Mapping)]


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _money(bag: Any) -> str | None:
    """The shop-currency amount of a MoneyBag as a decimal string with at least two places.

    Shopify's Decimal scalar drops trailing zeros ("199.0") where REST writes "199.00"; padding keeps the two
    shapes comparable as text without ever rounding a digit away.
    """
    if not isinstance(bag, Mapping):
        return None
    money = bag.get("shopMoney")
    amount = money.get("amount") if isinstance(money, Mapping) else None
    if amount is None:
        return None
    if isinstance(amount, bool) or not isinstance(amount, str | int | float | decimal.Decimal):
        raise ValueError(f"invalid money amount: {amount!r}")
    try:
        value = decimal.Decimal(str(amount))
    except decimal.InvalidOperation:
        raise ValueError(f"invalid money amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"invalid money amount: {amount!r}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(decimal.Decimal("0.01"))
    return format(value, "f")


def _money_set(bag: Any) -> dict[str, Any] | None:
    """A MoneyBag in REST's `*_set` shape (shop money only: the service books in the shop's currency)."""
    amount = _money(bag)
    if amount is None:
        return None
    currency = (bag.get("shopMoney") or {}).get("currencyCode")
    return {"shop_money": {"amount": amount, "currency_code": currency}}


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (a naive time is ambiguous)")
    return value.astimezone(dt.UTC)


def _iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
