"""`shopsync` command line: database, dead letters, maintenance, alerts (disputes: cli_money, payouts: cli_payouts)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from app.cli_money import disputes, status_lines
from app.cli_payouts import payouts
from app.config import ConfigError, get_settings


def _settings():
    try:
        return get_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    widths = {c: min(w, 60) for c, w in widths.items()}
    head = "  ".join(c.upper().ljust(widths[c]) for c in columns)
    lines = [head, "  ".join("-" * widths[c] for c in columns)]
    for r in rows:
        lines.append("  ".join(str(r.get(c, ""))[: widths[c]].ljust(widths[c]) for c in columns))
    return "\n".join(lines)


@click.group()
def main() -> None:
    """Shopify -> NetSuite sync service."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create the database if it is missing and apply migrations."""
    from app.db.migrate import upgrade

    settings = _settings()
    created = upgrade(settings.sqlalchemy_url, revision)
    click.echo(("created database; " if created else "") + f"schema at {revision}")


@main.group()
def dlq() -> None:
    """Dead-letter queue: list, show, requeue, purge, rebuild, audit."""


@dlq.command("list")
@click.option("--status", default="open", show_default=True, help="open | requeued | all")
@click.option("--limit", default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def dlq_list(status: str, limit: int, as_json: bool) -> None:
    from app.services import dlq as svc

    _settings()
    rows = svc.list_entries(status=None if status == "all" else status, limit=limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    click.echo(
        _table(
            rows,
            [
                "dead_letter_id",
                "status",
                "category",
                "error_code",
                "topic",
                "event_id",
                "attempts",
                "last_failed_at",
                "error_message",
            ],
        )
    )


@dlq.command("show")
@click.argument("dead_letter_id", type=int)
def dlq_show(dead_letter_id: int) -> None:
    from app.services import dlq as svc

    _settings()
    entry = svc.get_entry(dead_letter_id)
    if entry is None:
        raise click.ClickException(f"no dead letter {dead_letter_id}")
    click.echo(json.dumps(entry, indent=2, default=str))


def _age(value: str | None) -> timedelta | None:
    if not value:
        return None
    units = {"m": 60, "h": 3600, "d": 86400}
    number, unit = value[:-1], value[-1:].lower()
    if unit not in units or not number.isdigit():
        raise click.BadParameter(f"{value!r}: use a number and m, h or d (e.g. 7d)")
    return timedelta(seconds=int(number) * units[unit])


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _selection(dead_letter_id, category, error_code, topic, older_than, everything):  # noqa: ANN001, ANN202
    from app.services.dlq import DlqFilter

    return DlqFilter(
        ids=(dead_letter_id,) if dead_letter_id is not None else (),
        category=category,
        error_code=error_code,
        topic=topic,
        older_than=_age(older_than),
        everything=everything,
    )


_FILTERS = [
    click.argument("dead_letter_id", type=int, required=False),
    click.option("--category", help="data | schema | transient | governance | auth | bug"),
    click.option("--error-code", help="e.g. UNKNOWN_SKU, INVALID_KEY_OR_REF"),
    click.option("--topic", help="e.g. orders/create"),
    click.option("--older-than", help="last failure older than this: 30m, 12h, 7d"),
    click.option("--all", "everything", is_flag=True, help="every open entry"),
]


def _with_filters(func):  # noqa: ANN001, ANN202
    for decorator in reversed(_FILTERS):
        func = decorator(func)
    return func


@dlq.command("requeue")
@_with_filters
def dlq_requeue(dead_letter_id, category, error_code, topic, older_than, everything) -> None:  # noqa: ANN001
    """Put dead-lettered tasks back on their original queues: one id, a filter, or --all. Audited."""
    from app.services import dlq as svc

    _settings()
    selection = _selection(dead_letter_id, category, error_code, topic, older_than, everything)
    try:
        if dead_letter_id is not None and selection.describe().keys() == {"ids"}:
            click.echo(svc.requeue_one(dead_letter_id, _actor()))
            return
        results = svc.requeue_matching(selection, actor=_actor())
    except svc.RequeueError as exc:
        raise click.ClickException(str(exc)) from None
    for line in results:
        click.echo(line)
    click.echo(f"{len(results)} dead letter(s) requeued")


@dlq.command("purge")
@_with_filters
@click.option("--yes", "confirm", is_flag=True, help="confirm: the entries leave the queue (PostgreSQL keeps them)")
def dlq_purge(dead_letter_id, category, error_code, topic, older_than, everything, confirm) -> None:  # noqa: ANN001
    """Drop dead letters from the queue for good; their PostgreSQL record and an audit row remain."""
    from app.services import dlq as svc

    _settings()
    selection = _selection(dead_letter_id, category, error_code, topic, older_than, everything)
    try:
        ids = svc.purge(selection, actor=_actor(), confirm=confirm)
    except svc.RequeueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"purged {len(ids)} dead letter(s): {', '.join(map(str, ids)) or '-'}")


@dlq.command("rebuild")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def dlq_rebuild(as_json: bool) -> None:
    """Make the Redis dead_letter queue match PostgreSQL's open entries (after a Redis loss, for instance)."""
    from app.services import dlq as svc

    _settings()
    result = svc.rebuild_redis_mirror()
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(
        f"dead_letter queue rebuilt: {len(result['added'])} put back, {len(result['removed'])} stale removed; "
        f"depth {svc.redis_depth()}"
    )


@dlq.command("audit")
@click.option("--json", "as_json", is_flag=True)
def dlq_audit(as_json: bool) -> None:
    """Who requeued or purged what, and when."""
    from app.services import dlq as svc

    _settings()
    rows = svc.audit_log()
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    click.echo(_table(rows, ["id", "at", "actor", "action", "dead_letter_ids", "outcome"]))


@main.group()
def items() -> None:
    """NetSuite item map (SKU -> item)."""


@items.command("refresh")
def items_refresh() -> None:
    """Reload the whole SKU -> NetSuite item map from SuiteQL."""
    from app.adapters.netsuite import get_netsuite
    from app.db.session import session_scope
    from app.services.items import refresh_item_map

    settings = _settings()
    with session_scope() as session:
        count = refresh_item_map(session, get_netsuite(), settings.netsuite_item_sku_field)
    click.echo(f"item map refreshed: {count} SKU(s)")


@main.group()
def inventory() -> None:
    """Inventory push-back (NetSuite -> Shopify)."""


@inventory.command("sync")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def inventory_sync(as_json: bool) -> None:
    """Run one push cycle now (what beat runs every INVENTORY_PUSH_EVERY_MINUTES) and print what it pushed."""
    from app.adapters.netsuite import get_netsuite
    from app.adapters.shopify import get_shopify
    from app.db.session import session_scope
    from app.services.inventory import push_inventory

    settings = _settings()
    with session_scope() as session:
        report = push_inventory(session, get_netsuite(), get_shopify(), settings)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    if report.skipped:
        click.echo(f"skipped: {report.skipped}")
        return
    click.echo(
        f"read {report.changes_read} NetSuite change(s) since {report.since}; pushed {report.pushed} quantity(ies) "
        f"in {report.calls} call(s)"
    )
    rows = [{"sku": t.sku, "shopify_location": t.shopify_location_id, "available": t.quantity} for t in report.targets]
    if rows:
        click.echo(_table(rows[:50], ["sku", "shopify_location", "available"]))
    for label, values in (("unmapped SKUs", report.unmapped_skus), ("unmapped locations", report.unmapped_locations)):
        if values:
            click.echo(f"{label}: {', '.join(values[:20])}")


@main.command("reconcile")
@click.option("--dry-run", is_flag=True, help="report what differs without correcting Shopify")
@click.option("--json", "as_json", is_flag=True, help="print the run report as one JSON object")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), help="also write drift over runs (.svg/.png)")
def reconcile(dry_run: bool, as_json: bool, plot_path: str | None) -> None:
    """Run one inventory reconciliation now (what beat runs nightly) and print its report."""
    from app.adapters.netsuite import get_netsuite
    from app.adapters.shopify import get_shopify
    from app.db.session import session_scope
    from app.services.reconcile import reconcile_inventory

    settings = _settings()
    with session_scope() as session:
        report = reconcile_inventory(session, get_netsuite(), get_shopify(), settings, dry_run=dry_run)
    if plot_path:
        from app.services.reports import drift_plot

        with session_scope() as session:
            drift_plot(session, plot_path)
    if as_json:
        click.echo(json.dumps(report.as_dict(), default=str))
        return
    if report.skipped:
        click.echo(f"skipped: {report.skipped}")
        return
    click.echo(
        f"run {report.run_id} ({report.run_date}{', dry run' if dry_run else ''}): {report.skus_compared} SKUs, "
        f"{report.diffs_found} diffs, {report.corrections_applied} corrected, {report.within_tolerance} within "
        f"tolerance, {report.missing_in_shopify} missing in Shopify, {report.missing_in_netsuite} missing in NetSuite"
    )
    click.echo(
        f"orders: {report.orders_checked} checked, {len(report.orders_missing)} missing in NetSuite "
        f"({report.orders_healed} re-enqueued), {len(report.total_mismatches)} total mismatch(es)"
    )
    if report.alert:
        click.echo(f"ALERT: {report.alert}")
    click.echo(_table(report.diffs[:50], ["sku", "location_id", "netsuite", "shopify", "tolerance", "action"]))
    if report.total_mismatches:
        click.echo(_table(report.total_mismatches[:50], ["order_id", "name", "kind", "shopify", "netsuite", "detail"]))


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def status(as_json: bool) -> None:
    """Queue depths, DLQ depth, NetSuite slots, the last reconciliation, stuck orders, payouts, disputes, alerts."""
    from app.services.status import collect

    _settings()
    report = collect()
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    queues = report["queues"]
    click.echo("queues: " + (", ".join(f"{k} {v}" for k, v in queues.items()) if queues else "Redis unreachable"))
    dlq_report = report["dlq"]
    click.echo(
        f"dead letters: {dlq_report['open']} open (Redis queue {dlq_report['redis_depth']}) "
        + " ".join(f"{k}={v}" for k, v in sorted(dlq_report["by_category"].items()))
    )
    ns = report["netsuite"]
    if ns:
        click.echo(
            f"NetSuite: {ns['in_use']} of {ns['budget']} slots in use (max {ns['max_budget']}), "
            f"{ns['live_waiting']} live caller(s) waiting"
        )
    last = report["last_reconciliation"]
    click.echo(
        "last reconciliation: "
        + (
            f"#{last['id']} at {last['finished_at']}: {last['diffs_found']} diffs, {last['corrections_applied']} "
            f"corrected{', ALERT ' + last['alert'] if last['alert'] else ''}"
            if last
            else "none yet"
        )
    )
    creds = report.get("credentials")
    click.echo(
        "credentials: "
        + (
            f"netsuite {creds['netsuite']}; shopify {creds['shopify']} (checked "
            f"{datetime.fromtimestamp(creds['checked_at'], UTC):%Y-%m-%d %H:%M} UTC)"
            if creds
            else "not checked yet (beat runs the check every 15 minutes; `shopsync credentials check` now)"
        )
    )
    click.echo(f"stuck orders (over 7 days in created/partially_fulfilled): {len(report['stuck_orders'])}")
    if report["stuck_orders"]:
        click.echo(_table(report["stuck_orders"], ["order_id", "name", "state", "since"]))
    for line in status_lines(report):
        click.echo(line)
    for alert in report["open_alerts"]:
        click.echo(f"ALERT #{alert['id']} {alert['kind']}: {alert['message']}")


@main.group()
def credentials() -> None:
    """NetSuite and Shopify credentials and permissions."""


@credentials.command("check")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def credentials_check(as_json: bool) -> None:
    """Authenticate to NetSuite and Shopify now and name any missing permission (what beat runs every 15 min).

    Exits 1 if either system is not green.
    """
    from app.adapters.netsuite import get_netsuite
    from app.adapters.redis_client import get_redis
    from app.adapters.shopify import get_shopify
    from app.services.credentials import check_credentials, last_result

    settings = _settings()
    results = check_credentials(
        get_netsuite(),
        get_shopify(),
        service_items=settings.order_money.service_skus(),
        sku_field=settings.netsuite_item_sku_field,
    )
    if as_json:
        click.echo(json.dumps(last_result(get_redis())))
    else:
        for system, result in results.items():
            click.echo(f"{system}: {result}")
    if any(result != "green" for result in results.values()):
        sys.exit(1)


@main.command("replay")
@click.option("--since", "since", required=True, help="how far back: 30m, 12h, 7d")
@click.option("--topic", help="only this topic, e.g. orders/create")
@click.option("--dry-run", is_flag=True, help="show what would be sent, send nothing")
@click.option("--json", "as_json", is_flag=True)
def replay_events(since: str, topic: str | None, dry_run: bool, as_json: bool) -> None:
    """Re-publish stored webhook events through the live path (idempotent: nothing happens twice)."""
    from dataclasses import asdict

    from app.services.replay import replay

    _settings()
    report = replay(_age(since), topic=topic, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(asdict(report), indent=2))
        return
    verb = "would replay" if dry_run else "replayed"
    click.echo(
        f"{verb} {report.selected} event(s) received since {report.since}"
        + (f" ({report.published} published, {report.failed} left for the relay)" if not dry_run else "")
    )
    for name, count in sorted(report.by_topic.items()):
        click.echo(f"  {name}: {count}")


@main.command("relay")
def relay() -> None:
    """Run the outbox relay once (what beat runs every OUTBOX_RELAY_INTERVAL_SECONDS)."""
    from app.services.outbox import relay_pending

    _settings()
    click.echo(f"re-published {relay_pending()} event(s)")


def _utc_datetime(value: str | None, name: str):
    """A date (midnight) or ISO datetime; without an offset it means UTC."""
    from datetime import UTC, datetime

    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"expected a date (2026-05-01) or ISO datetime, got {value!r}", param_hint=name
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@main.command("backfill")
@click.option("--since", required=True, help="orders updated at or after this UTC date or ISO datetime")
@click.option("--until", default=None, help="orders updated before this UTC date or ISO datetime (default: now)")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def backfill(since: str, until: str | None, as_json: bool) -> None:
    """Queue every Shopify order updated in [since, until) for sync, on the backfill queue."""
    from app.services.backfill import backfill_orders

    settings = _settings()
    start, end = _utc_datetime(since, "--since"), _utc_datetime(until, "--until")
    if end is not None and end <= start:
        raise click.BadParameter("must be later than --since", param_hint="--until")
    # The total is unknown until the last page: the bar shows a running count. On stderr, so --json stays clean.
    with click.progressbar((x for x in ()), label="orders read", file=sys.stderr, show_pos=True) as bar:
        seen = [0]

        def advance(read: int) -> None:
            bar.update(read - seen[0])
            seen[0] = read

        report = backfill_orders(start, end, settings=settings, progress=advance)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    data = report.as_dict()
    click.echo(_table([{"what": k, "value": v} for k, v in data.items()], ["what", "value"]))
    if report.unpublished:
        click.echo(f"{report.unpublished} event(s) not published (broker unreachable): the outbox relay will send them")


@main.group()
def subscriptions() -> None:
    """Shopify webhook subscriptions."""


@subscriptions.command("check")
@click.option("--no-repair", "no_repair", is_flag=True, help="report only: create, re-point and backfill nothing")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def subscriptions_check(no_repair: bool, as_json: bool) -> None:
    """Check every routed topic is subscribed to WEBHOOK_CALLBACK_URL; repair and backfill the gap."""
    from app.services.subscriptions import check_subscriptions

    report = check_subscriptions(settings=_settings(), repair=not no_repair)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    elif not report.configured:
        click.echo("not configured: set WEBHOOK_CALLBACK_URL to check webhook subscriptions")
    else:
        rows = [{"topic": t, "status": "ok"} for t in report.ok]
        rows += [{"topic": t, "status": "re-created"} for t in report.created]
        rows += [{"topic": t, "status": "re-pointed"} for t in report.updated]
        rows += [{"topic": t, "status": "BROKEN"} for t in report.broken]
        rows += [{"topic": t, "status": f"ERROR {e}"} for t, e in report.errors.items()]
        click.echo(f"expected address: {report.expected_uri}")
        click.echo(_table(rows, ["topic", "status"]))
        if report.backfill is not None:
            b = report.backfill
            click.echo(
                f"backfilled {b.since.isoformat()} .. {b.until.isoformat() if b.until else 'now'}: "
                f"read {b.read}, new events {b.new_events}, published {b.published}"
            )
    if report.configured and not report.healthy:
        sys.exit(1)


@main.group()
def alerts() -> None:
    """Notifications to Slack and PagerDuty (ALERT_* settings)."""


@alerts.command("test")
def alerts_test() -> None:
    """Send a test notification to each configured receiver (PagerDuty: a trigger, then its resolve)."""
    from app.services.alerts import send_test

    outcome = send_test(_settings())
    if not outcome:
        click.echo("no receiver configured: set ALERT_SLACK_WEBHOOK_URL and/or ALERT_PAGERDUTY_ROUTING_KEY")
        sys.exit(1)
    for channel, result in outcome.items():
        click.echo(f"{channel}: {result}")
    if any(result != "sent" for result in outcome.values()):
        sys.exit(1)


main.add_command(disputes)
main.add_command(payouts)


if __name__ == "__main__":
    main()
