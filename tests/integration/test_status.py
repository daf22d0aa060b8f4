from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from app.cli import main
from app.db.models import OrderState, ReconciliationRun
from app.db.session import session_scope
from app.domain.errors import UnknownSku
from tests.integration.test_dlq_ops import dead


def test_status_shows_queues_dlq_slots_reconciliation_and_stuck_orders(clean_db, redis_db):
    dead(UnknownSku(["A"]), "data", "UNKNOWN_SKU")
    redis_db.rpush("orders", b"x")
    old = datetime.now(UTC) - timedelta(days=9)
    with session_scope() as s:
        s.add(OrderState(shopify_order_id=1, order_name="#1", state="created", version=1, created_at=old))
        s.add(OrderState(shopify_order_id=2, order_name="#2", state="fulfilled", version=1, created_at=old))
        s.add(OrderState(shopify_order_id=3, order_name="#3", state="created", version=1))
        s.add(
            ReconciliationRun(
                kind="inventory",
                trigger="manual",
                run_date=old,
                status="done",
                diffs_found=4,
                corrections_applied=3,
                finished_at=old,
            )
        )
    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["queues"]["orders"] == 1 and report["queues"]["dead_letter"] == 1
    assert report["dlq"] == {"open": 1, "by_category": {"data": 1}, "redis_depth": 1}
    assert [o["order_id"] for o in report["stuck_orders"]] == [1]
    assert report["last_reconciliation"]["diffs_found"] == 4
    assert report["netsuite"]["max_budget"] == 12
    text = CliRunner().invoke(main, ["status"]).output
    assert "dead letters: 1 open (Redis queue 1)" in text and "stuck orders" in text and "#1" in text
