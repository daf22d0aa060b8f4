"""The SQL of money shown: disputes (recorded from their webhooks and syncs, listed while open) and the read side of
the payouts table (what `status`, /metrics, the console and the payout-variance alert read). The payout job's own
reads and writes are in app/db/payout_repository.py; this module never writes a payout. The nightly payments check's
last findings are read from the reconciliation run that holds them (`last_payments_check`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.models import Dispute, PayoutSync, ReconciliationRun
from app.domain.alerts import PayoutVariance
from app.domain.disputes import NEEDS_RESPONSE, OPEN_STATUSES, DisputeState

# ---- disputes ------------------------------------------------------------------------------------------------

_STATE_FIELDS = tuple(f.name for f in fields(DisputeState))


def state_of(row: Dispute) -> DisputeState:
    return DisputeState(**{name: getattr(row, name) for name in _STATE_FIELDS})


def lock_dispute(session: Session, dispute_id: int) -> Dispute | None:
    """The dispute's row, locked until the transaction ends (two deliveries of one dispute apply one at a time)."""
    return session.scalars(select(Dispute).where(Dispute.dispute_id == dispute_id).with_for_update()).first()


def insert_dispute(session: Session, state: DisputeState) -> bool:
    """Record a dispute seen for the first time; False if another transaction recorded it first."""
    values = {name: getattr(state, name) for name in _STATE_FIELDS}
    stmt = insert(Dispute).values(**values).on_conflict_do_nothing(index_elements=[Dispute.dispute_id])
    return bool(session.execute(stmt.returning(Dispute.dispute_id)).first())


def overwrite_dispute(row: Dispute, state: DisputeState) -> None:
    for name in _STATE_FIELDS:
        setattr(row, name, getattr(state, name))
    row.recorded_at = func.now()


def list_disputes(session: Session, *, open_only: bool = False, limit: int = 50) -> list[Dispute]:
    """Open disputes by evidence due date (soonest first), or every dispute, most recently initiated first."""
    query = select(Dispute)
    if open_only:
        query = query.where(Dispute.status.in_(OPEN_STATUSES)).order_by(
            Dispute.evidence_due_by.asc().nulls_last(), Dispute.dispute_id
        )
    else:
        query = query.order_by(Dispute.initiated_at.desc().nulls_last(), Dispute.dispute_id.desc())
    return list(session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class DisputeFigures:
    by_status: dict[str, int]  # open statuses only, each present (0 when none)
    amount_open: dict[str, Decimal]  # currency -> Σ amount of open disputes
    next_evidence_due: datetime | None  # the soonest evidence deadline of a dispute that needs a response


def dispute_figures(session: Session) -> DisputeFigures:
    rows = session.execute(
        select(Dispute.status, Dispute.currency, func.count(), func.sum(Dispute.amount))
        .where(Dispute.status.in_(OPEN_STATUSES))
        .group_by(Dispute.status, Dispute.currency)
    ).all()
    by_status = dict.fromkeys(OPEN_STATUSES, 0)
    amount: dict[str, Decimal] = {}
    for status, currency, count, total in rows:
        by_status[status] += count
        amount[currency] = amount.get(currency, Decimal("0")) + total
    due = session.scalar(select(func.min(Dispute.evidence_due_by)).where(Dispute.status == NEEDS_RESPONSE))
    return DisputeFigures(by_status, dict(sorted(amount.items())), due)


# ---- payouts (read only) -------------------------------------------------------------------------------------

PAYOUT_STATES = ("waiting", "deposited", "reversed", "skipped", "failed")
UNMATCHED_STATES = ("waiting", "failed")  # no deposit in NetSuite yet: still owed to the books
# A variance still on the books: a reversed payout's deposit (variance line included) was reversed, a skipped one
# never posted.
_VARIANCE_ON_BOOKS = and_(PayoutSync.variance != 0, PayoutSync.state.not_in(("reversed", "skipped")))


@dataclass(frozen=True)
class StateFigures:
    count: int = 0
    oldest_issued_at: datetime | None = None


@dataclass(frozen=True)
class VarianceFigures:
    count: int = 0
    total: Decimal = Decimal("0")  # signed: positive = the bank got more than NetSuite's receipts
    oldest_issued_at: datetime | None = None


@dataclass(frozen=True)
class PayoutFigures:
    by_state: dict[str, StateFigures]  # every state of PAYOUT_STATES
    variance: dict[str, VarianceFigures] = field(default_factory=dict)  # currency -> payouts with a variance

    @property
    def oldest_unmatched(self) -> datetime | None:
        found = [self.by_state[s].oldest_issued_at for s in UNMATCHED_STATES if self.by_state[s].oldest_issued_at]
        return min(found, default=None)


def payout_figures(session: Session) -> PayoutFigures:
    by_state = dict.fromkeys(PAYOUT_STATES, StateFigures())
    rows = session.execute(
        select(PayoutSync.state, func.count(), func.min(PayoutSync.issued_at)).group_by(PayoutSync.state)
    ).all()
    for state, count, oldest in rows:
        by_state[state] = StateFigures(count, oldest)
    variance_rows = session.execute(
        select(PayoutSync.currency, func.count(), func.sum(PayoutSync.variance), func.min(PayoutSync.issued_at))
        .where(_VARIANCE_ON_BOOKS)
        .group_by(PayoutSync.currency)
        .order_by(PayoutSync.currency)
    ).all()
    variance = {currency: VarianceFigures(count, total, oldest) for currency, count, total, oldest in variance_rows}
    return PayoutFigures(by_state, variance)


def payouts_needing_attention(session: Session, limit: int = 20) -> list[PayoutSync]:
    """Payouts not deposited yet, reversed, or with a variance on the books: oldest issued first."""
    return list(
        session.scalars(
            select(PayoutSync)
            .where(or_(PayoutSync.state.in_((*UNMATCHED_STATES, "reversed")), _VARIANCE_ON_BOOKS))
            .order_by(PayoutSync.issued_at, PayoutSync.payout_id)
            .limit(limit)
        )
    )


def payout_variances(session: Session) -> list[PayoutVariance]:
    """Every payout with a variance still on the books (the payout-variance alert's figures)."""
    rows = session.execute(
        select(PayoutSync.payout_id, PayoutSync.variance, PayoutSync.currency)
        .where(_VARIANCE_ON_BOOKS)
        .order_by(PayoutSync.payout_id)
    ).all()
    return [PayoutVariance(payout_id, variance, currency) for payout_id, variance, currency in rows]


# ---- the nightly payments check ----------------------------------------------------------------------------


def last_payments_check(session: Session) -> tuple[datetime | None, dict | None]:
    """When the last finished (not dry) reconciliation ended and its `payments` section (None: no run yet, or one
    from before the check existed)."""
    run = session.scalars(
        select(ReconciliationRun)
        .where(ReconciliationRun.status == "done", ReconciliationRun.dry_run.is_(False))
        .order_by(ReconciliationRun.id.desc())
        .limit(1)
    ).first()
    if run is None:
        return None, None
    section = (run.report or {}).get("payments")
    return run.finished_at or run.started_at, section if isinstance(section, dict) and section else None
