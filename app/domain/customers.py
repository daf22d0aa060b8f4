"""Which NetSuite customer a Shopify order needs, and the body the service sends when it creates one. Pure.

Three kinds of customer (docs/MAPPING.md, "Customers"):

- `shopify`: the order has a Shopify customer; external id `shopify-customer-<id>`.
- `guest`: no Shopify customer (guest checkout, POS) but an email, with `GUEST_CUSTOMERS=per_email`: one
  NetSuite customer per normalized email, external id `shopify-guest-<hash of the email>` (an external id allows
  only `[A-Za-z0-9_-]`, and the raw email has no business in an id that travels in URLs and logs).
- `single_guest`: `GUEST_CUSTOMERS=single`, or a guest without any email: the one guest customer whose external id
  is `NETSUITE_DEFAULT_CUSTOMER_EXTERNAL_ID`.

The first two are looked up by email in NetSuite before the service creates them; `email` is that lookup key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.domain.keys import customer_external_id

GUEST_PER_EMAIL = "per_email"
GUEST_SINGLE = "single"
GUEST_MODES = (GUEST_PER_EMAIL, GUEST_SINGLE)

SHOPIFY = "shopify"
GUEST = "guest"
SINGLE_GUEST = "single_guest"

# NetSuite's name fields are short; longer values are refused, not truncated, by NetSuite.
_NAME_MAX = 32


@dataclass(frozen=True)
class CustomerConfig:
    guest_customers: str = GUEST_PER_EMAIL
    default_customer_external_id: str = "shopify-customer-guest"
    subsidiary_id: str | None = None


@dataclass(frozen=True)
class CustomerNeed:
    """The customer an order's sales order names, and what to send NetSuite if the service has to create it."""

    kind: str  # SHOPIFY | GUEST | SINGLE_GUEST
    external_id: str
    body: dict[str, Any]
    email: str | None  # normalized; the key of the lookup before creating (None: no lookup)
    shopify_customer_id: int | None = None
    subsidiary_id: str | None = None  # the lookup stays within it (NETSUITE_SUBSIDIARY_ID)

    @property
    def sync_key(self) -> int | str:
        """Where the service remembers what NetSuite has: the Shopify customer id, else the external id."""
        return self.shopify_customer_id if self.shopify_customer_id is not None else self.external_id


def normalize_email(raw: str | None) -> str | None:
    """The email as a lookup key: trimmed and lower-cased; None when there is none or it is not an address."""
    email = (raw or "").strip().lower()
    if not email or "@" not in email or any(ch.isspace() for ch in email):
        return None
    return email


def guest_external_id(email: str) -> str:
    """`shopify-guest-<32 hex>` from the normalized email: the same guest always lands on the same customer."""
    normalized = normalize_email(email)
    if normalized is None:
        raise ValueError("a guest external id needs an email address")
    return "shopify-guest-" + hashlib.sha256(normalized.encode()).hexdigest()[:32]


def netsuite_address(addr: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A Shopify address in NetSuite's address fields (sales order and address book alike), empty ones left out."""
    if not addr:
        return None
    out = {
        "addressee": addr.get("name") or " ".join(filter(None, [addr.get("first_name"), addr.get("last_name")])),
        "addr1": addr.get("address1"),
        "addr2": addr.get("address2"),
        "city": addr.get("city"),
        "state": addr.get("province_code") or addr.get("province"),
        "zip": addr.get("zip"),
        "country": addr.get("country_code"),
        "addrPhone": addr.get("phone"),
    }
    return {k: v for k, v in out.items() if v}


def address_book(billing: Mapping[str, Any] | None, shipping: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The customer's `addressBook` sublist: the order's billing address as default billing, its shipping address as
    default shipping (one entry when they are the same address; either serves for both when the other is missing)."""
    bill, ship = netsuite_address(billing), netsuite_address(shipping)
    if not bill and not ship:
        return None
    if not bill or not ship or bill == ship:
        only = bill or ship
        return {"items": [{"defaultBilling": True, "defaultShipping": True, "addressBookAddress": only}]}
    return {
        "items": [
            {"defaultBilling": True, "defaultShipping": False, "addressBookAddress": bill},
            {"defaultBilling": False, "defaultShipping": True, "addressBookAddress": ship},
        ]
    }


def _person(first: str, last: str, fallback_last: str) -> dict[str, Any]:
    return {
        "isPerson": True,
        "firstName": first[:_NAME_MAX] or "Shopify",
        "lastName": last[:_NAME_MAX] or fallback_last,
    }


def _with_extras(
    body: dict[str, Any],
    order: Mapping[str, Any],
    email: str | None,
    phone: str | None,
    config: CustomerConfig,
) -> dict[str, Any]:
    billing = order.get("billing_address") or {}
    if email:
        body["email"] = email
    if phone:
        body["phone"] = phone
    if billing.get("company"):
        body["companyName"] = billing["company"]
    if config.subsidiary_id:
        body["subsidiary"] = {"id": config.subsidiary_id}
    book = address_book(order.get("billing_address"), order.get("shipping_address"))
    if book:
        body["addressBook"] = book
    return body


def customer_body(order: Mapping[str, Any], config: CustomerConfig) -> dict[str, Any]:
    """The body of the order's Shopify customer: names from the customer, else from the billing address."""
    customer = order["customer"]
    billing = order.get("billing_address") or {}
    body = _person(
        customer.get("first_name") or billing.get("first_name") or "",
        customer.get("last_name") or billing.get("last_name") or "",
        f"Customer {customer['id']}",
    )
    email = customer.get("email") or order.get("email")
    return _with_extras(body, order, email, customer.get("phone") or billing.get("phone"), config)


def guest_body(order: Mapping[str, Any], email: str, config: CustomerConfig) -> dict[str, Any]:
    """A per-email guest: names from the billing address (else the shipping address)."""
    named = order.get("billing_address") or order.get("shipping_address") or {}
    body = _person(named.get("first_name") or "", named.get("last_name") or "", "Guest")
    return _with_extras(body, order, email, named.get("phone"), config)


def single_guest_body(config: CustomerConfig) -> dict[str, Any]:
    """The one guest customer: no personal data (every guest without an email shares it)."""
    body: dict[str, Any] = {"isPerson": True, "firstName": "Shopify", "lastName": "Guest"}
    if config.subsidiary_id:
        body["subsidiary"] = {"id": config.subsidiary_id}
    return body


def order_customer(order: Mapping[str, Any], config: CustomerConfig) -> CustomerNeed:
    """The customer this order's sales order names."""
    customer = order.get("customer")
    if customer:
        return CustomerNeed(
            kind=SHOPIFY,
            external_id=customer_external_id(customer["id"]),
            body=customer_body(order, config),
            email=normalize_email(customer.get("email") or order.get("email")),
            shopify_customer_id=customer["id"],
            subsidiary_id=config.subsidiary_id,
        )
    email = normalize_email(order.get("email"))
    if email is not None and config.guest_customers == GUEST_PER_EMAIL:
        return CustomerNeed(
            kind=GUEST,
            external_id=guest_external_id(email),
            body=guest_body(order, email, config),
            email=email,
            subsidiary_id=config.subsidiary_id,
        )
    return CustomerNeed(
        kind=SINGLE_GUEST,
        external_id=config.default_customer_external_id,
        body=single_guest_body(config),
        email=None,
        subsidiary_id=config.subsidiary_id,
    )


def pick_match(rows: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The existing NetSuite customer to use among those sharing the email: the lowest internal id (stable)."""
    if not rows:
        return None
    return min(rows, key=lambda row: int(row["id"]))
