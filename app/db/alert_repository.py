"""The SQL of alerts: the notification episodes (load, move, record what was delivered) and the figures the alert
sources and the daily digest read. The order use cases' SQL is in app/db/repositories.py; these speak in the
values of app/domain/alerts.py and app/domain/digest.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from app.db.models import (
    AlertNotification,
    DeadLetter,
    NetSuiteCallLog,
    OrderState,
    ReconciliationRun,
    SchemaDrift,
    WebhookEvent,
)
from app.domain.alerts import CLEARING, CLOSED, OPEN, Changes, Condition, Episode
from app.domain.digest import LastRun

# ---- episodes ------------------------------------------------------------------------------------------------


def live_episodes(session: Session) -> list[AlertNotification]:
    """Every episode not closed (open or clearing), oldest first."""
    return list(
        session.scalars(
            select(AlertNotification).where(AlertNotification.status != CLOSED).order_by(AlertNotification.id)
        )
    )


def episode_of(row: AlertNotification) -> Episode:
    return Episode(
        key=row.key, status=row.status, sent={ch: frozenset(actions) for ch, actions in (row.sent or {}).items()}
    )


def _figures(row: AlertNotification, condition: Condition) -> None:
    row.severity, row.summary, row.details = condition.severity, condition.summary, dict(condition.details)


def apply_changes(session: Session, moved: Changes, now: datetime) -> None:
    """Write one evaluation's changes to the live episodes."""
    live = {row.key: row for row in live_episodes(session)}
    for condition in moved.opened:
        row = AlertNotification(key=condition.key, status=OPEN, sent={}, failures=0, opened_at=now)
        _figures(row, condition)
        session.add(row)
    for condition in moved.reopened + moved.refreshed:
        row = live[condition.key]
        row.status, row.cleared_at = OPEN, None
        _figures(row, condition)
    for key in moved.cleared:
        live[key].status, live[key].cleared_at = CLEARING, now
    session.flush()


def record_delivery(session: Session, episode_id: int, channel: str, action: str) -> None:
    row = session.get(AlertNotification, episode_id)
    sent = {ch: list(actions) for ch, actions in (row.sent or {}).items()}
    sent[channel] = sorted({*sent.get(channel, []), action})
    row.sent = sent  # a new dict: JSONB columns are not change-tracked in place


def record_failure(session: Session, episode_id: int, error: str) -> None:
    session.execute(
        update(AlertNotification)
        .where(AlertNotification.id == episode_id)
        .values(failures=AlertNotification.failures + 1, last_error=error[:500])
    )


def close_episode(session: Session, episode_id: int, now: datetime) -> None:
    session.execute(
        update(AlertNotification).where(AlertNotification.id == episode_id).values(status=CLOSED, closed_at=now)
    )


def open_counts(session: Session) -> dict[str, int]:
    """Open episodes by kind (the part of the key before ':'), for /metrics."""
    kind = func.split_part(AlertNotification.key, ":", 1)
    rows = session.execute(select(kind, func.count()).where(AlertNotification.status == OPEN).group_by(kind)).tuples()
    return dict(rows.all())


# ---- what the sources read -----------------------------------------------------------------------------------


def dlq_summary(session: Session) -> tuple[int, datetime | None, dict[str, int]]:
    """Open dead letters: how many, the oldest one's first failure, and how many per queue."""
    rows = session.execute(
        select(DeadLetter.queue, func.count(), func.min(DeadLetter.first_failed_at))
        .where(DeadLetter.status == "open")
        .group_by(DeadLetter.queue)
    ).all()
    oldest = min((r[2] for r in rows), default=None)
    return sum(r[1] for r in rows), oldest, {r[0]: r[1] for r in rows}


def _last_run(session: Session, *where) -> ReconciliationRun | None:  # noqa: ANN002 - SQL criteria
    return session.scalars(
        select(ReconciliationRun)
        .where(ReconciliationRun.status == "done", ReconciliationRun.dry_run.is_(False), *where)
        .order_by(ReconciliationRun.id.desc())
        .limit(1)
    ).first()


def last_inventory_run(session: Session) -> ReconciliationRun | None:
    """The last finished (not dry) run that compared inventory: the one whose diff spike is alerted."""
    return _last_run(session, ReconciliationRun.kind.in_(("inventory", "full")))


def drift_since(session: Session, since: datetime) -> dict[str, list[str]]:
    """Unknown payload fields seen since `since`, by topic (every API version), field paths sorted."""
    rows = session.execute(
        select(SchemaDrift.topic, SchemaDrift.field_path)
        .where(SchemaDrift.last_seen_at >= since)
        .distinct()
        .order_by(SchemaDrift.topic, SchemaDrift.field_path)
    ).all()
    found: dict[str, list[str]] = {}
    for topic, path in rows:
        found.setdefault(topic, []).append(path)
    return found


# ---- what the digest reads (one UTC day: start <= t < end) ---------------------------------------------------


def webhooks_by_topic(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    rows = session.execute(
        select(WebhookEvent.topic, func.count())
        .where(WebhookEvent.received_at >= start, WebhookEvent.received_at < end)
        .group_by(WebhookEvent.topic)
    ).tuples()
    return dict(rows.all())


def orders_created(session: Session, start: datetime, end: datetime) -> tuple[int, int]:
    """Orders first seen in the window, and how many of them have a NetSuite sales order."""
    new, synced = session.execute(
        select(func.count(), func.count(OrderState.netsuite_internal_id)).where(
            OrderState.created_at >= start, OrderState.created_at < end
        )
    ).one()
    return int(new), int(synced)


def dead_letters_by_category(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    rows = session.execute(
        select(DeadLetter.category, func.count())
        .where(DeadLetter.created_at >= start, DeadLetter.created_at < end)
        .group_by(DeadLetter.category)
    ).tuples()
    return dict(rows.all())


def last_run_finished(session: Session, start: datetime, end: datetime) -> LastRun | None:
    run = _last_run(session, ReconciliationRun.finished_at >= start, ReconciliationRun.finished_at < end)
    if run is None:
        return None
    return LastRun(
        id=run.id,
        kind=run.kind,
        finished_at=run.finished_at,
        diffs_found=run.diffs_found,
        corrections_applied=run.corrections_applied,
        mismatches=run.mismatches,
        orders_healed=run.orders_healed,
        alert=run.alert,
    )


# Every call log row is one HTTP attempt, written when it ended (created_at) with its duration: it held a slot of
# the budget over [created_at - duration, created_at]. The peak is the highest running count of those intervals
# (an end sorts before a start at the same instant: a slot handed over is not two at once).
_PEAK = text(
    """
    WITH edges AS (
        SELECT created_at - make_interval(secs => duration_ms / 1000.0) AS at, 1 AS delta
        FROM netsuite_call_log WHERE created_at >= :start AND created_at < :end
        UNION ALL
        SELECT created_at, -1 FROM netsuite_call_log WHERE created_at >= :start AND created_at < :end
    ), running AS (
        SELECT at, sum(delta) OVER (ORDER BY at, delta) AS held FROM edges
    )
    SELECT held, at FROM running ORDER BY held DESC, at LIMIT 1
    """
)


def netsuite_usage(
    session: Session, start: datetime, end: datetime, governance_codes: Sequence[str]
) -> tuple[int, int, int, datetime | None]:
    """(HTTP attempts, governance refusals, peak concurrent calls, when the peak began) from netsuite_call_log."""
    calls, refused = session.execute(
        select(func.count(), func.count().filter(NetSuiteCallLog.error_code.in_(list(governance_codes)))).where(
            NetSuiteCallLog.created_at >= start, NetSuiteCallLog.created_at < end
        )
    ).one()
    peak = session.execute(_PEAK, {"start": start, "end": end}).first()
    return int(calls), int(refused), int(peak[0]) if peak else 0, peak[1] if peak else None
