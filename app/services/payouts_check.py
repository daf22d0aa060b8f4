"""Nightly: every recent Shopify Payments payout against the deposit NetSuite holds for it.

Both sides are read from their systems of record, never from the payout job's own rows: Shopify's payouts (issued
in the last ORDERS_CHECK_DAYS) and NetSuite's deposit by external id with the total NetSuite computed. A PAID payout
must have a deposit of exactly its net (once its lag is over: before, a missing deposit is only "waiting"); a payout
that failed or was cancelled must have none; a withdrawal (net ≤ 0) has no deposit by design and is counted apart.
What differs is reported with its age, recorded as an alert row, and shown by status and /metrics.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import SyncAlert
from app.domain.alerts import listing
from app.domain.keys import payout_external_id
from app.domain.payouts import PAID, REVERSED_STATUSES
from netsuite_client import NetSuiteClient
from netsuite_client.errors import NotFoundError
from shopify_client import payments as shopify_payments
from shopify_client.client import ShopifyAdminClient

log = logging.getLogger(__name__)

ALERT_KIND = "payouts_check"
LANE = "reconcile"


@dataclass
class PayoutDifference:
    payout_id: str
    status: str
    issued_at: str
    age_hours: float
    shopify_net: str
    netsuite_total: str | None  # None: NetSuite holds no deposit for it
    problem: str  # missing | amount | deposit_of_failed_payout


@dataclass
class PayoutsCheckReport:
    payouts_checked: int = 0
    matched: int = 0
    waiting: int = 0  # PAID, no deposit yet, still within PAYOUT_LAG_HOURS
    withdrawals: int = 0
    differences: list[PayoutDifference] = field(default_factory=list)
    skipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_payouts(
    session: Session,
    netsuite: NetSuiteClient,
    shopify: ShopifyAdminClient,
    settings: Settings,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PayoutsCheckReport:
    report = PayoutsCheckReport()
    if settings.payments.payout_accounts is None:
        report.skipped = "payouts are not configured (PAYOUT_BANK_ACCOUNTS is empty)"
        return report
    now = now or datetime.now(UTC)
    since = (now - timedelta(days=settings.orders_check_days)).date()
    lag = timedelta(hours=settings.payments.payout_lag_hours)
    query = shopify_payments.payouts_search_query(issued_since=since)
    for payout, _cursor in shopify_payments.iter_payouts(shopify, query=query):
        report.payouts_checked += 1
        _check_one(netsuite, payout, now, lag, report)
    if report.differences and not dry_run:
        session.add(SyncAlert(kind=ALERT_KIND, message=_message(report)[:8000]))
    log.info(
        "payouts check: %d payouts, %d matched, %d waiting, %d differ",
        report.payouts_checked,
        report.matched,
        report.waiting,
        len(report.differences),
    )
    return report


def _check_one(
    netsuite: NetSuiteClient,
    payout: shopify_payments.Payout,
    now: datetime,
    lag: timedelta,
    report: PayoutsCheckReport,
) -> None:
    if payout.status not in (PAID, *REVERSED_STATUSES):
        return
    if payout.status == PAID and payout.net <= 0:
        report.withdrawals += 1
        return
    total = _deposit_total(netsuite, payout_external_id(payout.id))
    age = now - payout.issued_at
    problem = None
    if payout.status in REVERSED_STATUSES:
        problem = "deposit_of_failed_payout" if total is not None else None
    elif total is None:
        if age < lag:
            report.waiting += 1
            return
        problem = "missing"
    elif total != payout.net:
        problem = "amount"
    if problem is None:
        report.matched += 1
        return
    report.differences.append(
        PayoutDifference(
            payout_id=str(payout.id),
            status=payout.status,
            issued_at=payout.issued_at.isoformat(),
            age_hours=round(age.total_seconds() / 3600, 1),
            shopify_net=f"{payout.net} {payout.currency}",
            netsuite_total=None if total is None else str(total),
            problem=problem,
        )
    )


def _deposit_total(netsuite: NetSuiteClient, external_id: str) -> Decimal | None:
    try:
        return netsuite.get_deposit(external_id=external_id, lane=LANE).total
    except NotFoundError:
        return None


def _message(report: PayoutsCheckReport) -> str:
    return listing(
        f"payouts check: {len(report.differences)} difference(s): ",
        [
            f"payout {d.payout_id} ({d.status}, {d.age_hours} h): {d.problem}, Shopify {d.shopify_net}, "
            f"NetSuite {d.netsuite_total or 'no deposit'}"
            for d in report.differences
        ],
    )
