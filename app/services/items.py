"""SKU -> NetSuite item resolution through the map kept in PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.models import ItemMap
from app.logging_setup import correlation_id
from netsuite_client import NetSuiteClient, suiteql_in

log = logging.getLogger(__name__)


def _store(session: Session, pairs: Iterable[tuple[str, str]]) -> int:
    rows = [{"sku": sku, "netsuite_item_id": item_id} for sku, item_id in pairs]
    if not rows:
        return 0
    stmt = insert(ItemMap).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["sku"],
        set_={"netsuite_item_id": stmt.excluded.netsuite_item_id, "refreshed_at": stmt.excluded.refreshed_at},
    )
    session.execute(stmt)
    return len(rows)


# Built once (it runs for every order): the SKUs are an expanding parameter.
_MAPPED = select(ItemMap.sku, ItemMap.netsuite_item_id).where(ItemMap.sku.in_(bindparam("skus", expanding=True)))


def resolve_items(session: Session, client: NetSuiteClient, skus: list[str], sku_field: str) -> dict[str, str]:
    """Map each SKU to its NetSuite internal id: from the cached map, asking NetSuite only for SKUs it lacks
    (one SuiteQL query for all of them). SKUs NetSuite does not know are simply absent from the result."""
    known = dict(session.execute(_MAPPED, {"skus": skus}).tuples().all())
    missing = [sku for sku in skus if sku not in known]
    if missing:
        query = f"SELECT id, {sku_field} AS sku FROM item WHERE {sku_field} IN {suiteql_in(missing)} ORDER BY id"
        rows = client.suiteql(query, correlation_id=correlation_id.get())
        found = {row["sku"]: str(row["id"]) for row in rows if row.get("sku") in missing}
        _store(session, found.items())
        known.update(found)
    return known


def refresh_item_map(session: Session, client: NetSuiteClient, sku_field: str) -> int:
    """Full refresh: every active item's SKU, paged with a unique ORDER BY (id) and keyset conditions so the
    100,000-row SuiteQL ceiling is never reached."""
    total, last_id = 0, 0
    while True:
        query = (
            f"SELECT id, {sku_field} AS sku FROM item WHERE isinactive = 'F' AND id > {int(last_id)} "
            "ORDER BY id FETCH FIRST 50000 ROWS ONLY"
        )
        rows = list(client.suiteql(query, lane="reconcile"))
        if not rows:
            return total
        total += _store(session, ((r["sku"], str(r["id"])) for r in rows if r.get("sku")))
        last_id = max(int(r["id"]) for r in rows)
