"""Payouts and disputes shown: from seeded rows of the payouts table (the payout job writes it) and the disputes
table, against real PostgreSQL: `shopsync status`, the ops API the console reads, /metrics and the payout-variance
alert source."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from app import create_app
from app.cli import main
from app.config import get_settings
from app.db.models import PayoutSync
from app.db.session import session_scope
from app.domain.alerts import Episode, changes
from app.services.alert_sources import SourceContext, payout_variance
from tests.conftest import TEST_ENV
from tests.helpers import metric_samples, sample
from tests.money_rows import dispute, payout

TOKEN = {"Authorization": f"Bearer {TEST_ENV['OPS_TOKEN']}"}


@pytest.fixture
def seeded(clean_db, redis_db):
    with session_scope() as session:
        session.add_all(
            [
                payout("101", "waiting", issued_days_ago=3, missing=2, reason="2 receipt(s) not in NetSuite yet"),
                payout("102", "waiting", issued_days_ago=1, missing=1),
                payout("103", variance="-0.42", issued_days_ago=5),
                payout("104", variance="1.10", issued_days_ago=2, currency="CAD"),
                payout("105", variance="0.08", issued_days_ago=4),
                payout("106"),  # deposited, matched: nothing to show
                payout("107", "reversed", variance="2.00", issued_days_ago=6),  # its variance was reversed with it
                payout("108", "failed", issued_days_ago=2, reason="NetSuite refused the deposit"),
                payout("109", "skipped", variance="5.00"),
                dispute(1, "NEEDS_RESPONSE", due_in_days=2),
                dispute(2, "UNDER_REVIEW", due_in_days=None, amount="30.00"),
                dispute(3, "NEEDS_RESPONSE", due_in_days=6),
                dispute(4, "WON", due_in_days=-10),
            ]
        )


def test_status_shows_payouts_waiting_with_a_variance_reversed_failed_and_open_disputes(seeded):
    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    payouts = report["payouts"]
    assert payouts["by_state"] == {"waiting": 2, "deposited": 4, "reversed": 1, "skipped": 1, "failed": 1}
    assert payouts["waiting"]["count"] == 2 and 71.9 < payouts["waiting"]["oldest_age_hours"] < 72.1
    assert payouts["failed"]["count"] == 1 and payouts["reversed"] == {"count": 1}
    variance = payouts["variance"]
    assert variance["count"] == 3
    assert {c: (v["count"], v["sum"]) for c, v in variance["by_currency"].items()} == {
        "CAD": (1, "1.10"),
        "USD": (2, "-0.34"),
    }
    usd_oldest = datetime.fromisoformat(variance["by_currency"]["USD"]["oldest_issued_at"])
    assert 4.9 < (datetime.now(UTC) - usd_oldest).total_seconds() / 86400 < 5.1  # payout 103's day
    # Oldest first: everything not deposited, reversed, or carrying a variance; never the matched one.
    assert [p["payout_id"] for p in payouts["attention"]] == ["107", "103", "105", "101", "104", "108", "102"]
    first_waiting = next(p for p in payouts["attention"] if p["payout_id"] == "101")
    assert (first_waiting["missing"], first_waiting["reason"]) == (2, "2 receipt(s) not in NetSuite yet")

    disputes = report["disputes"]
    assert disputes["open"] == 3 and disputes["by_status"] == {"NEEDS_RESPONSE": 2, "UNDER_REVIEW": 1}
    assert disputes["amount_open"] == {"USD": "53.00"}
    assert [d["dispute_id"] for d in disputes["list"]] == [1, 3, 2]  # soonest evidence deadline first
    assert 47.9 < disputes["list"][0]["due_in_hours"] < 48.1
    assert disputes["next_evidence_due_by"] == disputes["list"][0]["evidence_due_by"]

    text = CliRunner().invoke(main, ["status"]).output
    assert "payouts waiting for receipts: 2 (oldest issued" in text
    assert "payouts with a variance: 3 (CAD: 1 (sum 1.10" in text and "USD: 2 (sum -0.34" in text
    assert "payouts reversed: 1" in text and "NetSuite refused the deposit" in text
    assert "open disputes: 3 (needs_response 2, under_review 1; next evidence due" in text


def test_status_with_no_payouts_or_disputes_says_so(clean_db, redis_db):
    report = json.loads(CliRunner().invoke(main, ["status", "--json"]).output)
    assert report["payouts"]["waiting"] == {"count": 0, "oldest_issued_at": None, "oldest_age_hours": None}
    assert report["payouts"]["attention"] == [] and report["payouts"]["variance"] == {"count": 0, "by_currency": {}}
    assert report["disputes"]["open"] == 0 and report["disputes"]["next_evidence_due_by"] is None
    text = CliRunner().invoke(main, ["status"]).output
    assert "payouts waiting for receipts: 0; failed to post: 0" in text and "open disputes: 0 (" in text


def test_the_ops_api_the_console_reads_has_them_and_the_page_shows_them(seeded):
    client = create_app().test_client()
    assert client.get("/ops/status").status_code == 401
    status = client.get("/ops/status", headers=TOKEN).get_json()
    assert status["payouts"]["waiting"]["count"] == 2 and len(status["payouts"]["attention"]) == 7
    assert [d["status"] for d in status["disputes"]["list"]] == ["NEEDS_RESPONSE", "NEEDS_RESPONSE", "UNDER_REVIEW"]
    html = client.get("/console/").get_data(as_text=True)
    assert 'id="payouts-table"' in html and 'id="disputes"' in html and 'id="payouts"' in html
    script = client.get("/console/static/console.js").get_data(as_text=True)
    # the fields the console renders are the ones the API gives
    for name in ("attention", "by_currency", "oldest_issued_at", "evidence_due_by", "due_in_hours", "dispute_id"):
        assert name in script
    assert "status.payouts" in script and "status.disputes" in script


def test_metrics_report_payouts_variances_and_disputes(seeded):
    samples = metric_samples(create_app().test_client().get("/metrics").get_data(as_text=True))
    assert sample(samples, "shopsync_payouts", state="waiting") == 2
    assert sample(samples, "shopsync_payouts", state="deposited") == 4
    assert sample(samples, "shopsync_payouts", state="failed") == 1
    assert sample(samples, "shopsync_payouts", state="reversed") == 1
    age = sample(samples, "shopsync_payout_oldest_unmatched_age_seconds")
    assert 3 * 86400 - 120 < age < 3 * 86400 + 120  # payout 101, waiting 3 days (older than the failed one)
    assert sample(samples, "shopsync_payouts_with_variance", currency="USD") == 2
    assert sample(samples, "shopsync_payout_variance_amount", currency="USD") == pytest.approx(-0.34)
    assert sample(samples, "shopsync_payout_variance_amount", currency="CAD") == pytest.approx(1.10)
    assert sample(samples, "shopsync_disputes_open", status="needs_response") == 2
    assert sample(samples, "shopsync_disputes_open", status="under_review") == 1
    due = sample(samples, "shopsync_dispute_next_evidence_due_timestamp")
    assert 2 * 86400 - 120 < due - datetime.now(UTC).timestamp() < 2 * 86400 + 120


def test_metrics_with_nothing_to_show_report_zeros(clean_db, redis_db):
    samples = metric_samples(create_app().test_client().get("/metrics").get_data(as_text=True))
    assert ("shopsync_payouts", (("state", "waiting"),)) in samples
    assert sample(samples, "shopsync_payouts", state="waiting") == 0
    assert ("shopsync_payout_oldest_unmatched_age_seconds", ()) in samples
    assert sample(samples, "shopsync_payout_oldest_unmatched_age_seconds") == 0
    assert ("shopsync_disputes_open", (("status", "needs_response"),)) in samples
    assert not [key for key in samples if key[0] == "shopsync_dispute_next_evidence_due_timestamp"]


def test_the_payout_variance_source_fires_per_payout_on_the_books_and_clears_when_it_is_gone(seeded):
    def observe():
        with session_scope() as session:
            [observation] = payout_variance(SourceContext(session, get_settings(), datetime.now(UTC)))
        return observation

    observation = observe()
    assert observation.scope == "payout_variance"
    fired = {c.key: c for c in observation.firing}
    # a reversed payout's variance was reversed with its deposit, a skipped one never posted
    assert sorted(fired) == ["payout_variance:103", "payout_variance:104", "payout_variance:105"]
    assert fired["payout_variance:104"].summary == "payout 104 does not reconcile: variance 1.10 CAD"
    assert fired["payout_variance:103"].details == {"payout_id": "103", "variance": "-0.42", "currency": "USD"}

    with session_scope() as session:  # finance journaled 105's variance out; the job recorded it
        session.execute(update(PayoutSync).where(PayoutSync.payout_id == "105").values(variance=0))
    live = [Episode(key, "open") for key in fired]
    assert changes(live, [observe()]).cleared == ("payout_variance:105",)
