"""`shopsync-dev` command line (development only): the API simulators and the end-to-end demo."""

from __future__ import annotations

import sys

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
@click.option("--orders", default=200, show_default=True, help="distinct orders to send")
@click.option("--duplicates", default=0.1, show_default=True, help="share of deliveries sent twice")
@click.option("--timeout", default=180, show_default=True, help="seconds to wait for everything to land")
def demo(orders: int, duplicates: float, timeout: int) -> None:
    """Run the whole service against the simulators, send a burst of signed webhooks, report, stop."""
    from devtools.demo import run_demo

    sys.exit(run_demo(orders=orders, duplicate_share=duplicates, timeout=timeout))


if __name__ == "__main__":
    main()
