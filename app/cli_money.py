"""`shopsync disputes list|sync` and the money lines of `shopsync status` (payouts, disputes, payment gaps), kept out of
app/cli.py, which registers them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

DISPUTE_COLUMNS = ["dispute_id", "order_id", "status", "type", "amount", "currency", "reason", "evidence_due_by"]


def _age(figures: dict[str, Any]) -> str:
    if not figures["count"]:
        return "0"
    return f"{figures['count']} (oldest issued {figures['oldest_issued_at']}, {figures['oldest_age_hours']} h ago)"


def status_lines(report: dict[str, Any]) -> list[str]:
    """The payouts and disputes part of `shopsync status` (report: app.services.status.collect)."""
    from app.cli import _table

    payouts, disputes = report["payouts"], report["disputes"]
    variance = payouts["variance"]
    by_currency = ", ".join(
        f"{c}: {v['count']} (sum {v['sum']}, oldest issued {v['oldest_issued_at']})"
        for c, v in variance["by_currency"].items()
    )
    lines = [
        f"payouts waiting for receipts: {_age(payouts['waiting'])}; failed to post: {_age(payouts['failed'])}",
        f"payouts with a variance: {variance['count']}" + (f" ({by_currency})" if by_currency else ""),
        f"payouts reversed: {payouts['reversed']['count']}",
    ]
    if payouts["attention"]:
        columns = ["payout_id", "state", "currency", "net", "variance", "missing", "issued_at", "reason"]
        lines.append(_table(payouts["attention"], columns))
    due = disputes["next_evidence_due_by"]
    lines.append(
        f"open disputes: {disputes['open']} ("
        + ", ".join(f"{k.lower()} {v}" for k, v in disputes["by_status"].items())
        + (f"; next evidence due {due}" if due else "")
        + ")"
    )
    if disputes["list"]:
        lines.append(_table(disputes["list"], DISPUTE_COLUMNS))
    return lines + _payment_lines(report.get("payments"))


PAYMENT_GAP_COLUMNS = ["order_id", "name", "gateway", "shopify", "netsuite", "difference", "age_hours"]


def _payment_lines(payments: dict[str, Any] | None) -> list[str]:
    """The last nightly payments ↔ receipts check: orders whose NetSuite receipts differ from Shopify's payments."""
    from app.cli import _table

    if not payments or payments.get("skipped"):
        return [f"payment gaps: not checked ({(payments or {}).get('skipped') or 'no data'})"]
    by_gateway = ", ".join(f"{g}: {v['count']} (sum {v['sum']})" for g, v in payments["by_gateway"].items())
    lines = [
        f"payment gaps (check of {payments['checked_at']}): {payments['orders_with_gap']} of "
        f"{payments['orders_checked']} orders"
        + (f" ({by_gateway}; oldest order {payments['oldest_age_hours']} h)" if by_gateway else "")
    ]
    if payments["gaps"]:
        lines.append(_table(payments["gaps"], PAYMENT_GAP_COLUMNS))
    return lines


@click.group()
def disputes() -> None:
    """Shopify Payments disputes: list what is recorded, sync from Shopify."""


@disputes.command("list")
@click.option("--all", "everything", is_flag=True, help="every dispute, not only the open ones")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def disputes_list(everything: bool, limit: int, as_json: bool) -> None:
    """Open disputes (needs response, under review), soonest evidence deadline first; --all for every one."""
    from app.cli import _settings, _table
    from app.db import money_repository
    from app.db.session import session_scope
    from app.services.money_status import dispute_view

    _settings()
    now = datetime.now(UTC)
    with session_scope() as session:
        rows = money_repository.list_disputes(session, open_only=not everything, limit=limit)
        views = [dispute_view(row, now) for row in rows]
    if as_json:
        click.echo(json.dumps(views, indent=2))
        return
    click.echo(_table(views, [*DISPUTE_COLUMNS, "due_in_hours"]))


@disputes.command("sync")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def disputes_sync(as_json: bool) -> None:
    """Read every dispute from Shopify and record it (what webhooks missed); an older word never wins."""
    from app.adapters.shopify import get_shopify
    from app.cli import _settings
    from app.db.session import session_scope
    from app.services.disputes import sync_disputes
    from shopify_client.errors import ShopifyError

    _settings()
    try:
        with session_scope() as session:
            report = sync_disputes(session, get_shopify())
    except ShopifyError as exc:  # ACCESS_DENIED names the scope to grant (docs/PERMISSIONS.md)
        raise click.ClickException(f"reading disputes from Shopify failed: {exc}") from None
    summary = {"read": report.read, **dict(sorted(report.outcomes.items())), "open": report.open}
    if as_json:
        click.echo(json.dumps(summary))
        return
    outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.outcomes.items())) or "nothing recorded"
    click.echo(f"disputes read: {report.read} ({outcomes}); open: {len(report.open)}")
