"""Schema drift: fields a payload carries that neither our schemas nor the known baseline account for.

New fields are tolerated (Shopify adds fields every quarter) but counted per topic and API version, so an API
upgrade shows up as a number on a dashboard before it shows up as wrong data.
"""

from __future__ import annotations

from typing import Any

from schemas.baseline import KNOWN_FIELDS

# Fields our own code relies on that the baseline payloads happen not to carry (documented Shopify fields).
ALSO_KNOWN: dict[str, frozenset[str]] = {
    "orders": frozenset(
        {
            "admin_graphql_api_id",
            "line_items[].total_discount",
            "customer.phone",
            "refunds",
            "current_total_price",
            "current_subtotal_price",
            "current_total_tax",
            "current_total_discounts",
        }
    ),
    "fulfillments": frozenset({"location_id", "admin_graphql_api_id", "line_items[].fulfillable_quantity"}),
    "refunds": frozenset(
        {
            "refund_line_items[].location_id",
            "refund_line_items[].restock_type",
            "refund_line_items[].subtotal",
            "refund_line_items[].total_tax",
            "admin_graphql_api_id",
        }
    ),
    "inventory_levels": frozenset({"admin_graphql_api_id"}),
}

MAX_PATHS = 50  # a payload of a completely different shape is counted, not enumerated without bound


def family(topic: str) -> str:
    return topic.split("/", 1)[0]


def _paths(value: Any, prefix: str, out: set[str], depth: int = 0) -> None:
    if depth > 6 or len(out) > 10_000:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.add(path)
            _paths(child, path, out, depth + 1)
    elif isinstance(value, list):
        for child in value:
            _paths(child, prefix + "[]", out, depth + 1)


def field_paths(payload: Any) -> set[str]:
    """Every field path of a payload: `a.b` for nested objects, `a[].b` inside lists (what the baseline lists)."""
    seen: set[str] = set()
    _paths(payload, "", seen)
    return seen


def unknown_fields(topic: str, payload: dict[str, Any]) -> list[str]:
    """Field paths of `payload` that are new for the topic's family (sorted; at most MAX_PATHS)."""
    known = KNOWN_FIELDS.get(family(topic), frozenset()) | ALSO_KNOWN.get(family(topic), frozenset())
    seen = field_paths(payload)
    new = sorted(p for p in seen if p not in known and not any(p.startswith(k + ".") for k in _opaque(topic)))
    return new[:MAX_PATHS]


def _opaque(topic: str) -> tuple[str, ...]:
    # Free-form containers whose inner keys are merchant data, not schema (note attributes, receipts).
    return ("note_attributes[]", "receipt", "properties[]", "line_items[].properties[]", "payment_details")
