"""The inventory documents, their sizes, and what Shopify charges for them.

Every document is sized with Shopify's cost rules (1 per object, 2 + `first` x node per connection, `first` x item
per list, 1 for a list without a size argument; a mutation 10; the ceiling for one query 1000) and the cost
functions below mirror them for these exact documents; a unit test checks them against the simulator's
implementation of the rules.
"""

from __future__ import annotations

from collections.abc import Sequence

from .graphql import MAX_PAGE_SIZE

__all__ = [
    "BULK_LEVELS_QUERY",
    "INVENTORY_ITEMS_QUERY",
    "INVENTORY_ITEM_LEVELS_QUERY",
    "INVENTORY_LEVELS_QUERY",
    "LEVELS_PER_ITEM",
    "LIST_PAGE_BUDGET",
    "LOCATIONS_QUERY",
    "MAX_SET_QUANTITIES",
    "NESTED_LEVELS_PAGE",
    "READ_LEVELS_BATCH",
    "SET_AVAILABLE_COST",
    "SET_AVAILABLE_MUTATION",
    "item_levels_page_cost",
    "items_page_cost",
    "level_node_cost",
    "levels_page_cost",
    "levels_page_size",
    "locations_page_cost",
    "read_levels_cost",
    "read_levels_document",
]

# Most levels nested per item in the list read: a shop rarely stocks an item at more than a handful of
# locations, and an item with more has the rest paged on its own (INVENTORY_ITEM_LEVELS_QUERY).
LEVELS_PER_ITEM = 10
NESTED_LEVELS_PAGE = MAX_PAGE_SIZE
# Shopify starts a query only when the bucket holds its whole requested cost, so list pages stay well under
# the ceiling: a worker then waits less for a bucket that other workers are draining too. The actual cost,
# charged by what comes back, is the same whatever the page size.
LIST_PAGE_BUDGET = 800
# Shopify's limit on the quantities of one inventorySetQuantities (and any connection's `first`).
MAX_SET_QUANTITIES = 250
READ_LEVELS_BATCH = 250

LEVEL_FIELDS = """
fragment LevelFields on InventoryLevel {
  updatedAt
  location { id }
  quantities(names: ["available", "on_hand"]) { name quantity }
}
"""

INVENTORY_LEVELS_QUERY = (
    """
query InventoryLevels($first: Int!, $after: String, $levelsFirst: Int!) {
  inventoryItems(first: $first, after: $after) {
    nodes {
      id
      sku
      inventoryLevels(first: $levelsFirst) {
        nodes { ...LevelFields }
        pageInfo { hasNextPage endCursor }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
    + LEVEL_FIELDS
)

INVENTORY_ITEM_LEVELS_QUERY = (
    """
query InventoryItemLevels($id: ID!, $first: Int!, $after: String) {
  inventoryItem(id: $id) {
    inventoryLevels(first: $first, after: $after) {
      nodes { ...LevelFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
    + LEVEL_FIELDS
)

INVENTORY_ITEMS_QUERY = """
query InventoryItems($first: Int!, $after: String) {
  inventoryItems(first: $first, after: $after) {
    nodes { id sku }
    pageInfo { hasNextPage endCursor }
  }
}
"""

LOCATIONS_QUERY = """
query Locations($first: Int!, $after: String, $includeInactive: Boolean!) {
  locations(first: $first, after: $after, includeInactive: $includeInactive) {
    nodes { id name isActive }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# The input travels as one variable so that the document never changes and the server compares exactly the
# variables this module builds, deterministically, from the QuantityChanges.
SET_AVAILABLE_MUTATION = """
mutation InventorySetAvailable($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup {
      id
      createdAt
      reason
      referenceDocumentUri
      changes { name delta quantityAfterChange item { id } location { id } }
    }
    userErrors { code field message }
  }
}
"""


# Requested costs, by Shopify's rules (see the module docstring).
def level_node_cost() -> int:
    """A level 1, its location 1, its quantities (a list without a size argument) 1."""
    return 3


def levels_page_cost(first: int, levels_first: int) -> int:
    """Items 2 + n x (item 1 + levels 2 + m x level)."""
    return 2 + first * (1 + 2 + levels_first * level_node_cost())


def item_levels_page_cost(first: int) -> int:
    """The item 1 + its levels 2 + n x level."""
    return 1 + 2 + first * level_node_cost()


def items_page_cost(first: int) -> int:
    return 2 + first


def locations_page_cost(first: int) -> int:
    return 2 + first


def read_levels_cost(items: int, pairs: int) -> int:
    """Per item 1, per (item, location) its level 1 and the level's quantities 1."""
    return items + 2 * pairs


SET_AVAILABLE_COST = 10


def levels_page_size(page_size: int, levels_per_item: int) -> int:
    """Items a levels page holds: `page_size`, or fewer to stay within LIST_PAGE_BUDGET."""
    affordable = (LIST_PAGE_BUDGET - 2) // (levels_page_cost(1, levels_per_item) - 2)
    return max(1, min(page_size, affordable))


# The bulk form of the levels read: no paging arguments (a bulk query pages itself), the same fields.
BULK_LEVELS_QUERY = """
{
  inventoryItems {
    edges {
      node {
        id
        sku
        inventoryLevels {
          edges {
            node {
              location { id }
              quantities(names: ["available", "on_hand"]) { name quantity }
              updatedAt
            }
          }
        }
      }
    }
  }
}
"""


_AVAILABLE_SELECTION = '{ quantities(names: ["available"]) { name quantity } }'


def read_levels_document(count_per_item: Sequence[int]) -> str:
    """The document reading `available` for items (aliases i0, i1, ...) at locations (l0, l1, ... per item).

    The shape depends only on how many locations each item has, never on the ids (those are variables), so
    Shopify sees a handful of distinct documents rather than one per call.
    """
    variables: list[str] = []
    fields: list[str] = []
    for i, count in enumerate(count_per_item):
        variables.append(f"$i{i}: ID!")
        levels = []
        for j in range(count):
            variables.append(f"$i{i}l{j}: ID!")
            levels.append(f"l{j}: inventoryLevel(locationId: $i{i}l{j}) {_AVAILABLE_SELECTION}")
        fields.append(f"  i{i}: inventoryItem(id: $i{i}) {{\n    " + "\n    ".join(levels) + "\n  }")
    return f"query InventoryLevelsAt({', '.join(variables)}) {{\n" + "\n".join(fields) + "\n}\n"
