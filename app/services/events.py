"""process_event: load the stored delivery, run its topic's use case, record the outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.adapters.netsuite import get_netsuite
from app.adapters.shopify import fetch_order, fetch_order_transactions
from app.config import Settings, get_settings
from app.db import repositories
from app.db.models import EventStatus, WebhookEvent
from app.db.session import session_scope
from app.domain.errors import PermanentError, RetryLater
from app.logging_setup import correlation_id
from app.routing import TOPICS
from app.services.disputes import handle_dispute
from app.services.drift import record_drift
from app.services.order_lifecycle import handle_fulfillment, handle_order, handle_order_edit, handle_refund
from app.services.payments import handle_payment

log = logging.getLogger(__name__)


def _order(session: Session, event: WebhookEvent, settings: Settings) -> str:
    outcome = handle_order(session, event, get_netsuite(), settings)
    return f"{outcome.action} order {outcome.order_id}"


def _order_edit(session: Session, event: WebhookEvent, settings: Settings) -> str:
    return handle_order_edit(session, event, get_netsuite(), settings, fetch_order)


def _fulfillment(session: Session, event: WebhookEvent, settings: Settings) -> str:
    return handle_fulfillment(session, event, get_netsuite(), settings, fetch_order)


def _refund(session: Session, event: WebhookEvent, settings: Settings) -> str:
    return handle_refund(session, event, get_netsuite(), settings, fetch_order)


def _payment(session: Session, event: WebhookEvent, settings: Settings) -> str:
    return handle_payment(session, event, get_netsuite(), settings, fetch_order, fetch_order_transactions)


def _record(session: Session, event: WebhookEvent, settings: Settings) -> str:
    return f"recorded {event.topic}"


# The use cases app.routing.TOPICS names.
HANDLERS: dict[str, Callable[[Session, WebhookEvent, Settings], str]] = {
    "order": _order,
    "order_edit": _order_edit,
    "fulfillment": _fulfillment,
    "refund": _refund,
    "payment": _payment,
    "record": _record,
    "dispute": handle_dispute,
}


class EventNotFound(PermanentError):
    code = "EVENT_NOT_FOUND"
    category = "bug"


def process_event(event_id: int) -> str:
    # The delivery's id is the correlation while this event is processed, and only then, whoever calls this.
    token = correlation_id.set(correlation_id.get())
    try:
        return _process_event(event_id)
    finally:
        correlation_id.reset(token)


def _process_event(event_id: int) -> str:
    settings = get_settings()
    with session_scope() as session:
        event = repositories.lock_event(session, event_id)
        if event is None:
            exists = session.get(WebhookEvent, event_id) is not None
            if exists:
                # Locked by another worker (a duplicate message) or by the relay about to commit: come back
                # later; by then it is either done (and this copy is a no-op) or free to run.
                raise RetryLater(f"webhook event {event_id} is locked by another transaction")
            raise EventNotFound(f"webhook event {event_id} does not exist")
        if event.status in (EventStatus.DONE, EventStatus.IGNORED, EventStatus.DEAD):
            return f"already {event.status}"
        # The webhook id follows the event into every log line and NetSuite call of this processing.
        correlation_id.set(event.webhook_id[:64])

        record_drift(event)
        topic = TOPICS.get(event.topic)
        if topic is None:
            raise PermanentError(f"no handler for topic {event.topic}", code="UNHANDLED_TOPIC", category="bug")
        result = HANDLERS[topic.handler](session, event, settings)

        # Status and attempt written once, with the outcome: the row is locked for this whole transaction, so a
        # "processing" status set first was never visible to anyone and cost an UPDATE per event.
        repositories.finish_event(session, event.id, datetime.now(UTC))
    log.info("event %s %s", event_id, result)
    return result


def note_failure(event_id: int, message: str) -> None:
    """Record the latest error on a retrying event, outside the (rolled back) processing transaction."""
    with session_scope() as session:
        event = session.get(WebhookEvent, event_id)
        if event is not None and event.status not in (EventStatus.DONE, EventStatus.DEAD):
            event.status = EventStatus.RECEIVED
            event.attempts += 1
            event.last_error = message[:4000]
