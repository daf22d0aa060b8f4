"""`shopsync-dev` command line (development only): the API simulators and the end-to-end demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click


@click.group()
def main() -> None:
    """Shopsync development tools: simulators and the demo."""


@main.group()
def simulate() -> None:
    """Run a local simulator of an external API."""


@simulate.command("netsuite")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--latency-ms", default=0, show_default=True, type=int)
@click.option("--latency-jitter-ms", default=0, show_default=True, type=int)
@click.option("--concurrency-limit", default=15, show_default=True, type=int)
@click.option("--account-id", default="1234567_SB1", show_default=True)
@click.option("--quiet", is_flag=True, help="no access log line per request (benchmarks: it cost the simulator CPU)")
def simulate_netsuite(
    host: str,
    port: int,
    latency_ms: int,
    latency_jitter_ms: int,
    concurrency_limit: int,
    account_id: str,
    quiet: bool,
) -> None:
    """NetSuite REST web services simulator (TBA verified, concurrency cap, SuiteQL)."""
    from simulators.netsuite.server import SimulatorConfig, serve

    config = SimulatorConfig(
        account_id=account_id,
        concurrency_limit=concurrency_limit,
        latency_ms=latency_ms,
        latency_jitter_ms=latency_jitter_ms,
    )
    click.echo(f"NetSuite simulator on http://{host}:{port}/services/rest (account {account_id})")
    serve(config, host=host, port=port, quiet=quiet)


@simulate.command("shopify")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8091, show_default=True, type=int)
@click.option("--shop", default="demo-store.myshopify.com", show_default=True)
@click.option("--access-token", default="shpat_sim_token", show_default=True)
@click.option("--bucket-size", default=1000, show_default=True, type=int)
@click.option("--restore-rate", default=100.0, show_default=True, type=float)
@click.option("--latency-ms", default=0, show_default=True, type=int)
@click.option("--quiet", is_flag=True, help="no access log line per request (benchmarks: it cost the simulator CPU)")
def simulate_shopify(
    host: str,
    port: int,
    shop: str,
    access_token: str,
    bucket_size: int,
    restore_rate: float,
    latency_ms: int,
    quiet: bool,
) -> None:
    """Shopify Admin GraphQL simulator (orders, cost-based throttle) and webhook sender."""
    from simulators.shopify.server import SimulatorConfig, serve

    config = SimulatorConfig(
        shop=shop, access_token=access_token, bucket_size=bucket_size, restore_rate=restore_rate, latency_ms=latency_ms
    )
    click.echo(f"Shopify simulator on http://{host}:{port}/admin/api/<version>/graphql.json ({shop})")
    serve(config, host=host, port=port, quiet=quiet)


@main.command("drift-baseline")
@click.option("--check", is_flag=True, help="only report whether schemas/baseline*.py are current")
def drift_baseline(check: bool) -> None:
    """Regenerate the drift baseline (schemas/baseline*.py) from the fixtures and Shopify's examples."""
    from devtools.drift_baseline import main as generate

    sys.exit(generate(["--check"] if check else []))


@main.command("demo")
@click.option("--orders", default=200, show_default=True, help="orders of the realistic mix (at least 4)")
@click.option("--duplicates", "duplicate_share", default=0.1, show_default=True, help="share delivered twice or more")
@click.option("--timeout", "timeout_s", default=900.0, show_default=True, help="seconds the whole run may take")
@click.option("--keep", is_flag=True, help="leave the stack running after the report (Ctrl-C stops it)")
@click.option("--database", default="shopsync_demo", show_default=True, help="PostgreSQL database (emptied)")
@click.option("--redis-db", default=1, show_default=True, help="Redis db number on 127.0.0.1:6379 (flushed)")
@click.option("--latency-ms", default=60, show_default=True, help="the NetSuite simulator's latency, +/- jitter")
@click.option("--jitter-ms", default=40, show_default=True)
@click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path), help="process logs and the drift plot")
def demo(run_dir: Path | None, **options: Any) -> None:
    """The whole story against both simulators: orders, lifecycles, a dead letter, inventory, reconciliation."""
    from devtools.demo.run import run_demo
    from devtools.demo.stack import DemoOptions

    if options["orders"] < 4:
        raise click.BadParameter("at least 4 (one of each shape of the mix)", param_hint="--orders")
    sys.exit(run_demo(DemoOptions(**options, **({"run_dir": run_dir} if run_dir else {}))))


if __name__ == "__main__":
    main()
