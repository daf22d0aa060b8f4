"""The credentials health check against both simulators: green, then red when a token is revoked."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.config import get_settings
from app.services.credentials import check_credentials
from netsuite_client import NetSuiteClient, TokenAuth
from shopify_client.client import ShopifyAdminClient


def gauges(client) -> dict[str, float]:
    text = client.get("/metrics").get_data(as_text=True)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return {s.labels["system"]: s.value for s in families["shopsync_credentials_ok"].samples}


def test_green_then_red_when_netsuite_revokes_the_token(sim, shopify_server, redis_db):
    s = get_settings()
    netsuite = NetSuiteClient(
        base_url=s.netsuite_base_url,
        auth=TokenAuth(
            account_id=s.netsuite_account_id,
            consumer_key=s.netsuite_consumer_key,
            consumer_secret=s.netsuite_consumer_secret,
            token_id=s.netsuite_token_id,
            token_secret=s.netsuite_token_secret,
        ),
        max_tries=1,
    )
    shopify = ShopifyAdminClient(url=s.shopify_admin_url, access_token=s.shopify_admin_token, max_tries=1)
    assert check_credentials(netsuite, shopify, redis_db) == {"netsuite": "green", "shopify": "green"}
    app = create_app().test_client()
    assert gauges(app) == {"netsuite": 1.0, "shopify": 1.0}

    revoked = NetSuiteClient(
        base_url=s.netsuite_base_url,
        auth=TokenAuth(
            account_id=s.netsuite_account_id,
            consumer_key=s.netsuite_consumer_key,
            consumer_secret=s.netsuite_consumer_secret,
            token_id="revoked-token",
            token_secret="revoked-secret",
        ),
        max_tries=1,
    )
    wrong_shop_token = ShopifyAdminClient(url=s.shopify_admin_url, access_token="shpat_revoked", max_tries=1)
    results = check_credentials(revoked, wrong_shop_token, redis_db)
    assert results["netsuite"].startswith("red: INVALID_LOGIN (401)")
    assert results["shopify"].startswith("red:")
    assert gauges(app) == {"netsuite": 0.0, "shopify": 0.0}
