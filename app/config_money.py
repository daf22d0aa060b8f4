"""The money mapping of an order as configuration (docs/MAPPING.md; docs/CONFIGURATION.md "Order money")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.config_env import ConfigError, EnvReader
from app.domain.order_lines import ServiceItems

# --------------------------------------------------
SERVICE_ITEM_SETTINGS = {  # ServiceItems field (its default SKU is there) -> environment variable
    "shipping": "NETSUITE_SHIPPING_ITEM",
    "discount": "NETSUITE_DISCOUNT_ITEM",
    "gift_card": "NETSUITE_GIFT_CARD_ITEM",
    "tip": "NETSUITE_TIP_ITEM",
    "duty": "NETSUITE_DUTY_ITEM",
    "fee": "NETSUITE_FEE_ITEM",
    "tax_variance": "NETSUITE_TAX_VARIANCE_ITEM",
    "rounding": "NETSUITE_ROUNDING_ITEM",
    "refund_adjustment": "NETSUITE_REFUND_ADJUSTMENT_ITEM",
}


@dataclass(frozen=True)
class OrderMoneySettings:
    """How an order's money becomes sales order lines (docs/MAPPING.md; docs/CONFIGURATION.md "Order money")."""

    order_currency: str = "presentment"  # ORDER_CURRENCY: presentment | shop
    discount_mode: str = "net"  # DISCOUNT_MODE: net | item
    tax_mode: str = "legacy"  # NETSUITE_TAX_MODE: legacy | suitetax
    tax_code_map: Mapping[str, str] = field(default_factory=dict)  # TAX_CODE_MAP: title[:rate] -> tax code id
    default_tax_code_id: str | None = None  # NETSUITE_DEFAULT_TAX_CODE_ID
    shipping_item_map: Mapping[str, str] = field(default_factory=dict)  # SHIPPING_ITEM_MAP: title or code -> SKU
    discount_item_id: str | None = None  # NETSUITE_DISCOUNT_ITEM_ID: the discount item's internal id (no lookup)
    items: ServiceItems = field(default_factory=ServiceItems)  # NETSUITE_<KIND>_ITEM: the service items' SKUs

    def service_skus(self) -> list[str]:
        """Every service item SKU the mapping may post to (the credentials check looks each one up)."""
        skus = self.items.all()
        skus += list(self.shipping_item_map.values())
        if self.discount_mode != "item" or self.discount_item_id:
            skus.remove(self.items.discount)
        return list(dict.fromkeys(skus))


def order_money_settings(env: EnvReader) -> OrderMoneySettings:
    from app.domain.tax import parse_tax_code_map

    tax_code_map = env.pairs("TAX_CODE_MAP")
    try:
        parse_tax_code_map(tax_code_map)
    except ValueError as exc:
        raise ConfigError(f"TAX_CODE_MAP: {exc}") from None
    default_code = env.optional("NETSUITE_DEFAULT_TAX_CODE_ID")
    if default_code is not None and not default_code.isdigit():
        raise ConfigError(f"NETSUITE_DEFAULT_TAX_CODE_ID must be a NetSuite internal id (digits), got {default_code!r}")
    tax_mode = env.choice("NETSUITE_TAX_MODE", "legacy", ("legacy", "suitetax"))
    if tax_mode == "suitetax" and default_code is None:
        raise ConfigError(
            "NETSUITE_TAX_MODE=suitetax needs NETSUITE_DEFAULT_TAX_CODE_ID (the tax code of a Shopify tax that "
            "TAX_CODE_MAP does not name): Tax Details Override needs a code on every tax line"
        )
    # Empty reads as unset: the default SKU, never an item without a name.
    items = {attr: env.text(name, getattr(ServiceItems, attr)) for attr, name in SERVICE_ITEM_SETTINGS.items()}
    return OrderMoneySettings(
        order_currency=env.choice("ORDER_CURRENCY", "presentment", ("presentment", "shop")),
        discount_mode=env.choice("DISCOUNT_MODE", "net", ("net", "item")),
        tax_mode=tax_mode,
        tax_code_map=tax_code_map,
        default_tax_code_id=default_code,
        shipping_item_map=env.pairs("SHIPPING_ITEM_MAP"),
        discount_item_id=env.optional("NETSUITE_DISCOUNT_ITEM_ID"),
        items=ServiceItems(**items),
    )
