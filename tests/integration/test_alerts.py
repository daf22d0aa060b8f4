"""Alerts against a local receiver: a small HTTP server started by the test that records every Slack message and
PagerDuty event it gets, and answers what the test tells it to (a 503 to make the sender retry). Real PostgreSQL
and Redis; the conditions come from real rows."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from app import create_app
from app.config import AlertSettings, get_settings
from app.db.models import (
    AlertNotification,
    DeadLetter,
    NetSuiteCallLog,
    OrderState,
    ReconciliationRun,
    SchemaDrift,
    WebhookEvent,
)
from app.db.session import session_scope
from app.services.alert_sources import SOURCES
from app.services.alerts import evaluate, send_test
from app.services.credentials import KEY as CREDENTIALS_KEY
from app.services.digest import post_digest
from tests.money_rows import payout

ROUTING_KEY = "R0UTING-KEY-abcdef0123456789"
SLACK_PATH = "/slack/services/T000/B000/XXXXSECRETXXXX"
PD_PATH = "/pagerduty/v2/enqueue"
# Personal data that sits in the rows the conditions are computed from: it must never reach a receiver.
EMAIL, NAME = "jane.doe@example.com", "Jane Doe"


class Receiver:
    """Records every POST; answers 200 (Slack) / 202 (PagerDuty) unless told to fail the next few."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict]] = []
        self.attempts: list[tuple[str, int]] = []
        self.failures: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    planned = receiver.failures.get(self.path) or []
                    status = planned.pop(0) if planned else (202 if self.path == PD_PATH else 200)
                    receiver.attempts.append((self.path, status))
                    if status < 300:
                        receiver.got.append((self.path, body))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "success"}' if status < 300 else b"{}")

            def log_message(self, *args) -> None:  # noqa: ANN002 - keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail(self, path: str, *statuses: int) -> None:
        with self.lock:
            self.failures[path] = list(statuses)

    def slack(self) -> list[str]:
        return [body["text"] for path, body in self.got if path == SLACK_PATH]

    def pagerduty(self) -> list[dict]:
        return [body for path, body in self.got if path == PD_PATH]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def configured(receiver: Receiver, *, slack: bool = True, pagerduty: bool = True, **alerts):
    return dataclasses.replace(
        get_settings(),
        alerts=AlertSettings(
            slack_webhook_url=receiver.base + SLACK_PATH if slack else None,
            pagerduty_routing_key=ROUTING_KEY if pagerduty else None,
            pagerduty_url=receiver.base + PD_PATH,
            dlq_depth=alerts.pop("dlq_depth", 1),
            send_max_tries=alerts.pop("send_max_tries", 3),
            send_max_seconds=alerts.pop("send_max_seconds", 10.0),
            send_timeout_seconds=2.0,
            **alerts,
        ),
    )


def dead_letter(queue: str = "orders", category: str = "data", failed_at: datetime | None = None, **kw) -> DeadLetter:
    at = failed_at or datetime.now(UTC)
    return DeadLetter(
        task_name="shopsync.process_event",
        queue=queue,
        args=[1],
        kwargs={},
        category=category,
        error_class="ValueError",
        error_message=f"customer {NAME} <{EMAIL}> has no NetSuite match",
        attempts=1,
        first_failed_at=at,
        last_failed_at=at,
        status="open",
        **kw,
    )


def finished_run(at: datetime, **figures) -> ReconciliationRun:
    return ReconciliationRun(
        kind="inventory", trigger="scheduled", run_date=at, status="done", finished_at=at, **figures
    )


def seed_dead_letters(count: int) -> None:
    with session_scope() as s:
        s.add_all(dead_letter() for _ in range(count))


def sends(redis_db) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in redis_db.hgetall("shopsync:metrics:alert_sends").items()}


def test_a_condition_pages_once_while_it_stays_and_resolves_once_when_it_clears(clean_db, redis_db, receiver, caplog):
    settings = configured(receiver)
    seed_dead_letters(2)
    caplog.set_level(logging.DEBUG, logger="urllib3")  # urllib3 logs every request's path at DEBUG
    first = evaluate(settings)
    assert first.opened == ["dlq:depth"] and first.firing == ["dlq:depth"]
    assert receiver.slack() == ["[shopsync] FIRING dlq:depth: 2 open dead letter(s), above 1 (orders 2)"]
    [trigger] = receiver.pagerduty()
    assert trigger["event_action"] == "trigger" and trigger["dedup_key"] == "shopsync:dlq:depth"
    assert trigger["routing_key"] == ROUTING_KEY and trigger["payload"]["severity"] == "error"
    assert trigger["payload"]["custom_details"]["open"] == 2

    # The condition stays (and grows): nothing more is sent, however often it is evaluated.
    seed_dead_letters(1)
    for _ in range(2):
        assert evaluate(settings).sent == []
    assert len(receiver.got) == 2

    with session_scope() as s:
        for row in s.scalars(select(DeadLetter)):
            row.status = "requeued"
    cleared = evaluate(settings)
    assert cleared.cleared == ["dlq:depth"]
    assert receiver.slack()[1] == "[shopsync] RESOLVED dlq:depth (last seen: 3 open dead letter(s), above 1 (orders 3))"
    resolve = receiver.pagerduty()[1]
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "shopsync:dlq:depth"}
    assert evaluate(settings).sent == [] and len(receiver.got) == 4
    with session_scope() as s:
        [episode] = s.scalars(select(AlertNotification)).all()
        assert episode.status == "closed" and episode.sent == {
            "pagerduty": ["resolve", "trigger"],
            "slack": ["resolve", "trigger"],
        }
    assert "POST /<redacted> HTTP/1.1" in caplog.text and "XXXXSECRETXXXX" not in caplog.text
    assert sends(redis_db) == {
        "slack|trigger|sent": 1,
        "slack|resolve|sent": 1,
        "pagerduty|trigger|sent": 1,
        "pagerduty|resolve|sent": 1,
    }


def test_nothing_is_sent_when_no_receiver_is_configured_and_a_receiver_added_later_gets_the_open_alerts(
    clean_db, redis_db, receiver
):
    seed_dead_letters(11)  # above the default ALERT_DLQ_DEPTH (10) too, for the task run with the default settings
    quiet = evaluate(configured(receiver, slack=False, pagerduty=False))
    assert quiet.opened == ["dlq:depth"] and quiet.sent == [] and receiver.attempts == []
    assert send_test(configured(receiver, slack=False, pagerduty=False)) == {} and receiver.attempts == []
    # The beat task itself, with the test environment's settings (no ALERT_* set): it evaluates, sends nothing.
    from tasks.alerts import evaluate_alerts

    through_task = evaluate_alerts.apply().get()
    assert through_task["firing"] == ["dlq:depth"] and through_task["sent"] == [] and receiver.attempts == []
    later = evaluate(configured(receiver, pagerduty=False))
    assert later.sent == ["slack trigger dlq:depth"] and receiver.pagerduty() == []


def test_a_receiver_answering_5xx_is_retried_with_backoff_until_it_recovers(clean_db, redis_db, receiver):
    receiver.fail(SLACK_PATH, 503, 502)
    receiver.fail(PD_PATH, 429)
    seed_dead_letters(2)
    result = evaluate(configured(receiver))
    assert result.failed == [] and sorted(result.sent) == ["pagerduty trigger dlq:depth", "slack trigger dlq:depth"]
    assert [s for p, s in receiver.attempts if p == SLACK_PATH] == [503, 502, 200]
    assert [s for p, s in receiver.attempts if p == PD_PATH] == [429, 202]
    assert len(receiver.slack()) == 1 and len(receiver.pagerduty()) == 1  # delivered once, not once per attempt
    assert sends(redis_db) == {
        "slack|trigger|retry": 2,
        "slack|trigger|sent": 1,
        "pagerduty|trigger|retry": 1,
        "pagerduty|trigger|sent": 1,
    }


def test_a_receiver_down_past_its_retries_is_visible_and_tried_again_at_the_next_evaluation(
    clean_db, redis_db, receiver, caplog
):
    settings = configured(receiver, send_max_tries=2)
    receiver.fail(SLACK_PATH, 503, 503)
    seed_dead_letters(2)
    down = evaluate(settings)
    assert down.failed == ["slack trigger dlq:depth"] and down.sent == ["pagerduty trigger dlq:depth"]
    assert "alert trigger of dlq:depth to slack failed (HTTP 503)" in caplog.text
    assert sends(redis_db)["slack|trigger|failed"] == 1
    with session_scope() as s:
        [episode] = s.scalars(select(AlertNotification)).all()
        assert (
            episode.failures == 1
            and episode.last_error == "slack: HTTP 503"
            and episode.sent == {"pagerduty": ["trigger"]}
        )
    # Back up: the owed trigger goes at the next evaluation, PagerDuty (already paged) gets nothing again.
    again = evaluate(settings)
    assert again.sent == ["slack trigger dlq:depth"] and len(receiver.slack()) == 1 and len(receiver.pagerduty()) == 1
    # Nothing listening at all (connection refused): the same, and the URL (the webhook's secret) never logged.
    dead = configured(receiver, send_max_tries=2)
    dead = dataclasses.replace(
        dead, alerts=dataclasses.replace(dead.alerts, slack_webhook_url="http://127.0.0.1:9" + SLACK_PATH)
    )
    with session_scope() as s:
        s.add(dead_letter(failed_at=datetime.now(UTC) - timedelta(days=3)))
    assert evaluate(dead).failed == ["slack trigger dlq:age"]
    assert "ConnectionError" in caplog.text
    assert "XXXXSECRETXXXX" not in caplog.text and ROUTING_KEY not in caplog.text


def test_every_condition_source_fires_without_personal_data_or_secrets_in_the_text(clean_db, redis_db, receiver):
    now = datetime.now(UTC)
    with session_scope() as s:
        s.add(dead_letter(failed_at=now - timedelta(hours=30)))
        s.add(
            OrderState(
                shopify_order_id=1, order_name="#1001", state="created", version=1, created_at=now - timedelta(days=8)
            )
        )
        s.add(
            NetSuiteCallLog(
                operation="upsert",
                method="PUT",
                record_type="salesOrder",
                external_id="shopify-order-7",
                attempt=3,
                duration_ms=5,
                final_status="failed",
                error_code="CONCURRENCY_LIMIT_EXCEEDED",
                created_at=now - timedelta(hours=1),
            )
        )
        s.add(SchemaDrift(topic="orders/create", api_version="2026-04", field_path="customer.loyalty_tier", seen=3))
        s.add(
            SchemaDrift(
                topic="refunds/create",
                api_version="2026-01",
                field_path="old_field",
                seen=1,
                last_seen_at=now - timedelta(days=3),
            )
        )
        s.add(finished_run(now, diffs_found=1500, alert="1500 diffs is above the absolute threshold 1000"))
        s.add(
            WebhookEvent(
                webhook_id="w-1",
                topic="orders/create",
                shop="test-store.myshopify.com",
                api_version="2026-04",
                raw_body=json.dumps({"email": EMAIL, "customer": {"first_name": "Jane", "last_name": "Doe"}}).encode(),
            )
        )
    redis_db.set(
        CREDENTIALS_KEY,
        json.dumps(
            {
                "checked_at": now.timestamp(),
                "netsuite": "red: missing permission(s): Customers (Lists)",
                "shopify": "unknown: 503",
                "missing": {"netsuite": ["Customers (Lists)"], "shopify": []},
            }
        ),
    )

    with session_scope() as session:  # the payout flow's variance, read from the payouts table by its source
        session.add(payout("9001", variance="-0.42"))

    result = evaluate(configured(receiver, dlq_depth=10), sources=SOURCES)
    expected = [
        "credentials:netsuite",
        "dlq:age",
        "governance_give_ups",
        "payout_variance:9001",
        "reconciliation:spike",
        "schema_drift:orders/create",
        "stuck_orders",
    ]
    assert result.firing == expected and result.unobserved == []
    assert sorted(e["dedup_key"] for e in receiver.pagerduty()) == [f"shopsync:{k}" for k in expected]
    texts = receiver.slack()
    assert any("netsuite credentials check is red (missing: Customers (Lists))" in t for t in texts)
    assert any(
        "1 record(s) gave up on NetSuite governance in 24 h and never succeeded: shopify-order-7" in t for t in texts
    )
    assert any("1 unknown payload field(s) on orders/create" in t and "customer.loyalty_tier" in t for t in texts)
    assert any("oldest open dead letter waited 30.0 h" in t for t in texts)
    everything = json.dumps([body for _, body in receiver.got])
    for private in (EMAIL, "Jane", "Doe", "XXXXSECRETXXXX"):
        assert private not in everything
    assert ROUTING_KEY not in json.dumps([body for path, body in receiver.got if path == SLACK_PATH])
    assert ROUTING_KEY not in json.dumps(
        [{k: v for k, v in e.items() if k != "routing_key"} for e in receiver.pagerduty()]
    )

    # Redis lost the credentials result: "could not look" keeps the credentials alert open (no resolve).
    redis_db.delete(CREDENTIALS_KEY)
    assert "credentials:netsuite" not in evaluate(configured(receiver, dlq_depth=10), sources=SOURCES).cleared


def test_the_daily_digest_reports_yesterday_from_the_rows(clean_db, redis_db, receiver, caplog):
    now = datetime(2026, 12, 3, 7, 5, tzinfo=UTC)
    yesterday = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    with session_scope() as s:
        for n, topic in enumerate(["orders/create"] * 3 + ["refunds/create"]):
            s.add(
                WebhookEvent(
                    webhook_id=f"w-{n}",
                    topic=topic,
                    shop="test-store.myshopify.com",
                    api_version="2026-04",
                    raw_body=json.dumps({"email": EMAIL}).encode(),
                    received_at=yesterday,
                )
            )
        s.add(
            WebhookEvent(
                webhook_id="w-today",
                topic="orders/create",
                shop="x",
                api_version="2026-04",
                raw_body=b"{}",
                received_at=now,
            )
        )
        s.add(
            OrderState(shopify_order_id=1, state="created", version=1, netsuite_internal_id="501", created_at=yesterday)
        )
        s.add(OrderState(shopify_order_id=2, state="created", version=1, created_at=yesterday))
        s.add(dead_letter(category="data", created_at=yesterday))
        s.add(dead_letter(category="auth", created_at=yesterday))
        s.add(dead_letter(category="auth", created_at=yesterday, failed_at=now - timedelta(hours=30)))
        s.add(finished_run(yesterday, diffs_found=4, corrections_applied=3, mismatches=1, orders_healed=1))
        # Three calls of 1 s ending 10:00:01, 10:00:01.5 and 10:00:02: the first two overlap (the third starts as
        # the first ends), so the peak is 2, from 10:00:00.5. One of them was refused on governance.
        for end, code in ((1.0, None), (1.5, "CONCURRENCY_LIMIT_EXCEEDED"), (2.0, None)):
            s.add(
                NetSuiteCallLog(
                    operation="upsert",
                    method="PUT",
                    attempt=1,
                    duration_ms=1000,
                    final_status="ok",
                    error_code=code,
                    created_at=yesterday + timedelta(seconds=end),
                )
            )
    caplog.set_level(logging.INFO, logger="app.services.digest")
    digest = post_digest(configured(receiver, dlq_depth=10), now=now)
    budget = get_settings().netsuite_concurrency
    [text] = receiver.slack()
    assert receiver.pagerduty() == []  # a digest is not an incident
    assert text == "\n".join(digest["lines"]) and digest["sent"] == {"slack": "sent"}
    for line in (
        "shopsync daily digest for 2026-12-02 (UTC)",
        "Webhooks: 4 stored (orders/create 3, refunds/create 1)",
        "Orders: 2 new, 1 of them in NetSuite",
        "Failures (dead-lettered): 3 (auth 2, data 1)",
        "DLQ: 3 open, oldest 30.0 h",
        f"Reconciliation: run #{1} (inventory) 4 diffs, 3 corrected, 1 order mismatches, 1 healed; no alert",
        f"NetSuite: 3 calls, 1 governance refusals, peak 2 concurrent ({200 / budget:.0f}% of the budget {budget})"
        " at 10:00 UTC",
    ):
        assert line in text.splitlines()
    assert "Webhooks: 4 stored" in caplog.text and EMAIL not in text


def test_the_cli_sends_a_test_notification_and_metrics_show_alerts(clean_db, redis_db, receiver, monkeypatch):
    from app import cli

    monkeypatch.setattr(cli, "_settings", lambda: configured(receiver))
    result = CliRunner().invoke(cli.main, ["alerts", "test"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["slack: sent", "pagerduty: sent"]
    assert [e["event_action"] for e in receiver.pagerduty()] == ["trigger", "resolve"]
    assert receiver.pagerduty()[0]["payload"]["severity"] == "info" and "TEST" in receiver.slack()[0]

    receiver.fail(SLACK_PATH, 404)  # a wrong webhook URL: not retried, reported
    failed = CliRunner().invoke(cli.main, ["alerts", "test"])
    assert failed.exit_code == 1 and "slack: failed: HTTP 404" in failed.output

    seed_dead_letters(2)
    evaluate(configured(receiver))
    text = create_app().test_client().get("/metrics").get_data(as_text=True)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }
    assert samples[("shopsync_alerts_open", (("kind", "dlq"),))] == 1
    assert (
        samples[("shopsync_alert_sends_total", (("action", "trigger"), ("channel", "slack"), ("outcome", "sent")))] == 1
    )
    assert (
        samples[("shopsync_alert_sends_total", (("action", "message"), ("channel", "slack"), ("outcome", "failed")))]
        == 1
    )
    sent_messages = ("shopsync_alert_sends_total", (("action", "message"), ("channel", "slack"), ("outcome", "sent")))
    assert samples[sent_messages] == 1  # the first test message; the second one failed
    assert samples[("shopsync_alerts_last_evaluation_timestamp", ())] > 0


def test_one_evaluation_at_a_time(clean_db, redis_db, receiver):
    from app.db import locks
    from app.db.session import get_engine

    seed_dead_letters(2)
    with get_engine().connect() as conn, locks.held_on_connection(conn, locks.ALERT_EVALUATION) as taken:
        assert taken
        busy = evaluate(configured(receiver))
    assert busy.skipped == "another alert evaluation is running" and receiver.attempts == []
    assert evaluate(configured(receiver)).opened == ["dlq:depth"]
    with get_engine().connect() as conn, locks.held_on_connection(conn, locks.ALERT_EVALUATION) as free:
        assert free  # the evaluation released its lock
