"""What the credentials check requires and how it names a missing NetSuite permission, held to PERMISSIONS.md."""

from __future__ import annotations

import re
from pathlib import Path

from app.services.credentials import NETSUITE_PROBES, SHOPIFY_REQUIRED_SCOPES, permission_from_detail
from simulators.netsuite.permissions import PERMISSIONS, RECORD_PERMISSIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PERMISSIONS.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return DOC.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def documented_netsuite_permissions() -> list[str]:
    table = _section("NetSuite role")
    names = re.findall(r"^\| ([^|]+?\([A-Za-z]+\)) \|", table, re.MULTILINE)
    return [name for name in names if name != "permission (tab)"]


def documented_shopify_scopes() -> list[str]:
    """The scopes in the first column of the scope table."""
    table = _section("Shopify app access scopes")
    cells = re.findall(r"^\| ([^|]+) \|", table, re.MULTILINE)
    return [scope for cell in cells for scope in re.findall(r"`(\w+)`", cell)]


def test_netsuite_detail_names_the_permission_as_the_doc_writes_it() -> None:
    detail = (
        "Permission Violation: You need  the 'Lists -> Customers' permission to access this page. "
        "Please contact your account administrator."
    )
    assert permission_from_detail(detail) == "Customers (Lists)"
    assert permission_from_detail("You need a higher level of the 'Transactions -> Sales Order' permission") == (
        "Sales Order (Transactions)"
    )
    assert permission_from_detail("Reports -> SuiteAnalytics Workbook") is None  # not quoted: not NetSuite's form
    assert permission_from_detail("Invalid login attempt.") is None


def test_every_probe_and_simulator_permission_is_one_the_doc_lists() -> None:
    documented = documented_netsuite_permissions()
    assert "Customers (Lists)" in documented and "SuiteAnalytics Workbook (Reports)" in documented
    for probe in NETSUITE_PROBES:
        assert probe.permission in documented
        assert (probe.query is None) != (probe.record_type is None)
    # The simulator guards every record type the service touches with a permission of the same name.
    labels = {p.label for p in PERMISSIONS}
    service_types = ("customer", "salesOrder", "itemFulfillment", "creditMemo", "customerRefund", "inventoryItem")
    for record_type in (*service_types, "location", "currency"):
        assert RECORD_PERMISSIONS[record_type].label in documented
    assert {name for name in documented if "(Setup)" not in name} <= labels


def test_the_required_shopify_scopes_are_the_documented_ones() -> None:
    assert sorted(SHOPIFY_REQUIRED_SCOPES) == sorted(set(documented_shopify_scopes()))


def test_probes_stay_few_and_read_only() -> None:
    assert len(NETSUITE_PROBES) <= 6
    for probe in NETSUITE_PROBES:
        if probe.query is not None:
            assert probe.query.lstrip().upper().startswith("SELECT") and "FETCH FIRST 1 ROWS ONLY" in probe.query
