"""Which customer an order needs and what the service would send to create it (app/domain/customers.py)."""

from __future__ import annotations

import re

import pytest

from app.config import ConfigError, load_settings
from app.domain.customers import (
    GUEST,
    SHOPIFY,
    SINGLE_GUEST,
    CustomerConfig,
    address_book,
    guest_external_id,
    normalize_email,
    order_customer,
    pick_match,
)
from schemas.shopify import OrderSchema
from tests.conftest import TEST_ENV, load_fixture

PER_EMAIL = CustomerConfig()
SINGLE = CustomerConfig(guest_customers="single", default_customer_external_id="shop-guest")


def order(**changes):
    payload = load_fixture("orders_create.json")
    payload.update(changes)
    return OrderSchema().load(payload)


def test_a_shopify_customer_is_named_by_its_id_and_looked_up_by_its_email():
    need = order_customer(order(), PER_EMAIL)
    assert (need.kind, need.external_id, need.sync_key) == (SHOPIFY, "shopify-customer-207119551", 207119551)
    assert need.email == "bob.norman@hostmail.com"
    assert need.body["firstName"] == "Bob" and need.body["lastName"] == "Norman"
    assert "subsidiary" not in need.body
    with_subsidiary = order_customer(order(), CustomerConfig(subsidiary_id="3"))
    assert with_subsidiary.body["subsidiary"] == {"id": "3"} and with_subsidiary.subsidiary_id == "3"


def test_guest_external_id_is_a_hash_of_the_normalized_email_never_the_email():
    eid = guest_external_id("  Ann.Lee+shop@Example.COM ")
    assert eid == guest_external_id("ann.lee+shop@example.com")
    assert eid != guest_external_id("ann.lee@example.com")
    assert re.fullmatch(r"shopify-guest-[0-9a-f]{32}", eid)
    assert "example" not in eid and "ann" not in eid
    with pytest.raises(ValueError):
        guest_external_id("not an email")


def test_normalize_email():
    assert normalize_email(" Bob@Example.com ") == "bob@example.com"
    assert normalize_email("") is None and normalize_email(None) is None
    assert normalize_email("no-at-sign") is None and normalize_email("a b@c.d") is None


def test_a_guest_with_an_email_gets_a_customer_per_email_named_from_the_billing_address():
    payload = order(customer=None, email="Guest.Buyer@Example.com")
    need = order_customer(payload, PER_EMAIL)
    assert need.kind == GUEST and need.external_id == guest_external_id("guest.buyer@example.com")
    assert need.sync_key == need.external_id and need.email == "guest.buyer@example.com"
    assert need.body["email"] == "guest.buyer@example.com"
    assert (need.body["firstName"], need.body["lastName"]) == ("Bob", "Norman")  # the billing address's names
    assert need.body["addressBook"]["items"][0]["addressBookAddress"]["city"] == "Louisville"


def test_single_mode_and_a_guest_without_email_use_the_one_guest_customer():
    with_email = order_customer(order(customer=None), SINGLE)
    assert (with_email.kind, with_email.external_id, with_email.email) == (SINGLE_GUEST, "shop-guest", None)
    no_email = order_customer(order(customer=None, email=None), PER_EMAIL)
    assert no_email.kind == SINGLE_GUEST and no_email.external_id == "shopify-customer-guest"
    # The shared guest carries nobody's personal data.
    assert no_email.body == {"isPerson": True, "firstName": "Shopify", "lastName": "Guest"}


def test_address_book_has_the_default_billing_and_shipping_address():
    bill = {"first_name": "Ann", "last_name": "Lee", "address1": "1 Main St", "city": "Austin", "country_code": "US"}
    ship = dict(bill, address1="9 Side St")
    same = address_book(bill, dict(bill))
    assert same == {
        "items": [
            {
                "defaultBilling": True,
                "defaultShipping": True,
                "addressBookAddress": {"addressee": "Ann Lee", "addr1": "1 Main St", "city": "Austin", "country": "US"},
            }
        ]
    }
    two = address_book(bill, ship)["items"]
    assert [(e["defaultBilling"], e["defaultShipping"], e["addressBookAddress"]["addr1"]) for e in two] == [
        (True, False, "1 Main St"),
        (False, True, "9 Side St"),
    ]
    only_shipping = address_book(None, ship)["items"]
    assert len(only_shipping) == 1 and only_shipping[0]["defaultBilling"] and only_shipping[0]["defaultShipping"]
    assert address_book(None, None) is None


def test_a_changed_address_changes_the_customer_body():
    before = order_customer(order(), PER_EMAIL).body
    moved = load_fixture("orders_create.json")
    moved["billing_address"]["address1"] = "1 New Road"
    after = order_customer(OrderSchema().load(moved), PER_EMAIL).body
    assert before != after and after["addressBook"]["items"][0]["addressBookAddress"]["addr1"] == "1 New Road"


def test_several_matches_pick_the_lowest_internal_id():
    assert pick_match([{"id": "12"}, {"id": 9}, {"id": "100"}]) == {"id": 9}
    assert pick_match([]) is None


def test_customer_settings_are_checked_with_a_clear_message():
    settings = load_settings(TEST_ENV)
    assert settings.guest_customers == "per_email" and settings.netsuite_subsidiary_id is None
    assert load_settings({**TEST_ENV, "GUEST_CUSTOMERS": "Single", "NETSUITE_SUBSIDIARY_ID": "4"}).guest_customers == (
        "single"
    )
    with pytest.raises(ConfigError, match="GUEST_CUSTOMERS must be per_email .* or single"):
        load_settings({**TEST_ENV, "GUEST_CUSTOMERS": "one"})
    with pytest.raises(ConfigError, match="NETSUITE_SUBSIDIARY_ID must be a NetSuite internal id"):
        load_settings({**TEST_ENV, "NETSUITE_SUBSIDIARY_ID": "Parent Co"})
    with pytest.raises(ConfigError, match="NETSUITE_DEFAULT_CUSTOMER_EXTERNAL_ID must be letters"):
        load_settings({**TEST_ENV, "NETSUITE_DEFAULT_CUSTOMER_EXTERNAL_ID": "guest customer"})
