"""Replay stored deliveries through the live path (e.g. a 7-day sample before promoting a change).

Every effect is idempotent (upserts by external id, documents applied once, stale updates skipped), so a replay
re-checks everything and re-sends nothing that already happened; events that had failed get another go.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.db.models import EventStatus, WebhookEvent
from app.db.session import session_scope
from app.publish import publish_event, queue_for_topic


@dataclass
class ReplayReport:
    since: str
    topic: str | None
    dry_run: bool
    selected: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)
    published: int = 0
    failed: int = 0
    event_ids: list[int] = field(default_factory=list)


def replay(
    since: timedelta,
    *,
    topic: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    limit: int = 100_000,
) -> ReplayReport:
    now = now or datetime.now(UTC)
    start = now - since
    report = ReplayReport(since=start.isoformat(), topic=topic, dry_run=dry_run)
    query = (
        select(WebhookEvent.id, WebhookEvent.topic)
        .where(WebhookEvent.received_at >= start, WebhookEvent.status != EventStatus.IGNORED)
        .order_by(WebhookEvent.id)
        .limit(limit)
    )
    if topic:
        query = query.where(WebhookEvent.topic == topic)
    with session_scope() as session:
        rows = [(eid, t) for eid, t in session.execute(query) if queue_for_topic(t)]
    report.selected = len(rows)
    report.by_topic = dict(Counter(t for _, t in rows))
    report.event_ids = [eid for eid, _ in rows[:50]]
    if dry_run or not rows:
        return report
    with session_scope() as session:
        # Back to `received` so the worker runs them again; dead ones keep their dead-letter history.
        session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id.in_([eid for eid, _ in rows]))
            .values(status=EventStatus.RECEIVED, published_at=now)
        )
    for eid, t in rows:
        if publish_event(eid, t):
            report.published += 1
        else:
            report.failed += 1  # left `received`: the outbox relay will publish it
    return report
