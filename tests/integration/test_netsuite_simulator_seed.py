import requests

from netsuite_client import NetSuiteClient, TokenAuth
from simulators.netsuite.server import SimulatorConfig, start_in_thread


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
        client = NetSuiteClient(
            base_url=base,
            auth=TokenAuth(
                account_id="1234567_SB1",
                consumer_key="sim-consumer-key",
                consumer_secret="sim-consumer-secret",
                token_id="sim-token-id",
                token_secret="sim-token-secret",
            ),
        )
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
