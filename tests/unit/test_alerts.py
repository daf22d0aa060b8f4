"""The pure half of alerts: which conditions fire, how episodes move, what each receiver is owed, the digest's words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.config import ConfigError, load_settings
from app.domain.alerts import (
    CLEARING,
    CLOSED,
    OPEN,
    RESOLVE,
    TRIGGER,
    Condition,
    Episode,
    Observation,
    PayoutVariance,
    changes,
    credentials_observation,
    dlq_observation,
    due,
    finished,
    governance_observation,
    payout_variance_observation,
    reconciliation_observation,
    schema_drift_observation,
    stuck_orders_observation,
)
from app.domain.digest import Digest, LastRun, digest_lines
from tests.unit.test_config import BASE

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def fire(key: str) -> Condition:
    return Condition(key, "error", f"{key} fires")


def test_a_new_condition_opens_once_and_stays_open_without_a_second_trigger():
    first = changes([], [Observation("dlq", (fire("dlq:depth"),))])
    assert [c.key for c in first.opened] == ["dlq:depth"] and not first.cleared
    # The next evaluation sees the same condition: the episode is refreshed, not opened again.
    again = changes(
        [Episode("dlq:depth", OPEN, {"slack": frozenset({TRIGGER})})], [Observation("dlq", (fire("dlq:depth"),))]
    )
    assert not again.opened and [c.key for c in again.refreshed] == ["dlq:depth"]


def test_a_condition_clears_only_when_its_own_source_looked():
    live = [Episode("dlq:depth", OPEN), Episode("credentials:netsuite", OPEN)]
    # The DLQ source looked and saw nothing; the credentials source could not look (no observation).
    moved = changes(live, [Observation("dlq")])
    assert moved.cleared == ("dlq:depth",)
    # A sibling scope does not vouch for another: credentials:shopify says nothing of credentials:netsuite.
    assert changes(live, [Observation("credentials:shopify")]).cleared == ()


def test_a_clearing_episode_that_fires_again_is_reopened_not_opened_twice():
    moved = changes([Episode("stuck_orders", CLEARING)], [Observation("stuck_orders", (fire("stuck_orders"),))])
    assert [c.key for c in moved.reopened] == ["stuck_orders"] and not moved.opened
    # Closed episodes are history: the condition firing again opens a new one.
    assert [
        c.key
        for c in changes(
            [Episode("stuck_orders", CLOSED)], [Observation("stuck_orders", (fire("stuck_orders"),))]
        ).opened
    ] == ["stuck_orders"]


def test_observations_keep_to_their_scope_and_a_key_is_observed_once():
    with pytest.raises(ValueError, match="outside"):
        Observation("dlq", (fire("stuck_orders"),))
    with pytest.raises(ValueError, match="twice"):
        changes([], [Observation("dlq", (fire("dlq:depth"),)), Observation("dlq", (fire("dlq:depth"),))])
    with pytest.raises(ValueError, match="severity"):
        Condition("dlq:depth", "loud", "x")


def test_what_each_receiver_is_owed():
    channels = ["slack", "pagerduty"]
    assert due(Episode("k", OPEN), channels) == [("slack", TRIGGER), ("pagerduty", TRIGGER)]
    assert due(Episode("k", OPEN, {"slack": frozenset({TRIGGER})}), channels) == [("pagerduty", TRIGGER)]
    # A resolve only where the trigger went: a receiver never paged is not told it resolved.
    clearing = Episode("k", CLEARING, {"pagerduty": frozenset({TRIGGER})})
    assert due(clearing, channels) == [("pagerduty", RESOLVE)] and not finished(clearing, channels)
    done = Episode("k", CLEARING, {"pagerduty": frozenset({TRIGGER, RESOLVE})})
    assert due(done, channels) == [] and finished(done, channels)
    assert due(Episode("k", OPEN), []) == [] and finished(Episode("k", CLEARING), [])


def test_dlq_fires_on_depth_and_on_age_separately():
    small = dlq_observation(
        3, NOW - timedelta(hours=30), {"orders": 3}, NOW, depth_threshold=10, max_age=timedelta(hours=24)
    )
    assert [c.key for c in small.firing] == ["dlq:age"] and "30.0 h" in small.firing[0].summary
    deep = dlq_observation(
        12, NOW - timedelta(hours=1), {"orders": 10, "refunds": 2}, NOW, depth_threshold=10, max_age=timedelta(hours=24)
    )
    assert [c.key for c in deep.firing] == ["dlq:depth"]
    assert "12 open dead letter(s), above 10 (orders 10, refunds 2)" in deep.firing[0].summary
    assert dlq_observation(0, None, {}, NOW, depth_threshold=0, max_age=timedelta(hours=1)).firing == ()


def test_credentials_red_fires_unknown_says_nothing_and_details_stay_out():
    red = credentials_observation("netsuite", "red: INVALID_LOGIN (401): user jane@example.com is locked", [])
    assert red.firing[0].key == "credentials:netsuite" and "INVALID_LOGIN (401)" in red.firing[0].summary
    assert "jane" not in red.firing[0].summary  # NetSuite's free text is not copied into a page
    missing = credentials_observation("shopify", "red: missing permission(s): read_orders", ["read_orders"])
    assert "missing: read_orders" in missing.firing[0].summary and missing.firing[0].severity == "critical"
    assert credentials_observation("netsuite", "unknown: 503", []) is None
    assert credentials_observation("netsuite", None, []) is None
    assert credentials_observation("netsuite", "green", []).firing == ()


def test_the_other_conditions():
    assert stuck_orders_observation(0, timedelta(days=7)).firing == ()
    assert "2 order(s) over 7 days" in stuck_orders_observation(2, timedelta(days=7)).firing[0].summary
    ids = [f"shopify-order-{n}" for n in range(7)]
    give_ups = governance_observation(ids).firing[0]
    assert (
        give_ups.key == "governance_give_ups" and "7 record(s)" in give_ups.summary and "and 2 more" in give_ups.summary
    )
    drift = schema_drift_observation({"orders/create": ["a.b", "c"], "refunds/create": []}, timedelta(hours=24))
    assert [c.key for c in drift.firing] == [
        "schema_drift:orders/create"
    ] and "2 unknown payload field(s)" in drift.firing[0].summary
    spike = reconciliation_observation(
        7, "inventory", date(2026, 12, 2), "1500 diffs is above the absolute threshold 1000"
    )
    assert spike.firing[0].key == "reconciliation:spike" and "run #7" in spike.firing[0].summary
    assert reconciliation_observation(8, "inventory", date(2026, 12, 3), None).firing == ()


def test_payout_variance_is_a_condition_a_later_flow_feeds():
    observation = payout_variance_observation(
        [PayoutVariance("9001", Decimal("-0.42"), "USD"), PayoutVariance("9002", Decimal("0.00"), "USD")]
    )
    assert [c.key for c in observation.firing] == ["payout_variance:9001"]
    assert "variance -0.42 USD" in observation.firing[0].summary
    # Once the payout's variance is booked, the same source clears it.
    assert changes([Episode("payout_variance:9001", OPEN)], [payout_variance_observation([])]).cleared == (
        "payout_variance:9001",
    )


def test_digest_lines_say_every_figure():
    digest = Digest(
        day=date(2026, 12, 2),
        webhooks_by_topic={"orders/create": 40, "refunds/create": 2},
        orders_new=40,
        orders_in_netsuite=39,
        failures_by_category={"data": 1, "auth": 2},
        dlq_open=3,
        dlq_oldest_hours=30.5,
        reconciliation=LastRun(5, "inventory", NOW, 4, 3, 0, 1, None),
        netsuite_calls=120,
        netsuite_governance_errors=2,
        netsuite_peak=9,
        netsuite_peak_at=datetime(2026, 12, 2, 14, 3, tzinfo=UTC),
        netsuite_budget=12,
    )
    text = "\n".join(digest_lines(digest))
    for expected in (
        "2026-12-02",
        "Webhooks: 42 stored (orders/create 40, refunds/create 2)",
        "Orders: 40 new, 39 of them in NetSuite",
        "Failures (dead-lettered): 3 (auth 2, data 1)",
        "DLQ: 3 open, oldest 30.5 h",
        "run #5 (inventory) 4 diffs, 3 corrected, 0 order mismatches, 1 healed; no alert",
        "peak 9 concurrent (75% of the budget 12) at 14:03 UTC",
    ):
        assert expected in text
    assert "no finished run yesterday" in "\n".join(digest_lines(Digest(day=date(2026, 12, 2))))


def test_alert_settings_parse_and_hide_their_secrets():
    url = "http://127.0.0.1:9/services/T000/B000/secretpath"
    settings = load_settings({**BASE, "ALERT_SLACK_WEBHOOK_URL": url, "ALERT_PAGERDUTY_ROUTING_KEY": "R0UTINGKEY"})
    assert settings.alerts.channels() == ("slack", "pagerduty")
    assert settings.alerts.pagerduty_url == "https://events.pagerduty.com/v2/enqueue"
    assert "secretpath" not in repr(settings) and "R0UTINGKEY" not in repr(settings)
    assert load_settings(BASE).alerts.channels() == ()
    assert load_settings({**BASE, "ALERT_PAGERDUTY_ROUTING_KEY": "k"}).alerts.channels() == ("pagerduty",)
    with pytest.raises(ConfigError, match="ALERT_SLACK_WEBHOOK_URL must be an http") as bad:
        load_settings({**BASE, "ALERT_SLACK_WEBHOOK_URL": "hooks.slack.com/services/secretpath"})
    assert "secretpath" not in str(bad.value)
    with pytest.raises(ConfigError, match="ALERT_EVALUATE_EVERY_MINUTES must divide 60"):
        load_settings({**BASE, "ALERT_EVALUATE_EVERY_MINUTES": "7"})
    with pytest.raises(ConfigError, match="ALERT_DIGEST_HOUR_UTC"):
        load_settings({**BASE, "ALERT_DIGEST_HOUR_UTC": "24"})
