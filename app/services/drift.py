"""Count payload fields no schema knows, per topic and API version (one statement per event)."""

from __future__ import annotations

import logging

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.models import SchemaDrift, WebhookEvent
from app.services.payloads import payload_of
from schemas.drift import unknown_fields

log = logging.getLogger(__name__)


def record_drift(session: Session, event: WebhookEvent) -> list[str]:
    try:
        payload = payload_of(event)
    except ValueError:
        return []
    if not isinstance(payload, dict):
        return []
    paths = unknown_fields(event.topic, payload)
    if not paths:
        return []
    stmt = insert(SchemaDrift).values(
        [{"topic": event.topic, "api_version": event.api_version, "field_path": p, "seen": 1} for p in paths]
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["topic", "api_version", "field_path"],
            set_={"seen": SchemaDrift.seen + 1, "last_seen_at": func.now()},
        )
    )
    log.info("schema drift on %s %s: %s", event.topic, event.api_version, ", ".join(paths[:10]))
    return paths
