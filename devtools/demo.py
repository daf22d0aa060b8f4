"""`shopsync-dev demo`: the whole service, end to end, against the NetSuite simulator.

Migrates a demo database, starts the simulator, gunicorn, the workers and beat from the Procfile, sends a
burst of signed webhooks for generated orders (with duplicate deliveries), waits for them to land, prints what
NetSuite (the simulator) holds, and stops everything it started. It ships its own data.
"""

from __future__ import annotations

import json
import random
import secrets
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import click
import psycopg
import redis
import requests

from app.config import environ_copy
from app.db.models import truncate_all_sql
from devtools.devstack import ROOT, Stack, free_port, wait_for_http
from shopify_client.webhooks import sign
from simulators.shopify import order_factory as of

SHOP = "demo-store.myshopify.com"
DEMO_DB = "shopsync_demo"
DEMO_REDIS = "redis://127.0.0.1:6379/1"

CATALOG = [
    ("TEE-CLASSIC-BLK-M", "Classic Tee - Black / M", "28.00"),
    ("TEE-CLASSIC-WHT-L", "Classic Tee - White / L", "28.00"),
    ("HOODIE-FLEECE-GRY-M", "Fleece Hoodie - Grey / M", "74.00"),
    ("HOODIE-FLEECE-NVY-XL", "Fleece Hoodie - Navy / XL", "74.00"),
    ("CAP-WOOL-OLV", "Wool Cap - Olive", "32.00"),
    ("SOCK-MERINO-3PK", "Merino Socks 3-pack", "24.50"),
    ("BAG-TOTE-CANVAS", "Canvas Tote", "39.00"),
    ("BOTTLE-STEEL-750", "Steel Bottle 750ml", "29.95"),
    ("JACKET-SHELL-BLK-L", "Shell Jacket - Black / L", "189.00"),
    ("BEANIE-RIB-RUST", "Rib Beanie - Rust", "26.00"),
]
FIRST = ["Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Ines", "Omar", "Lena", "Kai", "Sara", "Yuki"]
LAST = ["Hart", "Okafor", "Silva", "Novak", "Chen", "Dubois", "Kowalski", "Moreau", "Haddad", "Berg"]
CITIES = [
    ("Portland", "OR", "97205"),
    ("Austin", "TX", "78701"),
    ("Denver", "CO", "80202"),
    ("Boston", "MA", "02108"),
]


def generate_order(
    rng: random.Random, n: int, base_time: datetime, customers: dict[int, of.Customer] | None = None
) -> dict:
    """Order n of the demo, a full orders/create body. A customer id seen before (in `customers`) keeps the
    identity of its first order; the draws are made in the same order whatever the identity, so a seed always
    gives the same orders, customers and duplicate deliveries."""
    known = {} if customers is None else customers
    order_id = 5_000_000_000_000 + n * 7919 + rng.randint(0, 7000)
    customer_id = 7_000_000_000_000 + rng.randint(0, 400)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, state, zip_code = rng.choice(CITIES)
    lines = of.random_lines(
        rng,
        CATALOG,
        ids=lambda r, _item: (40_000_000_000 + r.randint(0, 10**6), 8_000_000_000 + r.randint(0, 10**6)),
        quantity=lambda r: r.randint(1, 3),
    )
    street = f"{rng.randint(10, 999)} Market Street"
    phone = f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    customer = known.setdefault(
        customer_id,
        of.Customer(
            customer_id,
            first,
            last,
            # One email per customer: the service matches NetSuite customers by email, as people have one each.
            f"{first.lower()}.{last.lower()}.{customer_id % 1000}@example.com",
            of.Address(first, last, street, city, state, zip_code, phone=phone),
        ),
    )
    shipping = "0.00" if of.lines_subtotal(lines) >= 75 else "6.95"
    return of.build_order(
        order_id=order_id,
        number=2000 + n,
        customer=customer,
        lines=lines,
        created_at=base_time - timedelta(minutes=n),
        tax_rate="0.0825",
        shipping=of.Shipping("Standard", shipping),
        extras=of.Extras(shop=SHOP),
    )


def _same_product_lines(record: dict, by_order: dict[str, dict]) -> bool:
    """The sales order carries each of the order's product lines once (shipping, tax variance and rounding are
    lines of service items besides them)."""
    order = by_order.get(record.get("externalId"))
    if order is None:
        return False
    product = sorted(str(li["id"]) for li in order["line_items"])
    carried = sorted(
        str(line.get("custcol_shopify_line_id"))
        for line in (record.get("item") or {}).get("items", [])
        if str(line.get("custcol_shopify_line_id")) in product
    )
    return carried == product


def _same_total(record: dict, by_order: dict[str, dict]) -> bool:
    """NetSuite's own total (the simulator computes it as NetSuite does) equals Shopify's, to the cent."""
    order = by_order.get(record.get("externalId"))
    return order is not None and Decimal(str(record.get("total"))) == Decimal(order["total_price"])


def _deliveries(orders: list[dict], duplicate_share: float, rng: random.Random) -> list[tuple[str, bytes]]:
    """(webhook id, body) pairs: one per order, plus re-deliveries of the same webhook id (Shopify's retry)
    and of the same order under a new webhook id (the same merchant action delivered twice)."""
    out = [(str(uuid.uuid4()), json.dumps(o).encode()) for o in orders]
    extra = []
    for webhook_id, body in out:
        if rng.random() < duplicate_share:
            extra.append((webhook_id if rng.random() < 0.7 else str(uuid.uuid4()), body))
    mixed = out + extra
    rng.shuffle(mixed)
    return mixed


def _reset_state(database_url: str) -> None:
    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(truncate_all_sql())
    redis.Redis.from_url(DEMO_REDIS).flushdb()


def _progress_counts(database_url: str) -> Counter:
    with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql")) as conn:
        return Counter(dict(conn.execute("SELECT status, count(*) FROM webhook_events GROUP BY status").fetchall()))


def run_demo(*, orders: int = 200, duplicate_share: float = 0.1, timeout: int = 180) -> int:
    run_dir = ROOT / ".run" / "demo"
    sim_port, web_port = free_port(), free_port()
    webhook_secret = secrets.token_hex(16)
    env = environ_copy()
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
            "DATABASE_URL": f"postgresql://root@127.0.0.1:5432/{DEMO_DB}",
            "REDIS_URL": DEMO_REDIS,
            "SHOPIFY_SHOP": SHOP,
            "SHOPIFY_WEBHOOK_SECRETS": webhook_secret,
            "SHOPIFY_ADMIN_TOKEN": "shpat_" + secrets.token_hex(8),
            "NETSUITE_ACCOUNT_ID": "1234567_SB1",
            # The simulator's development credentials (not secrets: they exist only inside the simulator).
            "NETSUITE_CONSUMER_KEY": "sim-consumer-key",
            "NETSUITE_CONSUMER_SECRET": "sim-consumer-secret",
            "NETSUITE_TOKEN_ID": "sim-token-id",
            "NETSUITE_TOKEN_SECRET": "sim-token-secret",
            "NETSUITE_BASE_URL": f"http://127.0.0.1:{sim_port}/services/rest",
            "OPS_TOKEN": secrets.token_hex(16),
            "PORT": str(web_port),
            "OUTBOX_RELAY_INTERVAL_SECONDS": "5",
            "OUTBOX_RELAY_AFTER_SECONDS": "10",
        }
    )
    database_url = env["DATABASE_URL"]
    stack = Stack(env=env, run_dir=run_dir)
    sim = f"http://127.0.0.1:{sim_port}"
    web = f"http://127.0.0.1:{web_port}"
    click.echo(f"logs: {run_dir}")
    try:
        click.echo("1/5 migrating the demo database ...")
        stack.start("migrate", "exec shopsync db upgrade").popen.wait(timeout=60)
        stack.processes.pop("migrate")
        _reset_state(database_url)

        click.echo("2/5 starting the NetSuite simulator, web, workers and beat ...")
        stack.start(
            "netsuite",
            f"exec shopsync-dev simulate netsuite --port {sim_port} --latency-ms 60 --latency-jitter-ms 40",
        )
        wait_for_http(f"{sim}/_sim/stats")
        requests.post(f"{sim}/_sim/items", json=[{"itemid": s, "displayname": t} for s, t, _ in CATALOG], timeout=10)
        # the service items the order money mapping posts to (tax variance, rounding, shipping ...: docs/MAPPING.md)
        requests.post(f"{sim}/_sim/items", json=service_items(), timeout=10)
        for name in ("web", "worker_orders", "worker_fulfillment", "worker_bulk", "beat"):
            stack.start(name)
        wait_for_http(f"{web}/healthz")
        time.sleep(3)  # workers connect to the broker
        stack.check_alive()

        rng = random.Random(20261123)
        customers: dict[int, of.Customer] = {}
        generated = [generate_order(rng, n, datetime.now(UTC), customers) for n in range(orders)]
        deliveries = _deliveries(generated, duplicate_share, rng)
        unique_ids = len({w for w, _ in deliveries})
        click.echo(
            f"3/5 sending {len(deliveries)} signed orders/create webhooks ({len(deliveries) - orders} duplicates)"
        )

        def deliver(item: tuple[str, bytes]) -> int:
            webhook_id, body = item
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Hmac-Sha256": sign(body, webhook_secret),
                "X-Shopify-Shop-Domain": SHOP,
                "X-Shopify-API-Version": "2026-04",
                "X-Shopify-Webhook-Id": webhook_id,
                "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
            }
            return requests.post(f"{web}/webhooks/shopify", data=body, headers=headers, timeout=10).status_code

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = Counter(pool.map(deliver, deliveries))
        click.echo(f"    responses: {dict(statuses)} in {time.monotonic() - started:.1f}s")

        click.echo("4/5 waiting for every event to be processed ...")
        deadline = time.monotonic() + timeout
        with click.progressbar(length=unique_ids, label="    events") as bar:
            finished = 0
            while time.monotonic() < deadline:
                counts = _progress_counts(database_url)
                now_finished = counts["done"] + counts["dead"]
                bar.update(now_finished - finished)
                finished = now_finished
                if finished >= unique_ids:
                    break
                stack.check_alive()
                time.sleep(0.5)

        click.echo("5/5 what landed in NetSuite (simulator):")
        stats = requests.get(f"{sim}/_sim/stats", timeout=10).json()
        sales_orders = requests.get(f"{sim}/_sim/records/salesOrder", timeout=30).json()
        customers = requests.get(f"{sim}/_sim/records/customer", timeout=30).json()
        by_order = {f"shopify-order-{o['id']}": o for o in generated}
        by_eid = Counter(r.get("externalId") for r in sales_orders)
        duplicate_orders = sum(c - 1 for c in by_eid.values() if c > 1)
        wrong_lines = [r["externalId"] for r in sales_orders if not _same_product_lines(r, by_order)]
        wrong_totals = [r["externalId"] for r in sales_orders if not _same_total(r, by_order)]
        counts = _progress_counts(database_url)
        report = [
            ("orders generated", orders),
            ("webhook deliveries sent", len(deliveries)),
            ("  of which duplicates", len(deliveries) - orders),
            ("HTTP 200 responses", statuses.get(200, 0)),
            ("events stored (unique webhook ids)", sum(counts.values())),
            ("events done / dead", f"{counts['done']} / {counts['dead']}"),
            ("NetSuite sales orders", len(sales_orders)),
            ("NetSuite customers", len(customers)),
            ("duplicate sales orders", duplicate_orders),
            ("sales orders with wrong line count", len(wrong_lines)),
            ("NetSuite total differs from Shopify's", len(wrong_totals)),
            ("peak NetSuite concurrency", stats.get("peak_concurrency")),
            ("429 CONCURRENCY_LIMIT_EXCEEDED answered", (stats.get("rejections") or {}).get("concurrency")),
        ]
        width = max(len(k) for k, _ in report)
        for key, value in report:
            click.echo(f"    {key.ljust(width)}  {value}")
        ok = (
            len(sales_orders) == orders
            and duplicate_orders == 0
            and not wrong_lines
            and not wrong_totals
            and counts["dead"] == 0
            and statuses.get(200, 0) == len(deliveries)
        )
        click.echo(
            "demo: OK, every order landed exactly once" if ok else "demo: FAILED, see the figures above and logs"
        )
        return 0 if ok else 1
    finally:
        stack.stop_all()
        click.echo("stopped every process the demo started")


def service_items() -> list[dict[str, object]]:
    """The SHOPIFY-* service items under their default SKUs, as other-charge items (a discount item and a gift
    certificate for those two): none is shipped or stocked. The discount item is applied before sales tax, as
    DISCOUNT_MODE=item needs it in legacy tax (docs/MAPPING.md)."""
    from dataclasses import asdict

    from app.domain.order_lines import ServiceItems

    types = {"discount": "discountItem", "gift_card": "giftCertificateItem"}
    items: list[dict[str, object]] = [
        {"itemid": sku, "displayname": sku.title(), "type": types.get(field, "otherChargeSaleItem")}
        for field, sku in asdict(ServiceItems()).items()
    ]
    for item in items:
        if item["type"] == "discountItem":
            item["ispretax"] = True
    return items
