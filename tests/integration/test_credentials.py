"""The credentials health check against both simulators: green, red when a token is revoked, and red naming the
permission when the NetSuite role or the Shopify app loses one."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.config import get_settings
from app.services.credentials import KEY, check_credentials, last_result
from netsuite_client import AuthError, NetSuiteClient, TokenAuth
from shopify_client.client import ShopifyAdminClient
from simulators.shopify.access import DEFAULT_ACCESS_SCOPES

ALL_SCOPES = list(DEFAULT_ACCESS_SCOPES)  # what the simulator grants at start, payments scopes included


def gauges(client) -> dict[str, float]:
    text = client.get("/metrics").get_data(as_text=True)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return {s.labels["system"]: s.value for s in families["shopsync_credentials_ok"].samples}


def netsuite_client(token_id: str | None = None, token_secret: str | None = None) -> NetSuiteClient:
    s = get_settings()
    return NetSuiteClient(
        base_url=s.netsuite_base_url,
        auth=TokenAuth(
            account_id=s.netsuite_account_id,
            consumer_key=s.netsuite_consumer_key,
            consumer_secret=s.netsuite_consumer_secret,
            token_id=token_id or s.netsuite_token_id,
            token_secret=token_secret or s.netsuite_token_secret,
        ),
        max_tries=1,
    )


def shopify_client(token: str | None = None) -> ShopifyAdminClient:
    s = get_settings()
    return ShopifyAdminClient(url=s.shopify_admin_url, access_token=token or s.shopify_admin_token, max_tries=1)


def stored(redis_db) -> dict:
    return json.loads(redis_db.get(KEY))


@pytest.fixture
def netsuite_role(sim: str) -> Iterator[str]:
    """The NetSuite simulator with the full role again afterwards (the server outlives the test)."""
    yield sim
    requests.post(f"{sim}/_sim/role", json={"restore": True}, timeout=5).raise_for_status()


@pytest.fixture
def shopify_scopes(shopify_server: str) -> Iterator[str]:
    """The Shopify simulator with every required scope granted again afterwards."""
    yield shopify_server
    requests.post(f"{shopify_server}/_sim/config", json={"access_scopes": ALL_SCOPES}, timeout=5).raise_for_status()


def test_green_then_red_when_netsuite_revokes_the_token(sim, shopify_server, redis_db):
    assert check_credentials(netsuite_client(), shopify_client(), redis_db) == {"netsuite": "green", "shopify": "green"}
    assert stored(redis_db)["missing"] == {"netsuite": [], "shopify": []}
    app = create_app().test_client()
    assert gauges(app) == {"netsuite": 1.0, "shopify": 1.0}

    revoked = netsuite_client(token_id="revoked-token", token_secret="revoked-secret")
    results = check_credentials(revoked, shopify_client("shpat_revoked"), redis_db)
    assert results["netsuite"].startswith("red: INVALID_LOGIN (401)")
    assert results["shopify"].startswith("red:")
    # A refused token says nothing about permissions.
    assert stored(redis_db)["missing"] == {"netsuite": [], "shopify": []}
    assert gauges(app) == {"netsuite": 0.0, "shopify": 0.0}


def test_all_permissions_granted_is_green_and_probes_only_read(sim, shopify_server, redis_db):
    before = requests.get(f"{sim}/_sim/stats", timeout=5).json()
    results = check_credentials(netsuite_client(), shopify_client(), redis_db)
    assert results == {"netsuite": "green", "shopify": "green"}
    saved = last_result(redis_db)
    assert saved["netsuite"] == "green" and saved["shopify"] == "green"
    assert saved["missing"] == {"netsuite": [], "shopify": []}
    after = requests.get(f"{sim}/_sim/stats", timeout=5).json()
    calls = {op: n - before["calls_by_operation"].get(op, 0) for op, n in after["calls_by_operation"].items()}
    calls = {op: n for op, n in calls.items() if n}
    # One SuiteQL query and one one-row GET per probed record type; nothing written.
    assert calls == {
        "POST suiteql": 1,
        "GET customer": 1,
        "GET inventoryItem": 1,
        "GET location": 1,
        "GET currency": 1,
        "GET salesOrder": 1,
    }
    assert after["records_by_type"] == before["records_by_type"]


def test_shopify_scope_removed_is_red_naming_it(sim, shopify_scopes, redis_db, caplog):
    requests.post(
        f"{shopify_scopes}/_sim/config",
        json={"access_scopes": ["read_orders", "read_inventory", "read_locations", "read_shopify_payments_disputes"]},
        timeout=5,
    ).raise_for_status()
    with caplog.at_level(logging.ERROR, logger="app.services.credentials"):
        results = check_credentials(netsuite_client(), shopify_client(), redis_db)
    assert results == {"netsuite": "green", "shopify": "red: missing permission(s): write_inventory"}
    assert stored(redis_db)["missing"] == {"netsuite": [], "shopify": ["write_inventory"]}
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "credentials check: shopify is red: missing permission(s): write_inventory"
    ]
    assert errors[0].missing_permissions == ["write_inventory"]
    assert "shpat_test" not in caplog.text
    assert gauges(create_app().test_client()) == {"netsuite": 1.0, "shopify": 0.0}


def test_write_scope_covers_its_read_scope(sim, shopify_scopes, redis_db):
    requests.post(
        f"{shopify_scopes}/_sim/config",
        json={"access_scopes": ["write_inventory", "read_locations", "read_shopify_payments_disputes"]},
        timeout=5,
    ).raise_for_status()
    results = check_credentials(netsuite_client(), shopify_client(), redis_db)
    # read_inventory comes with write_inventory; read_orders does not come with anything.
    assert results["shopify"] == "red: missing permission(s): read_orders"
    assert stored(redis_db)["missing"]["shopify"] == ["read_orders"]


def test_netsuite_customers_permission_revoked_is_red_naming_it(netsuite_role, shopify_server, redis_db, caplog):
    requests.post(f"{netsuite_role}/_sim/role", json={"revoke": ["LIST_CUSTJOB"]}, timeout=5).raise_for_status()
    with caplog.at_level(logging.ERROR, logger="app.services.credentials"):
        results = check_credentials(netsuite_client(), shopify_client(), redis_db)
    assert results == {"netsuite": "red: missing permission(s): Customers (Lists)", "shopify": "green"}
    assert stored(redis_db)["missing"] == {"netsuite": ["Customers (Lists)"], "shopify": []}
    assert "credentials check: netsuite is red: missing permission(s): Customers (Lists)" in caplog.text
    assert "sim-token-secret" not in caplog.text and "sim-consumer-secret" not in caplog.text
    assert gauges(create_app().test_client()) == {"netsuite": 0.0, "shopify": 1.0}


def test_every_missing_netsuite_permission_is_named_from_netsuites_answer(netsuite_role, shopify_server, redis_db):
    requests.post(
        f"{netsuite_role}/_sim/role",
        json={"revoke": ["Items (Lists)", "TRAN_FIND", "SuiteAnalytics Workbook (Reports)", "LIST_CURRENCY"]},
        timeout=5,
    ).raise_for_status()
    results = check_credentials(netsuite_client(), shopify_client(), redis_db)
    # The SuiteQL probe's 403 names the Workbook; the sales-order read's names Find Transaction, not Sales Order.
    expected = [
        "SuiteAnalytics Workbook (Reports)",
        "Items (Lists)",
        "Currency (Lists)",
        "Find Transaction (Transactions)",
    ]
    assert results["netsuite"] == "red: missing permission(s): " + ", ".join(expected)
    assert stored(redis_db)["missing"]["netsuite"] == expected


def test_a_lower_level_passes_the_probe_and_shows_at_the_first_write(netsuite_role, shopify_server, redis_db):
    """Documented limit: probes read, so Customers (Lists) at View is green until an upsert needs Create."""
    requests.post(
        f"{netsuite_role}/_sim/role", json={"levels": {"Customers (Lists)": "VIEW"}}, timeout=5
    ).raise_for_status()
    client = netsuite_client()
    assert check_credentials(client, shopify_client(), redis_db)["netsuite"] == "green"
    with pytest.raises(AuthError) as refused:
        client.upsert("customer", "shopify-customer-1", {"email": "a@example.com"})
    assert refused.value.status == 403 and refused.value.code == "INSUFFICIENT_PERMISSION"
    assert "'Lists -> Customers'" in refused.value.detail


def test_netsuite_down_is_unknown_not_red(netsuite_role, shopify_server, redis_db):
    requests.post(f"{netsuite_role}/_sim/faults", json={"status": 503, "count": 1}, timeout=5).raise_for_status()
    results = check_credentials(netsuite_client(), shopify_client(), redis_db)
    assert results["netsuite"].startswith("unknown: UNEXPECTED_ERROR")
    assert stored(redis_db)["missing"]["netsuite"] == []
    # It stopped at the first failure rather than sending every probe into an outage.
    stats = requests.get(f"{netsuite_role}/_sim/stats", timeout=5).json()
    assert stats["calls_by_operation"] == {"POST suiteql": 1}


def test_cli_check_names_the_missing_permission_and_status_and_metrics_show_it(netsuite_role, shopify_server, redis_db):
    from click.testing import CliRunner

    from app.cli import main

    requests.post(f"{netsuite_role}/_sim/role", json={"revoke": ["Customers (Lists)"]}, timeout=5).raise_for_status()
    runner = CliRunner()
    result = runner.invoke(main, ["credentials", "check"])
    assert result.exit_code == 1
    assert "netsuite: red: missing permission(s): Customers (Lists)" in result.output
    assert "shopify: green" in result.output
    shown = runner.invoke(main, ["status"])
    assert "credentials: netsuite red: missing permission(s): Customers (Lists); shopify green" in shown.output
    text = create_app().test_client().get("/metrics").get_data(as_text=True)
    assert 'shopsync_credentials_missing_permission{permission="Customers (Lists)",system="netsuite"} 1.0' in text

    requests.post(f"{netsuite_role}/_sim/role", json={"restore": True}, timeout=5).raise_for_status()
    fixed = runner.invoke(main, ["credentials", "check", "--json"])
    assert fixed.exit_code == 0
    assert json.loads(fixed.output)["missing"] == {"netsuite": [], "shopify": []}


def test_a_service_item_netsuite_lacks_is_named(sim, shopify_server, redis_db):
    """The order mapping posts shipping, tax variance, rounding ... to service items by SKU: the check names the
    ones the account lacks (an order needing one would dead-letter UNKNOWN_SKU)."""
    skus = get_settings().order_money.service_skus()
    assert "SHOPIFY-ROUNDING" in skus and "SHOPIFY-DISCOUNT" not in skus  # only DISCOUNT_MODE=item needs it
    assert check_credentials(netsuite_client(), shopify_client(), redis_db, service_items=skus)["netsuite"] == "green"
    results = check_credentials(
        netsuite_client(), shopify_client(), redis_db, service_items=[*skus, "SHOPIFY-NOT-THERE"]
    )
    assert results["netsuite"] == "red: missing NetSuite item(s): SHOPIFY-NOT-THERE"
    assert stored(redis_db)["missing"]["netsuite"] == ["item SHOPIFY-NOT-THERE"]
