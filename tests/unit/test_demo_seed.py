"""The demo and the realistic-orders bench seed NetSuite with every service item the mapping may post to."""

from __future__ import annotations

from app.config import OrderMoneySettings
from devtools.demo import service_items


def test_every_service_item_is_seeded_with_a_type_that_is_never_stocked():
    seeded = {item["itemid"]: item["type"] for item in service_items()}
    assert set(OrderMoneySettings(discount_mode="item").service_skus()) <= set(seeded)
    assert seeded["SHOPIFY-DISCOUNT"] == "discountItem" and seeded["SHOPIFY-GIFT-CARD"] == "giftCertificateItem"
    [discount] = [item for item in service_items() if item["itemid"] == "SHOPIFY-DISCOUNT"]
    assert discount["ispretax"] is True  # DISCOUNT_MODE=item in legacy tax: applied before sales tax
    assert {t for sku, t in seeded.items() if sku not in ("SHOPIFY-DISCOUNT", "SHOPIFY-GIFT-CARD")} == {
        "otherChargeSaleItem"
    }
