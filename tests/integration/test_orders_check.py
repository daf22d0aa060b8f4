"""The nightly orders check: Shopify's last 7 days against NetSuite by external id and total."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import requests
from sqlalchemy import select

from app.adapters.netsuite import get_netsuite
from app.config import get_settings
from app.db.models import SyncAlert
from app.db.session import session_scope
from app.services import events
from app.services.reconcile import check_orders
from shopify_client.client import ShopifyAdminClient
from tests import story
from tests.integration.test_services import records, store_event


def recent(order_id: int, name: str, total: str = "108.00") -> dict:
    order = copy.deepcopy(story.ORDER)
    stamp = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()
    order.update(id=order_id, name=name, created_at=stamp, updated_at=stamp, total_price=total)
    for n, line in enumerate(order["line_items"]):
        line["id"] = order_id * 10 + n
    return order


def test_missing_orders_are_healed_and_total_mismatches_flagged(sim, shopify_server, redis_db):
    requests.post(f"{shopify_server}/_sim/reset", json={}, timeout=5).raise_for_status()
    synced, missing, edited = recent(8_001, "#8001"), recent(8_002, "#8002"), recent(8_003, "#8003")
    for order in (synced, edited):
        events.process_event(store_event(json.dumps(order).encode(), webhook_id=f"live-{order['id']}"))
    edited_in_shopify = dict(edited, total_price="118.00")  # an edit whose webhook never reached us
    requests.post(
        f"{shopify_server}/_sim/orders", json=[synced, missing, edited_in_shopify], timeout=5
    ).raise_for_status()
    shopify = ShopifyAdminClient(url=f"{shopify_server}/admin/api/2026-04/graphql.json", access_token="shpat_test")

    with session_scope() as session:
        dry = check_orders(session, get_netsuite(), shopify, get_settings(), dry_run=True)
    assert dry.orders_checked == 3 and dry.missing == [8_002] and dry.healed == 0
    with session_scope() as session:
        report = check_orders(session, get_netsuite(), shopify, get_settings())
    assert report.missing == [8_002] and report.healed == 1
    [mismatch] = report.total_mismatches
    assert (mismatch["order_id"], mismatch["name"], mismatch["shopify"]) == (8_003, "#8003", "118.00")
    assert Decimal(mismatch["netsuite"]) == Decimal("108.00")
    [message] = [json.loads(m) for m in redis_db.lrange("orders", 0, -1)]
    event_id = int(message["headers"]["argsrepr"].strip("[]"))
    events.process_event(event_id)  # the healed order takes the live path
    assert sorted(r["externalId"] for r in records(sim, "salesOrder")) == [
        "shopify-order-8001",
        "shopify-order-8002",
        "shopify-order-8003",
    ]


def test_netsuite_own_figures_are_compared_and_a_missing_fulfillment_is_healed(sim, shopify_server, redis_db):
    requests.post(f"{shopify_server}/_sim/reset", json={}, timeout=5).raise_for_status()
    stamp = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()
    order = dict(copy.deepcopy(story.ORDER), created_at=stamp, updated_at=stamp)
    events.process_event(store_event(json.dumps(order).encode(), webhook_id="nsfig-order"))
    # Shopify shipped F1, but its webhook never reached us.
    requests.post(
        f"{shopify_server}/_sim/orders", json=dict(order, fulfillments=[story.F1]), timeout=5
    ).raise_for_status()
    # Someone changed a line in NetSuite by hand: NetSuite now totals the order differently from Shopify.
    [so] = records(sim, "salesOrder")
    first = so["item"]["items"][0]
    get_netsuite().patch("salesOrder", so["id"], {"item": {"items": [{"line": first["line"], "amount": "40.00"}]}})
    shopify = ShopifyAdminClient(url=f"{shopify_server}/admin/api/2026-04/graphql.json", access_token="shpat_test")

    with session_scope() as session:
        report = check_orders(session, get_netsuite(), shopify, get_settings())
    found = {d["kind"]: d for d in report.total_mismatches}
    assert set(found) == {"total", "fulfillments"}
    assert (found["total"]["shopify"], found["total"]["netsuite"]) == ("108.00", "98.00")  # NetSuite's own total
    assert f"= 40.00 (Shopify line {first['custcol_shopify_line_id']})" in found["total"]["detail"]
    assert (found["fulfillments"]["shopify"], found["fulfillments"]["netsuite"]) == ("1", "0")
    with session_scope() as s:
        [alert] = s.scalars(select(SyncAlert).where(SyncAlert.kind == "orders_mismatch")).all()
        assert "total Shopify 108.00 / NetSuite 98.00" in alert.message
    # The missing shipment took the live path: an event on the fulfillments queue, applied like the webhook.
    assert report.documents_healed == 1
    [message] = [json.loads(m) for m in redis_db.lrange("fulfillments", 0, -1)]
    events.process_event(int(message["headers"]["argsrepr"].strip("[]")))
    [shipment] = records(sim, "itemFulfillment")
    assert shipment["externalId"] == f"shopify-fulfillment-{story.F1_ID}"


def test_a_refund_the_lifecycle_could_not_read_is_an_alert_and_the_other_orders_are_still_checked(
    sim, shopify_server, redis_db
):
    requests.post(f"{shopify_server}/_sim/reset", json={}, timeout=5).raise_for_status()
    good, bad = recent(8_101, "#8101"), recent(8_102, "#8102")
    for order in (good, bad):
        events.process_event(store_event(json.dumps(order).encode(), webhook_id=f"unreadable-{order['id']}"))
    requests.post(f"{shopify_server}/_sim/orders", json=[good, bad], timeout=5).raise_for_status()
    # A refund line with a negative quantity: the refunds/create schema refuses it, as the live path would.
    broken = {"refund_line_items": [{"line_item_id": bad["line_items"][0]["id"], "quantity": -1}], "transactions": []}
    requests.post(f"{shopify_server}/_sim/orders/8102/refunds", json=broken, timeout=5).raise_for_status()
    shopify = ShopifyAdminClient(url=f"{shopify_server}/admin/api/2026-04/graphql.json", access_token="shpat_test")

    with session_scope() as session:
        report = check_orders(session, get_netsuite(), shopify, get_settings(), dry_run=True)
    assert report.orders_checked == 2 and report.missing == []
    [unreadable] = report.total_mismatches
    assert (unreadable["order_id"], unreadable["kind"], unreadable["shopify"]) == (8_102, "refund", "unreadable")
    assert "refund_line_items" in unreadable["detail"] and "of order 8102 read from Shopify" in unreadable["detail"]
