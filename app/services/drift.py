"""Count payload fields no schema knows, per topic and API version (one statement per event).

The count is written on its own autocommitted statement, not in the event's processing transaction: a new field
shows up in every event of its topic at once, and a row lock held until the processing commits (after its
NetSuite calls) would make every worker wait for the one before it.
"""

from __future__ import annotations

import logging

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert

from app.config import get_settings
from app.db.models import SchemaDrift, WebhookEvent
from app.db.session import intake_engine_for
from app.services.payloads import payload_of
from schemas.drift import unknown_fields

log = logging.getLogger(__name__)


def record_drift(event: WebhookEvent) -> list[str]:
    try:
        payload = payload_of(event)
    except ValueError:
        return []
    if not isinstance(payload, dict):
        return []
    paths = unknown_fields(event.topic, payload)  # sorted: every writer locks the rows in one order
    if not paths:
        return []
    stmt = insert(SchemaDrift).values(
        [{"topic": event.topic, "api_version": event.api_version, "field_path": p, "seen": 1} for p in paths]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["topic", "api_version", "field_path"],
        set_={"seen": SchemaDrift.seen + 1, "last_seen_at": func.now()},
    )
    with intake_engine_for(get_settings().sqlalchemy_url).connect() as conn:
        conn.execute(stmt)
    log.info("schema drift on %s %s: %s", event.topic, event.api_version, ", ".join(paths[:10]))
    return paths
