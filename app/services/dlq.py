"""Dead letters: recorded in PostgreSQL (history, forever) and mirrored as messages on the Redis `dead_letter`
queue (what Flower and ops see). Requeue puts the original task back on its original queue."""

from __future__ import annotations

import json
import logging
import traceback as tb
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from sqlalchemy import select, update

from app.adapters.redis_client import get_redis
from app.db.models import DeadLetter, DlqAudit, EventStatus, WebhookEvent
from app.db.session import session_scope
from app.logging_setup import mask_pii
from app.publish import send, try_send
from app.routing import TASK_DEAD_LETTER

log = logging.getLogger(__name__)

DLQ_QUEUE = "dead_letter"


@dataclass(frozen=True)
class FailedTask:
    task_name: str
    task_id: str | None
    queue: str
    args: list
    kwargs: dict
    attempts: int
    first_failed_at: datetime | None = None


DLQ_TASK_PREFIX = "dlq-"


def dlq_task_id(dead_letter_id: int) -> str:
    return f"{DLQ_TASK_PREFIX}{dead_letter_id}"


def _event_id_of(task: FailedTask) -> int | None:
    if task.args and isinstance(task.args[0], int):
        return task.args[0]
    value = task.kwargs.get("event_id")
    return value if isinstance(value, int) else None


def record_dead_letter(
    task: FailedTask, exc: BaseException, *, category: str, code: str | None, message: str | None = None
) -> int:
    """Record in PostgreSQL first (the source of truth), mark the event dead, then mirror into Redis."""
    now = datetime.now(UTC)
    event_id = _event_id_of(task)
    text = mask_pii(message or str(exc) or exc.__class__.__name__)[:4000]
    trace = "".join(tb.format_exception(exc))[-4000:] if exc.__traceback__ else None
    with session_scope() as session:
        topic = None
        if event_id is not None:
            event = session.get(WebhookEvent, event_id)
            if event is not None:
                topic = event.topic
                event.status = EventStatus.DEAD
                event.last_error = f"[{category}] {text}"[:4000]
        row = DeadLetter(
            task_name=task.task_name,
            task_id=task.task_id,
            queue=task.queue,
            args=task.args,
            kwargs=task.kwargs,
            webhook_event_id=event_id,
            topic=topic,
            category=category,
            error_class=f"{exc.__class__.__module__}.{exc.__class__.__name__}",
            error_code=code,
            error_message=text,
            traceback=mask_pii(trace) if trace else None,
            attempts=task.attempts,
            first_failed_at=task.first_failed_at or now,
            last_failed_at=now,
            status="open",
        )
        session.add(row)
        session.flush()
        dead_id = row.id
    log.error(
        "dead-lettered task=%s queue=%s event=%s category=%s code=%s: %s",
        task.task_name,
        task.queue,
        event_id,
        category,
        code,
        text,
    )
    mirror_to_redis(dead_id)
    return dead_id


def _entry_facts(row: DeadLetter) -> dict[str, Any]:
    return {
        "dead_letter_id": row.id,
        "task_name": row.task_name,
        "queue": row.queue,
        "args": row.args,
        "kwargs": row.kwargs,
        "event_id": row.webhook_event_id,
        "topic": row.topic,
        "category": row.category,
        "error_class": row.error_class,
        "error_code": row.error_code,
        "error_message": row.error_message,
        "attempts": row.attempts,
        "first_failed_at": row.first_failed_at.isoformat(),
        "last_failed_at": row.last_failed_at.isoformat(),
    }


def mirror_to_redis(dead_letter_id: int) -> bool:
    """Publish the entry onto the `dead_letter` queue; nothing consumes it, so it waits there for ops."""
    with session_scope() as session:
        row = session.get(DeadLetter, dead_letter_id)
        facts = _entry_facts(row)
    return try_send(
        TASK_DEAD_LETTER,
        queue=DLQ_QUEUE,
        args=[dead_letter_id],
        kwargs={"facts": facts},
        task_id=dlq_task_id(dead_letter_id),
        what=f"dead letter {dead_letter_id} mirror",
        fallback="PostgreSQL holds the entry; shopsync dlq rebuild restores the mirror",
    )


def remove_from_redis(dead_letter_id: int, client: redis.Redis | None = None) -> int:
    """Remove the entry's message(s) from the Redis dead_letter list (kombu stores one JSON message per item)."""
    client = client or get_redis()
    return sum(client.lrem(DLQ_QUEUE, 1, raw) for raw in _mirrored_ids(client).get(dead_letter_id, []))


def _mirrored_ids(client: redis.Redis) -> dict[int, list[bytes]]:
    """The dead-letter ids whose message is on the Redis list, each with its raw message(s)."""
    found: dict[int, list[bytes]] = {}
    for raw in client.lrange(DLQ_QUEUE, 0, -1):
        try:
            task_id = (json.loads(raw).get("headers") or {}).get("id") or ""
        except ValueError:
            continue
        number = task_id.removeprefix(DLQ_TASK_PREFIX)
        if task_id.startswith(DLQ_TASK_PREFIX) and number.isdigit():
            found.setdefault(int(number), []).append(raw)
    return found


def rebuild_redis_mirror(client: redis.Redis | None = None) -> dict[str, list[int]]:
    """Make the Redis `dead_letter` list hold exactly one message per open entry in PostgreSQL.

    PostgreSQL is the record; the list is what Flower and the depth metric show. After a Redis loss (or a
    mirror that failed while Redis was down) this puts back what is missing, and it drops messages of entries
    that are no longer open or appear twice. Safe to run at any time, as often as wanted.
    """
    client = client or get_redis()
    with session_scope() as session:
        open_ids = set(session.scalars(select(DeadLetter.id).where(DeadLetter.status == "open")))
    mirrored = _mirrored_ids(client)
    added = sorted(open_ids - set(mirrored))
    for dead_letter_id in added:
        if not mirror_to_redis(dead_letter_id):
            raise redis.ConnectionError(f"could not mirror dead letter {dead_letter_id}")
    removed = []
    for dead_letter_id, raws in sorted(mirrored.items()):
        extra = raws if dead_letter_id not in open_ids else raws[1:]
        for raw in extra:
            client.lrem(DLQ_QUEUE, 1, raw)
        if extra:
            removed.append(dead_letter_id)
    if added or removed:
        log.warning("dead-letter mirror rebuilt: added %s, removed %s", added, removed)
    return {"added": added, "removed": removed}


def redis_depth(client: redis.Redis | None = None) -> int:
    return int((client or get_redis()).llen(DLQ_QUEUE))


def list_entries(*, status: str | None = "open", limit: int = 200) -> list[dict[str, Any]]:
    with session_scope() as session:
        query = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
        if status:
            query = query.where(DeadLetter.status == status)
        rows = session.scalars(query).all()
        return [{**_entry_facts(r), "status": r.status, "requeue_count": r.requeue_count} for r in rows]


def get_entry(dead_letter_id: int) -> dict[str, Any] | None:
    with session_scope() as session:
        row = session.get(DeadLetter, dead_letter_id)
        if row is None:
            return None
        return {
            **_entry_facts(row),
            "status": row.status,
            "traceback": row.traceback,
            "requeue_count": row.requeue_count,
            "requeued_at": row.requeued_at.isoformat() if row.requeued_at else None,
        }


class RequeueError(Exception):
    pass


def requeue(dead_letter_id: int) -> str:
    """Put the original task back on its original queue, with its original arguments.

    The effect is idempotent downstream (NetSuite upserts by external id), and an entry already requeued is
    not sent again: requeuing twice changes nothing.
    """
    with session_scope() as session:
        row = session.execute(
            select(DeadLetter).where(DeadLetter.id == dead_letter_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise RequeueError(f"no dead letter {dead_letter_id}")
        if row.status != "open":
            return f"dead letter {dead_letter_id} is already {row.status}; nothing sent"
        if row.webhook_event_id is not None:
            session.execute(
                update(WebhookEvent)
                .where(WebhookEvent.id == row.webhook_event_id, WebhookEvent.status == EventStatus.DEAD)
                .values(status=EventStatus.RECEIVED)
            )
        # Publish inside the transaction: if the broker refuses, the row stays open and nothing is half-done.
        send(row.task_name, args=row.args, kwargs=row.kwargs, queue=row.queue)
        row.status = "requeued"
        row.requeued_at = datetime.now(UTC)
        row.requeue_count += 1
        task_name, queue = row.task_name, row.queue
    try:
        remove_from_redis(dead_letter_id)
    except redis.RedisError as exc:
        log.warning("requeued %s but could not trim the Redis mirror: %s", dead_letter_id, exc)
    return f"requeued dead letter {dead_letter_id}: {task_name} on {queue}"


@dataclass(frozen=True)
class DlqFilter:
    """Which open dead letters an operator means. Nothing selected unless some criterion (or `everything`) is set."""

    ids: tuple[int, ...] = ()
    category: str | None = None
    error_code: str | None = None
    topic: str | None = None
    older_than: timedelta | None = None
    everything: bool = False

    def is_empty(self) -> bool:
        return not (self.ids or self.category or self.error_code or self.topic or self.older_than or self.everything)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.ids:
            out["ids"] = list(self.ids)
        for name in ("category", "error_code", "topic"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.older_than:
            out["older_than_seconds"] = int(self.older_than.total_seconds())
        if self.everything:
            out["all"] = True
        return out


def matching_ids(selection: DlqFilter) -> list[int]:
    if selection.is_empty():
        raise RequeueError("say which dead letters: an id, a filter (category, error code, topic, age) or all")
    query = select(DeadLetter.id).where(DeadLetter.status == "open").order_by(DeadLetter.id)
    if selection.ids:
        query = query.where(DeadLetter.id.in_(selection.ids))
    if selection.category:
        query = query.where(DeadLetter.category == selection.category)
    if selection.error_code:
        query = query.where(DeadLetter.error_code == selection.error_code)
    if selection.topic:
        query = query.where(DeadLetter.topic == selection.topic)
    if selection.older_than:
        query = query.where(DeadLetter.last_failed_at < datetime.now(UTC) - selection.older_than)
    with session_scope() as session:
        return list(session.scalars(query))


def record_audit(action: str, actor: str, selection: DlqFilter, ids: list[int], outcome: str) -> None:
    with session_scope() as session:
        session.add(
            DlqAudit(
                action=action,
                actor=actor[:255],
                selection=selection.describe(),
                dead_letter_ids=ids,
                outcome=outcome[:4000],
            )
        )


def requeue_one(dead_letter_id: int, actor: str) -> str:
    """Requeue one entry (idempotent: a second call sends nothing) and audit who did it, whatever the door."""
    message = requeue(dead_letter_id)
    record_audit("requeue", actor, DlqFilter(ids=(dead_letter_id,)), [dead_letter_id], message)
    return message


def requeue_matching(selection: DlqFilter, *, actor: str) -> list[str]:
    """Requeue every open dead letter the filter selects (each idempotent), and audit the whole action."""
    ids = matching_ids(selection)
    results = []
    for dead_letter_id in ids:
        try:
            results.append(requeue(dead_letter_id))
        except Exception as exc:  # noqa: BLE001 - one broken entry must not stop the others; it is reported
            results.append(f"dead letter {dead_letter_id} not requeued: {exc.__class__.__name__}: {exc}")
    record_audit("requeue", actor, selection, ids, "; ".join(results) or "nothing matched")
    return results


def purge(selection: DlqFilter, *, actor: str, confirm: bool) -> list[int]:
    """Drop the selected entries from the Redis queue and mark them purged; the PostgreSQL record stays."""
    if not confirm:
        raise RequeueError("purge needs confirmation (--yes): the entries leave the queue for good")
    ids = matching_ids(selection)
    with session_scope() as session:
        session.execute(
            update(DeadLetter).where(DeadLetter.id.in_(ids), DeadLetter.status == "open").values(status="purged")
        )
    client = get_redis()
    for dead_letter_id in ids:
        remove_from_redis(dead_letter_id, client)
    record_audit("purge", actor, selection, ids, f"purged {len(ids)} dead letter(s)")
    return ids


def audit_log(limit: int = 50) -> list[dict[str, Any]]:
    with session_scope() as session:
        rows = session.scalars(select(DlqAudit).order_by(DlqAudit.id.desc()).limit(limit)).all()
        return [
            {
                "id": r.id,
                "action": r.action,
                "actor": r.actor,
                "selection": r.selection,
                "dead_letter_ids": r.dead_letter_ids,
                "outcome": r.outcome,
                "at": r.created_at.isoformat(),
            }
            for r in rows
        ]
