"""Order reads over GraphQL (against a scripted endpoint) and their conversion to the REST/webhook shape."""

import copy
import datetime as dt
import json
from typing import Any

import pytest

from schemas.shopify import OrderSchema
from shopify_client import ShopifyError, get_order, gid, iter_orders_updated_between, legacy_id
from shopify_client import orders as orders_module
from shopify_client.orders import (
    GET_ORDER_QUERY,
    ORDER_DISCOUNT_APPLICATIONS_QUERY,
    ORDER_FULFILLMENTS_QUERY,
    ORDER_LINE_ITEMS_QUERY,
    ORDER_REFUNDS_QUERY,
    ORDER_SHIPPING_LINES_QUERY,
    ORDERS_UPDATED_QUERY,
    convert_order,
    orders_search_query,
)
from tests.conftest import load_fixture
from tests.integration.test_shopify_client import FakeClock, FakeShopify, Reply, make_client

BIG = 2**53 + 1  # the first integer a float cannot hold
ORDER_GID = "gid://shopify/Order/450789469"
# The fixture's third line (IPOD2008BLACK) gets an id above 2**53, everywhere it is referenced.
RENUMBER = {703073504: BIG}


@pytest.fixture
def shopify():
    fake = FakeShopify()
    yield fake
    fake.close()


@pytest.fixture
def client(shopify):
    return make_client(shopify, FakeClock())


# --- GraphQL nodes built from the REST fixtures, as Shopify's GraphQL would present the same order ----------


def money(amount: str) -> dict[str, Any]:
    side = {"amount": amount, "currencyCode": "USD"}
    return {"shopMoney": side, "presentmentMoney": dict(side)}


def line_gid(rest_id: int) -> str:
    return f"gid://shopify/LineItem/{RENUMBER.get(rest_id, rest_id)}"


def address(rest: dict[str, Any]) -> dict[str, Any]:
    keys = {
        "first_name": "firstName",
        "last_name": "lastName",
        "name": "name",
        "company": "company",
        "address1": "address1",
        "address2": "address2",
        "city": "city",
        "province": "province",
        "province_code": "provinceCode",
        "zip": "zip",
        "country": "country",
        "country_code": "countryCodeV2",
        "phone": "phone",
    }
    return {graphql: rest.get(key) for key, graphql in keys.items()}


def line_node(rest: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": line_gid(rest["id"]),
        "sku": rest["sku"],
        "name": rest["name"],
        "title": rest["title"],
        "quantity": rest["quantity"],
        "currentQuantity": rest["quantity"],
        # GraphQL's Decimal drops trailing zeros where REST writes "199.00".
        "originalUnitPriceSet": money("199.0"),
        "totalDiscountSet": money("0.0"),
        "isGiftCard": False,
        "taxable": True,
        "discountAllocations": [],
        "taxLines": [
            {"title": t["title"], "rate": t["rate"], "channelLiable": None, "priceSet": money(t["price"])}
            for t in rest.get("tax_lines") or []
        ],
        "duties": [],
        "variant": {
            "id": f"gid://shopify/ProductVariant/{rest['variant_id']}",
            "legacyResourceId": str(rest["variant_id"]),
            "sku": rest["sku"],
        },
    }


def connection(nodes: list[Any], has_next: bool = False, end: str | None = "end") -> dict[str, Any]:
    return {"nodes": nodes, "pageInfo": {"hasNextPage": has_next, "endCursor": end}}


def order_node(rest: dict[str, Any], *, fulfillments: bool = True, refunds: bool = True) -> dict[str, Any]:
    return {
        "id": ORDER_GID,
        "legacyResourceId": str(rest["id"]),
        "name": rest["name"],
        "email": rest["email"],
        "phone": None,
        "createdAt": rest["created_at"],
        "updatedAt": rest["updated_at"],
        "cancelledAt": None,
        "cancelReason": None,
        "currencyCode": "USD",
        "presentmentCurrencyCode": "USD",
        "taxesIncluded": rest["taxes_included"],
        "taxExempt": False,
        "paymentGatewayNames": [rest["gateway"]],
        "discountCodes": [],
        "displayFinancialStatus": rest["financial_status"].upper(),
        "displayFulfillmentStatus": "UNFULFILLED",
        "totalPriceSet": money("409.94"),
        "currentTotalPriceSet": money("409.94"),
        "currentTotalTaxSet": money("11.94"),
        "totalTipReceivedSet": money("0.0"),
        "currentTotalDutiesSet": None,
        "currentTotalAdditionalFeesSet": None,
        "subtotalPriceSet": money("398.0"),
        "totalTaxSet": money("11.94"),
        "totalDiscountsSet": money("0.0"),
        "totalShippingPriceSet": money("0.0"),
        "customer": {
            "id": "gid://shopify/Customer/207119551",
            "legacyResourceId": "207119551",
            "email": rest["customer"]["email"],
            "firstName": "Bob",
            "lastName": "Norman",
            "phone": None,
        },
        "billingAddress": address(rest["billing_address"]),
        "shippingAddress": address(rest["shipping_address"]),
        "lineItems": connection([line_node(li) for li in rest["line_items"]]),
        "shippingLines": connection(
            [
                {
                    "id": None,
                    "title": s["title"],
                    "code": s["code"],
                    "isRemoved": False,
                    "originalPriceSet": money("0.0"),
                    "discountedPriceSet": money("0.0"),
                    "discountAllocations": [],
                    "taxLines": [],
                }
                for s in rest["shipping_lines"]
            ]
        ),
        "discountApplications": connection([]),
        "taxLines": [
            {"title": t["title"], "rate": t["rate"], "channelLiable": None, "priceSet": money(t["price"])}
            for t in rest["tax_lines"]
        ],
        "fulfillments": [{"id": f"gid://shopify/Fulfillment/{f['id']}"} for f in rest["fulfillments"]]
        if fulfillments
        else [],
        "refunds": [{"id": "gid://shopify/Refund/509562969"}] if refunds else [],
    }


def fulfillment_node(rest: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Fulfillment/{rest['id']}",
        "legacyResourceId": str(rest["id"]),
        "status": rest["status"].upper(),
        "createdAt": rest["created_at"],
        "updatedAt": rest["updated_at"],
        "location": None,
        "trackingInfo": [
            {"company": rest["tracking_company"], "number": n, "url": u}
            for n, u in zip(rest["tracking_numbers"], rest["tracking_urls"], strict=True)
        ],
        "fulfillmentLineItems": connection(
            [
                {
                    "id": f"gid://shopify/FulfillmentLineItem/{i + 1}",
                    "quantity": li["quantity"],
                    "lineItem": {"id": line_gid(li["id"]), "sku": li["sku"]},
                }
                for i, li in enumerate(rest["line_items"])
            ]
        ),
    }


def refund_node(rest: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Refund/{rest['id']}",
        "legacyResourceId": str(rest["id"]),
        "createdAt": rest["created_at"],
        "note": rest["note"],
        "refundLineItems": connection(
            [
                {
                    "id": f"gid://shopify/RefundLineItem/{rli['id']}",
                    "quantity": rli["quantity"],
                    "restockType": "RETURN",
                    "restocked": True,
                    "location": {"id": "gid://shopify/Location/487838322", "legacyResourceId": "487838322"},
                    "lineItem": {"id": line_gid(rli["line_item_id"]), "sku": rli["line_item"]["sku"]},
                    "subtotalSet": money("199.00"),
                    "totalTaxSet": money("3.98"),
                }
                for rli in rest["refund_line_items"]
            ]
        ),
        "transactions": connection(
            [
                {
                    "id": f"gid://shopify/OrderTransaction/{t['id']}",
                    "kind": t["kind"].upper(),
                    "status": t["status"].upper(),
                    "gateway": t["gateway"],
                    "createdAt": t["created_at"],
                    "amountSet": money(t["amount"]),
                }
                for t in rest["transactions"]
            ]
        ),
    }


def data(payload: dict[str, Any]) -> Reply:
    cost = {"requestedQueryCost": 50, "actualQueryCost": 20}
    cost["throttleStatus"] = {"maximumAvailable": 2000.0, "currentlyAvailable": 1980, "restoreRate": 100.0}
    return Reply(200, {"data": payload, "extensions": {"cost": cost}})


def by_operation(**handlers: Any):
    """A responder dispatching on operationName; each handler gets the variables."""

    def respond(request: dict[str, Any]) -> Reply:
        body = request["json"]
        return handlers[body["operationName"]](body.get("variables") or {})

    return respond


def operations(shopify: FakeShopify) -> list[tuple[str, dict[str, Any]]]:
    return [(r["json"]["operationName"], r["json"].get("variables")) for r in shopify.requests]


# --- get_order ------------------------------------------------------------------------------------------


def test_get_order_converts_to_the_webhook_shape_of_the_fixture(shopify, client):
    rest = load_fixture("orders_create.json")
    refund = load_fixture("refunds_create.json")
    shopify.script = by_operation(
        GetOrder=lambda v: data({"order": order_node(rest)}),
        OrderFulfillments=lambda v: data({"order": {"fulfillments": [fulfillment_node(rest["fulfillments"][0])]}}),
        OrderRefunds=lambda v: data({"order": {"refunds": [refund_node(refund)]}}),
    )

    order = get_order(client, 450789469)

    assert operations(shopify) == [
        ("GetOrder", {"id": ORDER_GID, "lineItemsFirst": 20}),
        ("OrderFulfillments", {"id": ORDER_GID, "first": 5, "linesFirst": 25}),
        ("OrderRefunds", {"id": ORDER_GID, "first": 3, "linesFirst": 12}),
    ]
    # The big id crossed HTTP and JSON and is still exact (a float would have made it 2**53).
    assert json.loads(json.dumps(shopify.requests[0]["json"])) == shopify.requests[0]["json"]
    assert order["line_items"][2]["id"] == BIG and type(order["line_items"][2]["id"]) is int
    assert float(BIG) != BIG

    for key in (
        "id",
        "name",
        "email",
        "currency",
        "financial_status",
        "fulfillment_status",
        "created_at",
        "updated_at",
        "cancelled_at",
        "cancel_reason",
        "total_price",
        "subtotal_price",
        "total_tax",
        "total_discounts",
    ):
        assert order[key] == rest[key], key
    assert order["total_price"] == "409.94" and order["id"] == 450789469
    assert order["admin_graphql_api_id"] == ORDER_GID

    line_keys = ("id", "sku", "name", "title", "quantity", "price", "variant_id")
    expected_lines = [
        {k: RENUMBER.get(li[k], li[k]) if k == "id" else li[k] for k in line_keys} for li in rest["line_items"]
    ]
    assert [{k: li[k] for k in line_keys} for li in order["line_items"]] == expected_lines
    assert [li["sku"] for li in order["line_items"]] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert {li["price"] for li in order["line_items"]} == {"199.00"}
    assert {li["total_discount"] for li in order["line_items"]} == {"0.00"}

    usd = lambda amount: {  # noqa: E731
        "shop_money": {"amount": amount, "currency_code": "USD"},
        "presentment_money": {"amount": amount, "currency_code": "USD"},
    }
    assert order["shipping_lines"] == [
        {
            "id": None,
            "title": "Free Shipping",
            "code": "Free Shipping",
            "price": "0.00",
            "price_set": usd("0.00"),
            "discounted_price": "0.00",
            "discounted_price_set": usd("0.00"),
            "discount_allocations": [],
            "tax_lines": [],
            "is_removed": False,
        }
    ]
    assert order["tax_lines"] == [
        {"title": "State Tax", "rate": 0.06, "price": "11.94", "price_set": usd("11.94"), "channel_liable": None}
    ]
    assert order["total_price_set"] == order["current_total_price_set"] == usd("409.94")
    assert (order["current_total_duties_set"], order["current_total_additional_fees_set"]) == (None, None)
    assert order["line_items"][0]["tax_lines"] == []  # the fixture's lines carry no tax lines of their own
    assert (order["presentment_currency"], order["taxes_included"], order["tax_exempt"]) == ("USD", False, False)
    assert order["payment_gateway_names"] == ["authorize_net"] and order["total_tip_received"] == "0.00"
    for which in ("billing_address", "shipping_address"):
        assert order[which] == {k: rest[which][k] for k in order[which]}
        assert order[which]["country_code"] == "US" and order[which]["province_code"] == "KY"
    assert order["customer"]["id"] == 207119551 and type(order["customer"]["id"]) is int
    assert {k: order["customer"][k] for k in ("email", "first_name", "last_name")} == {
        k: rest["customer"][k] for k in ("email", "first_name", "last_name")
    }

    [fulfillment] = order["fulfillments"]
    rest_f = rest["fulfillments"][0]
    for key in ("id", "order_id", "status", "tracking_company", "tracking_number", "tracking_numbers", "created_at"):
        assert fulfillment[key] == rest_f[key], key
    assert fulfillment["location_id"] is None
    assert fulfillment["line_items"] == [{"id": 466157049, "quantity": 1, "sku": "IPOD2008GREEN"}]

    [got] = order["refunds"]
    for key in ("id", "order_id", "created_at", "note", "restock"):
        assert got[key] == refund[key], key
    assert [
        (
            r["id"],
            r["quantity"],
            r["line_item_id"],
            r["line_item"]["id"],
            r["line_item"]["sku"],
            r["line_item"]["price"],
        )
        for r in got["refund_line_items"]
    ] == [
        (
            r["id"],
            r["quantity"],
            RENUMBER.get(r["line_item_id"], r["line_item_id"]),
            RENUMBER.get(r["line_item"]["id"], r["line_item"]["id"]),
            r["line_item"]["sku"],
            r["line_item"]["price"],
        )
        for r in refund["refund_line_items"]
    ]
    assert {(r["restock_type"], r["location_id"], r["subtotal"], r["total_tax"]) for r in got["refund_line_items"]} == {
        ("return", 487838322, "199.00", "3.98")
    }
    assert [{k: t[k] for k in ("amount", "kind", "status", "gateway")} for t in got["transactions"]] == [
        {k: t[k] for k in ("amount", "kind", "status", "gateway")} for t in refund["transactions"]
    ]

    # The rest of the service loads it exactly as it loads a webhook body.
    loaded = OrderSchema().load(order)
    assert [li["id"] for li in loaded["line_items"]] == [466157049, 518995019, BIG]
    assert str(loaded["total_price"]) == "409.94"


def test_get_order_returns_none_when_shopify_has_no_such_order(shopify, client):
    shopify.script = by_operation(GetOrder=lambda v: data({"order": None}))
    assert get_order(client, 1) is None
    assert operations(shopify) == [("GetOrder", {"id": "gid://shopify/Order/1", "lineItemsFirst": 20})]


def test_get_order_without_fulfillments_or_refunds_is_one_request(shopify, client):
    rest = load_fixture("orders_create.json")
    shopify.script = by_operation(
        GetOrder=lambda v: data({"order": order_node(rest, fulfillments=False, refunds=False)})
    )
    order = get_order(client, 450789469)
    assert order["fulfillments"] == [] and order["refunds"] == []
    assert len(shopify.requests) == 1


def test_get_order_pages_nested_line_items(shopify, client):
    rest = load_fixture("orders_create.json")
    node = order_node(rest, fulfillments=False, refunds=False)
    lines = node["lineItems"]["nodes"]
    node["lineItems"] = connection(lines[:2], has_next=True, end="li-2")
    shopify.script = by_operation(
        GetOrder=lambda v: data({"order": node}),
        OrderLineItems=lambda v: data({"order": {"lineItems": connection(lines[2:], has_next=False, end="li-3")}}),
    )

    order = get_order(client, 450789469)

    assert [li["sku"] for li in order["line_items"]] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert order["line_items"][2]["id"] == BIG
    assert operations(shopify)[1] == ("OrderLineItems", {"id": ORDER_GID, "first": 30, "after": "li-2"})
    assert len(shopify.requests) == 2


def test_refunds_cut_short_are_read_again_with_rebalanced_sizes(shopify, client):
    rest = load_fixture("orders_create.json")
    refund = load_fixture("refunds_create.json")
    partial = refund_node(refund)
    partial["refundLineItems"] = connection(partial["refundLineItems"]["nodes"][:1], has_next=True)
    second = copy.deepcopy(refund_node(refund))
    second["id"], second["legacyResourceId"] = "gid://shopify/Refund/2", "2"
    sizes: list[tuple[int, int]] = []

    def refunds(variables: dict[str, Any]) -> Reply:
        sizes.append((variables["first"], variables["linesFirst"]))
        if len(sizes) == 1:
            return data({"order": {"refunds": [partial, second]}})
        return data({"order": {"refunds": [refund_node(refund), second]}})

    shopify.script = by_operation(
        GetOrder=lambda v: data({"order": order_node(rest, fulfillments=False)}), OrderRefunds=refunds
    )

    order = get_order(client, 450789469)

    # Two refunds came back (fewer than 3: the list is whole) but one was cut: ask for 2 + 1 refunds with as many
    # lines as 1000 points allow (1 + 3 x (70 + 13 x 20) = 991: each refund also reads up to 3 shipping refunds,
    # 3 order adjustments and its duties for 65 points).
    assert sizes == [(3, 12), (3, 20)]
    assert orders_module.refunds_cost(3, 20) == 991 and orders_module.refunds_cost(3, 21) > 1000
    assert [len(r["refund_line_items"]) for r in order["refunds"]] == [2, 2]


def test_an_order_too_large_for_any_sizing_is_refused_not_truncated(shopify, client):
    rest = load_fixture("orders_create.json")
    one = fulfillment_node(rest["fulfillments"][0])
    shopify.script = by_operation(
        GetOrder=lambda v: data({"order": order_node(rest, refunds=False)}),
        # Always a full list: there may always be more.
        OrderFulfillments=lambda v: data({"order": {"fulfillments": [one] * v["first"]}}),
    )
    with pytest.raises(ShopifyError) as caught:
        get_order(client, 450789469)
    assert caught.value.code == "ORDER_TOO_LARGE" and not caught.value.retryable
    firsts = [v["first"] for op, v in operations(shopify) if op == "OrderFulfillments"]
    assert firsts == [5, 20]


# --- iter_orders_updated_between ------------------------------------------------------------------------


def test_iter_orders_pages_with_cursors_exactly_once(shopify, client):
    rest = load_fixture("orders_create.json")

    def node(order_id: int) -> dict[str, Any]:
        n = order_node(rest, fulfillments=False, refunds=False)
        n["id"], n["legacyResourceId"] = f"gid://shopify/Order/{order_id}", str(order_id)
        return n

    pages = {
        None: connection([node(1), node(2)], has_next=True, end="cursor-1"),
        "cursor-1": connection([node(3), node(BIG)], has_next=True, end="cursor-2"),
        "cursor-2": connection([node(5)], has_next=False, end="cursor-3"),
    }
    shopify.script = by_operation(OrdersUpdatedBetween=lambda v: data({"orders": pages[v["after"]]}))
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    until = dt.datetime(2026, 1, 1, 19, 0, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=-5)))

    orders = list(iter_orders_updated_between(client, since, until))

    assert [o["id"] for o in orders] == [1, 2, 3, BIG, 5]
    sent = operations(shopify)
    assert [v["after"] for _, v in sent] == [None, "cursor-1", "cursor-2"]
    assert {v["query"] for _, v in sent} == {
        "updated_at:>='2026-01-01T00:00:00Z' AND updated_at:<'2026-01-02T00:00:01Z'"
    }
    # 50 asked, but only 5 orders fit under the 1000-point ceiling.
    assert {v["first"] for _, v in sent} == {5}
    assert "sortKey: UPDATED_AT" in shopify.requests[0]["json"]["query"]


def test_iter_orders_halves_the_page_when_shopify_says_it_costs_too_much(shopify, client):
    rest = load_fixture("orders_create.json")
    too_much = Reply(
        200,
        {"errors": [{"message": "Query cost is 1400", "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1400}}]},
    )
    replies = [too_much, data({"orders": connection([order_node(rest, fulfillments=False, refunds=False)])})]
    shopify.script = lambda request: replies.pop(0)

    orders = list(iter_orders_updated_between(client, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), page_size=4))

    assert [o["id"] for o in orders] == [450789469]
    assert [r["json"]["variables"]["first"] for r in shopify.requests] == [4, 2]
    assert [r["json"]["variables"]["after"] for r in shopify.requests] == [None, None]


def test_search_query_is_utc_whole_seconds_and_refuses_naive_times():
    eastern = dt.timezone(dt.timedelta(hours=-5))
    assert orders_search_query(dt.datetime(2026, 3, 1, 7, 30, 15, 999999, tzinfo=eastern)) == (
        "updated_at:>='2026-03-01T12:30:15Z'"
    )
    with pytest.raises(ValueError):
        orders_search_query(dt.datetime(2026, 3, 1))
    with pytest.raises(ValueError):
        orders_search_query(dt.datetime(2026, 3, 2, tzinfo=dt.UTC), dt.datetime(2026, 3, 1, tzinfo=dt.UTC))


# --- helpers and contract -------------------------------------------------------------------------------


def test_gid_helpers():
    assert gid("Order", 450789469) == "gid://shopify/Order/450789469"
    assert gid("LineItem", str(BIG)) == f"gid://shopify/LineItem/{BIG}"
    assert legacy_id(f"gid://shopify/LineItem/{BIG}") == BIG
    assert legacy_id("gid://shopify/Order/450789469?shop=1") == 450789469
    for bad in ("450789469", "gid://shopify/Order/", "gid://shopify/Order/1.5", None):
        with pytest.raises(ValueError):
            legacy_id(bad)
    for kind, value in (("order", 1), ("Order", 0), ("Order", 1.0), ("Order", True)):
        with pytest.raises(ValueError):
            gid(kind, value)


def test_money_is_padded_to_two_places_but_never_rounded():
    node = order_node(load_fixture("orders_create.json"), fulfillments=False, refunds=False)
    node["totalPriceSet"] = money("1E+2")
    node["totalTaxSet"] = money("1.005")
    order = convert_order(node)
    assert (order["total_price"], order["total_tax"], order["subtotal_price"]) == ("100.00", "1.005", "398.00")


@pytest.mark.parametrize(
    ("status", "expected"),
    [("UNFULFILLED", None), ("PARTIALLY_FULFILLED", "partial"), ("FULFILLED", "fulfilled"), ("ON_HOLD", None)],
)
def test_fulfillment_status_as_rest_spells_it(status, expected):
    node = order_node(load_fixture("orders_create.json"), fulfillments=False, refunds=False)
    node["displayFulfillmentStatus"] = status
    node["displayFinancialStatus"] = "PARTIALLY_REFUNDED"
    node["cancelReason"] = "CUSTOMER"
    order = convert_order(node)
    assert order["fulfillment_status"] == expected
    assert (order["financial_status"], order["cancel_reason"]) == ("partially_refunded", "customer")


def test_documents_validate_against_the_schema_and_cost_what_the_client_expects():
    graphql = pytest.importorskip("graphql")
    api = pytest.importorskip("simulators.shopify.graphql_api")
    cost = pytest.importorskip("simulators.shopify.cost")
    schema = api.load_schema()

    def requested(document: str, variables: dict[str, Any]) -> int:
        parsed = graphql.parse(document)
        assert graphql.validate(schema, parsed) == []
        [operation] = [d for d in parsed.definitions if isinstance(d, graphql.OperationDefinitionNode)]
        result = cost.requested_cost(schema, parsed, operation, variables)
        assert result.errors == []
        return result.requested

    m = orders_module
    cases = [
        (
            GET_ORDER_QUERY,
            {"id": "x", "lineItemsFirst": m.GET_ORDER_LINE_ITEMS},
            m.get_order_cost(m.GET_ORDER_LINE_ITEMS),
        ),
        (
            ORDERS_UPDATED_QUERY,
            {"first": 5, "query": "", "lineItemsFirst": m.LIST_LINE_ITEMS},
            m.orders_page_cost(5, m.LIST_LINE_ITEMS),
        ),
        (ORDER_LINE_ITEMS_QUERY, {"id": "x", "first": 30}, m.line_items_page_cost(30)),
        (ORDER_LINE_ITEMS_QUERY, {"id": "x", "first": 1}, m.line_items_page_cost(1)),
        (ORDER_SHIPPING_LINES_QUERY, {"id": "x", "first": 40}, m.shipping_lines_page_cost(40)),
        (ORDER_DISCOUNT_APPLICATIONS_QUERY, {"id": "x", "first": 100}, m.discount_applications_page_cost(100)),
        (ORDER_FULFILLMENTS_QUERY, {"id": "x", "first": 5, "linesFirst": 25}, m.fulfillments_cost(5, 25)),
        (ORDER_FULFILLMENTS_QUERY, {"id": "x", "first": 3, "linesFirst": 7}, m.fulfillments_cost(3, 7)),
        (ORDER_REFUNDS_QUERY, {"id": "x", "first": 3, "linesFirst": 12}, m.refunds_cost(3, 12)),
        (ORDER_REFUNDS_QUERY, {"id": "x", "first": 3, "linesFirst": 20}, m.refunds_cost(3, 20)),
    ]
    for document, variables, expected in cases:
        assert requested(document, variables) == expected
        assert expected <= m.MAX_QUERY_COST
    # The sizes the client sends are the ones these cases price.
    assert m.GET_ORDER_LINE_ITEMS == 20 and m.NESTED_PAGE_SIZES == {
        "lineItems": 30,
        "shippingLines": 40,
        "discountApplications": 100,
    }
    assert (m.LIST_LINE_ITEMS, m.REFUNDS_FIRST, m.FULFILLMENTS_FIRST) == (4, (3, 12), (5, 25))
    # A line item is 25 points (lists inside it priced as one item each), so a page of 6 orders is too much.
    assert m.line_items_page_cost(2) - m.line_items_page_cost(1) == 25
    assert m.orders_page_cost(6, m.LIST_LINE_ITEMS) > m.MAX_QUERY_COST


def test_discount_applications_and_codes_as_rest_spells_them():
    """GraphQL lists only the codes; REST's discount_codes carry each code's amount (what its applications took
    off the lines and shipping, shop money) and type; applications come back in REST's order (by index)."""
    node = order_node(load_fixture("orders_create.json"), fulfillments=False, refunds=False)
    applications = [
        {
            "__typename": "DiscountCodeApplication",
            "index": 1,
            "targetType": "SHIPPING_LINE",
            "targetSelection": "ALL",
            "allocationMethod": "EACH",
            "value": {"__typename": "PricingPercentageValue", "percentage": 100},
            "code": "FREESHIP",
        },
        {
            "__typename": "DiscountCodeApplication",
            "index": 0,
            "targetType": "LINE_ITEM",
            "targetSelection": "ALL",
            "allocationMethod": "ACROSS",
            "value": {"__typename": "PricingPercentageValue", "percentage": 12.5},
            "code": "SPRING",
        },
        {
            "__typename": "ManualDiscountApplication",
            "index": 2,
            "targetType": "LINE_ITEM",
            "targetSelection": "EXPLICIT",
            "allocationMethod": "ACROSS",
            "value": {"__typename": "MoneyV2", "amount": "5.0", "currencyCode": "USD"},
            "title": "Goodwill",
            "description": None,
        },
    ]
    node["discountApplications"] = connection(applications)
    node["discountCodes"] = ["SPRING", "FREESHIP"]
    lines = node["lineItems"]["nodes"]
    lines[0]["discountAllocations"] = [
        {"allocatedAmountSet": money("24.875"), "discountApplication": {"index": 0}},
        {"allocatedAmountSet": money("5.0"), "discountApplication": {"index": 2}},
    ]
    lines[1]["discountAllocations"] = [{"allocatedAmountSet": money("24.88"), "discountApplication": {"index": 0}}]
    node["shippingLines"]["nodes"][0]["discountAllocations"] = [
        {"allocatedAmountSet": money("10.0"), "discountApplication": {"index": 1}}
    ]

    order = convert_order(node)

    assert order["discount_applications"] == [
        {
            "target_type": "line_item",
            "type": "discount_code",
            "value": "12.5",
            "value_type": "percentage",
            "allocation_method": "across",
            "target_selection": "all",
            "code": "SPRING",
        },
        {
            "target_type": "shipping_line",
            "type": "discount_code",
            "value": "100.0",
            "value_type": "percentage",
            "allocation_method": "each",
            "target_selection": "all",
            "code": "FREESHIP",
        },
        {
            "target_type": "line_item",
            "type": "manual",
            "value": "5.00",
            "value_type": "fixed_amount",
            "allocation_method": "across",
            "target_selection": "explicit",
            "title": "Goodwill",
            "description": None,
        },
    ]
    assert order["discount_codes"] == [
        {"code": "SPRING", "amount": "49.755", "type": "percentage"},
        {"code": "FREESHIP", "amount": "10.00", "type": "shipping"},
    ]
    assert order["line_items"][0]["discount_allocations"][1] == {
        "amount": "5.00",
        "amount_set": {
            "shop_money": {"amount": "5.00", "currency_code": "USD"},
            "presentment_money": {"amount": "5.00", "currency_code": "USD"},
        },
        "discount_application_index": 2,
    }
