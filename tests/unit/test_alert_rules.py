"""deploy/prometheus/alerts.yml: valid for Prometheus (promtool check), unit-tested on synthetic series (promtool
test), each alert's tests able to fail, and each alert pointing at a runbook entry that exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.monitoring import ALERTS, ALERTS_TEST, PROMETHEUS_CONFIG, alert_rules, promtool

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "RUNBOOK.md"


def run_promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_promtool_accepts_the_rules_and_the_prometheus_config() -> None:
    rules = run_promtool("check", "rules", ALERTS)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in rules.stdout
    config = run_promtool("check", "config", PROMETHEUS_CONFIG)  # it checks the rule files it names, too
    assert config.returncode == 0, config.stdout + config.stderr
    assert "alerts.yml" in config.stdout


def test_promtool_unit_tests_of_the_alerts_pass() -> None:
    result = run_promtool("test", "rules", ALERTS_TEST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _tests() -> list[dict[str, Any]]:
    return yaml.safe_load(ALERTS_TEST.read_text())["tests"]


def _fires(group: dict[str, Any], alert: str) -> bool:
    return any(t["alertname"] == alert and t.get("exp_alerts") for t in group["alert_rule_test"])


def _quiet(group: dict[str, Any], alert: str) -> bool:
    checks = [t for t in group["alert_rule_test"] if t["alertname"] == alert]
    return bool(checks) and not any(t.get("exp_alerts") for t in checks)


def test_every_alert_has_series_that_fire_it_and_series_that_do_not() -> None:
    for rule in alert_rules():
        name = rule["alert"]
        assert any(_fires(group, name) for group in _tests()), f"{name}: no test where it fires"
        assert any(_quiet(group, name) for group in _tests()), f"{name}: no test where it stays quiet"


def _failing_alerts(tmp_path: Path, rules: list[dict[str, Any]], tests: list[dict[str, Any]]) -> set[str]:
    """The alerts whose promtool tests fail when the rules are these (written beside a copy of the tests)."""
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump({"groups": [{"name": "shopsync", "rules": rules}]}))
    doc = yaml.safe_load(ALERTS_TEST.read_text())
    (tmp_path / "alerts_test.yml").write_text(yaml.safe_dump({**doc, "tests": tests}))
    result = run_promtool("test", "rules", tmp_path / "alerts_test.yml")
    failing = set(re.findall(r"alertname: (\w+), time:", result.stdout + result.stderr))
    assert failing or result.returncode == 0, result.stdout + result.stderr
    return failing


def test_each_alerts_firing_tests_fail_if_it_never_fires(tmp_path: Path) -> None:
    names = {rule["alert"] for rule in alert_rules()}
    never = [{**rule, "expr": "vector(1) < 0"} for rule in alert_rules()]
    firing = [g for g in _tests() if any(_fires(g, name) for name in names)]
    assert _failing_alerts(tmp_path, never, firing) == names


def test_each_alerts_quiet_tests_fail_if_it_always_fires(tmp_path: Path) -> None:
    names = {rule["alert"] for rule in alert_rules()}
    always = [{k: v for k, v in rule.items() if k != "for"} | {"expr": "vector(1)"} for rule in alert_rules()]
    quiet = [g for g in _tests() if any(_quiet(g, name) for name in names)]
    assert _failing_alerts(tmp_path, always, quiet) == names


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_names_an_existing_runbook_entry_and_a_severity() -> None:
    headings = {line[3:].strip() for line in RUNBOOK.read_text().splitlines() if line.startswith("## ")}
    for rule in alert_rules():
        name, notes = rule["alert"], rule["annotations"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert notes["summary"] and notes["description"], name
        assert notes["runbook"] in headings, f"{name}: no RUNBOOK entry {notes['runbook']!r}"
        assert notes["runbook_url"] == f"docs/RUNBOOK.md#{_slug(notes['runbook'])}", name
        assert f"(runbook: {notes['runbook']})" in notes["description"], name


def test_metrics_doc_lists_exactly_the_shipped_alerts() -> None:
    doc = (RUNBOOK.parent / "METRICS.md").read_text()
    listed = set(re.findall(r"^\| `(Shopsync\w+)` \|", doc, flags=re.MULTILINE))
    assert listed == {rule["alert"] for rule in alert_rules()}
