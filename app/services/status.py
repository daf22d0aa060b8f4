"""`shopsync status`: what an operator checks first, in one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from sqlalchemy import func, select

from app.adapters.netsuite import get_limiter
from app.adapters.redis_client import get_redis
from app.db.models import DeadLetter, OrderState, ReconciliationRun, SyncAlert
from app.db.session import session_scope
from app.domain.state_machine import CREATED, PARTIALLY_FULFILLED
from app.routing import QUEUES
from app.services.checks import governance_give_ups
from app.services.credentials import last_result
from app.services.money_status import disputes_report, payments_report, payouts_report

STUCK_AFTER = timedelta(days=7)


def queue_depths(client: redis.Redis) -> dict[str, int]:
    """Messages waiting in each Celery queue (dead_letter included), in one round trip."""
    pipe = client.pipeline()
    for name in QUEUES:
        pipe.llen(name)
    return dict(zip(QUEUES, (int(n) for n in pipe.execute()), strict=True))


def collect(now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    limiter = get_limiter()
    status: dict[str, Any] = {"at": now.isoformat()}
    try:
        client = get_redis()
        status["queues"] = queue_depths(client)
        status["netsuite"] = limiter.snapshot()
        status["credentials"] = last_result(client)
    except redis.RedisError as exc:
        status["queues"] = None
        status["netsuite"] = None
        status["credentials"] = None
        status["redis_error"] = exc.__class__.__name__
    with session_scope() as session:
        by_category = dict(
            session.execute(
                select(DeadLetter.category, func.count())
                .where(DeadLetter.status == "open")
                .group_by(DeadLetter.category)
            )
            .tuples()
            .all()
        )
        status["dlq"] = {
            "open": sum(by_category.values()),
            "by_category": by_category,
            "redis_depth": None if status["queues"] is None else status["queues"]["dead_letter"],
        }
        stuck = session.scalars(
            select(OrderState)
            .where(OrderState.state.in_([CREATED, PARTIALLY_FULFILLED]), OrderState.created_at < now - STUCK_AFTER)
            .order_by(OrderState.created_at)
            .limit(20)
        ).all()
        status["stuck_orders"] = [
            {"order_id": o.shopify_order_id, "name": o.order_name, "state": o.state, "since": o.created_at.isoformat()}
            for o in stuck
        ]
        status["governance_give_ups_24h"] = governance_give_ups(session, now)
        last = session.scalars(
            select(ReconciliationRun).where(ReconciliationRun.status == "done").order_by(ReconciliationRun.id.desc())
        ).first()
        status["last_reconciliation"] = (
            None
            if last is None
            else {
                "id": last.id,
                "finished_at": last.finished_at.isoformat() if last.finished_at else None,
                "skus_compared": last.skus_compared,
                "diffs_found": last.diffs_found,
                "corrections_applied": last.corrections_applied,
                "orders_healed": last.orders_healed,
                "alert": last.alert,
            }
        )
        status["payouts"] = payouts_report(session, now)
        status["disputes"] = disputes_report(session, now)
        status["payments"] = payments_report(session, now)
        status["open_alerts"] = [
            {"id": a.id, "kind": a.kind, "message": a.message, "at": a.created_at.isoformat()}
            for a in session.scalars(
                select(SyncAlert).where(SyncAlert.acknowledged_at.is_(None)).order_by(SyncAlert.id.desc()).limit(10)
            )
        ]
    return status
