"""Customers against the NetSuite simulator over HTTP: an existing customer found by email, guests per email, the
single guest customer the service creates itself, and what each costs in NetSuite calls."""

from __future__ import annotations

import copy
import dataclasses
import json
import logging

import requests
from sqlalchemy import delete

from app.adapters.netsuite import get_netsuite
from app.config import Settings, get_settings
from app.db.models import CustomerSync, OrderState
from app.db.session import session_scope
from app.domain.customers import guest_external_id
from app.services import events
from app.services.orders import OrderOutcome, sync_order_payload
from schemas.shopify import OrderSchema
from tests import story
from tests.conftest import load_fixture
from tests.helpers import sim_calls
from tests.integration.test_services import records, store_event

FIXTURE_CUSTOMER = 207119551


def order(n: int, **changes) -> dict:
    payload = load_fixture("orders_create.json")
    payload["id"] += n
    payload["name"] = f"#C{n}"
    payload.update(changes)
    return payload


def sync(payload: dict, settings: Settings | None = None) -> OrderOutcome:
    with session_scope() as session:
        return sync_order_payload(
            session,
            OrderSchema().load(copy.deepcopy(payload)),
            get_netsuite(),
            settings or get_settings(),
            topic="orders/create",
            event_id=None,
        )


def existing_customer(**body) -> str:
    """A customer someone else created in NetSuite (an import, another channel)."""
    return get_netsuite().create("customer", {"isPerson": True, "firstName": "Robert", "lastName": "Norman", **body})


def sales_order(sim: str, n: int) -> dict:
    eid = f"shopify-order-{450789469 + n}"
    [so] = [r for r in records(sim, "salesOrder") if r["externalId"] == eid]
    return so


def test_existing_customer_is_found_by_email_used_as_it_is_and_remembered(sim):
    crm_id = existing_customer(email="Bob.Norman@HostMail.com", externalId="crm-1001")
    sync(order(0))
    # No customer of ours: the sales order names the one NetSuite had, found case-insensitively by email.
    [customer] = records(sim, "customer")
    assert customer["id"] == crm_id and customer["externalId"] == "crm-1001"  # its external id is not overwritten
    assert customer["firstName"] == "Robert" and "addressBook" not in customer  # nor its data
    assert sales_order(sim, 0)["entity"] == {"id": crm_id}
    first = sim_calls(sim)
    assert first.get("PUT customer", 0) == 0 and first["POST suiteql"] == 2  # SKUs, then the customer by email
    with session_scope() as s:
        state = s.get(OrderState, 450789469)
        assert (state.netsuite_customer_id, state.customer_external_id) == (crm_id, None)
        link = s.get(CustomerSync, FIXTURE_CUSTOMER)
        assert link.matched and link.netsuite_internal_id == crm_id

    # The next order of that Shopify customer costs no lookup and no customer write, even with a new address.
    moved = order(1)
    moved["billing_address"]["address1"] = "1 New Road"
    sync(moved)
    second = sim_calls(sim)
    assert second["POST suiteql"] == 2 and second.get("PUT customer", 0) == 0
    assert second["POST salesOrder"] == 2 and sales_order(sim, 1)["entity"] == {"id": crm_id}
    assert len(records(sim, "customer")) == 1


def test_several_matches_take_the_lowest_internal_id_inactive_ones_never(sim, caplog):
    inactive = existing_customer(email="bob.norman@hostmail.com", isInactive=True)
    low = existing_customer(email="bob.norman@hostmail.com")
    existing_customer(email="BOB.NORMAN@hostmail.com")
    assert int(inactive) < int(low)
    with caplog.at_level(logging.WARNING, logger="app.services.customers"):
        sync(order(0))
    assert sales_order(sim, 0)["entity"] == {"id": low}
    [warning] = [r.getMessage() for r in caplog.records if r.name == "app.services.customers"]
    assert "2 NetSuite customers share the email" in warning and f"lowest internal id {low}" in warning
    assert "bob.norman@hostmail.com" not in warning and "b***@***" in warning


def test_a_customer_in_another_subsidiary_is_not_matched(sim):
    existing_customer(email="bob.norman@hostmail.com", subsidiary={"id": "2"})
    in_ours = dataclasses.replace(get_settings(), netsuite_subsidiary_id="1")
    sync(order(0), in_ours)
    ours = [c for c in records(sim, "customer") if c.get("externalId") == f"shopify-customer-{FIXTURE_CUSTOMER}"]
    assert len(ours) == 1 and ours[0]["subsidiary"] == {"id": "1"}
    assert sales_order(sim, 0)["entity"] == {"externalId": f"shopify-customer-{FIXTURE_CUSTOMER}"}


def test_a_new_customer_is_created_with_its_address_book_and_a_changed_address_updates_it_once(sim):
    sync(order(0))
    [customer] = records(sim, "customer")
    assert customer["externalId"] == f"shopify-customer-{FIXTURE_CUSTOMER}"
    [entry] = customer["addressBook"]["items"]
    assert entry["defaultBilling"] and entry["defaultShipping"]
    assert entry["addressBookAddress"]["addr1"] == "Chestnut Street 92"
    assert sim_calls(sim)["PUT customer"] == 1
    sync(order(1))  # unchanged: no customer call
    assert sim_calls(sim)["PUT customer"] == 1 and sim_calls(sim)["POST suiteql"] == 2
    moved = order(2)
    moved["shipping_address"]["address1"] = "7 Harbour Lane"
    sync(moved)
    sync(dict(moved, id=moved["id"] + 1))
    after = sim_calls(sim)
    assert after["PUT customer"] == 2 and after["POST suiteql"] == 2  # one update, no lookup for a known customer
    [customer] = records(sim, "customer")
    book = customer["addressBook"]["items"]  # replaced, not appended to
    assert [(e["defaultBilling"], e["defaultShipping"], e["addressBookAddress"]["addr1"]) for e in book] == [
        (True, False, "Chestnut Street 92"),
        (False, True, "7 Harbour Lane"),
    ]
    # The sales order still carries both addresses of its own.
    so = sales_order(sim, 2)
    assert so["billingAddress"]["addr1"] == "Chestnut Street 92" and so["shippingAddress"]["addr1"] == "7 Harbour Lane"


def test_guest_orders_of_one_email_share_one_customer(sim):
    sync(order(0, customer=None, email="Guest.Buyer@Example.com"))
    sync(order(1, customer=None, email="guest.buyer@example.com "))
    [customer] = records(sim, "customer")
    eid = guest_external_id("guest.buyer@example.com")
    assert customer["externalId"] == eid and customer["email"] == "guest.buyer@example.com"
    assert (customer["firstName"], customer["lastName"]) == ("Bob", "Norman")  # from the billing address
    assert sales_order(sim, 0)["entity"] == sales_order(sim, 1)["entity"] == {"externalId": eid}
    counted = sim_calls(sim)
    # SKUs + the first guest's lookup; one customer upsert; the second order asked nothing about its customer.
    assert counted["POST suiteql"] == 2 and counted["PUT customer"] == 1
    sync(order(2, customer=None, email="someone.else@example.com"))
    assert len(records(sim, "customer")) == 2


def test_guest_found_by_email_uses_the_existing_customer(sim):
    crm_id = existing_customer(email="guest.buyer@example.com")
    sync(order(0, customer=None, email="guest.buyer@example.com"))
    assert [c["id"] for c in records(sim, "customer")] == [crm_id]
    assert sales_order(sim, 0)["entity"] == {"id": crm_id}


def test_single_guest_is_created_by_the_service_once(sim):
    single = dataclasses.replace(get_settings(), guest_customers="single")
    sync(order(0, customer=None), single)
    sync(order(1, customer=None, email="other@example.com"), single)
    [customer] = records(sim, "customer")
    assert customer["externalId"] == "shopify-customer-guest" and customer["lastName"] == "Guest"
    assert "email" not in customer  # shared by every guest: nobody's personal data
    assert sales_order(sim, 0)["entity"] == sales_order(sim, 1)["entity"] == {"externalId": "shopify-customer-guest"}
    counted = sim_calls(sim)
    # One GET (missing) and one upsert for the first guest order; nothing for the second; no lookup by email.
    assert counted["GET customer"] == 1 and counted["PUT customer"] == 1 and counted["POST suiteql"] == 1


def test_single_guest_made_by_an_operator_is_used_not_overwritten(sim):
    get_netsuite().upsert(
        "customer", "shopify-customer-guest", {"isPerson": True, "firstName": "Web", "lastName": "Shop"}
    )
    single = dataclasses.replace(get_settings(), guest_customers="single")
    sync(order(0, customer=None), single)
    sync(order(1, customer=None), single)
    [customer] = records(sim, "customer")
    assert (customer["firstName"], customer["lastName"]) == ("Web", "Shop")
    counted = sim_calls(sim)
    assert counted["GET customer"] == 1 and counted["PUT customer"] == 1  # the operator's upsert only


def test_guest_without_any_email_gets_the_single_guest_even_per_email(sim):
    sync(order(0, customer=None, email=None))
    [customer] = records(sim, "customer")
    assert customer["externalId"] == "shopify-customer-guest"
    assert sales_order(sim, 0)["entity"] == {"externalId": "shopify-customer-guest"}


def test_a_found_customer_deleted_in_netsuite_is_resolved_again(sim):
    crm_id = existing_customer(email="bob.norman@hostmail.com")
    sync(order(0))
    # The found customer goes away (merged, deleted) with its order; ours is created on the next order.
    requests.post(f"{sim}/_sim/reset", json={}, timeout=5).raise_for_status()
    assert sync(order(1)).action == "synced"
    [customer] = records(sim, "customer")
    assert customer["id"] != crm_id and customer["externalId"] == f"shopify-customer-{FIXTURE_CUSTOMER}"
    assert sales_order(sim, 1)["entity"] == {"externalId": f"shopify-customer-{FIXTURE_CUSTOMER}"}


def test_documents_after_the_order_name_a_found_customer_by_its_internal_id(sim):
    """The credit memo of a refund names the customer the sales order named, though its external id is not ours."""
    crm_id = existing_customer(email=story.STORY_CUSTOMER.email)
    for n, name in enumerate(story.SEQUENCES["natural"]):
        topic, payload = story.EVENTS[name]
        events.process_event(store_event(json.dumps(payload).encode(), topic=topic, webhook_id=f"found-{n}"))
    story.assert_story_in_netsuite(sim)
    [so] = records(sim, "salesOrder")
    [credit] = records(sim, "creditMemo")
    assert so["entity"] == credit["entity"] == {"id": crm_id}
    assert [c["id"] for c in records(sim, "customer")] == [crm_id]


def test_our_own_customer_found_after_our_memory_is_lost_is_updated_not_taken_as_foreign(sim):
    sync(order(0))
    with session_scope() as s:
        s.execute(delete(CustomerSync))
    sync(order(1))
    [customer] = records(sim, "customer")
    assert customer["externalId"] == f"shopify-customer-{FIXTURE_CUSTOMER}"
    assert sales_order(sim, 1)["entity"] == {"externalId": f"shopify-customer-{FIXTURE_CUSTOMER}"}
    assert sim_calls(sim)["PUT customer"] == 2  # looked up, recognised as ours, upserted (same record)
    with session_scope() as s:
        assert not s.get(CustomerSync, FIXTURE_CUSTOMER).matched
