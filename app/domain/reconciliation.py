"""Reconciliation decisions. Pure: NetSuite is the truth; Shopify is corrected; NetSuite is never written."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

Key = tuple[str, int]  # (SKU, Shopify location id)

CORRECT = "corrected"
WITHIN = "within_tolerance"
MISSING_IN_SHOPIFY = "missing_in_shopify"
MISSING_IN_NETSUITE = "missing_in_netsuite"


@dataclass(frozen=True)
class Diff:
    sku: str
    location_id: int
    netsuite: int | None
    shopify: int | None
    tolerance: int
    action: str


def diff_inventory(
    netsuite: Mapping[Key, int], shopify: Mapping[Key, int], tolerance: Callable[[str], int]
) -> list[Diff]:
    """Every (SKU, location) where the two systems disagree, and what to do about it.

    Beyond tolerance: Shopify is set to NetSuite's quantity. Within tolerance (fast movers, where a sale in
    flight explains a small gap): recorded, not corrected. A SKU only one side knows is reported for a person:
    the service never creates stock in Shopify for an unmapped item, and never writes NetSuite.
    """
    diffs = []
    for key in sorted(set(netsuite) | set(shopify)):
        sku, location = key
        ns, sh = netsuite.get(key), shopify.get(key)
        if ns is not None and sh is not None and ns == sh:
            continue
        tol = tolerance(sku)
        if sh is None:
            action = MISSING_IN_SHOPIFY
        elif ns is None:
            action = MISSING_IN_NETSUITE
        elif abs(sh - ns) <= tol:
            action = WITHIN
        else:
            action = CORRECT
        diffs.append(Diff(sku, location, ns, sh, tol, action))
    return diffs


def tolerance_by_class(
    configured: Mapping[str, str], velocity: Mapping[str, float], *, high: int, low: int, high_velocity: float
) -> Callable[[str], int]:
    """Tolerance per SKU class: configured class first, else high velocity (units/day sold recently) → `high`."""

    def tolerance(sku: str) -> int:
        klass = configured.get(sku)
        if klass is None:
            klass = "high" if velocity.get(sku, 0.0) >= high_velocity else "low"
        return high if klass == "high" else low

    return tolerance


def spike(diffs: int, history: Iterable[int], *, factor: float, absolute: int) -> str | None:
    """An alert when tonight's diff count is far above normal: a broken subscription, an API version change or a
    lost permission shows up here first."""
    if diffs > absolute:
        return f"{diffs} diffs is above the absolute threshold {absolute}"
    past = list(history)[-14:]
    if len(past) >= 3:
        median = statistics.median(past)
        if median > 0 and diffs > factor * median:
            return f"{diffs} diffs is more than {factor:g}x the median of the last {len(past)} runs ({median:g})"
        if median == 0 and diffs > absolute / 10:
            return f"{diffs} diffs after {len(past)} runs with a median of 0"
    return None


def parse_bundles(raw: str) -> dict[str, dict[str, int]]:
    """`BUNDLE-1=COMP-A:2+COMP-B:1;BUNDLE-2=COMP-C:3` → {bundle: {component: quantity}}."""
    bundles: dict[str, dict[str, int]] = {}
    for entry in filter(None, (e.strip() for e in raw.split(";"))):
        bundle, sep, parts = entry.partition("=")
        if not sep or not bundle.strip() or not parts.strip():
            raise ValueError(f"bundle entry {entry!r}: expected BUNDLE=COMPONENT:QTY+COMPONENT:QTY")
        components: dict[str, int] = {}
        for part in parts.split("+"):
            sku, colon, qty = part.strip().partition(":")
            if not colon or not sku or not qty.strip().isdigit() or int(qty) < 1:
                raise ValueError(f"bundle {bundle.strip()}: component {part.strip()!r} needs SKU:QUANTITY (>= 1)")
            components[sku.strip()] = int(qty)
        bundles[bundle.strip()] = components
    return bundles


def bundle_levels(
    bundles: Mapping[str, Mapping[str, int]], netsuite: Mapping[Key, int], locations: Iterable[int]
) -> dict[Key, int]:
    """A bundle is as available as its scarcest component allows, per location (a missing component: 0)."""
    levels: dict[Key, int] = {}
    for bundle, components in bundles.items():
        for location in locations:
            levels[(bundle, location)] = min(
                (max(0, netsuite.get((sku, location), 0)) // qty for sku, qty in components.items()), default=0
            )
    return levels
