"""Where alert conditions come from: one source per part of the service, each a function of a `SourceContext`
that returns the `Observation`s it can vouch for (app/domain/alerts.py decides what fires).

This is the generic condition interface: a flow that wants a person paged adds one source to `SOURCES`, reading
its own state and handing the figures to a pure builder in app/domain/alerts.py (`payout_variance` below: the
payouts table's variances, keyed `payout_variance:<payout id>`). A source that cannot look (Redis down for the
credentials result, a check never run) yields nothing for its scope, so its open alerts are neither re-sent nor
resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.adapters.redis_client import get_redis
from app.config import Settings
from app.db import alert_repository as repo
from app.db.money_repository import payout_variances
from app.db.payout_repository import payouts_needing_a_person
from app.domain.alerts import (
    Observation,
    credentials_observation,
    dlq_observation,
    governance_observation,
    payout_attention_observation,
    payout_variance_observation,
    reconciliation_observation,
    schema_drift_observation,
    stuck_orders_observation,
)
from app.services.checks import STUCK_AFTER, governance_give_ups, stuck_orders
from app.services.credentials import last_result


@dataclass(frozen=True)
class SourceContext:
    session: Session
    settings: Settings
    now: datetime


Source = Callable[[SourceContext], Iterable[Observation]]


def dlq(ctx: SourceContext) -> Iterator[Observation]:
    open_count, oldest, by_queue = repo.dlq_summary(ctx.session)
    alerts = ctx.settings.alerts
    yield dlq_observation(
        open_count,
        oldest,
        by_queue,
        ctx.now,
        depth_threshold=alerts.dlq_depth,
        max_age=timedelta(hours=alerts.dlq_age_hours),
    )


def reconciliation(ctx: SourceContext) -> Iterator[Observation]:
    run = repo.last_inventory_run(ctx.session)
    if run is None:
        yield reconciliation_observation(None, None, None, None)
    else:
        yield reconciliation_observation(run.id, run.kind, run.run_date.date(), run.alert)


def credentials(ctx: SourceContext) -> Iterator[Observation]:
    checked = last_result(get_redis())
    if not checked:
        return  # never checked (or Redis lost it): nothing to say either way
    for system in ("netsuite", "shopify"):
        observation = credentials_observation(
            system, checked.get(system), (checked.get("missing") or {}).get(system, [])
        )
        if observation is not None:
            yield observation


def stuck(ctx: SourceContext) -> Iterator[Observation]:
    yield stuck_orders_observation(stuck_orders(ctx.session, ctx.now), STUCK_AFTER)


def governance(ctx: SourceContext) -> Iterator[Observation]:
    yield governance_observation(governance_give_ups(ctx.session, ctx.now))


def schema_drift(ctx: SourceContext) -> Iterator[Observation]:
    window = timedelta(hours=ctx.settings.alerts.drift_window_hours)
    yield schema_drift_observation(repo.drift_since(ctx.session, ctx.now - window), window)


def payout_variance(ctx: SourceContext) -> Iterator[Observation]:
    """Each payout whose deposit carries a variance line (not reversed, not skipped): one episode per payout, open
    while the payouts table holds the variance."""
    yield payout_variance_observation(payout_variances(ctx.session))


def payout_attention(ctx: SourceContext) -> Iterator[Observation]:
    """Payouts a person must look at: unmapped transaction types posted to suspense, a deposit the job cannot post,
    a deposit reversed after Shopify's payout failed (docs/RUNBOOK.md "Payout failed to post, or reversed")."""
    yield payout_attention_observation(payouts_needing_a_person(ctx.session))


SOURCES: tuple[Source, ...] = (
    dlq,
    reconciliation,
    credentials,
    stuck,
    governance,
    schema_drift,
    payout_variance,
    payout_attention,
)
