"""What the demo and the benchmarks seed the NetSuite simulator with besides the catalog: the service items."""

from __future__ import annotations

from dataclasses import asdict

from app.domain.order_lines import ServiceItems


def service_items() -> list[dict[str, object]]:
    """The SHOPIFY-* service items under their default SKUs, as other-charge items (a discount item and a gift
    certificate for those two): none is shipped or stocked. The discount item is applied before sales tax, as
    DISCOUNT_MODE=item needs it in legacy tax (docs/MAPPING.md)."""
    types = {"discount": "discountItem", "gift_card": "giftCertificateItem"}
    items: list[dict[str, object]] = [
        {"itemid": sku, "displayname": sku.title(), "type": types.get(field, "otherChargeSaleItem")}
        for field, sku in asdict(ServiceItems()).items()
    ]
    for item in items:
        if item["type"] == "discountItem":
            item["ispretax"] = True
    return items
