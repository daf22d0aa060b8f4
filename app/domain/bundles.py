"""Bundle lines after the sales order: a Shopify line NetSuite holds as several component lines (BUNDLE_MAP at the
time the order posted, docs/MAPPING.md "Bundles"). What the lifecycle needs of them is read back from the sales
order's own lines, never from BUNDLE_MAP, which may have changed since. Pure: plain data in and out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from app.domain.errors import MappingError
from app.domain.state_machine import Component, Line, OrderView


def component_key(line_id: int | str, sku: str) -> str:
    """`custcol_shopify_line_id` of a bundle component's line: `<Shopify line id>:<component SKU>`."""
    return f"{line_id}:{sku}"


def keyed_lines(
    sales_order_lines: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, int], dict[str, list[tuple[str, int, Decimal]]]]:
    """The sales order's lines by their `custcol_shopify_line_id`: a Shopify line's own line (Shopify line id ->
    NetSuite line), and a bundle's component lines (Shopify line id -> (SKU, NetSuite line, quantity) each)."""
    single: dict[str, int] = {}
    parts: dict[str, list[tuple[str, int, Decimal]]] = {}
    for ns in sales_order_lines:
        key = str(ns.get("custcol_shopify_line_id") or "")
        line_id, colon, sku = key.partition(":")
        if colon and line_id.isdigit() and sku:
            parts.setdefault(line_id, []).append((sku, int(ns["line"]), Decimal(str(ns.get("quantity") or 0))))
        elif key:
            single[key] = int(ns["line"])
    return single, parts


def number_lines(view: OrderView, sales_order_lines: Sequence[Mapping[str, Any]], sales_order: str) -> OrderView:
    """The view with each line's NetSuite line (its `custcol_shopify_line_id` is the Shopify line id) or, for a
    bundle, its components (lines keyed `<line id>:<SKU>`: the SKU, the line number, and the units per bundle =
    the line's quantity on the sales order / the Shopify line's ordered quantity). Raises NETSUITE_LINE_MISSING
    when a line with a quantity has neither."""
    single, parts = keyed_lines(sales_order_lines)
    lines = []
    for line in view.lines:
        number = single.get(str(line.line_id))
        found = parts.get(str(line.line_id))
        if number is not None:
            line = replace(line, netsuite_line=number, components=())
        elif found and line.ordered:
            components = tuple(Component(sku, n, _per_bundle(line, sku, q, sales_order)) for sku, n, q in found)
            line = replace(line, components=components)
        lines.append(line)
    missing = [line.sku for line in lines if line.ordered and not line.numbered]
    if missing:
        raise MappingError(
            f"sales order {sales_order} has no line for {', '.join(missing)} "
            f"(custcol_shopify_line_id not found among {len(sales_order_lines)} line(s))",
            code="NETSUITE_LINE_MISSING",
        )
    return replace(view, lines=tuple(lines))


def _per_bundle(line: Line, sku: str, quantity: Decimal, sales_order: str) -> int:
    units, rest = divmod(quantity, line.ordered)
    if rest or units < 1:
        raise MappingError(
            f"sales order {sales_order}: component {sku} of line {line.line_id} ({line.sku}) has quantity "
            f"{quantity.normalize():f}, not a whole multiple of the {line.ordered} bundle(s) ordered",
            code="BUNDLE_QUANTITY",
        )
    return int(units)


def posted_components(view: OrderView | None) -> dict[int, tuple[Component, ...]]:
    """The bundle lines whose components are known (Shopify line id -> components): a sales order sent again
    keeps them (same components, same NetSuite lines) whatever BUNDLE_MAP says now."""
    if view is None:
        return {}
    return {line.line_id: line.components for line in view.lines if line.components}
