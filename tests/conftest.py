"""Shared test environment: real PostgreSQL (database shopsync_test) and Redis (db 15) on this machine.

The environment is fixed here, before anything imports app.config, so every test and every process a test
starts sees the same settings.
"""

from __future__ import annotations

import json
import os

import psycopg
import pytest

from devtools.devstack import free_port
from simulators.shared import shared_dir

# The real Shopify payloads live in shared/ (simulators/shared.py: beside the repository, as on developers' machines
# and in CI, or beside the one this clone came from, or SHOPSYNC_SHARED_DIR).
FIXTURES = shared_dir() / "fixtures" / "shopify"
if not FIXTURES.is_dir():
    raise RuntimeError(
        f"Shopify fixtures not found at {FIXTURES}: shared/ must sit beside the repository (or set SHOPSYNC_SHARED_DIR)"
    )
# Shopify's published references (Admin GraphQL schema, example webhook payloads per topic and version).
REFERENCE = FIXTURES.parents[1] / "reference"
PUBLISHED_SCHEMA = REFERENCE / "shopify-admin-graphql-2026-04" / "admin_2026-04.json"
WEBHOOK_SAMPLES = REFERENCE / "shopify-webhook-samples"
if not PUBLISHED_SCHEMA.is_file() or not WEBHOOK_SAMPLES.is_dir():
    raise RuntimeError(f"Shopify's published references not found under {REFERENCE}")

SIM_PORT = free_port()
SHOPIFY_SIM_PORT = free_port()
# Overridable so two test runs on one machine (two checkouts, two developers) don't reset each other's state.
TEST_DB = os.environ.get("SHOPSYNC_TEST_DB", "shopsync_test")
TEST_REDIS_DB = os.environ.get("SHOPSYNC_TEST_REDIS_DB", "15")
TEST_ENV = {
    "DATABASE_URL": f"postgresql://root@127.0.0.1:5432/{TEST_DB}",
    "REDIS_URL": f"redis://127.0.0.1:6379/{TEST_REDIS_DB}",
    "SHOPIFY_SHOP": "test-store.myshopify.com",
    "SHOPIFY_WEBHOOK_SECRETS": "test-secret-new,test-secret-old",
    "SHOPIFY_ADMIN_TOKEN": "shpat_test",
    "SHOPIFY_API_VERSION": "2026-04",
    # Loopback only: a Shopify simulator is started on this port by the tests that need it.
    "SHOPIFY_ADMIN_URL": f"http://127.0.0.1:{SHOPIFY_SIM_PORT}/admin/api/2026-04/graphql.json",
    "NETSUITE_ACCOUNT_ID": "1234567_SB1",
    "NETSUITE_CONSUMER_KEY": "sim-consumer-key",
    "NETSUITE_CONSUMER_SECRET": "sim-consumer-secret",
    "NETSUITE_TOKEN_ID": "sim-token-id",
    "NETSUITE_TOKEN_SECRET": "sim-token-secret",
    "NETSUITE_BASE_URL": f"http://127.0.0.1:{SIM_PORT}/services/rest",
    "NETSUITE_MAX_TRIES": "2",
    "OPS_TOKEN": "test-ops-token",
    "TASK_RETRY_BACKOFF_MAX": "4",
    "LOG_LEVEL": "INFO",
    "LOCATION_MAP": "905684977=1,1001=1,1002=2",
    "NETSUITE_DEFAULT_LOCATION_ID": "1",
    "NETSUITE_REFUND_ADJUSTMENT_ITEM": "SHOPIFY-REFUND-ADJ",
}
os.environ.update(TEST_ENV)

SECRET = "test-secret-new"
SHOP = TEST_ENV["SHOPIFY_SHOP"]
FIXTURE_SKUS = [
    ("IPOD2008GREEN", "iPod Nano green"),
    ("IPOD2008RED", "iPod Nano red"),
    ("IPOD2008BLACK", "iPod Nano black"),
    ("SKU-A", "Story item A"),
    ("SKU-B", "Story item B"),
    ("SKU-C", "Story item C"),
    ("SHOPIFY-REFUND-ADJ", "Shopify refund adjustment"),
]
# The service items of the order money mapping (docs/MAPPING.md) under their default SKUs, with the NetSuite item
# type an account would give them (the simulator's /_sim/items): none of them is fulfilled.
SERVICE_ITEMS = [
    {"itemid": "SHOPIFY-SHIPPING", "displayname": "Shopify shipping", "type": "otherChargeSaleItem"},
    # DISCOUNT_MODE=item in legacy tax: the discount is applied before sales tax (docs/MAPPING.md, Discounts).
    {"itemid": "SHOPIFY-DISCOUNT", "displayname": "Shopify discount", "type": "discountItem", "ispretax": True},
    {"itemid": "SHOPIFY-GIFT-CARD", "displayname": "Shopify gift card", "type": "giftCertificateItem"},
    {"itemid": "SHOPIFY-TIP", "displayname": "Shopify tip", "type": "otherChargeSaleItem", "istaxable": False},
    {"itemid": "SHOPIFY-DUTY", "displayname": "Shopify duties", "type": "otherChargeSaleItem", "istaxable": False},
    {"itemid": "SHOPIFY-FEE", "displayname": "Shopify fees", "type": "otherChargeSaleItem", "istaxable": False},
    {
        "itemid": "SHOPIFY-TAX-VARIANCE",
        "displayname": "Tax variance",
        "type": "otherChargeSaleItem",
        "istaxable": False,
    },
    {"itemid": "SHOPIFY-ROUNDING", "displayname": "Rounding", "type": "otherChargeSaleItem", "istaxable": False},
]


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def published_schema():
    """Shopify's published Admin GraphQL schema 2026-04, built once per process (the file is 10 MB); the simulator
    shares the same cached copy."""
    from simulators.shopify.published_schema import load_published_schema

    return load_published_schema(str(PUBLISHED_SCHEMA.resolve()))


@pytest.fixture(scope="session")
def database() -> str:
    """A fresh test database built by the same migrations `shopsync db upgrade` runs."""
    from app.config import get_settings
    from app.db.migrate import upgrade

    with psycopg.connect("postgresql://root@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEST_DB} WITH (FORCE)")
    upgrade(get_settings().sqlalchemy_url)
    return get_settings().sqlalchemy_url


@pytest.fixture
def clean_db(database: str) -> str:
    from sqlalchemy import text

    from app.db.models import truncate_all_sql
    from app.db.session import get_engine

    with get_engine().begin() as conn:
        conn.execute(text(truncate_all_sql()))
    return database


@pytest.fixture
def redis_db():
    import redis

    client = redis.Redis.from_url(TEST_ENV["REDIS_URL"])
    client.flushdb()
    yield client
    client.close()
