"""deploy/grafana: one dashboard Grafana's file provisioning loads (valid JSON, one data source variable bound to
the provisioned Prometheus, panels that do not overlap), whose queries Prometheus parses, covering what issue 14
asks to see. That every query names a metric the service exports: tests/integration/test_monitoring_metrics.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.monitoring import (
    DASHBOARD,
    GRAFANA_PROVISIONING,
    dashboard,
    dashboard_panels,
    dashboard_queries,
    metric_names,
    promtool,
)

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def provisioned(kind: str) -> dict:
    return yaml.safe_load((GRAFANA_PROVISIONING / kind / f"{kind}.yml").read_text())


def test_provisioning_loads_the_dashboard_file_and_the_prometheus_it_queries() -> None:
    providers = provisioned("dashboards")
    assert providers["apiVersion"] == 1
    [provider] = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/var/lib/grafana/dashboards")
    sources = provisioned("datasources")
    assert sources["apiVersion"] == 1
    [prometheus] = sources["datasources"]
    assert prometheus["type"] == "prometheus" and prometheus["url"].endswith(":9090")
    [variable] = [v for v in dashboard()["templating"]["list"] if v["name"] == "datasource"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    assert variable["current"]["value"] == prometheus["uid"]  # the provisioned Prometheus is the default


def test_dashboard_is_one_provisionable_json_document_with_every_query_on_the_variable() -> None:
    text = DASHBOARD.read_text()
    board = dashboard()
    assert "__inputs" not in board and "${DS_" not in text  # import-only placeholders file provisioning never fills
    assert board["uid"] and board["title"] and isinstance(board["schemaVersion"], int)
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    panels = list(dashboard_panels(board))
    assert panels
    for panel in panels:
        assert panel["datasource"] == DATASOURCE, panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE and target["expr"].strip(), panel["title"]


def test_panels_sit_inside_the_grid_without_overlapping() -> None:
    taken: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


def test_prometheus_parses_every_dashboard_query(tmp_path: Path) -> None:
    # promtool has no bare "parse this expression"; recording rules with the queries are checked by the real parser.
    queries = dashboard_queries(dashboard())
    rules = [{"record": f"shopsync:dashboard_query_{i}", "expr": expr} for i, (_, expr) in enumerate(queries)]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_dashboard_shows_webhooks_queues_netsuite_shopify_reconciliation_and_stuck_orders() -> None:
    read = set().union(*(metric_names(expr) for _, expr in dashboard_queries(dashboard())))
    wanted = {
        "shopsync_webhooks_received_total",  # webhooks
        "shopsync_webhooks_rejected_total",
        "shopsync_queue_depth",  # queue and DLQ depth
        "shopsync_dlq_depth",
        "shopsync_netsuite_budget",  # NetSuite budget and latency
        "shopsync_netsuite_budget_max",
        "shopsync_netsuite_call_seconds_bucket",
        "shopsync_shopify_throttle_available_points",  # Shopify throttle
        "shopsync_reconciliation_last_diffs",  # reconciliation diffs
        "shopsync_reconciliation_diffs_total",
        "shopsync_stuck_orders",  # stuck orders
    }
    assert wanted <= read, wanted - read
