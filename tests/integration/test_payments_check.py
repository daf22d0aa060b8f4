"""The nightly payments ↔ receipts check over both simulators: per order and gateway, NetSuite's receipts − refunds
against Shopify's successful sales + captures − refunds, the Shopify side read from the orders the orders check
already reads (no call per order)."""

from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import select

from app import create_app
from app.adapters.netsuite import get_netsuite
from app.cli import main
from app.db.models import ReconciliationRun, SyncAlert
from app.db.session import session_scope
from app.domain.keys import transaction_external_id
from app.services.orders_check import check_orders
from app.services.payments_check import ALERT_KIND, PaymentsCheck
from app.services.reconcile import reconcile_inventory
from shopify_client.client import ShopifyAdminClient
from tests.conftest import TEST_ENV
from tests.helpers import metric_samples, sample
from tests.integration.test_payments_flow import (  # noqa: F401 (catalog, stores: fixtures)
    TOTAL,
    add_transaction,
    catalog,
    deliver,
    make_order,
    paid,
    paid_by_gift_card_and_card,
    stores,
    transactions,
    txn_event,
)

D = Decimal


class CountingShopify(ShopifyAdminClient):
    """The Shopify client with the operations it sent, by name."""

    def __init__(self, base: str) -> None:
        super().__init__(url=f"{base}/admin/api/2026-04/graphql.json", access_token="shpat_test")
        self.operations: list[str] = []

    def execute(self, query, variables=None, *, operation_name=None, **kwargs):  # type: ignore[override]
        self.operations.append(str(operation_name))
        return super().execute(query, variables, operation_name=operation_name, **kwargs)


def three_orders(shopify: str) -> dict[str, int]:
    """Matched (gift card + capture, both delivered); a capture whose webhook never came (its gift card's did); a
    receipt someone changed in NetSuite."""
    paid_by_gift_card_and_card(shopify, 9_301)
    order = make_order(shopify, 9_302, status="authorized")
    deliver("orders/create", order, "create-9302")
    txn_event(add_transaction(shopify, 9_302, kind="sale", gateway="gift_card", amount="15.00"), "gift-9302")
    add_transaction(shopify, 9_302, kind="capture", amount=str(TOTAL - D("15.00")))  # never delivered
    order = make_order(shopify, 9_303)
    deliver("orders/create", order, "create-9303")
    paid(shopify, 9_303, "paid-9303")
    return {"matched": 9_301, "missing": 9_302, "wrong": 9_303}


def change_receipt_amount(shopify_txn_id: int, amount: str) -> None:
    get_netsuite().upsert_receipt("customerDeposit", transaction_external_id(shopify_txn_id), {"payment": amount})


def shown(order_id: int) -> None:
    """The last run's gap as `shopsync status`, the ops API (the console's source) and /metrics show it."""
    client = create_app().test_client()
    status = client.get("/ops/status", headers={"Authorization": f"Bearer {TEST_ENV['OPS_TOKEN']}"}).get_json()
    payments = status["payments"]
    assert payments["orders_with_gap"] == 1 and payments["orders_checked"] == 3
    assert payments["by_gateway"] == {"shopify_payments": {"count": 1, "sum": str(D("15.00") - TOTAL)}}
    assert [g["order_id"] for g in payments["gaps"]] == [order_id] and payments["oldest_age_hours"] >= 1.9
    samples = metric_samples(client.get("/metrics").get_data(as_text=True))
    assert sample(samples, "shopsync_payment_gap_orders") == 1
    assert 1.9 * 3600 < sample(samples, "shopsync_payment_gap_oldest_age_seconds") < 3 * 3600  # made 2 h ago
    out = CliRunner().invoke(main, ["status"]).output
    assert "payment gaps" in out and "1 of 3 orders" in out and str(order_id) in out


def test_a_missing_capture_and_a_wrong_amount_are_found_per_gateway_and_matched_orders_are_not(stores):  # noqa: F811
    sim, shopify_base, use = stores
    settings = use("deposit")
    orders = three_orders(shopify_base)
    [capture] = [t for t in transactions(shopify_base, orders["wrong"]) if t["kind"] in ("sale", "capture")]
    change_receipt_amount(capture["id"], "40.00")
    shopify = CountingShopify(shopify_base)

    check = PaymentsCheck(get_netsuite(), settings)
    with session_scope() as session:
        orders_report = check_orders(session, get_netsuite(), shopify, settings, payments=check)
        report = check.finish(session, dry_run=False)

    assert orders_report.orders_checked == 3 and report.orders_checked == 3 and report.unread == []
    gaps = sorted((g.order_id, g.gateway, g.shopify, g.netsuite, g.difference) for g in report.gaps)
    assert gaps == [
        (orders["missing"], "shopify_payments", str(TOTAL - D("15.00")), "0.00", str(D("15.00") - TOTAL)),
        (orders["wrong"], "shopify_payments", str(TOTAL), "40.00", str(D("40.00") - TOTAL)),
    ]
    assert report.orders_with_gap == 2
    # The Shopify side came with the orders read: not one OrderTransactions call.
    assert "OrderTransactions" not in shopify.operations and "OrdersUpdatedBetween" in shopify.operations
    with session_scope() as session:
        [alert] = session.scalars(select(SyncAlert).where(SyncAlert.kind == ALERT_KIND)).all()
        assert "#9302 shopify_payments" in alert.message and "#9303 shopify_payments" in alert.message
        assert "#9301" not in alert.message


def test_the_reconciliation_reports_payment_gaps_and_with_model_none_checks_nothing(stores):  # noqa: F811
    sim, shopify_base, use = stores
    settings = use("deposit")
    orders = three_orders(shopify_base)
    shopify = ShopifyAdminClient(url=f"{shopify_base}/admin/api/2026-04/graphql.json", access_token="shpat_test")

    with session_scope() as session:
        report = reconcile_inventory(session, get_netsuite(), shopify, settings)
    assert [(g["order_id"], g["gateway"]) for g in report.payments["gaps"]] == [(orders["missing"], "shopify_payments")]
    assert report.payments["orders_checked"] == 3 and report.payments["skipped"] is None
    with session_scope() as session:
        run = session.get(ReconciliationRun, report.run_id)
        assert run.report["payments"]["orders_with_gap"] == 1
        assert len(session.scalars(select(SyncAlert).where(SyncAlert.kind == ALERT_KIND)).all()) == 1

    shown(orders["missing"])

    none = use("none")
    with session_scope() as session:
        report = reconcile_inventory(session, get_netsuite(), shopify, none)
    assert report.payments["skipped"] and report.payments["gaps"] == [] and report.payments["orders_checked"] == 0
    assert report.orders_checked == 3  # the orders check itself still ran
    with session_scope() as session:
        assert len(session.scalars(select(SyncAlert).where(SyncAlert.kind == ALERT_KIND)).all()) == 1
