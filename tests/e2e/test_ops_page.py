"""The ops console in a real browser: headless Chromium (Debian's, driven by its own chromedriver, nothing downloaded)
against gunicorn, the workers and the simulators started from the Procfile. The operator types the token, sees the
dead letter, the queues and the last reconciliation, clicks Requeue, and the order lands in NetSuite once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from app.db.models import DeadLetter, DlqAudit, ReconciliationRun
from app.db.session import session_scope
from app.routing import QUEUES
from tests.conftest import TEST_ENV, load_fixture
from tests.e2e.conftest import E2E, wait_until
from tests.e2e.test_pipeline import shopsync
from tests.helpers import shopify_headers

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 30
# Text an API field could carry; the page must show it as text, never as markup.
HOSTILE_ALERT = '<img src=x onerror="window.__pwned = 1">diff spike: 40 > 5 x median'


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    for binary in (CHROMIUM, CHROMEDRIVER):
        assert Path(binary).is_file(), f"{binary} missing: apt-get install chromium chromium-driver (./run test does)"
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager is never consulted, so nothing is downloaded.
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    driver.set_script_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def _open_and_connect(driver: WebDriver, web: str, token: str) -> WebDriverWait:
    wait = WebDriverWait(driver, WAIT_SECONDS)
    driver.get(f"{web}/console/")
    field = wait.until(ec.element_to_be_clickable((By.ID, "token")))
    field.send_keys(token)
    driver.find_element(By.ID, "connect").click()
    return wait


def _csp_violations(driver: WebDriver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]


def test_a_wrong_token_shows_401_unauthorized_and_no_data(e2e: E2E, browser: WebDriver):
    wait = _open_and_connect(browser, e2e.web, "not-the-ops-token")

    wait.until(ec.text_to_be_present_in_element((By.ID, "message"), "401 unauthorized"))
    message = browser.find_element(By.ID, "message")
    assert message.text.startswith("401 unauthorized: the ops API refused this token")
    assert "error" in message.get_attribute("class").split()
    assert not browser.find_element(By.ID, "console").is_displayed()
    assert browser.find_elements(By.CSS_SELECTOR, "#dlq tbody tr") == []
    assert browser.execute_script("return sessionStorage.getItem('shopsync.opsToken')") is None
    assert _csp_violations(browser) == []


def _reconciliation_runs() -> int:
    now = datetime.now(UTC)
    with session_scope() as session:
        runs = [
            ReconciliationRun(
                kind="inventory",
                trigger="scheduled",
                run_date=now - timedelta(days=days),
                status="done",
                started_at=now - timedelta(days=days, seconds=30),
                finished_at=now - timedelta(days=days),
                skus_compared=7,
                diffs_found=diffs,
                corrections_applied=corrected,
                alert=alert,
            )
            for days, diffs, corrected, alert in [(2, 1, 1, None), (1, 40, 38, HOSTILE_ALERT)]
        ]
        session.add_all(runs)
        session.flush()
        return runs[-1].id


def test_an_operator_requeues_a_dead_letter_from_the_console(fresh: E2E, browser: WebDriver):
    page = requests.get(f"{fresh.web}/console/", timeout=10)
    assert page.status_code == 200 and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]

    payload = load_fixture("orders_create.json")
    payload["line_items"][0]["sku"] = "CONSOLE-FIX-ME"
    body = json.dumps(payload).encode()
    assert fresh.post(body, shopify_headers(body)).status_code == 200

    def dead_letter() -> DeadLetter | None:
        with session_scope() as s:
            return s.scalars(select(DeadLetter)).first()

    entry = wait_until(dead_letter, 20, what="the dead letter")
    assert entry.error_code == "UNKNOWN_SKU" and entry.status == "open"
    run_id = _reconciliation_runs()
    requests.post(f"{fresh.sim}/_sim/items", json=[{"itemid": "CONSOLE-FIX-ME"}], timeout=10).raise_for_status()
    # The NetSuite role loses a permission (given back before the requeue needs it).
    requests.post(f"{fresh.sim}/_sim/role", json={"revoke": ["Customers (Lists)"]}, timeout=10).raise_for_status()
    assert shopsync("credentials", "check", env=dict(fresh.stack.env)).returncode == 1

    wait = _open_and_connect(browser, fresh.web, TEST_ENV["OPS_TOKEN"])

    # The dead letter, with what an operator acts on.
    row = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, f'#dlq tr[data-id="{entry.id}"]')))
    cells = {c: row.find_element(By.CSS_SELECTOR, f"td.{c}").text for c in ("category", "error-code", "topic")}
    assert cells == {"category": "data", "error-code": "UNKNOWN_SKU", "topic": "orders/create"}
    assert row.find_element(By.CSS_SELECTOR, "td.attempts").text == str(entry.attempts)
    assert "CONSOLE-FIX-ME" in row.find_element(By.CSS_SELECTOR, "td.message").text
    assert row.find_element(By.CSS_SELECTOR, "td.first-failed").text.endswith(" UTC")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dlq tbody tr")) == 1

    # Queue depths: every queue, and the dead letter's mirror on `dead_letter`.
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queues tbody tr[data-queue]")) == len(QUEUES))
    depths = {
        r.get_attribute("data-queue"): r.find_element(By.CSS_SELECTOR, "td.depth").text
        for r in browser.find_elements(By.CSS_SELECTOR, "#queues tbody tr[data-queue]")
    }
    assert set(depths) == set(QUEUES) and all(v.isdigit() for v in depths.values())
    assert depths["dead_letter"] == "1"
    assert "of 12 slots" in browser.find_element(By.ID, "netsuite").text
    credentials = browser.find_element(By.ID, "credentials").text
    assert "red: missing permission(s): Customers (Lists)" in credentials and "green" in credentials
    requests.post(f"{fresh.sim}/_sim/role", json={"restore": True}, timeout=10).raise_for_status()

    # The last reconciliation, its alert shown as text (never markup), and the drift plot drawn by the ops API.
    wait.until(ec.text_to_be_present_in_element((By.ID, "recon"), f"#{run_id} inventory"))
    recon = browser.find_element(By.ID, "recon").text
    assert HOSTILE_ALERT in recon and "40" in recon and "38" in recon
    assert browser.find_elements(By.CSS_SELECTOR, "#recon img") == []
    assert browser.execute_script("return window.__pwned === undefined")
    assert wait.until(
        lambda d: d.execute_script(
            "const img = document.getElementById('drift');"
            "return img.complete && img.src.startsWith('blob:') && img.naturalWidth > 0 && img.naturalWidth;"
        )
    )

    # A real click on the row's button.
    button = row.find_element(By.CSS_SELECTOR, "button.requeue")
    assert button.is_displayed() and button.is_enabled()
    button.click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "message"), f"requeued dead letter {entry.id}"))
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, f'#dlq tr[data-id="{entry.id}"]'))
    assert browser.find_element(By.ID, "dlq-empty").is_displayed()
    assert _csp_violations(browser) == []

    def landed() -> list[dict]:
        return [o for o in fresh.sim_records("salesOrder") if o.get("externalId") == "shopify-order-450789469"]

    assert len(wait_until(landed, 30, what="the requeued order in NetSuite")) == 1
    with session_scope() as s:
        assert s.get(DeadLetter, entry.id).status == "requeued"
        [audit] = s.scalars(select(DlqAudit)).all()
    assert audit.action == "requeue" and audit.dead_letter_ids == [entry.id]
    assert audit.actor.startswith("ops-api:")
    # The page refreshed after the click: the `dead_letter` mirror is gone too.
    assert wait.until(
        lambda d: d.find_element(By.CSS_SELECTOR, '#queues tr[data-queue="dead_letter"] td.depth').text == "0"
    )
    assert len(landed()) == 1
