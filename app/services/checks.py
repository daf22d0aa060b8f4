"""Scheduled checks: orders stuck for days, and NetSuite calls that failed on governance and never succeeded."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from app.db.models import NetSuiteCallLog, OrderState
from app.domain.state_machine import CREATED, PARTIALLY_FULFILLED

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(days=7)
GOVERNANCE_CODES = ("CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED", "WS_REQUEST_BLOCKED")


def stuck_orders(session: Session, now: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(OrderState)
            .where(OrderState.state.in_([CREATED, PARTIALLY_FULFILLED]), OrderState.created_at < now - STUCK_AFTER)
        )
    )


def governance_give_ups(session: Session, now: datetime) -> list[str]:
    """External ids whose calls failed for good on governance in the last 24 h with no later success."""
    since = now - timedelta(hours=24)
    later = aliased(NetSuiteCallLog)
    rows = session.scalars(
        select(NetSuiteCallLog.external_id)
        .where(
            NetSuiteCallLog.created_at >= since,
            NetSuiteCallLog.final_status == "failed",
            NetSuiteCallLog.error_code.in_(GOVERNANCE_CODES),
            NetSuiteCallLog.external_id.is_not(None),
            ~exists().where(
                and_(
                    later.external_id == NetSuiteCallLog.external_id,
                    later.final_status == "ok",
                    later.created_at > NetSuiteCallLog.created_at,
                )
            ),
        )
        .distinct()
        .limit(100)
    ).all()
    return list(rows)


def run_checks(session: Session, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    result = {"stuck_orders": stuck_orders(session, now), "governance_give_ups": governance_give_ups(session, now)}
    if result["stuck_orders"]:
        log.error(
            "scheduled check: %d order(s) stuck over 7 days in created/partially_fulfilled", result["stuck_orders"]
        )
    if result["governance_give_ups"]:
        log.error(
            "scheduled check: %d record(s) gave up on NetSuite governance in 24 h and never succeeded: %s",
            len(result["governance_give_ups"]),
            ", ".join(result["governance_give_ups"][:10]),
        )
    return result
