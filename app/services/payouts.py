"""Shopify Payments payouts → NetSuite bank deposits (issue 13; the rules are app/domain/payouts.py).

Shopify sends no payout webhook, so beat runs this job (and `shopsync payouts sync` runs it now). Each run reads the
payouts after the stored cursor, plus the ones it has not finished with and a recent window (a PAID payout can
fail days later), and for each: its balance transactions (every page, the TRANSFER row set apart), the NetSuite
receipts and refunds of its charges and refunds by external id, and whether NetSuite already holds its deposit.
The domain decides; this module posts, reverses or waits, reads the deposit back and records the outcome, one
payout per transaction so a crash loses nothing done. Re-running creates nothing twice: the deposit is an upsert on
the payout's external id, and a payout whose deposit NetSuite holds is compared, never posted again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.db import locks
from app.db import payout_repository as repo
from app.db.session import get_engine
from app.domain import payouts as domain
from app.domain.keys import payout_external_id, transaction_external_id
from netsuite_client import NetSuiteClient
from netsuite_client.errors import NetSuiteError, NotFoundError
from netsuite_client.payments import Deposit
from shopify_client import payments as shopify_payments
from shopify_client.client import ShopifyAdminClient

log = logging.getLogger(__name__)

LANE = "reconcile"  # NetSuite budget lane: a batch job, never ahead of live orders
RECHECK_DAYS = 14  # payouts issued this recently are read again: a PAID payout may fail 3–5 days later
REFUND_CODES = frozenset({"CustRfnd", "CashRfnd"})


@dataclass
class PayoutOutcome:
    payout_id: str
    status: str
    action: str  # post | wait | skip | reverse | manual | error
    reason: str
    net: str
    currency: str
    deposit_id: str | None = None
    deposit_total: str | None = None
    variance: str = "0.00"
    missing: int = 0
    suspense_types: list[str] = field(default_factory=list)


@dataclass
class PayoutRunReport:
    dry_run: bool
    payouts_read: int = 0
    posted: int = 0
    waiting: int = 0
    reversed: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    cursor: str | None = None
    not_run: str | None = None  # why the run did nothing (not configured, another run holds the lock)
    payouts: list[PayoutOutcome] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync_payouts(
    session: Session,
    shopify: ShopifyAdminClient,
    netsuite: NetSuiteClient,
    settings: Settings,
    *,
    since: date | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PayoutRunReport:
    """One run of the payout job. `since`: read payouts issued on or after that day instead of after the stored
    cursor (the cursor is left alone); `dry_run`: decide and report, write nothing anywhere."""
    report = PayoutRunReport(dry_run=dry_run)
    accounts = settings.payments.payout_accounts
    if accounts is None:
        report.not_run = "payouts are not configured (PAYOUT_BANK_ACCOUNTS is empty)"
        return report
    with get_engine().connect() as conn, locks.held_on_connection(conn, locks.PAYOUTS) as taken:
        if not taken:
            report.not_run = "another payout run is going on"
            return report
        _run(session, shopify, netsuite, settings, accounts, report, since, now or datetime.now(UTC))
    return report


def _run(
    session: Session,
    shopify: ShopifyAdminClient,
    netsuite: NetSuiteClient,
    settings: Settings,
    accounts: domain.PayoutAccounts,
    report: PayoutRunReport,
    since: date | None,
    now: datetime,
) -> None:
    new, cursors = _new_payouts(session, shopify, since)
    keep_cursor = since is None and not report.dry_run
    recheck = (now - timedelta(days=max(RECHECK_DAYS, settings.payments.payout_lag_hours // 24 + 2))).date()
    recent = [p for p, _ in shopify_payments.iter_payouts(shopify, query=_since_query(recheck))]
    payouts = {p.id: p for p in [*recent, *new]}
    known = repo.payouts_by_id(session, [str(pid) for pid in payouts])
    for payout_id in repo.open_payout_ids(session):
        if int(payout_id) not in payouts:
            log.warning("payout %s is open but Shopify no longer lists it in the recheck window", payout_id)
    report.payouts_read = len(payouts)
    for payout in sorted(payouts.values(), key=lambda p: (p.issued_at, p.id)):
        row = known.get(str(payout.id))
        if row is not None and row.state in repo.FINAL_STATES and row.shopify_status == payout.status:
            report.unchanged += 1
            continue
        outcome = _one_payout(session, shopify, netsuite, settings, accounts, payout, now, report.dry_run)
        report.payouts.append(outcome)
        _count(report, outcome)
        if keep_cursor and payout.id in cursors:
            repo.save_cursor(session, cursors[payout.id])  # a run cut short (time limit) resumes after it
        if not report.dry_run:
            session.commit()  # one payout at a time: what landed in NetSuite is recorded before the next
    if keep_cursor and new:
        repo.save_cursor(session, cursors[new[-1].id])  # the last one read, even if it needed nothing
        session.commit()
    report.cursor = cursors[new[-1].id] if new else None


def _new_payouts(
    session: Session, shopify: ShopifyAdminClient, since: date | None
) -> tuple[list[shopify_payments.Payout], dict[int, str]]:
    """Payouts after the stored cursor (or issued since a day), oldest first, and each one's cursor."""
    after = None if since is not None else repo.read_cursor(session)
    query = _since_query(since) if since is not None else None
    payouts, cursors = [], {}
    for payout, cursor in shopify_payments.iter_payouts(shopify, after, query=query):
        payouts.append(payout)
        cursors[payout.id] = cursor
    return payouts, cursors


def _since_query(day: date | None) -> str | None:
    return shopify_payments.payouts_search_query(issued_since=day) if day else None


def _count(report: PayoutRunReport, outcome: PayoutOutcome) -> None:
    field_name = {
        "post": "posted",
        "wait": "waiting",
        "reverse": "reversed",
        "error": "errors",
        "manual": "errors",
    }.get(outcome.action)
    setattr(report, field_name or "skipped", getattr(report, field_name or "skipped") + 1)


def _one_payout(
    session: Session,
    shopify: ShopifyAdminClient,
    netsuite: NetSuiteClient,
    settings: Settings,
    accounts: domain.PayoutAccounts,
    payout: shopify_payments.Payout,
    now: datetime,
    dry_run: bool,
) -> PayoutOutcome:
    plain = _domain_payout(payout)
    outcome = PayoutOutcome(str(payout.id), payout.status, "skip", "", str(payout.net), payout.currency)
    existing = _deposit(netsuite, payout_external_id(plain.id))
    rows: list[domain.BalanceTransaction] = []
    receipts: dict[str, domain.Receipt] = {}
    if payout.status == domain.PAID and existing is None:
        rows = [_domain_row(t) for t in shopify_payments.payout_balance_transactions(shopify, payout.id).transactions]
        receipts = _receipts(netsuite, rows, settings.netsuite_currency_map.get(payout.currency.upper()))
    past_lag = now - payout.issued_at >= timedelta(hours=settings.payments.payout_lag_hours)
    try:
        decision = domain.decide(plain, rows, receipts, accounts, past_lag=past_lag, deposited=existing is not None)
    except (domain.PayoutMismatch, ValueError) as exc:
        outcome.action, outcome.reason = "error", str(exc)
        _record(session, payout, "failed", outcome, dry_run)
        log.error("payout %s: %s", payout.id, exc)
        return outcome
    outcome.action, outcome.reason = decision.action, decision.reason
    outcome.missing = len(decision.missing)
    try:
        _carry_out(netsuite, settings, payout, decision, existing, outcome, dry_run)
    except NetSuiteError as exc:  # this payout fails and says why; the run goes on to the next one
        outcome.action, outcome.reason = "error", f"NetSuite refused the {decision.action}: {exc}"
        log.error("payout %s: %s", payout.id, outcome.reason)
    state = _state(decision.action, existing is not None, payout.status)
    _record(session, payout, state, outcome, dry_run, transactions=len(rows))
    return outcome


def _carry_out(
    netsuite: NetSuiteClient,
    settings: Settings,
    payout: shopify_payments.Payout,
    decision: domain.Decision,
    existing: Deposit | None,
    outcome: PayoutOutcome,
    dry_run: bool,
) -> None:
    if decision.action == "post" and decision.plan is not None:
        _post(netsuite, settings, payout, decision.plan, outcome, dry_run)
    elif decision.action == "reverse" and existing is not None:
        _reverse(netsuite, existing, outcome, dry_run)
    elif decision.action == "manual":
        log.error("payout %s: %s", payout.id, decision.reason)
    elif existing is not None:
        outcome.deposit_id, outcome.deposit_total = existing.id, str(existing.total)
        outcome.variance = str(payout.net - existing.total)


def _state(action: str, deposited: bool, status: str) -> str:
    if action == "post" or (action == "skip" and deposited and status == domain.PAID):
        return "deposited"
    if action == "reverse":
        return "reversed"
    if action == "wait":
        return "waiting"
    if action == "manual":
        return "failed"
    return "skipped"  # failed before any deposit, or not paid yet (re-read once its Shopify status moves)


def _post(
    netsuite: NetSuiteClient,
    settings: Settings,
    payout: shopify_payments.Payout,
    plan: domain.DepositPlan,
    outcome: PayoutOutcome,
    dry_run: bool,
) -> None:
    outcome.variance = str(plan.variance)
    outcome.suspense_types = list(plan.suspense_types)
    if plan.variance or plan.suspense_types:
        log.warning(
            "payout %s: variance %s %s, %d receipt(s) missing, unmapped types %s",
            payout.id,
            plan.variance,
            payout.currency,
            len(plan.missing),
            ",".join(plan.suspense_types) or "-",
        )
    if dry_run:
        outcome.deposit_total = str(plan.total())
        return
    netsuite.upsert_deposit(plan.external_id, deposit_body(plan, payout, settings), lane=LANE)
    deposit = netsuite.get_deposit(external_id=plan.external_id, lane=LANE)
    outcome.deposit_id, outcome.deposit_total = deposit.id, str(deposit.total)
    if deposit.total != payout.net:  # NetSuite's own total, not our plan's, is what the bank line must equal
        outcome.action, outcome.reason = "error", f"NetSuite's deposit total {deposit.total} != payout net {payout.net}"
        log.error("payout %s: %s", payout.id, outcome.reason)


def _reverse(netsuite: NetSuiteClient, existing: Deposit, outcome: PayoutOutcome, dry_run: bool) -> None:
    """The payout failed after its deposit was made: the money never reached the bank, so the deposit goes and its
    receipts return to Undeposited Funds for the payout Shopify retries with."""
    outcome.deposit_id = existing.id
    if not dry_run:
        netsuite.delete("deposit", existing.id, lane=LANE)
    log.error("payout %s %s after its deposit %s: deposit removed", outcome.payout_id, outcome.status, existing.id)


def deposit_body(plan: domain.DepositPlan, payout: shopify_payments.Payout, settings: Settings) -> dict[str, Any]:
    currency = settings.netsuite_currency_map.get(plan.currency.upper())
    lines: dict[str, list[dict[str, Any]]] = {"payment": [], "other": [], "cashback": []}
    for line in plan.lines:
        if line.sublist == "payment":
            lines["payment"].append({"id": int(str(line.receipt_id)), "deposit": True})
        else:
            lines[line.sublist].append({"account": {"id": line.account}, "amount": line.amount, "memo": line.memo})
    return {
        "account": {"id": plan.bank_account},
        **({"currency": {"id": currency}} if currency else {}),
        "tranDate": payout.issued_at.date().isoformat(),
        "memo": f"Shopify payout {payout.id}",
        **{name: {"items": items} for name, items in lines.items()},
    }


def _deposit(netsuite: NetSuiteClient, external_id: str) -> Deposit | None:
    try:
        return netsuite.get_deposit(external_id=external_id, lane=LANE)
    except NotFoundError:
        return None


def _receipts(
    netsuite: NetSuiteClient, rows: list[domain.BalanceTransaction], currency_id: str | None
) -> dict[str, domain.Receipt]:
    """Order transaction id -> what NetSuite holds for it, signed as it sits on a deposit (a refund negative). A
    receipt already deposited elsewhere cannot go on this deposit: it counts as missing (and shows as variance)."""
    wanted = {transaction_external_id(r.order_transaction_id): r.order_transaction_id for r in _keyed(rows)}
    found: dict[str, domain.Receipt] = {}
    for receipt in netsuite.receipts_by_external_ids(list(wanted), lane=LANE):
        if receipt.external_id not in wanted or receipt.undeposited is False:
            continue
        if currency_id is not None and receipt.currency is not None and str(receipt.currency) != currency_id:
            # NetSuite refuses a receipt in another currency on this bank's deposit: it counts as missing, and
            # after the lag its amount is on the variance line (an order paid in EUR, settled by Shopify in USD).
            continue
        amount = -abs(receipt.amount) if receipt.type in REFUND_CODES else receipt.amount
        found[str(wanted[receipt.external_id])] = domain.Receipt(receipt.id, amount)
    return found


def _keyed(rows: list[domain.BalanceTransaction]) -> Iterator[domain.BalanceTransaction]:
    return (r for r in rows if r.type in domain.RECEIPT_TYPES and r.order_transaction_id)


def _domain_payout(p: shopify_payments.Payout) -> domain.Payout:
    return domain.Payout(str(p.id), p.status, p.currency, p.net, p.issued_at.isoformat())


def _domain_row(t: shopify_payments.BalanceTransaction) -> domain.BalanceTransaction:
    txn = t.source_order_transaction_id
    return domain.BalanceTransaction(
        str(t.id),
        t.type,
        t.amount,
        t.fee,
        t.net,
        order_transaction_id=str(txn) if txn is not None else None,
        order_id=str(t.order_id) if t.order_id is not None else None,
    )


def _record(
    session: Session,
    payout: shopify_payments.Payout,
    state: str,
    outcome: PayoutOutcome,
    dry_run: bool,
    transactions: int = 0,
) -> None:
    if dry_run:
        return
    repo.record_payout(
        session,
        payout_id=str(payout.id),
        shopify_status=payout.status,
        currency=payout.currency,
        net=payout.net,
        issued_at=payout.issued_at,
        state="failed" if outcome.action == "error" else state,
        reason=outcome.reason,
        transactions=transactions,
        missing=outcome.missing,
        variance=Decimal(outcome.variance),
        suspense_types=outcome.suspense_types or None,
        deposit_external_id=payout_external_id(payout.id),
        deposit_netsuite_id=outcome.deposit_id,
    )
