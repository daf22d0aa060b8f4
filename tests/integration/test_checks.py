from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app.db.models import NetSuiteCallLog, OrderState
from app.db.session import session_scope
from app.services.checks import run_checks


def call(eid: str, status: str, code: str | None, at: datetime) -> NetSuiteCallLog:
    return NetSuiteCallLog(
        operation="upsert",
        method="PUT",
        record_type="salesOrder",
        external_id=eid,
        attempt=1,
        duration_ms=5,
        final_status=status,
        error_code=code,
        created_at=at,
    )


def test_stuck_orders_and_governance_give_ups_are_found_and_exported(clean_db, redis_db, caplog):
    now = datetime.now(UTC)
    with session_scope() as s:
        s.add(
            OrderState(
                shopify_order_id=1, order_name="#1", state="created", version=1, created_at=now - timedelta(days=8)
            )
        )
        s.add(OrderState(shopify_order_id=2, order_name="#2", state="created", version=1))
        s.add(call("shopify-order-7", "failed", "CONCURRENCY_LIMIT_EXCEEDED", now - timedelta(hours=2)))
        s.add(call("shopify-order-8", "failed", "CONCURRENCY_LIMIT_EXCEEDED", now - timedelta(hours=3)))
        s.add(call("shopify-order-8", "ok", None, now - timedelta(hours=1)))  # it made it later
        s.add(call("shopify-order-9", "failed", "INVALID_KEY_OR_REF", now - timedelta(hours=1)))  # not governance
    with session_scope() as s:
        result = run_checks(s, now)
    assert result == {"stuck_orders": 1, "governance_give_ups": ["shopify-order-7"]}
    assert "1 order(s) stuck" in caplog.text and "shopify-order-7" in caplog.text
    text = create_app().test_client().get("/metrics").get_data(as_text=True)
    values = {f.name: f.samples[0].value for f in text_string_to_metric_families(text) if f.samples}
    assert values["shopsync_stuck_orders"] == 1 and values["shopsync_netsuite_governance_give_ups"] == 1
