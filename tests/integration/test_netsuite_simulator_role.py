"""The NetSuite simulator's integration role: permissions taken away answer 403 INSUFFICIENT_PERMISSION naming
the permission, on records and SuiteQL tables, before anything is changed."""

from __future__ import annotations

import pytest
import requests

from netsuite_client import AuthError
from simulators.netsuite.permissions import PERMISSIONS, suiteql_tables
from tests.integration import test_netsuite_simulator as base
from tests.integration.test_netsuite_simulator import Sim, make_customer, order_body

# The simulator module's own fixtures: one server for the module, reset before each test.
server = base.server
sim = base.sim

FORBIDDEN_TYPE = "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4"


def forbidden(ui_path: str) -> dict:
    return {
        "type": FORBIDDEN_TYPE,
        "title": "Forbidden",
        "status": 403,
        "o:errorDetails": [
            {
                "detail": f"Permission Violation: You need  the '{ui_path}' permission to access this page. "
                "Please contact your account administrator.",
                "o:errorCode": "INSUFFICIENT_PERMISSION",
            }
        ],
    }


def revoke(sim: Sim, *permissions: str) -> None:
    sim.control("POST", "role", {"revoke": list(permissions)})


def test_the_default_role_holds_every_permission_at_full(sim: Sim) -> None:
    role = sim.control("GET", "role")["permissions"]
    assert set(role) == {p.label for p in PERMISSIONS}
    assert {entry["level"] for entry in role.values()} == {"FULL"}
    assert role["Customers (Lists)"] == {"id": "LIST_CUSTJOB", "level": "FULL", "tab": "Lists"}


def test_a_revoked_record_permission_answers_403_on_every_kind_of_request(sim: Sim) -> None:
    make_customer(sim, "c-1")
    revoke(sim, "LIST_CUSTJOB")
    assert sim.control("GET", "role")["permissions"]["Customers (Lists)"]["level"] == "NONE"
    requests_made = [
        sim.http.get(sim.url("record/v1/customer"), params={"limit": 1}),
        sim.http.get(sim.url("record/v1/customer/eid:c-1")),
        sim.http.put(sim.url("record/v1/customer/eid:c-2"), json={"email": "b@example.com"}),
        sim.http.patch(sim.url("record/v1/customer/eid:c-1"), json={"email": "c@example.com"}),
        sim.suiteql("SELECT id FROM customer ORDER BY id FETCH FIRST 1 ROWS ONLY"),
    ]
    for response in requests_made:
        assert response.status_code == 403, response.text
        assert response.json() == forbidden("Lists -> Customers")
    # Nothing changed, and the other record types are unaffected.
    customers = sim.control("GET", "records/customer")
    assert [(c["externalId"], c["email"]) for c in customers] == [("c-1", "a@example.com")]
    assert sim.http.get(sim.url("record/v1/inventoryItem"), params={"limit": 1}).status_code == 200
    assert sim.suiteql("SELECT id FROM item ORDER BY id FETCH FIRST 1 ROWS ONLY").status_code == 200


def test_levels_below_what_a_write_needs_answer_a_higher_level_403(sim: Sim) -> None:
    make_customer(sim, "c-1")
    sim.control("POST", "role", {"levels": {"Customers (Lists)": "VIEW"}})
    assert sim.http.get(sim.url("record/v1/customer/eid:c-1")).status_code == 200
    created = sim.http.put(sim.url("record/v1/customer/eid:c-2"), json={"email": "b@example.com"})
    assert created.status_code == 403
    assert created.json()["o:errorDetails"][0]["detail"] == (
        "Permission Violation: You need a higher level of the 'Lists -> Customers' permission to access this page. "
        "Please contact your account administrator."
    )
    # Create may add a customer but not change one: the upsert of an existing external id needs Edit.
    sim.control("POST", "role", {"levels": {"LIST_CUSTJOB": "CREATE"}})
    assert sim.http.put(sim.url("record/v1/customer/eid:c-2"), json={"email": "b@example.com"}).status_code == 204
    assert sim.http.put(sim.url("record/v1/customer/eid:c-1"), json={"email": "x@example.com"}).status_code == 403
    assert sim.http.delete(sim.url("record/v1/customer/eid:c-2")).status_code == 403
    sim.control("POST", "role", {"levels": {"Customers": "EDIT"}})
    assert sim.http.put(sim.url("record/v1/customer/eid:c-1"), json={"email": "x@example.com"}).status_code == 204
    assert {c["externalId"]: c["email"] for c in sim.control("GET", "records/customer")} == {
        "c-1": "x@example.com",
        "c-2": "b@example.com",
    }


def test_reading_transactions_needs_find_transaction_but_writing_them_does_not(sim: Sim) -> None:
    (item,) = sim.item_ids("SKU-1")
    make_customer(sim)
    revoke(sim, "Find Transaction (Transactions)")
    order = sim.http.put(
        sim.url("record/v1/salesOrder/eid:so-1"),
        json=order_body("shopify-customer-1", [{"item": {"id": item}, "quantity": 1, "rate": 5}]),
    )
    assert order.status_code == 204, order.text
    for response in (
        sim.http.get(sim.url("record/v1/salesOrder/eid:so-1")),
        sim.http.get(sim.url("record/v1/salesOrder/eid:so-1/item")),
        sim.http.get(sim.url("record/v1/salesOrder"), params={"limit": 1}),
        sim.suiteql("SELECT id FROM transaction WHERE recordtype = 'salesorder' ORDER BY id"),
    ):
        assert response.status_code == 403
        assert response.json() == forbidden("Transactions -> Find Transaction")
    # The record type's own permission is checked first.
    revoke(sim, "TRAN_SALESORD")
    assert sim.http.get(sim.url("record/v1/salesOrder/eid:so-1")).json() == forbidden("Transactions -> Sales Order")


def test_a_transform_needs_create_on_the_target_type(sim: Sim) -> None:
    (item,) = sim.item_ids("SKU-1")
    make_customer(sim)
    order = sim.http.put(
        sim.url("record/v1/salesOrder/eid:so-1"),
        json=order_body("shopify-customer-1", [{"item": {"id": item}, "quantity": 1, "rate": 5}]),
    )
    order_id = order.headers["Location"].rsplit("/", 1)[1]
    sim.control("POST", "role", {"levels": {"TRAN_ITEMSHIP": "VIEW"}})
    response = sim.http.post(sim.url(f"record/v1/salesOrder/{order_id}/!transform/itemFulfillment"), json={})
    assert response.status_code == 403
    assert "a higher level of the 'Transactions -> Item Fulfillment' permission" in response.text
    assert sim.control("GET", "records/itemFulfillment") == []
    sim.control("POST", "role", {"levels": {"TRAN_ITEMSHIP": "CREATE"}})
    response = sim.http.post(sim.url(f"record/v1/salesOrder/{order_id}/!transform/itemFulfillment"), json={})
    assert response.status_code == 204, response.text


def test_suiteql_needs_the_workbook_permission_and_each_tables_permission(sim: Sim) -> None:
    revoke(sim, "SuiteAnalytics Workbook (Reports)")
    response = sim.suiteql("SELECT id FROM item ORDER BY id")
    assert response.status_code == 403
    assert response.json() == forbidden("Reports -> SuiteAnalytics Workbook")
    sim.control("POST", "role", {"restore": True, "revoke": ["LIST_LOCATION"]})
    assert sim.suiteql("SELECT id FROM item ORDER BY id").status_code == 200
    joined = sim.suiteql(
        "SELECT i.id FROM item i JOIN InventoryItemLocations l ON l.item = i.id ORDER BY i.id, l.location"
    )
    assert joined.json() == forbidden("Lists -> Locations")
    # A table name inside a string literal is not a table.
    assert sim.suiteql("SELECT id FROM item WHERE itemid = 'FROM location' ORDER BY id").status_code == 200


def test_suiteql_table_names_are_read_outside_quotes() -> None:
    query = "SELECT t.id FROM transaction t\nLEFT JOIN customer c ON c.id = t.entity WHERE t.memo = 'join item'"
    assert suiteql_tables(query) == ["transaction", "customer"]


def test_reset_restores_the_role_and_bad_changes_are_refused_whole(sim: Sim) -> None:
    revoke(sim, "LIST_CUSTJOB")
    sim.control("POST", "reset", {})
    assert sim.http.get(sim.url("record/v1/customer"), params={"limit": 1}).status_code == 200
    for body, message in (
        ({"revoke": ["LIST_CUSTJOB", "No Such Permission"]}, "unknown permission 'No Such Permission'"),
        ({"levels": {"Customers (Lists)": "ADMIN"}}, "unknown permission level 'ADMIN'"),
        ({"revoke": "LIST_CUSTJOB"}, "revoke must be a list"),
        ({"grant": ["LIST_CUSTJOB"]}, "unknown role fields ['grant']"),
    ):
        response = requests.post(f"{sim.root}/_sim/role", json=body, timeout=5)
        assert response.status_code == 400 and message in response.json()["error"], response.text
    # The valid part of a refused change was not applied either.
    assert sim.control("GET", "role")["permissions"]["Customers (Lists)"]["level"] == "FULL"


def test_the_client_maps_the_403_to_an_auth_error_naming_the_permission(sim: Sim) -> None:
    client = base.sim_client(sim, max_tries=3)
    assert client.list_ids("currency", limit=1) == ["1"]  # the seeded currencies, USD first
    assert len(client.list_ids("inventoryItem", limit=1)) == 0  # reset with items: none left
    sim.item_ids("SKU-1", "SKU-2")
    assert len(client.list_ids("inventoryItem", limit=1)) == 1
    assert len(client.list_ids("inventoryItem", limit=2)) == 2
    revoke(sim, "LIST_CURRENCY")
    with pytest.raises(AuthError) as refused:
        client.list_ids("currency", limit=1)
    assert refused.value.status == 403 and refused.value.code == "INSUFFICIENT_PERMISSION"
    assert "'Lists -> Currency'" in refused.value.detail
    # Not retried: a missing permission does not come back by itself.
    stats = sim.control("GET", "stats")
    assert stats["calls_by_operation"]["GET currency"] == 2
