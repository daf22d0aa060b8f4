"""Shopify location -> NetSuite location (LOCATION_MAP, NETSUITE_DEFAULT_LOCATION_ID). Pure."""

from __future__ import annotations

from collections.abc import Mapping

from app.domain.errors import MappingError


def netsuite_location(location_map: Mapping[int, str], default_id: str | None, shopify_location_id: int | None) -> str:
    """The NetSuite location a shipment ships from or a refund restocks at; an unmapped one is a clear error."""
    if shopify_location_id is None:
        if default_id:
            return default_id
        raise MappingError(
            "the event names no Shopify location and NETSUITE_DEFAULT_LOCATION_ID is not set", code="UNMAPPED_LOCATION"
        )
    location = location_map.get(int(shopify_location_id))
    if location is None:
        raise MappingError(f"Shopify location {shopify_location_id} is not in LOCATION_MAP", code="UNMAPPED_LOCATION")
    return location
