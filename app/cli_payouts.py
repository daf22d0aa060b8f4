"""`shopsync payouts`: the payout job now (what beat runs), and each payout with its deposit and variance."""

from __future__ import annotations

import json
from datetime import date, datetime

import click


@click.group()
def payouts() -> None:
    """Shopify Payments payouts and their NetSuite deposits."""


@payouts.command("sync")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="payouts issued on or after this day")
@click.option("--dry-run", is_flag=True, help="decide and print, write nothing to NetSuite or the database")
@click.option("--json", "as_json", is_flag=True)
def payouts_sync(since: datetime | None, dry_run: bool, as_json: bool) -> None:
    """Read new and unfinished payouts from Shopify and post, reverse or hold their deposits."""
    from app.adapters.netsuite import get_netsuite
    from app.adapters.shopify import get_shopify
    from app.cli import _settings
    from app.db.session import session_scope
    from app.logging_setup import configure_logging
    from app.services.payouts import sync_payouts

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)  # the job's warnings as every process writes them
    day: date | None = since.date() if since else None
    with session_scope() as session:
        report = sync_payouts(session, get_shopify(), get_netsuite(), settings, since=day, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
        return
    if report.not_run:
        click.echo(f"payouts: nothing done: {report.not_run}")
        return
    click.echo(
        f"payouts{' (dry run)' if dry_run else ''}: {report.payouts_read} read, {report.posted} posted, "
        f"{report.waiting} waiting, {report.reversed} reversed, {report.unchanged} unchanged, "
        f"{report.skipped} skipped, {report.errors} failed"
    )
    for p in report.payouts:
        click.echo(
            f"  {p.payout_id} {p.status} {p.net} {p.currency}: {p.action} ({p.reason})"
            + (f" deposit {p.deposit_id} = {p.deposit_total}" if p.deposit_id else "")
            + (f" variance {p.variance}" if p.variance not in ("0", "0.00") else "")
        )
    if report.errors:
        raise SystemExit(1)


@payouts.command("list")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def payouts_list(limit: int, as_json: bool) -> None:
    """The payouts the job has seen, newest first: status, deposit, variance, what it waits for."""
    from app.cli import _settings, _table
    from app.db.payout_repository import list_payouts
    from app.db.session import session_scope

    _settings()
    with session_scope() as session:
        rows = [
            {
                "payout": r.payout_id,
                "issued": r.issued_at.date().isoformat(),
                "shopify": r.shopify_status,
                "net": f"{r.net} {r.currency}",
                "state": r.state,
                "deposit": r.deposit_netsuite_id or "",
                "variance": r.variance,
                "missing": r.missing,
                "reason": r.reason,
            }
            for r in list_payouts(session, limit)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
    else:
        click.echo(
            _table(rows, ["payout", "issued", "shopify", "net", "state", "deposit", "variance", "missing", "reason"])
        )
