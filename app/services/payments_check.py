"""Nightly: payments ↔ receipts. Per order and gateway, Σ NetSuite receipts − Σ customer refunds must equal Σ Shopify
successful sales + captures − refunds, to the cent (issue 13; the rule: app/services/payments.balance_gaps).

It rides on the orders check (app/services/orders_check.py), which already reads every Shopify order updated in the
window: the orders document carries each order's transactions (5 query points an order, shopify_client
order_documents.ORDER_TRANSACTION), so the Shopify side costs no call of its own, and each batch of orders costs one
SuiteQL read of its receipts by external id. Only with a payment model (PAYMENT_MODEL not none). What differs is
reported per order and gateway with the order's age, recorded as an alert row, kept on the reconciliation run's report
(`payments`) and shown by `shopsync status`, the ops API, the console and /metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db.models import SyncAlert
from app.domain.alerts import listing
from app.domain.money import SIDES
from app.domain.payments import Transaction, net_by_gateway, payload_transactions
from app.services.payments import balance_gaps
from netsuite_client import NetSuiteClient

log = logging.getLogger(__name__)

ALERT_KIND = "payments_check"
LANE = "reconcile"


@dataclass
class PaymentGap:
    order_id: int
    name: str | None
    gateway: str
    shopify: str  # Σ successful sales + captures − refunds through the gateway
    netsuite: str  # Σ receipts − customer refunds NetSuite holds for them
    difference: str  # NetSuite − Shopify
    age_hours: float | None  # since the order was created


@dataclass
class PaymentsCheckReport:
    orders_checked: int = 0
    orders_with_gap: int = 0
    gaps: list[PaymentGap] = field(default_factory=list)
    unread: list[int] = field(default_factory=list)  # orders read without their transactions (none expected)
    skipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PaymentsCheck:
    """Fed each batch of orders the orders check read (REST shape, with their `transactions`); `finish` alerts."""

    def __init__(self, netsuite: NetSuiteClient, settings: Settings, *, now: datetime | None = None) -> None:
        self.netsuite = netsuite
        self.side = SIDES[settings.order_money.order_currency]
        self.now = now or datetime.now(UTC)
        self.report = PaymentsCheckReport()

    def check_batch(self, orders: Sequence[Mapping[str, Any]]) -> None:
        shopify: dict[int, list[Transaction]] = {}
        for order in orders:
            found = payload_transactions(order, self.side)
            if found is None:
                self.report.unread.append(int(order["id"]))
            else:
                shopify[int(order["id"])] = found
        self.report.orders_checked += len(shopify)
        by_id = {int(order["id"]): order for order in orders}
        for order_id, gaps in balance_gaps(self.netsuite, shopify, lane=LANE).items():
            self.report.orders_with_gap += 1
            shopify_net = net_by_gateway(shopify[order_id])
            for gateway, difference in gaps.items():
                have = shopify_net.get(gateway, Decimal(0))
                self.report.gaps.append(
                    PaymentGap(
                        order_id=order_id,
                        name=by_id[order_id].get("name"),
                        gateway=gateway,
                        shopify=f"{have:.2f}",
                        netsuite=f"{have + difference:.2f}",
                        difference=f"{difference:.2f}",
                        age_hours=self._age(by_id[order_id].get("created_at")),
                    )
                )

    def finish(self, session: Session, *, dry_run: bool) -> PaymentsCheckReport:
        report = self.report
        log.info(
            "payments check: %d orders, %d with a gap (%d order/gateway pairs)",
            report.orders_checked,
            report.orders_with_gap,
            len(report.gaps),
        )
        if report.gaps and not dry_run:
            session.add(SyncAlert(kind=ALERT_KIND, message=_message(report)[:8000]))
        return report

    def _age(self, created_at: Any) -> float | None:
        try:
            created = datetime.fromisoformat(str(created_at).replace("Z", "+00:00"))
        except ValueError:
            return None
        if created.tzinfo is None:
            return None
        return round((self.now - created).total_seconds() / 3600, 1)


def _message(report: PaymentsCheckReport) -> str:
    return listing(
        f"payments check: {report.orders_with_gap} order(s) whose NetSuite receipts differ from Shopify's payments: ",
        [
            f"{g.name or g.order_id} {g.gateway}: Shopify {g.shopify} / NetSuite {g.netsuite} ({g.difference})"
            for g in report.gaps
        ],
    )


def not_run(settings: Settings) -> PaymentsCheckReport:
    """The report of a reconciliation without the check."""
    return PaymentsCheckReport(skipped=f"PAYMENT_MODEL={settings.payments.model}: no receipts to check")
