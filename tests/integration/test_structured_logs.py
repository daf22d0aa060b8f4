"""One delivery followed by its webhook id: the NetSuite call log and JSON log lines carry it; PII stays masked."""

from __future__ import annotations

import io
import json
import logging

from sqlalchemy import select

from app.db.models import NetSuiteCallLog
from app.db.session import session_scope
from app.logging_setup import CorrelationFilter, PiiMaskingFilter, correlated, formatter
from tasks.events import process_event
from tests.conftest import fixture_bytes
from tests.integration.test_services import store_event


def test_the_webhook_id_follows_the_event_into_every_netsuite_call(sim, redis_db):
    event_id = store_event(fixture_bytes("orders_create.json"), webhook_id="wh-follow-me")
    process_event.apply(args=[event_id], task_id="follow")
    with session_scope() as s:
        ids = set(s.scalars(select(NetSuiteCallLog.correlation_id)))
    assert ids == {"wh-follow-me"}


def test_json_lines_carry_the_correlation_id_and_mask_personal_data():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    handler.addFilter(CorrelationFilter())
    handler.addFilter(PiiMaskingFilter())
    logger = logging.getLogger("test.structured")
    logger.addHandler(handler)
    try:
        with correlated("wh-123"):
            logger.warning("customer %s called from %s", "bob.norman@hostmail.com", "555-625-1199")
        logger.warning("no delivery here")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["correlation_id"] == "wh-123" and first["level"] == "WARNING" and first["logger"] == "test.structured"
    assert "bob.norman" not in first["message"] and "625-1199" not in first["message"]
    assert second["correlation_id"] == "-"
