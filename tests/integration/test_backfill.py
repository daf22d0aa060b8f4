"""Backfill and webhook subscription health against the Shopify simulator (HTTP, in a thread), the real
PostgreSQL and Redis, and the NetSuite simulator for the events' processing."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json

import pytest
import requests
from sqlalchemy import select

from app.config import get_settings
from app.db.models import OrderState, SyncAlert, WebhookEvent
from app.db.session import session_scope
from app.routing import TOPIC_QUEUES
from app.services import events
from app.services.backfill import backfill_orders
from app.services.subscriptions import check_subscriptions
from shopify_client.client import ShopifyAdminClient
from shopify_client.subscriptions import create_subscription, list_subscriptions, update_subscription
from simulators.shopify.server import SimulatorConfig, start_in_thread
from tests import story
from tests.integration.test_services import records

CALLBACK = "https://sync.example.test/webhooks/shopify"
ELSEWHERE = "https://old-host.example.test/webhooks/shopify"
DAY = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def shopify_server():
    server, base = start_in_thread(SimulatorConfig(access_token="shpat_test"))
    yield base
    server.shutdown()


@pytest.fixture
def shopify(shopify_server, clean_db, redis_db):
    requests.post(f"{shopify_server}/_sim/reset", json={}, timeout=5).raise_for_status()
    client = ShopifyAdminClient(url=f"{shopify_server}/admin/api/2026-04/graphql.json", access_token="shpat_test")
    return shopify_server, client


def make_order(n: int, updated_at: dt.datetime) -> dict:
    order = copy.deepcopy(story.ORDER)
    order_id = 8_100_000_000_000_000 + n
    order["id"] = order_id
    order["admin_graphql_api_id"] = f"gid://shopify/Order/{order_id}"
    order["name"] = f"#8{n:03d}"
    order["order_number"] = 8000 + n
    order["created_at"] = order["updated_at"] = updated_at.isoformat()
    for i, line in enumerate(order["line_items"]):
        line["id"] = 8_300_000_000_000_000 + n * 10 + i
    return order


def put_orders(base: str, orders: list[dict]) -> None:
    requests.post(f"{base}/_sim/orders", json=orders, timeout=5).raise_for_status()


def backfill_events() -> list[WebhookEvent]:
    with session_scope() as s:
        rows = s.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
        s.expunge_all()
        return list(rows)


def test_backfill_stores_each_order_version_once_and_publishes_to_the_backfill_queue(shopify, redis_db):
    base, client = shopify
    inside = [make_order(n, DAY + dt.timedelta(hours=n)) for n in (1, 2, 3)]
    outside = [make_order(4, DAY - dt.timedelta(minutes=1)), make_order(5, DAY + dt.timedelta(days=1))]
    put_orders(base, inside + outside)
    seen: list[int] = []

    report = backfill_orders(DAY, DAY + dt.timedelta(days=1), shopify=client, progress=seen.append)

    assert (report.read, report.new_events, report.already_known) == (3, 3, 0)
    assert (report.published, report.unpublished) == (3, 0)
    assert seen == [1, 2, 3]
    assert redis_db.llen("backfill") == 3 and redis_db.llen("orders") == 0
    messages = [json.loads(m) for m in redis_db.lrange("backfill", 0, -1)]
    assert {m["headers"]["task"] for m in messages} == {"shopsync.process_event"}
    stored = backfill_events()
    assert {e.resource_id for e in stored} == {o["id"] for o in inside}
    first = stored[0]
    assert first.topic == "orders/updated" and first.status == "received"
    assert first.shop == get_settings().shopify_shop and first.api_version == get_settings().shopify_api_version
    assert first.webhook_id.startswith(f"backfill:{first.resource_id}:")
    body = json.loads(first.raw_body)
    assert body["id"] == first.resource_id and isinstance(body["id"], int)
    assert body["total_price"] == "108.00"

    again = backfill_orders(DAY, DAY + dt.timedelta(days=1), shopify=client)
    assert (again.read, again.new_events, again.already_known, again.published) == (3, 0, 3, 0)
    assert redis_db.llen("backfill") == 3

    # A newer version of one order is new work; the others are still known.
    put_orders(base, [make_order(2, DAY + dt.timedelta(hours=20))])
    third = backfill_orders(DAY, DAY + dt.timedelta(days=1), shopify=client)
    assert (third.read, third.new_events, third.already_known) == (3, 1, 2)
    assert len(backfill_events()) == 4 and redis_db.llen("backfill") == 4


def test_backfilled_events_land_in_netsuite_as_sales_orders(shopify, sim):
    base, client = shopify
    orders = [make_order(n, DAY + dt.timedelta(hours=n)) for n in (1, 2)]
    put_orders(base, orders)
    backfill_orders(DAY, None, shopify=client)

    for event in backfill_events():
        assert events.process_event(event.id).startswith("synced order")

    external_ids = {so["externalId"] for so in records(sim, "salesOrder")}
    assert external_ids == {f"shopify-order-{o['id']}" for o in orders}
    with session_scope() as s:
        for o in orders:
            assert s.get(OrderState, o["id"]).netsuite_internal_id
        assert {e.status for e in s.scalars(select(WebhookEvent))} == {"done"}


def test_subscription_check_repairs_alerts_and_backfills_the_gap(shopify):
    base, client = shopify
    settings = dataclasses.replace(get_settings(), webhook_callback_url=CALLBACK)
    subscribed = {topic: create_subscription(client, topic, CALLBACK) for topic in TOPIC_QUEUES}
    # Shopify dropped one after failed deliveries; someone re-pointed another.
    requests.delete(
        f"{base}/_sim/webhook_subscriptions/{subscribed['orders/updated'].id}", timeout=5
    ).raise_for_status()
    update_subscription(client, subscribed["fulfillments/create"].id, ELSEWHERE)

    now = dt.datetime.now(dt.UTC)
    last_delivery = now - dt.timedelta(hours=2)
    with session_scope() as s:
        s.add(
            WebhookEvent(
                webhook_id="real-delivery-1",
                topic="orders/create",
                shop=settings.shopify_shop,
                api_version=settings.shopify_api_version,
                raw_body=b"{}",
                resource_id=1,
                status="done",
                received_at=last_delivery,
            )
        )
    before_gap = make_order(1, now - dt.timedelta(hours=3))
    in_gap = [make_order(2, now - dt.timedelta(hours=1)), make_order(3, now - dt.timedelta(minutes=5))]
    put_orders(base, [before_gap, *in_gap])

    checked = check_subscriptions(shopify=client, settings=settings, repair=False)
    assert sorted(checked.broken) == ["fulfillments/create", "orders/updated"] and not checked.healthy
    assert checked.backfill is None and len(backfill_events()) == 1

    report = check_subscriptions(shopify=client, settings=settings)

    assert report.created == ["orders/updated"] and report.updated == ["fulfillments/create"]
    assert report.healthy and not report.errors
    now_subscribed = {s.topic: s.uri for s in list_subscriptions(client)}
    assert now_subscribed == {topic: CALLBACK for topic in TOPIC_QUEUES}
    with session_scope() as s:
        alerts = s.scalars(select(SyncAlert).order_by(SyncAlert.id)).all()
        assert [a.kind for a in alerts] == ["webhook_subscription"] * 2
        assert any("orders/updated" in a.message for a in alerts)
        assert any("fulfillments/create" in a.message and ELSEWHERE in a.message for a in alerts)
    assert report.backfill is not None and report.backfill.new_events == 2
    backfilled = {e.resource_id for e in backfill_events() if e.webhook_id.startswith("backfill:")}
    assert backfilled == {o["id"] for o in in_gap}

    # Healthy now: nothing repaired, nothing backfilled, no new alert.
    quiet = check_subscriptions(shopify=client, settings=settings)
    assert quiet.repaired == [] and quiet.backfill is None and len(quiet.ok) == len(TOPIC_QUEUES)


def test_subscription_check_does_nothing_without_a_callback_url(shopify):
    _, client = shopify
    settings = dataclasses.replace(get_settings(), webhook_callback_url=None)
    report = check_subscriptions(shopify=client, settings=settings)
    assert not report.configured and report.as_dict()["created"] == [] and list_subscriptions(client) == []


def test_cli_backfill_and_subscription_check(shopify, monkeypatch):
    from click.testing import CliRunner

    import app.adapters.shopify as shopify_service
    from app.cli import main

    base, client = shopify
    monkeypatch.setattr(shopify_service, "get_shopify", lambda: client)
    put_orders(base, [make_order(n, DAY + dt.timedelta(hours=n)) for n in (1, 2)])
    runner = CliRunner()

    result = runner.invoke(main, ["backfill", "--since", "2026-01-10", "--until", "2026-01-11T00:00:00", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new_events"] == 2
    table = runner.invoke(main, ["backfill", "--since", "2026-01-10"])
    assert table.exit_code == 0 and "ALREADY_KNOWN" not in table.output and "already_known  2" in table.output
    bad = runner.invoke(main, ["backfill", "--since", "2026-01-11", "--until", "2026-01-10"])
    assert bad.exit_code != 0

    off = runner.invoke(main, ["subscriptions", "check"])
    assert off.exit_code == 0 and "not configured" in off.output


def test_beat_runs_the_check_hourly_on_the_reconcile_queue():
    from app.routing import TASK_CHECK_SUBSCRIPTIONS, TASK_ROUTES
    from beat_schedule import build_schedule

    entry = build_schedule(get_settings())["check-subscriptions"]
    assert entry["task"] == TASK_CHECK_SUBSCRIPTIONS == "shopsync.check_subscriptions"
    assert entry["schedule"].minute == {17} and entry["schedule"].hour == set(range(24))
    assert entry["options"] == {"queue": "reconcile", "expires": 3000}
    assert TASK_ROUTES[TASK_CHECK_SUBSCRIPTIONS] == {"queue": "reconcile"}
