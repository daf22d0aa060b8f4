"""Refunds beyond line items, against both simulators: a refund of lines and shipping for less than its value (a
discrepancy Shopify records), in both tax modes. NetSuite's own credit memo total is the money Shopify returned, and
the nightly orders check, reading the order back from Shopify's Admin API, finds NetSuite's sales order total equal
to Shopify's (the refunded shipping added back) and nothing to heal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from app.adapters.netsuite import get_netsuite
from app.db.models import OrderState, WebhookEvent
from app.db.session import session_scope
from app.services.order_lifecycle import handle_refund
from app.services.orders import sync_order_payload
from app.services.orders_check import check_orders
from schemas.shopify import OrderSchema
from shopify_client.client import ShopifyAdminClient
from simulators.shopify import order_factory as of
from tests.integration.test_order_totals import CUSTOMER, catalog, settings_for  # noqa: F401 (catalog: a fixture)
from tests.integration.test_services import store_event

D = Decimal


def _order(order_id: int, **overrides) -> dict:
    """An order of two hours ago: mugs and tea at 8.875 %, express shipping and a 10.00 code unless overridden."""
    stamp = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0).isoformat()
    values = dict(
        order_id=order_id,
        number=order_id % 10_000,
        customer=CUSTOMER,
        created_at=stamp,
        line_id_base=order_id * 10,
        lines=[
            of.Line("MUG", "Mug", "12.99", 3, variant_id=1, product_id=1),
            of.Line("TEA", "Tea", "7.45", 2, variant_id=2, product_id=2),
        ],
        tax_rate="0.08875",
        tax_title="Sales tax",
        shipping=of.Shipping("Express", "7.50"),
        discount=of.Discount("SAVE10", "10.00"),
    )
    return of.build_order(**{**values, **overrides})


@pytest.mark.parametrize("mode", ["legacy", "suitetax"])
def test_a_short_refund_of_lines_and_shipping_agrees_in_netsuite(mode, sim, shopify_server, catalog):  # noqa: F811
    settings = settings_for(mode, catalog)
    requests.post(f"{sim}/_sim/config", json={"tax_mode": mode}, timeout=5).raise_for_status()
    requests.post(f"{shopify_server}/_sim/reset", json={}, timeout=5).raise_for_status()
    order = _order(8_900 + (mode == "suitetax"))
    requests.post(f"{shopify_server}/_sim/orders", json=[order], timeout=5).raise_for_status()
    with session_scope() as session:
        loaded = OrderSchema().load(json.loads(json.dumps(order)))
        sync_order_payload(session, loaded, get_netsuite(), settings, topic="orders/create", event_id=None)

    mug = order["line_items"][0]
    refund = of.build_refund(
        order, refund_id=order["id"] * 10 + 1, lines={mug["id"]: 2}, location_id=1001,
        created_at=order["created_at"], transaction_id=order["id"] * 10 + 2, shipping=True, short_by="1.00",
    )  # fmt: skip
    assert refund["refund_shipping_lines"] and refund["order_adjustments"][0]["kind"] == "refund_discrepancy"
    posted = requests.post(f"{shopify_server}/_sim/orders/{order['id']}/refunds", json=refund, timeout=5)
    posted.raise_for_status()
    event_id = store_event(json.dumps(refund).encode(), topic="refunds/create", webhook_id=f"short-{mode}")
    with session_scope() as session:
        handle_refund(session, session.get(WebhookEvent, event_id), get_netsuite(), settings, lambda _id: None)
        assert session.get(OrderState, order["id"]).money_mismatch is None  # Shopify recorded the discrepancy

    returned = D(refund["transactions"][0]["amount"])
    [memo] = requests.get(f"{sim}/_sim/records/creditMemo", timeout=5).json()
    assert D(str(memo["total"])) == returned
    shipping_lines = [x for x in memo["item"]["items"] if x.get("description") == "Express refunded"]
    assert [D(str(x["amount"])) for x in shipping_lines] == [D("7.50")]

    shopify = ShopifyAdminClient(url=f"{shopify_server}/admin/api/2026-04/graphql.json", access_token="shpat_test")
    with session_scope() as session:
        report = check_orders(session, get_netsuite(), shopify, settings, days=1)
    assert report.orders_checked == 1 and report.missing == []
    assert report.total_mismatches == [] and report.documents_healed == 0
