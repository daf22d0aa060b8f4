"""When an orders/edited needs the order read from Shopify (app/domain/order_edits.py): plain values in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.order_edits import APPLIED, QUEUED_POLL_S, READ, WAIT, EditWait, edit_time, plan_edit

COMMITTED = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
WAITS = EditWait(settle_s=10.0, max_s=45.0)


def test_an_order_payload_applied_at_or_after_the_commit_already_carries_the_edit():
    for applied in (COMMITTED, COMMITTED + timedelta(seconds=1)):
        step = plan_edit(COMMITTED, applied, waited_s=0.0, payload_queued=True, wait=WAITS)
        assert step.action == APPLIED and step.wait_s == 0
        assert "no Shopify read" in step.note and applied.isoformat() in step.note


@pytest.mark.parametrize(
    ("applied", "edit_at"),
    [
        (COMMITTED - timedelta(seconds=1), COMMITTED),  # the payload applied is older than the edit
        (None, COMMITTED),  # the order was never synced
        (COMMITTED, None),  # the edit says nothing of when: nothing proves it is applied
    ],
)
def test_an_edit_not_proved_applied_waits_for_its_orders_updated_then_reads(applied, edit_at):
    first = plan_edit(edit_at, applied, waited_s=0.0, payload_queued=False, wait=WAITS)
    assert (first.action, first.wait_s) == (WAIT, 10.0)
    later = plan_edit(edit_at, applied, waited_s=7.5, payload_queued=False, wait=WAITS)
    assert (later.action, later.wait_s) == (WAIT, 2.5)  # the rest of the wait, not a new one
    assert plan_edit(edit_at, applied, waited_s=10.0, payload_queued=False, wait=WAITS).action == READ


def test_a_queued_order_payload_prolongs_the_wait_up_to_the_maximum_only():
    before = COMMITTED - timedelta(minutes=5)
    polls = [plan_edit(COMMITTED, before, waited_s=w, payload_queued=True, wait=WAITS) for w in (10.0, 30.0, 44.0)]
    assert [p.action for p in polls] == [WAIT, WAIT, WAIT]
    assert [p.wait_s for p in polls] == [QUEUED_POLL_S, QUEUED_POLL_S, 1.0]  # never past the maximum
    for waited in (45.0, 600.0):
        assert plan_edit(COMMITTED, before, waited_s=waited, payload_queued=True, wait=WAITS).action == READ


def test_no_wait_configured_reads_at_once_and_the_applied_check_still_holds():
    none = EditWait(settle_s=0.0, max_s=0.0)
    assert plan_edit(COMMITTED, None, waited_s=0.0, payload_queued=True, wait=none).action == READ
    assert plan_edit(COMMITTED, COMMITTED, waited_s=0.0, payload_queued=False, wait=none).action == APPLIED


def test_the_edit_time_is_its_commit_else_its_creation():
    created = COMMITTED - timedelta(minutes=2)
    assert edit_time({"committed_at": COMMITTED, "created_at": created}) == COMMITTED
    assert edit_time({"committed_at": None, "created_at": created}) == created
    assert edit_time({"committed_at": None, "created_at": None}) is None
