"""SuiteQL through the real client against the simulator over HTTP: every row exactly once, in order."""

from __future__ import annotations

import requests

from app.adapters.netsuite import get_netsuite
from netsuite_client import suiteql_in


def test_2500_rows_come_back_exactly_once_in_order(sim):
    items = [{"itemid": f"BULK-{n:05d}", "displayname": f"Bulk item {n}"} for n in range(2500)]
    requests.post(f"{sim}/_sim/items", json=items, timeout=30).raise_for_status()
    before = requests.get(f"{sim}/_sim/stats", timeout=5).json()["calls_by_operation"].get("POST suiteql", 0)

    rows = list(get_netsuite().suiteql("SELECT id, itemid FROM item WHERE itemid LIKE 'BULK-%' ORDER BY id"))

    assert [r["itemid"] for r in rows] == [i["itemid"] for i in items]
    ids = [int(r["id"]) for r in rows]
    assert ids == sorted(set(ids))
    after = requests.get(f"{sim}/_sim/stats", timeout=5).json()["calls_by_operation"]["POST suiteql"]
    assert after - before == 3  # pages of 1,000


def test_a_hostile_sku_is_a_literal_not_sql(sim):
    hostile = "X' OR '1'='1"
    rows = list(get_netsuite().suiteql(f"SELECT id FROM item WHERE itemid IN {suiteql_in([hostile])} ORDER BY id"))
    assert rows == []
    requests.post(f"{sim}/_sim/items", json=[{"itemid": hostile}], timeout=5).raise_for_status()
    rows = list(
        get_netsuite().suiteql(f"SELECT id, itemid FROM item WHERE itemid IN {suiteql_in([hostile])} ORDER BY id")
    )
    assert [r["itemid"] for r in rows] == [hostile]
