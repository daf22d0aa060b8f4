"""The console's Payouts, Payment gaps and Open disputes sections in a real browser (headless Chromium, as
test_ops_page.py): the service's Flask app served on loopback over seeded payouts and disputes rows and a finished
reconciliation with a payment gap, the operator connects with the token and sees what needs attention, as text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from app import create_app
from app.db.models import ReconciliationRun
from app.db.session import session_scope
from simulators import wsgi
from tests.conftest import TEST_ENV
from tests.e2e.test_ops_page import _csp_violations, _open_and_connect, browser  # noqa: F401 - the fixture
from tests.money_rows import dispute, payout

HOSTILE_REASON = '<img src=x onerror="window.__pwned = 1">NetSuite refused the deposit'


PAYMENTS_CHECK = {
    "orders_checked": 40,
    "orders_with_gap": 1,
    "skipped": None,
    "unread": [],
    "gaps": [
        {
            "order_id": 5001,
            "name": "<b>#5001</b>",
            "gateway": "shopify_payments",
            "shopify": "46.08",
            "netsuite": "0.00",
            "difference": "-46.08",
            "age_hours": 30.0,
        }
    ],
}


@pytest.fixture
def web(clean_db, redis_db) -> Iterator[str]:
    with session_scope() as session:
        session.add_all(
            [
                payout("201", "waiting", issued_days_ago=3, missing=2),
                payout("202", variance="-0.42", issued_days_ago=5),
                payout("203"),  # deposited and matched: not listed
                payout("204", "failed", issued_days_ago=1, reason=HOSTILE_REASON),
                dispute(11, "NEEDS_RESPONSE", due_in_days=1),
                dispute(12, "UNDER_REVIEW", due_in_days=None, amount="30.00"),
                dispute(13, "LOST", due_in_days=-3),
                ReconciliationRun(
                    kind="inventory",
                    trigger="scheduled",
                    run_date=datetime.now(UTC),
                    dry_run=False,
                    status="done",
                    finished_at=datetime.now(UTC),
                    report={"payments": PAYMENTS_CHECK},
                ),
            ]
        )
    server = wsgi.start_in_thread(create_app(), "127.0.0.1", 0, name="console-money-web")
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()


def test_the_console_shows_payouts_needing_attention_and_open_disputes(web: str, browser: WebDriver):  # noqa: F811
    wait = _open_and_connect(browser, web, TEST_ENV["OPS_TOKEN"])
    wait.until(ec.text_to_be_present_in_element((By.ID, "disputes-count"), "2"))

    rows = browser.find_elements(By.CSS_SELECTOR, "#payouts-table tbody tr")
    assert [row.get_attribute("data-payout-id") for row in rows] == ["202", "201", "204"]  # oldest issued first
    cells = {
        row.get_attribute("data-payout-id"): [td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows
    }
    assert cells["202"][:5] == ["202", "deposited", "USD", "100.00", "-0.42"]
    assert cells["201"][1] == "waiting" and cells["201"][5] == "2"
    assert cells["204"][-1] == HOSTILE_REASON  # shown as text, never run
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.find_element(By.ID, "payouts-count").text == "3"
    figures = browser.find_element(By.ID, "payouts").text
    assert "waiting for receipts" in figures and "1 USD (Σ -0.42" in figures

    [gap] = browser.find_elements(By.CSS_SELECTOR, "#payments-table tbody tr")
    assert [td.text for td in gap.find_elements(By.TAG_NAME, "td")][:6] == [
        "5001",
        "<b>#5001</b>",  # the order name shown as text
        "shopify_payments",
        "46.08",
        "0.00",
        "-46.08",
    ]
    assert browser.find_element(By.ID, "payments-count").text == "1"
    payments = browser.find_element(By.ID, "payments").text
    assert "1 of 40" in payments and "1 shopify_payments (Σ -46.08)" in payments

    disputes = browser.find_elements(By.CSS_SELECTOR, "#disputes tbody tr")
    assert [row.get_attribute("data-dispute-id") for row in disputes] == ["11", "12"]  # soonest deadline first
    first = disputes[0].find_elements(By.TAG_NAME, "td")
    assert [td.text for td in first[:5]] == ["11", "1011", "NEEDS_RESPONSE", "CHARGEBACK", "11.50 USD"]
    assert "alert" in first[6].get_attribute("class").split()  # due within 3 days
    assert disputes[1].find_elements(By.TAG_NAME, "td")[6].text == "—"  # under review, no deadline
    assert not browser.find_element(By.ID, "disputes-empty").is_displayed()
    assert _csp_violations(browser) == []
