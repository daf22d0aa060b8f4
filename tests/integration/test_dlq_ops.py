"""Dead-letter operations as operators run them: requeue by filter, purge with confirmation, every action audited."""

from __future__ import annotations

import json
import uuid

from click.testing import CliRunner
from sqlalchemy import select

from app.cli import main
from app.db.models import DeadLetter, DlqAudit
from app.db.session import session_scope
from app.domain.errors import UnknownSku
from app.services import dlq
from netsuite_client.errors import ServerError
from tests.conftest import fixture_bytes
from tests.integration.test_services import store_event


def dead(exc: Exception, category: str, code: str) -> int:
    event_id = store_event(fixture_bytes("orders_create.json"), webhook_id=f"wh-{code}-{uuid.uuid4()}")
    task = dlq.FailedTask("shopsync.process_event", f"t-{event_id}", "orders", [event_id], {}, attempts=1)
    return dlq.record_dead_letter(task, exc, category=category, code=code)


def test_requeue_by_filter_purge_with_confirmation_and_the_audit(clean_db, redis_db):
    sku_a = dead(UnknownSku(["A"]), "data", "UNKNOWN_SKU")
    sku_b = dead(UnknownSku(["B"]), "data", "UNKNOWN_SKU")
    flaky = dead(ServerError("boom", status=503), "transient", "UNEXPECTED_ERROR")
    assert dlq.redis_depth(redis_db) == 3
    runner = CliRunner()

    nothing = runner.invoke(main, ["dlq", "requeue"])
    assert nothing.exit_code != 0 and "say which dead letters" in nothing.output

    result = runner.invoke(main, ["dlq", "requeue", "--error-code", "UNKNOWN_SKU"])
    assert result.exit_code == 0, result.output
    assert "2 dead letter(s) requeued" in result.output
    assert redis_db.llen("orders") == 2 and dlq.redis_depth(redis_db) == 1
    again = runner.invoke(main, ["dlq", "requeue", "--error-code", "UNKNOWN_SKU"])
    assert "0 dead letter(s) requeued" in again.output and redis_db.llen("orders") == 2

    refused = runner.invoke(main, ["dlq", "purge", "--category", "transient"])
    assert refused.exit_code != 0 and "--yes" in refused.output
    purged = runner.invoke(main, ["dlq", "purge", "--category", "transient", "--yes"])
    assert purged.exit_code == 0 and f"purged 1 dead letter(s): {flaky}" in purged.output
    assert dlq.redis_depth(redis_db) == 0

    with session_scope() as s:
        statuses = {r.id: r.status for r in s.scalars(select(DeadLetter))}
        audit = [(a.action, a.dead_letter_ids, a.selection) for a in s.scalars(select(DlqAudit).order_by(DlqAudit.id))]
    assert statuses == {sku_a: "requeued", sku_b: "requeued", flaky: "purged"}  # purge keeps the record
    assert audit == [
        ("requeue", [sku_a, sku_b], {"error_code": "UNKNOWN_SKU"}),
        ("requeue", [], {"error_code": "UNKNOWN_SKU"}),
        ("purge", [flaky], {"category": "transient"}),
    ]
    listing = runner.invoke(main, ["dlq", "audit", "--json"])
    assert listing.exit_code == 0 and '"action": "purge"' in listing.output and '"actor": "cli:' in listing.output


def test_single_requeue_is_audited_and_older_than_filters_by_age(clean_db, redis_db):
    entry = dead(UnknownSku(["C"]), "data", "UNKNOWN_SKU")
    runner = CliRunner()
    young = runner.invoke(main, ["dlq", "requeue", "--older-than", "1d"])
    assert "0 dead letter(s) requeued" in young.output
    assert runner.invoke(main, ["dlq", "requeue", "--older-than", "7x"]).exit_code != 0
    first = runner.invoke(main, ["dlq", "requeue", str(entry)])
    assert first.exit_code == 0 and "requeued dead letter" in first.output
    with session_scope() as s:
        [audit] = s.scalars(select(DlqAudit).where(DlqAudit.dead_letter_ids == [entry])).all()
    assert audit.action == "requeue" and audit.selection == {"ids": [entry]}


def test_rebuild_restores_the_redis_queue_from_postgresql_after_a_redis_loss(clean_db, redis_db):
    first = dead(UnknownSku(["A"]), "data", "UNKNOWN_SKU")
    second = dead(UnknownSku(["B"]), "data", "UNKNOWN_SKU")
    third = dead(ServerError("boom", status=503), "transient", "UNEXPECTED_ERROR")
    message_of_first = dlq._mirrored_ids(redis_db)[first][0]
    redis_db.flushdb()  # Redis lost its data: PostgreSQL still has every entry
    assert dlq.redis_depth(redis_db) == 0

    result = CliRunner().invoke(main, ["dlq", "rebuild", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"added": [first, second, third], "removed": []}
    assert sorted(dlq._mirrored_ids(redis_db)) == [first, second, third]

    # A stale message (its entry requeued meanwhile) and a duplicate both go; a second run changes nothing.
    dlq.requeue(second)
    redis_db.rpush("dead_letter", message_of_first)
    redis_db.lpush("dead_letter", redis_db.lrange("orders", 0, 0)[0])  # not a dead-letter message: left alone
    redis_db.rpush("dead_letter", json.dumps({"headers": {"id": f"dlq-{second}"}}))
    assert dlq.rebuild_redis_mirror(redis_db) == {"added": [], "removed": [first, second]}
    assert sorted(dlq._mirrored_ids(redis_db)) == [first, third] and dlq.redis_depth(redis_db) == 3
    assert dlq.rebuild_redis_mirror(redis_db) == {"added": [], "removed": []}
    shown = CliRunner().invoke(main, ["dlq", "rebuild"])
    assert "0 put back, 0 stale removed; depth 3" in shown.output


def test_the_hourly_scheduled_checks_heal_the_redis_mirror(clean_db, redis_db):
    from tasks.maintenance import scheduled_checks

    entry = dead(UnknownSku(["A"]), "data", "UNKNOWN_SKU")
    redis_db.flushdb()
    result = scheduled_checks.apply().get()
    assert result["dlq_mirror"] == {"added": [entry], "removed": []}
    assert dlq.redis_depth(redis_db) == 1
