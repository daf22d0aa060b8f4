"""The GraphQL documents of the order reads and what each costs by Shopify's rules (see `orders.py`).

Every money amount is read on both sides (`shopMoney` and `presentmentMoney`, as REST's `*_set` carry them), and
every field the money mapping reads from a webhook order has its GraphQL source here: the conversion back to the
REST shape is `order_shape.convert_order`.

Costs (Shopify's documented rules, implemented by the simulator's `cost.py`): an object 1 plus its selection,
scalars and enums 0, a connection 2 + `first` x (1 + node), a list of objects `first` x (1 + item) where a list
without a size argument counts as one item. A MoneyBag with both sides is therefore 3 points, a tax line 4, a
discount allocation 5. Lists nested in a line item (its tax lines, discount allocations, duties) are plain lists,
not connections: Shopify returns them whole, and prices them as one item each.
"""

from __future__ import annotations

__all__ = [
    "DISCOUNT_APPLICATIONS_FIRST",
    "GET_ORDER_QUERY",
    "ORDERS_UPDATED_QUERY",
    "ORDER_DISCOUNT_APPLICATIONS_QUERY",
    "ORDER_FIELDS",
    "ORDER_FULFILLMENTS_QUERY",
    "ORDER_LINE_ITEMS_QUERY",
    "ORDER_REFUNDS_QUERY",
    "ORDER_SHIPPING_LINES_QUERY",
    "SHIPPING_LINES_FIRST",
    "TRACKING_INFO_FIRST",
    "discount_applications_page_cost",
    "fulfillments_cost",
    "get_order_cost",
    "line_items_page_cost",
    "order_node_cost",
    "orders_page_cost",
    "refunds_cost",
    "shipping_lines_page_cost",
]

# First page sizes of the order's small connections (an order rarely has more; more are paged).
SHIPPING_LINES_FIRST = 2
DISCOUNT_APPLICATIONS_FIRST = 5
TRACKING_INFO_FIRST = 10

MONEY_FIELDS = """
fragment MoneyFields on MoneyBag {
  shopMoney { amount currencyCode }
  presentmentMoney { amount currencyCode }
}
"""

TAX_LINE_FIELDS = """
fragment TaxLineFields on TaxLine {
  title rate channelLiable
  priceSet { ...MoneyFields }
}
"""

DISCOUNT_ALLOCATION_FIELDS = """
fragment DiscountAllocationFields on DiscountAllocation {
  allocatedAmountSet { ...MoneyFields }
  discountApplication { index }
}
"""

DISCOUNT_APPLICATION_FIELDS = """
fragment DiscountApplicationFields on DiscountApplication {
  __typename index targetType targetSelection allocationMethod
  value {
    __typename
    ... on MoneyV2 { amount currencyCode }
    ... on PricingPercentageValue { percentage }
  }
  ... on DiscountCodeApplication { code }
  ... on AutomaticDiscountApplication { title }
  ... on ManualDiscountApplication { title description }
  ... on ScriptDiscountApplication { title }
}
"""

ADDRESS_FIELDS = """
fragment AddressFields on MailingAddress {
  firstName lastName name company address1 address2 city province provinceCode zip country countryCodeV2 phone
}
"""

LINE_ITEM_FIELDS = """
fragment LineItemFields on LineItem {
  id sku name title variantTitle quantity currentQuantity isGiftCard taxable
  originalUnitPriceSet { ...MoneyFields }
  totalDiscountSet { ...MoneyFields }
  discountAllocations { ...DiscountAllocationFields }
  taxLines { ...TaxLineFields }
  duties {
    id harmonizedSystemCode countryCodeOfOrigin
    price { ...MoneyFields }
    taxLines { ...TaxLineFields }
  }
  variant { id legacyResourceId sku }
}
"""

SHIPPING_LINE_FIELDS = """
fragment ShippingLineFields on ShippingLine {
  id title code isRemoved
  originalPriceSet { ...MoneyFields }
  discountedPriceSet { ...MoneyFields }
  discountAllocations { ...DiscountAllocationFields }
  taxLines { ...TaxLineFields }
}
"""

_LINE_FRAGMENTS = LINE_ITEM_FIELDS + DISCOUNT_ALLOCATION_FIELDS + TAX_LINE_FIELDS + MONEY_FIELDS
_SHIPPING_FRAGMENTS = SHIPPING_LINE_FIELDS + DISCOUNT_ALLOCATION_FIELDS + TAX_LINE_FIELDS + MONEY_FIELDS

# The order with its money on both sides, its line items, shipping lines (removed ones included, as REST lists
# them with `is_removed`) and discount applications (each pageable on its own), and whether it has any
# fulfillment or refund (`first: 1 { id }`, 1 point each; their details come from ORDER_FULFILLMENTS_QUERY /
# ORDER_REFUNDS_QUERY), and its transactions (a list without a size argument: Shopify returns them all and prices
# them as one item, ORDER_TRANSACTION = 5 points; the nightly payments check reads them here instead of one
# OrderTransactions call per order). Operations using it declare $lineItemsFirst.
ORDER_FIELDS = (
    f"""
fragment OrderFields on Order {{
  id legacyResourceId name email phone createdAt updatedAt cancelledAt cancelReason
  currencyCode presentmentCurrencyCode taxesIncluded taxExempt paymentGatewayNames discountCodes
  displayFinancialStatus displayFulfillmentStatus
  totalPriceSet {{ ...MoneyFields }}
  currentTotalPriceSet {{ ...MoneyFields }}
  subtotalPriceSet {{ ...MoneyFields }}
  totalTaxSet {{ ...MoneyFields }}
  currentTotalTaxSet {{ ...MoneyFields }}
  totalDiscountsSet {{ ...MoneyFields }}
  totalShippingPriceSet {{ ...MoneyFields }}
  totalTipReceivedSet {{ ...MoneyFields }}
  currentTotalDutiesSet {{ ...MoneyFields }}
  currentTotalAdditionalFeesSet {{ ...MoneyFields }}
  customer {{ id legacyResourceId email firstName lastName phone }}
  billingAddress {{ ...AddressFields }}
  shippingAddress {{ ...AddressFields }}
  lineItems(first: $lineItemsFirst) {{
    nodes {{ ...LineItemFields }}
    pageInfo {{ hasNextPage endCursor }}
  }}
  shippingLines(first: {SHIPPING_LINES_FIRST}, includeRemovals: true) {{
    nodes {{ ...ShippingLineFields }}
    pageInfo {{ hasNextPage endCursor }}
  }}
  discountApplications(first: {DISCOUNT_APPLICATIONS_FIRST}) {{
    nodes {{ ...DiscountApplicationFields }}
    pageInfo {{ hasNextPage endCursor }}
  }}
  taxLines {{ ...TaxLineFields }}
  fulfillments(first: 1) {{ id }}
  refunds(first: 1) {{ id }}
  transactions {{
    id kind status gateway test createdAt processedAt authorizationExpiresAt
    amountSet {{ ...MoneyFields }}
    parentTransaction {{ id }}
  }}
}}
"""
    + LINE_ITEM_FIELDS
    + SHIPPING_LINE_FIELDS
    + DISCOUNT_APPLICATION_FIELDS
    + DISCOUNT_ALLOCATION_FIELDS
    + TAX_LINE_FIELDS
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
    + _LINE_FRAGMENTS
)

ORDER_SHIPPING_LINES_QUERY = (
    """
query OrderShippingLines($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    shippingLines(first: $first, after: $after, includeRemovals: true) {
      nodes { ...ShippingLineFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
    + _SHIPPING_FRAGMENTS
)

ORDER_DISCOUNT_APPLICATIONS_QUERY = (
    """
query OrderDiscountApplications($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    discountApplications(first: $first, after: $after) {
      nodes { ...DiscountApplicationFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
    + DISCOUNT_APPLICATION_FIELDS
)

ORDER_FULFILLMENTS_QUERY = f"""
query OrderFulfillments($id: ID!, $first: Int!, $linesFirst: Int!) {{
  order(id: $id) {{
    fulfillments(first: $first) {{
      id legacyResourceId status createdAt updatedAt
      location {{ id legacyResourceId }}
      trackingInfo(first: {TRACKING_INFO_FIRST}) {{ company number url }}
      fulfillmentLineItems(first: $linesFirst) {{
        nodes {{ id quantity lineItem {{ id sku }} }}
        pageInfo {{ hasNextPage endCursor }}
      }}
    }}
  }}
}}
"""

# The refunded line's sku, price and quantity come from the order's own line items (already read), so the
# refund asks only for the line's id. What a refund gives back besides its lines (shipping, duties) and the
# discrepancies Shopify recorded are read too: the money rule adds them back to the current total
# (app/domain/refunds.py). A refund has at most a few of each: REFUND_EXTRAS_FIRST.
REFUND_EXTRAS_FIRST = 3
ORDER_REFUNDS_QUERY = (
    f"""
query OrderRefunds($id: ID!, $first: Int!, $linesFirst: Int!) {{
  order(id: $id) {{
    refunds(first: $first) {{
      id legacyResourceId createdAt note
      refundLineItems(first: $linesFirst) {{
        nodes {{
          id quantity restockType restocked
          location {{ id legacyResourceId }}
          lineItem {{ id sku }}
          subtotalSet {{ ...MoneyFields }}
          totalTaxSet {{ ...MoneyFields }}
        }}
        pageInfo {{ hasNextPage endCursor }}
      }}
      refundShippingLines(first: {REFUND_EXTRAS_FIRST}) {{
        nodes {{
          subtotalAmountSet {{ ...MoneyFields }}
          taxAmountSet {{ ...MoneyFields }}
          shippingLine {{ title code taxLines {{ ...TaxLineFields }} }}
        }}
        pageInfo {{ hasNextPage endCursor }}
      }}
      orderAdjustments(first: {REFUND_EXTRAS_FIRST}) {{
        nodes {{ reason amountSet {{ ...MoneyFields }} taxAmountSet {{ ...MoneyFields }} }}
        pageInfo {{ hasNextPage endCursor }}
      }}
      duties {{ amountSet {{ ...MoneyFields }} }}
      transactions(first: $linesFirst) {{
        nodes {{ id kind status gateway createdAt amountSet {{ ...MoneyFields }} }}
        pageInfo {{ hasNextPage endCursor }}
      }}
    }}
  }}
}}
"""
    + TAX_LINE_FIELDS
    + MONEY_FIELDS
)


# --- requested cost of each document, by Shopify's rules (module docstring) ------------------------------

MONEY_BAG = 1 + 1 + 1  # the bag, shopMoney, presentmentMoney
TAX_LINE = 1 + MONEY_BAG  # one item of a taxLines list
DISCOUNT_ALLOCATION = 1 + MONEY_BAG + 1  # the item, its amount, its discountApplication
DUTY = 1 + MONEY_BAG + TAX_LINE  # the item, its price, its tax lines (a list without size: one item)
# A line item node: itself, unit price and total discount bags, its three nested lists, its variant.
LINE_ITEM_NODE = 1 + 2 * MONEY_BAG + DISCOUNT_ALLOCATION + TAX_LINE + DUTY + 1
# A shipping line node: itself, original and discounted price bags, discount allocations, tax lines.
SHIPPING_LINE_NODE = 1 + 2 * MONEY_BAG + DISCOUNT_ALLOCATION + TAX_LINE
DISCOUNT_APPLICATION_NODE = 1 + 1  # itself and its value (a union object)
ORDER_MONEY_BAGS = 10
ORDER_TRANSACTION = 1 + MONEY_BAG + 1  # one item of the transactions list: itself, its amount bag, its parent
# Order itself, its money bags, customer and two addresses, its tax lines, the two probes, its transactions.
_ORDER_OWN = 1 + ORDER_MONEY_BAGS * MONEY_BAG + 3 + TAX_LINE + 1 + 1 + ORDER_TRANSACTION


def _connection(first: int, node: int) -> int:
    return 2 + first * node


def order_node_cost(line_items_first: int) -> int:
    """One order under OrderFields with `line_items_first` line items on its first page."""
    return (
        _ORDER_OWN
        + _connection(line_items_first, LINE_ITEM_NODE)
        + _connection(SHIPPING_LINES_FIRST, SHIPPING_LINE_NODE)
        + _connection(DISCOUNT_APPLICATIONS_FIRST, DISCOUNT_APPLICATION_NODE)
    )


def get_order_cost(line_items_first: int) -> int:
    return order_node_cost(line_items_first)


def orders_page_cost(first: int, line_items_first: int) -> int:
    return 2 + first * order_node_cost(line_items_first)


def line_items_page_cost(first: int) -> int:
    return 1 + _connection(first, LINE_ITEM_NODE)


def shipping_lines_page_cost(first: int) -> int:
    return 1 + _connection(first, SHIPPING_LINE_NODE)


def discount_applications_page_cost(first: int) -> int:
    return 1 + _connection(first, DISCOUNT_APPLICATION_NODE)


def fulfillments_cost(first: int, lines_first: int) -> int:
    """Order 1 + per fulfillment: itself 1, location 1, tracking 10, line items 2 + m x (line 1 + item 1)."""
    return 1 + first * (1 + 1 + TRACKING_INFO_FIRST + 2 + 2 * lines_first)


def refunds_cost(first: int, lines_first: int) -> int:
    """Order 1 + per refund: itself 1, refund lines 2 + m x (line, location, item, two money bags), transactions
    2 + m x (transaction, amount bag), shipping refunds and adjustments (REFUND_EXTRAS_FIRST each) and duties."""
    refund_line = 1 + 1 + 1 + 2 * MONEY_BAG
    transaction = 1 + MONEY_BAG
    shipping = 1 + 2 * MONEY_BAG + 1 + TAX_LINE  # the node, its two bags, its shipping line and that line's taxes
    adjustment = 1 + 2 * MONEY_BAG
    duty = 1 + MONEY_BAG  # a list without size: one item
    extras = _connection(REFUND_EXTRAS_FIRST, shipping) + _connection(REFUND_EXTRAS_FIRST, adjustment) + duty
    return 1 + first * (1 + _connection(lines_first, refund_line) + _connection(lines_first, transaction) + extras)
