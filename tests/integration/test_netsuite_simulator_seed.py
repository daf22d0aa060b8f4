from decimal import Decimal

import requests

from netsuite_client import NetSuiteClient, TokenAuth
from simulators.netsuite.server import SimulatorConfig, start_in_thread


def _client(base: str) -> NetSuiteClient:
    """The real client with the simulator's development credentials."""
    credentials = {
        name: f"sim-{name.replace('_', '-')}"
        for name in ("consumer_key", "consumer_secret", "token_id", "token_secret")
    }
    return NetSuiteClient(base_url=base, auth=TokenAuth(account_id="1234567_SB1", **credentials))


def test_bulk_seed_is_visible_to_suiteql_with_its_overrides():
    server, base = start_in_thread(SimulatorConfig(seed_items=[]))
    try:
        sim = base.split("/services/rest")[0]
        seeded = requests.post(
            f"{sim}/_sim/inventory/seed",
            json={
                "items": 1000,
                "location_ids": [1, 2],
                "available": 10,
                "sku_prefix": "B-",
                "sku_width": 4,
                "quantities": {"B-0007@2": 3},
            },
            timeout=30,
        ).json()
        assert (seeded["items"], seeded["levels"]) == (1000, 2000)
        client = _client(base)
        rows = list(
            client.suiteql(
                "SELECT i.itemid AS sku, iil.location AS location, iil.quantityavailable AS available "
                "FROM InventoryItemLocations iil JOIN item i ON i.id = iil.item WHERE i.itemid LIKE 'B-%' "
                "ORDER BY iil.item, iil.location"
            )
        )
        assert len(rows) == 2000
        levels = {(r["sku"], r["location"]): int(float(r["available"])) for r in rows}
        assert levels[("B-0007", "2")] == 3 and levels[("B-0007", "1")] == 10 and levels[("B-1000", "2")] == 10
    finally:
        server.shutdown()


def test_seeded_receipts_follow_the_rest_rules_and_are_found_by_external_id():
    """`POST /_sim/records/<type>`: each entry an upsert by external id under the REST rules (a refund applies a
    deposit, a repeat updates instead of adding), uncounted; the first refused entry stops the batch."""
    server, base = start_in_thread(SimulatorConfig(seed_items=[]))
    try:
        sim = base.split("/services/rest")[0]
        records = f"{sim}/_sim/records"
        [customer] = requests.post(
            f"{records}/customer", json=[{"externalId": "c-1", "body": {"companyName": "Seeded"}}], timeout=10
        ).json()
        deposits = [
            {"externalId": f"shopify-txn-{n}", "body": {"customer": {"id": customer}, "payment": f"{n}.25"}}
            for n in (10, 20)
        ]
        first = requests.post(f"{records}/customerDeposit", json=deposits, timeout=10).json()
        again = requests.post(f"{records}/customerDeposit", json=deposits, timeout=10).json()
        assert len(first) == 2 and again == first  # upserts: the same records, not two more
        doc = {"doc": {"id": first[0]}, "apply": True, "amount": "4.00"}
        refund = {"customer": {"id": customer}, "deposit": {"items": [doc]}}
        entry = {"externalId": "shopify-txn-11", "body": refund, "replace": ["deposit"]}
        requests.post(f"{records}/customerRefund", json=[entry], timeout=10).raise_for_status()
        bad = requests.post(f"{records}/customerDeposit", json=[{"externalId": "x"}], timeout=10)
        assert bad.status_code == 400 and "body" in bad.json()["error"]

        client = _client(base)
        found = client.receipts_by_external_ids(["shopify-txn-10", "shopify-txn-20", "shopify-txn-11"])
        assert sorted((r.external_id, abs(r.amount)) for r in found) == [
            ("shopify-txn-10", Decimal("10.25")),
            ("shopify-txn-11", Decimal("4.00")),
            ("shopify-txn-20", Decimal("20.25")),
        ]
        stats = requests.get(f"{sim}/_sim/stats", timeout=10).json()
        assert stats["records_by_type"]["customerDeposit"] == 2
        assert not any("customerDeposit" in op for op in stats["calls_by_operation"])  # seeding is not counted
    finally:
        server.shutdown()
