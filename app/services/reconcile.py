"""Nightly inventory reconciliation: both snapshots streamed, diffed per (SKU, location) with a tolerance per SKU
class, Shopify corrected from NetSuite (never the reverse), every run stored with its diffs, spikes alerted."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import locks
from app.db.models import OrderLine, OrderState, ReconciliationDiff, ReconciliationRun, SyncAlert
from app.db.session import get_engine
from app.domain.inventory import Target
from app.domain.reconciliation import CORRECT, Diff, bundle_levels, diff_inventory, spike, tolerance_by_class
from app.services.inventory import inventory_item_map, set_targets
from app.services.orders_check import OrdersCheckReport, check_orders
from app.services.payments_check import PaymentsCheck, not_run
from app.services.payouts_check import check_payouts
from netsuite_client import NetSuiteClient
from shopify_client.client import ShopifyAdminClient

log = logging.getLogger(__name__)

# One SuiteQL page per query, keyset-paged on (item, location): each query resumes after the last row seen,
# so no page re-reads what came before (as offset paging would) and no query nears the 100,000-row ceiling.
CHUNK = 1000


@dataclass
class ReconcileReport:
    run_id: int | None
    run_date: str
    dry_run: bool
    skus_compared: int = 0
    diffs_found: int = 0
    corrections_applied: int = 0
    within_tolerance: int = 0
    missing_in_shopify: int = 0
    missing_in_netsuite: int = 0
    shopify_calls: int = 0
    orders_checked: int = 0
    orders_missing: list[int] = field(default_factory=list)
    orders_healed: int = 0
    total_mismatches: list[dict[str, Any]] = field(default_factory=list)
    alert: str | None = None
    skipped: str | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase
    payouts: dict[str, Any] = field(default_factory=dict)  # the payouts check (app/services/payouts_check.py)
    payments: dict[str, Any] = field(default_factory=dict)  # payments ↔ receipts (app/services/payments_check.py)
    diffs: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def netsuite_snapshot(client: NetSuiteClient, settings: Settings) -> Iterator[tuple[str, str, int]]:
    """(SKU, NetSuite location, available) for every item location, streamed in keyset chunks."""
    column = settings.netsuite_item_sku_field
    last_item, last_location = 0, 0
    while True:
        query = (
            f"SELECT iil.item AS item, iil.location AS location, i.{column} AS sku, "
            "iil.quantityavailable AS available FROM InventoryItemLocations iil JOIN item i ON i.id = iil.item "
            f"WHERE iil.item > {int(last_item)} "
            f"OR (iil.item = {int(last_item)} AND iil.location > {int(last_location)}) "
            f"ORDER BY iil.item, iil.location FETCH FIRST {CHUNK} ROWS ONLY"
        )
        rows = 0
        for row in client.suiteql(query, lane="reconcile"):
            rows += 1
            last_item, last_location = int(row["item"]), int(row["location"])
            if row.get("sku"):
                yield row["sku"], str(row["location"]), int(float(row.get("available") or 0))
        if rows < CHUNK:
            return


def sales_velocity(session: Session, days: int = 30) -> dict[str, float]:
    """Units per day sold per SKU over the last `days`, from the orders this service synced."""
    since = datetime.now(UTC) - timedelta(days=days)
    rows = session.execute(
        select(OrderLine.sku, func.sum(OrderLine.ordered))
        .join(OrderState, OrderState.shopify_order_id == OrderLine.shopify_order_id)
        .where(OrderState.created_at >= since)
        .group_by(OrderLine.sku)
    ).all()
    return {sku: float(units) / days for sku, units in rows}


def reconcile_inventory(
    session: Session,
    netsuite: NetSuiteClient,
    shopify: ShopifyAdminClient,
    settings: Settings,
    *,
    dry_run: bool = False,
    scheduled: bool = False,
    run_date: date | None = None,
) -> ReconcileReport:
    run_date = run_date or datetime.now(UTC).date()
    report = ReconcileReport(run_id=None, run_date=run_date.isoformat(), dry_run=dry_run)
    started = datetime.combine(run_date, datetime.min.time(), tzinfo=UTC)
    # One reconciliation at a time, whoever started it (two beats by mistake, a manual run during the nightly).
    # The lock lives on a connection of its own: the run commits as it goes, which hands the session's
    # connection back to the pool, and a session-level lock must be released where it was taken.
    with get_engine().connect() as conn, locks.held_on_connection(conn, locks.RECONCILIATION) as taken:
        if not taken:
            report.skipped = "another reconciliation is running"
            return report
        return _reconcile_locked(session, netsuite, shopify, settings, report, started, run_date, dry_run, scheduled)


def _claim_run(session: Session, started: datetime, dry_run: bool, scheduled: bool) -> int | None:
    """The run row: a new one, or tonight's scheduled run that was killed mid-way (taken over: its corrections
    that landed are not sent again). None if tonight's scheduled run already finished."""
    if scheduled:
        existing = session.execute(
            select(ReconciliationRun).where(
                ReconciliationRun.kind == "inventory",
                ReconciliationRun.trigger == "scheduled",
                ReconciliationRun.run_date == started,
            )
        ).scalar_one_or_none()
        if existing is not None:
            if existing.status == "done":
                return None
            session.execute(delete(ReconciliationDiff).where(ReconciliationDiff.run_id == existing.id))
            existing.status = "running"
            return existing.id
    run = ReconciliationRun(
        kind="inventory",
        trigger="scheduled" if scheduled else "manual",
        run_date=started,
        dry_run=dry_run,
        status="running",
    )
    session.add(run)
    session.flush()
    return run.id


def _reconcile_locked(
    session: Session,
    netsuite: NetSuiteClient,
    shopify: ShopifyAdminClient,
    settings: Settings,
    report: ReconcileReport,
    started: datetime,
    run_date: date,
    dry_run: bool,
    scheduled: bool,
) -> ReconcileReport:
    run_id = _claim_run(session, started, dry_run, scheduled)
    if run_id is None:
        report.skipped = f"the scheduled inventory reconciliation of {run_date} already ran"
        return report
    session.commit()  # the run is visible (and claimed) while it works
    report.run_id = run_id
    lap = _Laps(report.timings)

    to_shopify = dict(settings.location_map)  # shopify location -> netsuite location
    netsuite_levels = _netsuite_levels(netsuite, settings, to_shopify)
    lap("netsuite_read")
    shopify_levels, item_ids = _shopify_levels(shopify, to_shopify)
    lap("shopify_read")
    report.skus_compared = len({sku for sku, _ in netsuite_levels} | {sku for sku, _ in shopify_levels})
    diffs = _diff(session, settings, report, netsuite_levels, shopify_levels)
    lap("diff")
    corrections = [d for d in diffs if d.action == CORRECT]
    if corrections and not dry_run:
        _correct(session, shopify, report, corrections, item_ids, run_date)
    lap("corrections")
    _record_diffs(session, run_id, diffs, dry_run)
    _alert_on_spike(session, settings, report, run_id, run_date)
    report.diffs = [asdict(d) for d in diffs[:200]]
    lap("record_diffs")
    payments = PaymentsCheck(netsuite, settings) if settings.payments.enabled else None
    orders = check_orders(session, netsuite, shopify, settings, dry_run=dry_run, payments=payments)
    lap("orders_check")  # the payments check's reads included: it rides on the orders check's batches
    report.payments = (payments.finish(session, dry_run=dry_run) if payments else not_run(settings)).as_dict()
    report.payouts = check_payouts(session, netsuite, shopify, settings, dry_run=dry_run).as_dict()
    lap("payouts_check")
    _finish_run(session, run_id, report, orders)
    log.info(
        "inventory reconciliation %s: %d SKUs, %d diffs, %d corrected",
        run_date,
        report.skus_compared,
        report.diffs_found,
        report.corrections_applied,
    )
    return report


class _Laps:
    """Seconds per phase into a run's timings, each phase timed from the end of the one before."""

    def __init__(self, timings: dict[str, float]) -> None:
        self._timings = timings
        self._clock = time.monotonic()

    def __call__(self, name: str) -> None:
        now = time.monotonic()
        self._timings[name] = round(now - self._clock, 2)
        self._clock = now


def _netsuite_levels(
    netsuite: NetSuiteClient, settings: Settings, to_shopify: dict[int, str]
) -> dict[tuple[str, int], int]:
    """(SKU, Shopify location) -> NetSuite's available quantity (never negative), bundles derived."""
    from_netsuite = {ns: sh for sh, ns in to_shopify.items()}
    levels: dict[tuple[str, int], int] = {}
    for sku, ns_location, available in netsuite_snapshot(netsuite, settings):
        location = from_netsuite.get(ns_location)
        if location is not None:
            levels[(sku, location)] = max(0, available)
    # Bundles exist only in Shopify: their availability is derived from the NetSuite components, here, in the
    # nightly batch (the live push never sees them: NetSuite has no such item).
    levels.update(bundle_levels(settings.bundles, levels, to_shopify))
    return levels


def _shopify_levels(
    shopify: ShopifyAdminClient, to_shopify: dict[int, str]
) -> tuple[dict[tuple[str, int], int], dict[str, int]]:
    """(SKU, location) -> Shopify's available quantity at the mapped locations, and SKU -> inventory item id."""
    from shopify_client.inventory import iter_levels_bulk

    levels: dict[tuple[str, int], int] = {}
    item_ids: dict[str, int] = {}
    # A bulk operation: Shopify runs the whole read as one job and hands back a JSONL file. Cursor paging the same
    # 100,000 items x 3 locations would cost over a million points, hours at a standard plan's restore rate.
    for level in iter_levels_bulk(shopify, poll_interval=0.5):
        if level.sku and level.location_id in to_shopify:
            levels[(level.sku, level.location_id)] = level.available
            item_ids[level.sku] = level.inventory_item_id
    return levels, item_ids


def _diff(
    session: Session,
    settings: Settings,
    report: ReconcileReport,
    netsuite_levels: dict[tuple[str, int], int],
    shopify_levels: dict[tuple[str, int], int],
) -> list[Diff]:
    """The diffs under each SKU's tolerance (its class from settings or sales velocity), counted on the report."""
    tolerance = tolerance_by_class(
        dict(settings.reconcile_sku_classes),
        sales_velocity(session),
        high=settings.reconcile_tolerance_high,
        low=settings.reconcile_tolerance_low,
        high_velocity=settings.reconcile_high_velocity_per_day,
    )
    diffs = diff_inventory(netsuite_levels, shopify_levels, tolerance)
    report.diffs_found = len(diffs)
    report.within_tolerance = sum(1 for d in diffs if d.action == "within_tolerance")
    report.missing_in_shopify = sum(1 for d in diffs if d.action == "missing_in_shopify")
    report.missing_in_netsuite = sum(1 for d in diffs if d.action == "missing_in_netsuite")
    return diffs


def _correct(
    session: Session,
    shopify: ShopifyAdminClient,
    report: ReconcileReport,
    corrections: list[Diff],
    item_ids: dict[str, int],
    run_date: date,
) -> None:
    """Set Shopify to NetSuite's quantity for every correction whose SKU Shopify knows."""
    if missing := {d.sku for d in corrections} - set(item_ids):
        item_ids.update(inventory_item_map(session, shopify, missing))
    targets = [Target(d.sku, item_ids[d.sku], d.location_id, d.netsuite) for d in corrections if d.sku in item_ids]
    # Keys from (SKU, location, run date, target): a re-run the same night, or a restart after a crash,
    # sends nothing that already landed (Shopify already shows it) and replays what was in flight.
    known = {(item_ids[d.sku], d.location_id): d.shopify for d in corrections if d.sku in item_ids}
    outcome = set_targets(shopify, targets, f"reconcile:{run_date.isoformat()}", known=known)
    report.corrections_applied = outcome.pushed
    report.shopify_calls = outcome.calls


def _record_diffs(session: Session, run_id: int, diffs: list[Diff], dry_run: bool) -> None:
    session.add_all(
        ReconciliationDiff(
            run_id=run_id,
            sku=d.sku,
            shopify_location_id=d.location_id,
            netsuite_quantity=d.netsuite,
            shopify_quantity=d.shopify,
            tolerance=d.tolerance,
            action="would_correct" if dry_run and d.action == CORRECT else d.action,
        )
        for d in diffs
    )


def _alert_on_spike(session: Session, settings: Settings, report: ReconcileReport, run_id: int, run_date: date) -> None:
    """Alert when this run's diff count is far above the last 14 finished runs' (or above the absolute bound)."""
    history = session.scalars(
        select(ReconciliationRun.diffs_found)
        .where(
            ReconciliationRun.kind == "inventory", ReconciliationRun.status == "done", ReconciliationRun.id != run_id
        )
        .order_by(ReconciliationRun.id.desc())
        .limit(14)
    ).all()
    report.alert = spike(
        report.diffs_found,
        list(reversed(history)),
        factor=settings.reconcile_spike_factor,
        absolute=settings.reconcile_spike_absolute,
    )
    if report.alert:
        session.add(
            SyncAlert(kind="reconciliation_spike", message=f"inventory reconciliation {run_date}: {report.alert}")
        )
        log.error("reconciliation spike: %s", report.alert)


def _finish_run(session: Session, run_id: int, report: ReconcileReport, orders: OrdersCheckReport) -> None:
    """The orders check onto the report, and the run row marked done with the report's figures."""
    report.orders_checked, report.orders_missing = orders.orders_checked, orders.missing
    report.orders_healed, report.total_mismatches = orders.healed, orders.total_mismatches
    run = session.get(ReconciliationRun, run_id)
    run.orders_checked = orders.orders_checked
    run.orders_healed = orders.healed
    run.mismatches = len(orders.total_mismatches)
    run.status = "done"
    run.finished_at = datetime.now(UTC)
    run.skus_compared = report.skus_compared
    run.diffs_found = report.diffs_found
    run.corrections_applied = report.corrections_applied
    run.alert = report.alert
    run.report = {k: v for k, v in report.as_dict().items() if k != "diffs"}
