"""Disputes recorded: disputes/create|update deliveries through the intake and process_event against real
PostgreSQL, applied whatever order they are processed in (an older word never replaces a newer one), and
`shopsync disputes sync|list` reading the Shopify simulator over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from app import create_app
from app.cli import main
from app.db.models import Dispute, WebhookEvent
from app.db.session import session_scope
from app.domain.disputes import DisputeState
from app.services import events
from app.services.disputes import record
from simulators.shopify import order_factory as of
from simulators.shopify.access import DEFAULT_ACCESS_SCOPES
from tests.helpers import shopify_headers

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "2026-04" / "disputes"
DISPUTE_ID = 598735659
T1 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def payload(topic: str, **changes: Any) -> bytes:
    body = json.loads((EXAMPLES / f"{topic.split('/')[1]}.json").read_text())["response"]
    return json.dumps({**body, **changes}).encode()


@pytest.fixture
def deliver(clean_db, redis_db):
    """Post a signed delivery to the intake; the stored event's id."""
    client = create_app().test_client()

    def post(topic: str, body: bytes, triggered_at: str, webhook_id: str) -> int:
        headers = shopify_headers(body, topic=topic, webhook_id=webhook_id, **{"X-Shopify-Triggered-At": triggered_at})
        assert client.post("/webhooks/shopify", data=body, headers=headers).status_code == 200
        with session_scope() as session:
            return session.scalar(select(WebhookEvent.id).where(WebhookEvent.webhook_id == webhook_id))

    return post


def held() -> Dispute:
    with session_scope() as session:
        row = session.get(Dispute, DISPUTE_ID)
        session.expunge(row)
        return row


def test_deliveries_processed_out_of_order_end_at_the_newest_state(deliver, redis_db):
    created = deliver("disputes/create", payload("disputes/create"), "2026-11-20T10:00:00Z", "wh-create")
    review = deliver(
        "disputes/update",
        payload("disputes/update", evidence_sent_on="2026-11-21T09:00:00-05:00"),
        "2026-11-21T14:00:00Z",
        "wh-review",
    )
    won = deliver(
        "disputes/update",
        payload("disputes/update", status="won", finalized_on="2026-11-28T12:00:00-05:00"),
        "2026-11-28T17:00:00Z",
        "wh-won",
    )
    # Published on the refunds queue, one message per delivery.
    assert redis_db.llen("refunds") == 3

    assert events.process_event(won) == f"recorded dispute {DISPUTE_ID} (WON)"
    assert events.process_event(created) == f"kept dispute {DISPUTE_ID} (NEEDS_RESPONSE)"
    assert events.process_event(review) == f"kept dispute {DISPUTE_ID} (UNDER_REVIEW)"
    row = held()
    assert (row.status, row.type, row.reason, row.currency) == ("WON", "CHARGEBACK", "FRAUDULENT", "USD")
    assert row.amount == Decimal("11.50") and row.order_id == 625362839
    assert row.finalized_on == datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
    assert row.updated_at == datetime(2026, 11, 28, 17, 0, tzinfo=UTC) and row.source == "webhook"
    with session_scope() as session:
        states = session.scalars(select(WebhookEvent.status).order_by(WebhookEvent.id)).all()
    assert states == ["done", "done", "done"]  # a kept (older) word is done, not retried or dead-lettered


def test_a_newer_update_replaces_an_older_one_and_a_retried_copy_changes_nothing(deliver):
    created = deliver("disputes/create", payload("disputes/create"), "2026-11-20T10:00:00Z", "wh-1")
    assert events.process_event(created) == f"recorded dispute {DISPUTE_ID} (NEEDS_RESPONSE)"
    assert held().evidence_due_by == datetime(2023, 4, 17, 0, 0, tzinfo=UTC)
    review = deliver("disputes/update", payload("disputes/update"), "2026-11-21T14:00:00Z", "wh-2")
    assert events.process_event(review) == f"updated dispute {DISPUTE_ID} (UNDER_REVIEW)"
    # Shopify retries with a new webhook id and the same trigger time: the same word, nothing to apply.
    again = deliver("disputes/update", payload("disputes/update"), "2026-11-21T14:00:00Z", "wh-2-retry")
    assert events.process_event(again) == f"kept dispute {DISPUTE_ID} (UNDER_REVIEW)"
    row = held()
    assert row.status == "UNDER_REVIEW" and row.evidence_sent_on == datetime(2023, 4, 4, 0, 0, tzinfo=UTC)


# --- `shopsync disputes sync` and `list` over the Shopify simulator ---------------------------------------------


@pytest.fixture
def shopify(shopify_server: str, clean_db) -> Iterator[str]:
    """The shared simulator, emptied, granting the default scopes (another test may have narrowed them)."""
    requests.post(f"{shopify_server}/_sim/reset", timeout=10).raise_for_status()
    scopes = {"access_scopes": list(DEFAULT_ACCESS_SCOPES)}
    requests.post(f"{shopify_server}/_sim/config", json=scopes, timeout=10).raise_for_status()
    yield shopify_server
    requests.post(f"{shopify_server}/_sim/reset", timeout=10).raise_for_status()
    requests.post(f"{shopify_server}/_sim/config", json=scopes, timeout=10).raise_for_status()  # /reset keeps them


def sim(base: str, path: str, body: Any = None) -> Any:
    response = requests.post(f"{base}/_sim{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def test_sync_records_every_dispute_and_an_older_delivery_does_not_undo_it(shopify, deliver):
    customer = of.Customer(
        1, "Ada", "Byron", "ada@example.com", of.Address("Ada", "Byron", "1 Main", "Austin", "TX", "1")
    )
    today = datetime.now(UTC).date().isoformat()
    orders = [
        of.build_order(
            order_id=7_100_000_000 + n,
            number=4000 + n,
            customer=customer,
            lines=[of.Line(f"SKU-{n}", "Widget", "40.00", 1, 700 + n, 800 + n)],
            created_at=f"{today}T0{n}:00:00+00:00",
        )
        for n in (1, 2)
    ]
    sim(shopify, "/orders", orders)
    first = sim(shopify, "/payments/disputes", {"order_id": 7_100_000_001, "amount": "40.00"})
    second = sim(shopify, "/payments/disputes", {"order_id": 7_100_000_002, "amount": "25.00"})

    result = CliRunner().invoke(main, ["disputes", "sync", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"read": 2, "recorded": 2, "open": [first["id"], second["id"]]}

    sim(shopify, f"/payments/disputes/{first['id']}", {"status": "WON"})
    result = CliRunner().invoke(main, ["disputes", "sync"])
    assert result.exit_code == 0, result.output
    assert "disputes read: 2 (1 unchanged, 1 updated); open: 1" in result.output

    # A disputes/update Shopify triggered before the sync read arrives late: the sync's newer word stays.
    late = deliver(
        "disputes/update",
        payload("disputes/update", id=first["id"], order_id=7_100_000_001, amount="40.00"),
        "2026-01-01T00:00:00Z",
        "wh-late",
    )
    assert events.process_event(late) == f"kept dispute {first['id']} (UNDER_REVIEW)"

    listed = CliRunner().invoke(main, ["disputes", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [still_open] = json.loads(listed.output)
    assert (still_open["dispute_id"], still_open["status"], still_open["amount"]) == (
        second["id"],
        "NEEDS_RESPONSE",
        "25.00",
    )
    assert still_open["evidence_due_by"] and still_open["due_in_hours"] > 0
    everything = CliRunner().invoke(main, ["disputes", "list", "--all"])
    assert str(first["id"]) in everything.output and "WON" in everything.output
    with session_scope() as session:
        won = session.get(Dispute, first["id"])
        assert (won.status, won.source, won.amount) == ("WON", "sync", Decimal("40.00"))

    # Without access to the payments account the command says so (and records nothing), no traceback.
    requests.post(f"{shopify}/_sim/config", json={"access_scopes": ["read_orders"]}, timeout=10).raise_for_status()
    denied = CliRunner().invoke(main, ["disputes", "sync"])
    assert denied.exit_code == 1 and "reading disputes from Shopify failed" in denied.output
    assert "ACCESS_DENIED" in denied.output and "shpat_test" not in denied.output


def test_two_first_deliveries_at_once_apply_one_after_the_other(clean_db):
    """Two workers see a dispute for the first time together: the second waits on the first's row, then judges its
    word against it (here: newer, so it wins), instead of failing on the primary key or overwriting blindly."""
    older = DisputeState(DISPUTE_ID, "NEEDS_RESPONSE", "CHARGEBACK", Decimal("11.50"), "USD", updated_at=T1)
    newer = DisputeState(DISPUTE_ID, "UNDER_REVIEW", "CHARGEBACK", Decimal("11.50"), "USD", updated_at=T2)
    outcomes: dict[str, str] = {}
    with session_scope() as first:
        outcomes["older"] = record(first, older)  # inserted, not committed yet
        second = threading.Thread(target=lambda: outcomes.update(newer=_record_in_own_session(newer)))
        second.start()
        second.join(timeout=1.0)
        assert second.is_alive()  # waiting on the first transaction's row
    second.join(timeout=10)
    assert outcomes == {"older": "recorded", "newer": "updated"}
    assert held().status == "UNDER_REVIEW"


def _record_in_own_session(state: DisputeState) -> str:
    with session_scope() as session:
        return record(session, state)
