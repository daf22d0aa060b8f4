"""The nightly orders check: every Shopify order of the window against what NetSuite itself reports.

For each batch of orders, three SuiteQL reads (paged by the client) answer for all of them at once: the sales
orders with NetSuite's computed totals, their item fulfillments, and the credit memos of their refunds; the lines
of the orders whose totals differ are read once more so the alert can say which line. A missing sales order,
fulfillment or credit memo is healed through the live path (an event on its queue, processed like the webhook
that never came); a figure that differs is an alert with its diff, never overwritten.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import SyncAlert
from app.domain.errors import SchemaError
from app.domain.money import SIDES
from app.domain.orders_check import (
    Difference,
    Expected,
    NetSuiteOrder,
    differences,
    expected,
    missing_refunds,
    money_of,
)
from app.services.backfill import publish_order_event, store_document_event, store_order_event
from app.services.payloads import load_payload
from app.services.payments_check import PaymentsCheck
from netsuite_client import NetSuiteClient, suiteql_in
from schemas.shopify import RefundSchema
from shopify_client.client import ShopifyAdminClient
from shopify_client.orders import iter_orders_updated_between

log = logging.getLogger(__name__)

BATCH = 200  # orders per round of SuiteQL reads (an IN list of 200 external ids)
LANE = "reconcile"
ALERT_KIND = "orders_mismatch"


@dataclass
class OrdersCheckReport:
    orders_checked: int = 0
    missing: list[int] = field(default_factory=list)
    healed: int = 0
    documents_healed: int = 0
    total_mismatches: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_orders(
    session: Session,
    netsuite: NetSuiteClient,
    shopify: ShopifyAdminClient,
    settings: Settings,
    *,
    days: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    payments: PaymentsCheck | None = None,
) -> OrdersCheckReport:
    """Every Shopify order updated in the last `days` (ORDERS_CHECK_DAYS) against NetSuite's own figures.
    `payments`: the nightly payments check, handed each batch of orders read (with their transactions)."""
    now = now or datetime.now(UTC)
    window = days if days is not None else settings.orders_check_days
    report = OrdersCheckReport()
    batch: list[dict[str, Any]] = []
    for order in iter_orders_updated_between(shopify, now - timedelta(days=window), now):
        report.orders_checked += 1
        batch.append(order)
        if len(batch) == BATCH:
            _check_batch(netsuite, settings, batch, report, dry_run, payments)
            batch = []
    if batch:
        _check_batch(netsuite, settings, batch, report, dry_run, payments)
    _report(session, report, dry_run)
    return report


def _check_batch(
    netsuite: NetSuiteClient,
    settings: Settings,
    orders: Sequence[dict[str, Any]],
    report: OrdersCheckReport,
    dry_run: bool,
    payments: PaymentsCheck | None = None,
) -> None:
    if payments is not None:
        payments.check_batch(orders)
    side = SIDES[settings.order_money.order_currency]
    readable, wanted = [], []
    for order in orders:
        try:
            wanted.append(_expected(order, side))
        except SchemaError as exc:  # the live path dead-letters the same refund: an alert, not a crashed check
            report.total_mismatches.append(
                Difference(int(order["id"]), order.get("name"), "refund", "unreadable", "-", str(exc)[:500]).as_dict()
            )
            continue
        readable.append(order)
    found = read_netsuite_orders(netsuite, wanted)
    for order, want in zip(readable, wanted, strict=True):
        have = found.get(want.sales_order)
        if have is None:
            report.missing.append(want.order_id)
            if not dry_run and _heal_order(order, settings):
                report.healed += 1
            continue
        report.total_mismatches += [d.as_dict() for d in differences(want, have)]
        if not dry_run:
            report.documents_healed += _heal_documents(want, have, settings)


def _expected(order: dict[str, Any], side: str) -> Expected:
    """What NetSuite must hold for the order, its refunds read as the lifecycle reads a refunds/create payload (the
    credit memo amounts are then the ones the lifecycle books: one rule, app/domain/shopify_events.refund_event)."""
    refunds = [
        load_payload(RefundSchema(), refund, f"refund {refund.get('id')} of order {order['id']} read from Shopify")
        for refund in order.get("refunds") or ()
    ]
    return expected(order, side, refunds=refunds)


def read_netsuite_orders(netsuite: NetSuiteClient, wanted: Sequence[Expected]) -> dict[str, NetSuiteOrder]:
    """NetSuite's own figures for a batch of orders, by sales order external id (absent: no sales order)."""
    if not wanted:
        return {}
    orders = {
        row["externalid"]: row
        for row in netsuite.suiteql(
            "SELECT id, externalid, foreigntotal FROM transaction WHERE recordtype = 'salesorder' AND externalid IN "
            f"{suiteql_in(w.sales_order for w in wanted)} ORDER BY id",
            lane=LANE,
        )
    }
    ids = [str(row["id"]) for row in orders.values()]
    shipped = _count_by(
        _rows(netsuite, "SELECT id, createdfrom FROM transaction", "itemfulfillment", "createdfrom", ids)
    )
    refund_ids = [eid for w in wanted for eid in w.refunds]
    memos = {
        row["externalid"]: money_of(row.get("foreigntotal"))
        for row in _rows(
            netsuite, "SELECT id, externalid, foreigntotal FROM transaction", "creditmemo", "externalid", refund_ids
        )
    }
    result = {}
    for want in wanted:
        row = orders.get(want.sales_order)
        if row is None:
            continue
        result[want.sales_order] = NetSuiteOrder(
            internal_id=str(row["id"]),
            total=money_of(row.get("foreigntotal")),
            fulfillments=shipped.get(str(row["id"]), 0),
            credit_memos={eid: memos[eid] for eid in want.refunds if eid in memos},
        )
    return _with_lines(netsuite, wanted, result)


def _rows(
    netsuite: NetSuiteClient, select: str, record_type: str, column: str, values: Sequence[str]
) -> Iterable[dict]:
    if not values:
        return []
    return netsuite.suiteql(
        f"{select} WHERE recordtype = '{record_type}' AND {column} IN {suiteql_in(values)} ORDER BY id", lane=LANE
    )


def _count_by(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        key = str(row.get("createdfrom"))
        counts[key] = counts.get(key, 0) + 1
    return counts


def _with_lines(
    netsuite: NetSuiteClient, wanted: Sequence[Expected], found: dict[str, NetSuiteOrder]
) -> dict[str, NetSuiteOrder]:
    """The lines of the sales orders whose totals differ, so the alert can name the line (one more read)."""
    totals = {want.sales_order: want.total for want in wanted}
    differing = {have.internal_id: eid for eid, have in found.items() if have.total != totals[eid]}
    if not differing:
        return found
    lines: dict[str, list[dict[str, Any]]] = {}
    for row in netsuite.suiteql(
        "SELECT transaction, linesequencenumber, item, quantity, foreignamount, custcol_shopify_line_id "
        f"FROM transactionline WHERE mainline = 'F' AND taxline = 'F' AND transaction IN {suiteql_in(differing)} "
        "ORDER BY transaction, linesequencenumber",
        lane=LANE,
    ):
        lines.setdefault(str(row["transaction"]), []).append(row)
    for internal_id, eid in differing.items():
        have = found[eid]
        found[eid] = replace(have, lines=tuple(lines.get(internal_id, ())))
    return found


def _heal_order(order: dict[str, Any], settings: Settings) -> bool:
    event_id = store_order_event(order, settings)
    return event_id is not None and publish_order_event(event_id, queue="orders")


def _heal_documents(want: Expected, have: NetSuiteOrder, settings: Settings) -> int:
    """Fulfillments and refunds NetSuite lacks go through the live path, as their webhooks would have."""
    healed = 0
    if have.fulfillments < len(want.fulfillments):
        # Which shipment is missing is the lifecycle's to decide: it skips those it already has (by external id).
        for fulfillment in want.fulfillments:
            healed += _heal("fulfillments/create", "fulfillments", fulfillment, settings)
    for eid in missing_refunds(want, have):
        healed += _heal("refunds/create", "refunds", want.refund_payloads[eid], settings)
    return healed


def _heal(topic: str, queue: str, payload: dict[str, Any], settings: Settings) -> int:
    event_id = store_document_event(topic, payload, settings)
    return int(event_id is not None and publish_order_event(event_id, queue=queue))


def _report(session: Session, report: OrdersCheckReport, dry_run: bool) -> None:
    if report.missing:
        log.warning("orders check: %d order(s) missing in NetSuite, %d re-enqueued", len(report.missing), report.healed)
    if not report.total_mismatches:
        return
    log.warning("orders check: %d difference(s) with NetSuite's own figures", len(report.total_mismatches))
    if dry_run:
        return
    lines = [
        f"{d['name'] or d['order_id']}: {d['kind']} Shopify {d['shopify']} / NetSuite {d['netsuite']}"
        + (f" ({d['detail']})" if d["detail"] else "")
        for d in report.total_mismatches[:20]
    ]
    more = len(report.total_mismatches) - len(lines)
    message = f"orders check: {len(report.total_mismatches)} difference(s) with NetSuite: " + "; ".join(lines)
    session.add(SyncAlert(kind=ALERT_KIND, message=(message + (f"; and {more} more" if more > 0 else ""))[:8000]))


__all__ = ["Difference", "OrdersCheckReport", "check_orders", "read_netsuite_orders"]
