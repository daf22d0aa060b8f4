"""The ops console page: served without the token, locked down by its headers; the drift plot it shows comes from
/ops, which wants the token like every other /ops endpoint."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app import create_app
from app.db.models import ReconciliationRun
from app.db.session import session_scope
from tests.conftest import TEST_ENV

TOKEN = {"Authorization": f"Bearer {TEST_ENV['OPS_TOKEN']}"}


@pytest.fixture
def client(clean_db, redis_db):
    return create_app().test_client()


def _csp(resp) -> dict[str, str]:
    directives = (part.strip().split(None, 1) for part in resp.headers["Content-Security-Policy"].split(";"))
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d and d[0]}


def test_the_page_and_its_assets_are_served_without_a_token_under_a_strict_policy(client):
    page = client.get("/console/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'id="token-form"' in html and 'id="dlq"' in html and 'id="drift"' in html
    # No inline script or style, nothing from another origin: everything the page loads is ours and relative.
    assert "<style" not in html and " style=" not in html and "onclick=" not in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="static/console.js" defer>']
    assert not re.search(r"(src|href)=\"(https?:)?//", html)

    policy = _csp(page)
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert policy["img-src"] == "'self' blob:" and policy["frame-ancestors"] == "'none'"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"

    # Python's mimetypes names .js either way, depending on the version and /etc/mime.types.
    for asset, mimetypes in [
        ("console.js", {"text/javascript", "application/javascript"}),
        ("console.css", {"text/css"}),
        ("favicon.svg", {"image/svg+xml"}),
    ]:
        resp = client.get(f"/console/static/{asset}")
        assert resp.status_code == 200 and resp.mimetype in mimetypes, asset
        assert _csp(resp)["default-src"] == "'none'" and resp.headers["X-Frame-Options"] == "DENY"
        resp.close()
    script = client.get("/console/static/console.js").get_data(as_text=True)
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script
    assert client.get("/console").status_code == 308  # to /console/, so the relative asset paths resolve


def test_the_drift_plot_needs_the_token_and_is_an_svg_of_the_runs(client):
    empty = client.get("/ops/reconciliations/drift.svg", headers=TOKEN)
    assert empty.status_code == 200 and "Inventory drift, last 0 reconciliation run(s)" in empty.get_data(as_text=True)

    now = datetime.now(UTC)
    with session_scope() as session:
        for days, diffs, fixed in [(2, 7, 5), (1, 3, 3)]:
            session.add(
                ReconciliationRun(
                    kind="inventory",
                    trigger="manual",
                    run_date=now - timedelta(days=days),
                    status="done",
                    finished_at=now - timedelta(days=days),
                    diffs_found=diffs,
                    corrections_applied=fixed,
                )
            )

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        refused = client.get("/ops/reconciliations/drift.svg", headers=headers)
        assert refused.status_code == 401 and refused.json["error"] == "unauthorized"
        assert b"<svg" not in refused.data

    resp = client.get("/ops/reconciliations/drift.svg", headers=TOKEN)
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert resp.headers["Cache-Control"] == "no-store" and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src" not in resp.headers["Content-Security-Policy"]
    svg = resp.get_data(as_text=True)
    assert svg.startswith("<?xml") and "<svg" in svg and svg.rstrip().endswith("</svg>")
    assert "Inventory drift, last 2 reconciliation run(s)" in svg
    assert "<script" not in svg

    for query in ("last=1", "last=0"):  # at least one run
        only_last = client.get(f"/ops/reconciliations/drift.svg?{query}", headers=TOKEN).get_data(as_text=True)
        assert "Inventory drift, last 1 reconciliation run(s)" in only_last, query
