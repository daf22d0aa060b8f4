"""The daily digest (beat, once a day): yesterday's webhooks, orders, failures by category, the DLQ as it stands,
the reconciliation's result and the NetSuite budget's use at its peak, posted to Slack and written to the log.

"Yesterday" is the UTC day before the run. The DLQ figures are as of the run (what is waiting now). The peak is
computed from netsuite_call_log (every HTTP attempt with its duration): the most calls in flight at once, against
NETSUITE_CONCURRENCY. PagerDuty gets no digest: it pages, and a digest is not an incident.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from app.adapters.alert_senders import MESSAGE, Notification, Sender, SendFailed, build_senders
from app.config import Settings, get_settings
from app.db import alert_repository as repo
from app.db.session import session_scope
from app.domain.digest import Digest, digest_lines
from app.services.checks import GOVERNANCE_CODES

log = logging.getLogger(__name__)


def collect(settings: Settings, now: datetime) -> Digest:
    day = (now - timedelta(days=1)).date()
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = start + timedelta(days=1)
    with session_scope() as session:
        new, synced = repo.orders_created(session, start, end)
        dlq_open, oldest, _ = repo.dlq_summary(session)
        calls, refused, peak, peak_at = repo.netsuite_usage(session, start, end, GOVERNANCE_CODES)
        return Digest(
            day=day,
            webhooks_by_topic=repo.webhooks_by_topic(session, start, end),
            orders_new=new,
            orders_in_netsuite=synced,
            failures_by_category=repo.dead_letters_by_category(session, start, end),
            dlq_open=dlq_open,
            dlq_oldest_hours=None if oldest is None else round((now - oldest).total_seconds() / 3600, 1),
            reconciliation=repo.last_run_finished(session, start, end),
            netsuite_calls=calls,
            netsuite_governance_errors=refused,
            netsuite_peak=peak,
            netsuite_peak_at=peak_at,
            netsuite_budget=settings.netsuite_concurrency,
        )


def post_digest(
    settings: Settings | None = None, *, now: datetime | None = None, senders: Sequence[Sender] | None = None
) -> dict[str, Any]:
    settings = settings or get_settings()
    senders = build_senders(settings) if senders is None else senders
    digest = collect(settings, now or datetime.now(UTC))
    lines = digest_lines(digest)
    log.info("%s", " | ".join(lines), extra={"digest": digest.as_dict()})
    outcome: dict[str, str] = {}
    for sender in senders:
        if sender.channel != "slack":
            continue
        try:
            sender.send(Notification(key="digest", action=MESSAGE, text="\n".join(lines)))
            outcome[sender.channel] = "sent"
        except SendFailed as exc:
            outcome[sender.channel] = f"failed: {exc.reason}"
            log.error("daily digest to %s failed (%s); the log line above holds it", sender.channel, exc.reason)
    return {"day": digest.day.isoformat(), "lines": lines, "sent": outcome}
