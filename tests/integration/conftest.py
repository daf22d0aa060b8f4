from __future__ import annotations

import pytest
import requests

from simulators.netsuite.server import SimulatorConfig, start_in_thread
from simulators.shopify import server as shopify_simulator
from tests.conftest import FIXTURE_SKUS, SERVICE_ITEMS, SHOPIFY_SIM_PORT, SIM_PORT


@pytest.fixture(scope="session")
def netsuite_sim():
    server, base_url = start_in_thread(SimulatorConfig(seed_items=list(FIXTURE_SKUS)), port=SIM_PORT)
    yield base_url.split("/services/rest")[0]
    server.shutdown()


@pytest.fixture
def sim(netsuite_sim: str, clean_db) -> str:
    requests.post(f"{netsuite_sim}/_sim/reset", json={"items": True}, timeout=5).raise_for_status()
    requests.post(
        f"{netsuite_sim}/_sim/items",
        json=[{"itemid": s, "displayname": d} for s, d in FIXTURE_SKUS] + SERVICE_ITEMS,
        timeout=5,
    ).raise_for_status()
    return netsuite_sim


@pytest.fixture(scope="session")
def shopify_server():
    """The Shopify Admin simulator on the port the test settings' SHOPIFY_ADMIN_URL names, so the service's own
    client (get_shopify) reaches it as well as the tests' clients."""
    server, base = shopify_simulator.start_in_thread(
        shopify_simulator.SimulatorConfig(access_token="shpat_test"), port=SHOPIFY_SIM_PORT
    )
    yield base
    server.shutdown()
