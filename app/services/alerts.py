"""Alerts that reach a person: evaluate every condition source, move the notification episodes, and send what each
receiver is owed (one trigger per episode, one resolve when it clears). Run by beat on the `alerts` queue, which
only worker_bulk consumes: the order workers never wait on Slack or PagerDuty.

One evaluation at a time (an advisory lock): two evaluations at once could both send an episode's trigger. The
episodes' moves are committed before anything is sent, and each delivery is recorded as soon as it succeeded, so
a crash between sends re-sends at most the one in flight. A send that failed after its retries is logged and
counted (`shopsync_alert_sends_total{outcome="failed"}`), stays owed, and is tried again at the next evaluation;
after a receiver failed once, its remaining sends wait for the next evaluation too (a receiver that is down costs
one bounded retry loop per evaluation, not one per alert).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy.exc import SQLAlchemyError

from app.adapters import counters
from app.adapters.alert_senders import MESSAGE, Notification, Sender, SendFailed, build_senders
from app.config import Settings, get_settings
from app.db import alert_repository as repo
from app.db import locks
from app.db.models import AlertNotification
from app.db.session import get_engine, session_scope
from app.domain.alerts import RESOLVE, TRIGGER, Observation, changes, due, finished, headline
from app.services.alert_sources import SOURCES, Source, SourceContext

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    skipped: str | None = None
    firing: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # "channel action key"
    failed: list[str] = field(default_factory=list)
    unobserved: list[str] = field(default_factory=list)  # sources that could not look this time

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
    senders: Sequence[Sender] | None = None,
    sources: Sequence[Source] = SOURCES,
) -> Evaluation:
    settings = settings or get_settings()
    senders = build_senders(settings) if senders is None else senders
    with get_engine().connect() as conn, locks.held_on_connection(conn, locks.ALERT_EVALUATION) as taken:
        if not taken:
            return Evaluation(skipped="another alert evaluation is running")
        result = _evaluate_locked(settings, now or datetime.now(UTC), senders, sources)
    counters.alerts_evaluated()
    return result


def _evaluate_locked(
    settings: Settings, now: datetime, senders: Sequence[Sender], sources: Sequence[Source]
) -> Evaluation:
    result = Evaluation()
    with session_scope() as session:
        observations = _observe(SourceContext(session, settings, now), sources, result)
        moved = changes((repo.episode_of(row) for row in repo.live_episodes(session)), observations)
        repo.apply_changes(session, moved, now)
    result.firing = sorted(c.key for o in observations for c in o.firing)
    result.opened = [c.key for c in moved.opened]
    result.cleared = list(moved.cleared)
    if moved.opened or moved.cleared:
        log.warning("alerts: opened %s, cleared %s", result.opened or "none", result.cleared or "none")
    _deliver(senders, now, result)
    return result


def _observe(ctx: SourceContext, sources: Iterable[Source], result: Evaluation) -> list[Observation]:
    observations: list[Observation] = []
    for source in sources:
        try:
            with ctx.session.begin_nested():  # a source's failed query must not abort the others'
                observations += list(source(ctx))
        except (SQLAlchemyError, redis.RedisError) as exc:
            # "Could not look" is never "cleared": this source's open alerts stay as they are.
            result.unobserved.append(source.__name__)
            log.warning("alerts: source %s could not look (%s)", source.__name__, exc.__class__.__name__)
    return observations


def _deliver(senders: Sequence[Sender], now: datetime, result: Evaluation) -> None:
    channels = [s.channel for s in senders]
    by_channel = {s.channel: s for s in senders}
    down: set[str] = set()
    with session_scope() as session:
        rows = [(row.id, repo.episode_of(row), _notification_parts(row)) for row in repo.live_episodes(session)]
    for episode_id, episode, parts in rows:
        for channel, action in due(episode, channels):
            if channel in down:
                continue
            notification = Notification(text=headline(action, episode.key, parts["summary"]), action=action, **parts)
            try:
                by_channel[channel].send(notification)
            except SendFailed as exc:
                down.add(channel)
                result.failed.append(f"{channel} {action} {episode.key}")
                log.error(
                    "alert %s of %s to %s failed (%s); it is tried again at the next evaluation",
                    action,
                    episode.key,
                    channel,
                    exc.reason,
                )
                with session_scope() as session:
                    repo.record_failure(session, episode_id, str(exc))
                continue
            result.sent.append(f"{channel} {action} {episode.key}")
            with session_scope() as session:
                repo.record_delivery(session, episode_id, channel, action)
    with session_scope() as session:
        for row in repo.live_episodes(session):
            if finished(repo.episode_of(row), channels):
                repo.close_episode(session, row.id, now)


def _notification_parts(row: AlertNotification) -> dict[str, Any]:
    return {"key": row.key, "severity": row.severity, "summary": row.summary, "details": dict(row.details or {})}


def send_test(settings: Settings | None = None, senders: Sequence[Sender] | None = None) -> dict[str, str]:
    """`shopsync alerts test`: one test notification to each configured receiver (PagerDuty: a trigger at once
    resolved). Channel -> "sent" or the reason it failed; empty when none is configured."""
    settings = settings or get_settings()
    senders = build_senders(settings) if senders is None else senders
    summary = "test notification from shopsync alerts test: this receiver is configured"
    outcome: dict[str, str] = {}
    for sender in senders:
        actions = (TRIGGER, RESOLVE) if sender.channel == "pagerduty" else (MESSAGE,)
        try:
            for action in actions:
                text = f"[shopsync] TEST ({action}): {summary}"
                sender.send(Notification(key="test", action=action, text=text, summary=summary))
            outcome[sender.channel] = "sent"
        except SendFailed as exc:
            outcome[sender.channel] = f"failed: {exc.reason}"
    return outcome
