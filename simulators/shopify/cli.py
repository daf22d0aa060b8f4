"""`python -m simulators.shopify`: the Shopify simulator's command line (options -> `SimulatorConfig`, then
`server.serve` in the foreground)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulators.shopify import server


def load_orders_file(path: str) -> list[dict[str, Any]]:
    """Orders from a JSON file: one REST order (a webhook payload), a list, or `{"orders": [...]}`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("orders"), list):
        return data["orders"]
    if isinstance(data, dict):
        return [data.get("order", data)]
    if isinstance(data, list):
        return data
    raise ValueError(f"{path}: expected a JSON order or a list of orders")


def main(argv: Sequence[str] | None = None) -> int:
    defaults = server.SimulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m simulators.shopify",
        description=server.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--shop", default=defaults.shop)
    parser.add_argument("--access-token", default=defaults.access_token)
    parser.add_argument("--api-version", default=defaults.api_version, help="the version printed in the URL")
    parser.add_argument("--bucket-size", type=int, default=defaults.bucket_size, help="cost bucket, points")
    parser.add_argument(
        "--restore-rate", type=float, default=defaults.restore_rate, help="points/s (100 Standard, 1000 Plus)"
    )
    parser.add_argument("--max-query-cost", type=int, default=defaults.max_query_cost)
    parser.add_argument("--latency-ms", type=int, default=defaults.latency_ms)
    parser.add_argument(
        "--access-scopes",
        default=",".join(defaults.access_scopes),
        help="comma-separated access scopes granted to the app (currentAppInstallation.accessScopes)",
    )
    parser.add_argument(
        "--orders-file",
        action="append",
        default=[],
        help="JSON file of REST orders (one, a list or {orders: [...]}) to seed; repeatable",
    )
    parser.add_argument(
        "--published-schema",
        default=defaults.published_schema or "",
        help="Shopify's published Admin GraphQL schema (introspection JSON) every document must validate against; "
        "default: the shared reference beside the repository when present; '' validates on the simulator's own only",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    seed: list[dict[str, Any]] = []
    for path in args.orders_file:
        seed.extend(load_orders_file(path))
    config = server.SimulatorConfig(
        shop=args.shop,
        access_token=args.access_token,
        api_version=args.api_version,
        bucket_size=args.bucket_size,
        restore_rate=args.restore_rate,
        max_query_cost=args.max_query_cost,
        latency_ms=args.latency_ms,
        seed_orders=seed,
        access_scopes=[scope for scope in args.access_scopes.split(",") if scope.strip()],
        published_schema=args.published_schema or None,
    )
    server.serve(config, host=args.host, port=args.port, quiet=args.quiet)
    return 0
