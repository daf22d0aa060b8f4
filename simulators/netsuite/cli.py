"""`python -m simulators.netsuite`: the NetSuite simulator's command line (options -> `SimulatorConfig`, then
`server.serve` in the foreground)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from simulators.netsuite import server
from simulators.netsuite.state import LATENCY_DISTRIBUTIONS
from simulators.netsuite.totals import TAX_MODES


def load_items_file(path: str) -> list[tuple[str, str]]:
    """Items from a JSON list of {"itemid", "displayname"} objects or [itemid, displayname] pairs."""
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    items = []
    for entry in entries:
        if isinstance(entry, dict):
            items.append((str(entry["itemid"]), str(entry.get("displayname", entry["itemid"]))))
        else:
            itemid, displayname = entry
            items.append((str(itemid), str(displayname)))
    return items


def main(argv: Sequence[str] | None = None) -> int:
    defaults = server.SimulatorConfig()
    parser = argparse.ArgumentParser(prog="python -m simulators.netsuite", description=server.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--account-id", default=defaults.account_id)
    parser.add_argument("--consumer-key", default=defaults.consumer_key)
    parser.add_argument("--consumer-secret", default=defaults.consumer_secret)
    parser.add_argument("--token-id", default=defaults.token_id)
    parser.add_argument("--token-secret", default=defaults.token_secret)
    parser.add_argument("--concurrency-limit", type=int, default=defaults.concurrency_limit)
    parser.add_argument("--latency-ms", type=int, default=defaults.latency_ms)
    parser.add_argument("--latency-jitter-ms", type=int, default=defaults.latency_jitter_ms)
    parser.add_argument("--items-file", help="JSON list of {itemid, displayname}; replaces the demo items")
    parser.add_argument("--seed-quantity", type=int, default=defaults.seed_quantity)
    parser.add_argument("--no-verify-auth", action="store_true", help="accept requests without checking TBA")
    parser.add_argument("--latency-distribution", choices=LATENCY_DISTRIBUTIONS, default=defaults.latency_distribution)
    parser.add_argument(
        "--held-slots",
        type=int,
        default=defaults.held_slots,
        help="concurrency slots permanently taken by a simulated other integration",
    )
    parser.add_argument(
        "--error-rate", type=float, default=defaults.error_rate, help="fraction of REST calls failing with 503"
    )
    parser.add_argument(
        "--suiteql-lag-ms",
        type=int,
        default=defaults.suiteql_lag_ms,
        help="how long a REST write takes to show in SuiteQL",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the random latency and error draws")
    parser.add_argument("--oauth2-token-ttl-s", type=int, default=defaults.oauth2_token_ttl_s)
    parser.add_argument(
        "--oauth2-client",
        action="append",
        default=[],
        metavar="CLIENT_ID:CERTIFICATE_ID:PEM_FILE",
        help="register an OAuth 2.0 client certificate (repeatable)",
    )
    parser.add_argument(
        "--tax-mode", choices=TAX_MODES, default=defaults.tax_mode, help="how the account taxes (totals.py)"
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    config = server.SimulatorConfig(
        account_id=args.account_id,
        consumer_key=args.consumer_key,
        consumer_secret=args.consumer_secret,
        token_id=args.token_id,
        token_secret=args.token_secret,
        concurrency_limit=args.concurrency_limit,
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        verify_auth=not args.no_verify_auth,
        seed_quantity=args.seed_quantity,
        latency_distribution=args.latency_distribution,
        held_slots=args.held_slots,
        error_rate=args.error_rate,
        suiteql_lag_ms=args.suiteql_lag_ms,
        seed=args.seed,
        oauth2_token_ttl_s=args.oauth2_token_ttl_s,
        tax_mode=args.tax_mode,
    )
    for spec in args.oauth2_client:
        client_id, certificate_id, pem_file = spec.split(":", 2)
        pem = Path(pem_file).read_text(encoding="utf-8")
        config.oauth2_clients.setdefault(client_id, {})[certificate_id] = pem
    if args.items_file:
        config.seed_items = load_items_file(args.items_file)
    server.serve(config, host=args.host, port=args.port, quiet=args.quiet)
    return 0
