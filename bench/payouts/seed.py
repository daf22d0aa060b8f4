"""The month the payout benchmark reconciles: orders, payments and their ledger in the Shopify simulator, and in
the NetSuite simulator the receipts the payments flow would have written for them.

Shopify side (its /_sim control API, over HTTP, a day of orders per request): `orders_per_day` compact orders a
UTC day for `days` days ending yesterday, from a pool of returning customers with 1-4 lines at realistic prices
and state sales tax. Tenders: ~2% gift card (never on a payout), ~3% authorized at checkout and captured the next
day, ~0.5% captured in two parts, the rest a sale on `shopify_payments`. ~3% of the card orders get a refund of one
unit, 0-2 days after the order. Over the month: a dispute every ~10 days (withdrawal + chargeback fee), a reserve
hold and its release, a manual ADJUSTMENT, and one balance transaction of a type no account is mapped to (it must
land on the suspense account, not vanish). Then Shopify's payout run: one payout per UTC day, PAID.

NetSuite side (the `POST /_sim/records/<type>` seed endpoint: each entry an upsert by external id under the same
rules as the REST PUT, not counted, no latency): for every CHARGE on a payout a customerDeposit
`shopify-txn-<transaction id>` of its amount in Undeposited Funds, for every REFUND a customerRefund applying the
order's deposit: what `app/services/payments.py` writes for each Shopify transaction. The transaction ids and
amounts are read from the simulator's payout rows (one request) rather than order by order (60,000 requests).
Only the seeding takes these short cuts; the payout job reads and writes through the real clients.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from bench.netsuite_throughput.run import CATALOG, FIRST, LAST, STATES, _catalog_ids
from simulators.shopify import order_factory as of

ORDER_ID_BASE = 6_300_000_000_000
CUSTOMER_ID_BASE = 7_300_000_000_000
TXN_ID_BASE = 9_300_000_000_000  # the ids of the transactions the benchmark writes itself (authorize + capture)
CUSTOMER_POOL = 400
GIFT_CARD_SHARE = 0.02
AUTH_CAPTURE_SHARE = 0.03
SPLIT_CAPTURE_SHARE = 0.005
REFUND_SHARE = 0.03
DISPUTE_EVERY_DAYS = 10
RESERVE = Decimal("750.00")
RARE_TYPE = "SHIPPING_LABEL_ADJUSTMENT_BASE"  # a real ShopifyPaymentsTransactionType no account maps
SEED_BATCH = 2000
NETSUITE_CUSTOMER = "shopify-customer-bench-payouts"


@dataclass
class Seeded:
    """What was put in both simulators, and how long it took."""

    days: list[str]
    orders: int = 0
    tenders: dict[str, int] = field(default_factory=dict)
    refunds: int = 0
    disputes: int = 0
    extra_rows: list[str] = field(default_factory=list)
    payouts: list[dict[str, Any]] = field(default_factory=list)
    deposits_seeded: int = 0
    refunds_seeded: int = 0
    timings_s: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": [self.days[0], self.days[-1]],
            "orders": self.orders,
            "tenders": self.tenders,
            "refunds": self.refunds,
            "disputes": self.disputes,
            "extra_rows": self.extra_rows,
            "payouts": len(self.payouts),
            "balance_transactions": sum(len(p["balance_transactions"]) for p in self.payouts),
            "netsuite_customer_deposits": self.deposits_seeded,
            "netsuite_customer_refunds": self.refunds_seeded,
            "timings_s": self.timings_s,
        }


def month(days: int, today: date | None = None) -> list[date]:
    """The `days` UTC days ending yesterday (each one's payout is issued at the next midnight, in the past)."""
    last = (today or datetime.now(UTC).date()) - timedelta(days=1)
    return [last - timedelta(days=n) for n in range(days - 1, -1, -1)]


def _post(url: str, body: Any, timeout: float = 300) -> Any:
    response = requests.post(url, json=body, timeout=timeout)
    if response.status_code != 200:
        raise RuntimeError(f"POST {url}: {response.status_code} {response.text[:500]}")
    return response.json()


def _stamp(day: date, seconds: int) -> str:
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Orders:
    """Builds a day's orders (deterministic from the seed) and remembers what to do with them afterwards."""

    def __init__(self, rng: random.Random, last_day: date) -> None:
        self.rng = rng
        self.last_day = last_day
        self.pool = [
            of.random_customer(
                rng,
                CUSTOMER_ID_BASE + n,
                first_names=FIRST,
                last_names=LAST,
                places=STATES,
                email=lambda first, last, n=n: f"{first.lower()}.{last.lower()}.{n}@example.com",
            )
            for n in range(CUSTOMER_POOL)
        ]
        self.tenders: dict[str, int] = {}
        self.refundable: list[tuple[int, int, date]] = []  # (order id, line id, order day)
        self._txn = TXN_ID_BASE

    def day(self, index: int, day: date, count: int) -> list[dict[str, Any]]:
        return [self._order(index * 1_000_000 + n, day) for n in range(count)]

    def _order(self, number: int, day: date) -> dict[str, Any]:
        customer, place = self.rng.choice(self.pool)
        lines = of.random_lines(self.rng, CATALOG, ids=_catalog_ids, quantity=lambda r: r.choice((1, 1, 1, 2, 2, 3)))
        shipping = "0.00" if of.lines_subtotal(lines) >= 75 else "6.95"
        draw = self.rng.random()
        tender = (
            "gift_card"
            if draw < GIFT_CARD_SHARE
            else "split_capture"
            if draw < GIFT_CARD_SHARE + SPLIT_CAPTURE_SHARE
            else "auth_capture"
            if draw < GIFT_CARD_SHARE + SPLIT_CAPTURE_SHARE + AUTH_CAPTURE_SHARE
            else "sale"
        )
        self.tenders[tender] = self.tenders.get(tender, 0) + 1
        at = self.rng.randrange(0, 86_400 - 3_600)
        order = of.build_order(
            order_id=ORDER_ID_BASE + number,
            number=100_000 + number,
            customer=customer,
            lines=lines,
            created_at=_stamp(day, at),
            tax_rate=place[3],
            shipping=of.Shipping("Standard", shipping),
            extras=of.Extras(gateway="gift_card" if tender == "gift_card" else "shopify_payments"),
            compact=True,
        )
        if tender in ("auth_capture", "split_capture"):
            order["transactions"] = self._captures(order, day, at, split=tender == "split_capture")
        elif tender == "sale" and self.rng.random() < REFUND_SHARE:
            self.refundable.append((order["id"], order["line_items"][0]["id"], day))
        return order

    def _captures(self, order: dict[str, Any], day: date, at: int, *, split: bool) -> list[dict[str, Any]]:
        """Authorized at checkout, captured the next day (never after yesterday); a split capture in two parts."""
        total = Decimal(str(order["total_price"]))
        auth_id, self._txn = self._txn, self._txn + 3
        capture_day = min(day + timedelta(days=1), self.last_day)
        parts = [(total * Decimal("0.6")).quantize(Decimal("0.01"))] if split else [total]
        if split:
            parts.append(total - parts[0])
        made = [{"id": auth_id, "kind": "authorization", "amount": str(total), "processed_at": _stamp(day, at)}]
        for n, amount in enumerate(parts, start=1):
            when = _stamp(day, at + 60) if split and n == 1 else _stamp(capture_day, 3_600 + at // 2)
            made.append(
                {
                    "id": auth_id + n,
                    "kind": "capture",
                    "amount": str(amount),
                    "parent_id": auth_id,
                    "processed_at": when,
                }
            )
        return [{**t, "gateway": "shopify_payments", "status": "success"} for t in made]


def seed_shopify(shopify: str, days: list[date], per_day: int, seed: int, progress: bool = True) -> Seeded:
    """Orders, refunds, disputes, a reserve and odd rows in the Shopify simulator, then its payout run."""
    rng = random.Random(seed)
    out = Seeded([d.isoformat() for d in days])
    factory = _Orders(rng, days[-1])
    started = time.monotonic()
    orders_by_day: list[list[int]] = []
    for index, day in enumerate(days):
        orders = factory.day(index, day, per_day)
        _post(f"{shopify}/_sim/orders", orders)
        orders_by_day.append([o["id"] for o in orders if o["payment_gateway_names"] != ["gift_card"]])
        out.orders += len(orders)
        if progress and (index + 1) % 10 == 0:
            print(f"    shopify: {out.orders:,} orders ({time.monotonic() - started:.0f} s)", flush=True)
    out.tenders = factory.tenders
    for order_id, line_id, day in factory.refundable:
        when = min(day + timedelta(days=rng.choice((0, 1, 2))), days[-1])
        refund = {"created_at": _stamp(when, 86_000), "refund_line_items": [{"line_item_id": line_id, "quantity": 1}]}
        _post(f"{shopify}/_sim/orders/{order_id}/refunds", refund)
        out.refunds += 1
    for index in range(min(DISPUTE_EVERY_DAYS // 2, len(days) - 1), len(days), DISPUTE_EVERY_DAYS):
        order_id = rng.choice(orders_by_day[max(index - 3, 0)])
        _post(f"{shopify}/_sim/payments/disputes", {"order_id": order_id, "date": _stamp(days[index], 43_200)})
        out.disputes += 1
    payments = f"{shopify}/_sim/payments"
    first, middle, late = days[len(days) // 6], days[len(days) // 2], days[(len(days) * 2) // 3]
    _post(f"{payments}/reserve", {"amount": str(RESERVE), "date": _stamp(first, 50_000)})
    _post(f"{payments}/reserve", {"amount": str(RESERVE), "release": True, "date": _stamp(late, 50_000)})
    _post(f"{payments}/balance_transactions", {"type": "ADJUSTMENT", "amount": "3.10", "date": _stamp(middle, 600)})
    rare = {"type": RARE_TYPE, "amount": "-8.45", "date": _stamp(late, 700)}
    _post(f"{payments}/balance_transactions", rare)
    out.extra_rows = ["RESERVED_FUNDS", "RESERVED_FUNDS_REVERSAL", "ADJUSTMENT", RARE_TYPE]
    out.timings_s["shopify_orders_refunds_disputes"] = round(time.monotonic() - started, 2)
    t0 = time.monotonic()
    out.payouts = _post(payments + "/payouts", {"status": "PAID"})["payouts"]
    out.timings_s["shopify_payout_run"] = round(time.monotonic() - t0, 2)
    return out


def seed_netsuite(netsuite: str, seeded: Seeded) -> None:
    """The receipts of every charge and refund on the payouts, as the payments flow writes them."""
    started = time.monotonic()
    records = f"{netsuite}/_sim/records"
    [customer] = _post(f"{records}/customer", [{"externalId": NETSUITE_CUSTOMER, "body": {"companyName": "Bench"}}])
    rows = [r for p in seeded.payouts for r in p["balance_transactions"]]
    charges = [r for r in rows if r["type"] == "CHARGE"]
    refunds = [r for r in rows if r["type"] == "REFUND"]
    deposit_of: dict[int, list[tuple[str, Decimal]]] = {}  # order id -> its deposits (internal id, amount)
    for start in range(0, len(charges), SEED_BATCH):
        batch = charges[start : start + SEED_BATCH]
        entries = [
            {
                "externalId": f"shopify-txn-{r['source_id']}",
                "body": {"customer": {"id": customer}, "payment": r["amount"], "undepFunds": True},
            }
            for r in batch
        ]
        for row, internal in zip(batch, _post(f"{records}/customerDeposit", entries), strict=True):
            deposit_of.setdefault(row["order_id"], []).append((internal, Decimal(row["amount"])))
    entries = []
    for r in refunds:
        amount = -Decimal(r["amount"])
        doc = next(i for i, paid in deposit_of[r["order_id"]] if paid >= amount)
        body = {
            "customer": {"id": customer},
            "deposit": {"items": [{"doc": {"id": doc}, "apply": True, "amount": str(amount)}]},
        }
        entries.append({"externalId": f"shopify-txn-{r['source_id']}", "body": body, "replace": ["deposit"]})
    for start in range(0, len(entries), SEED_BATCH):
        _post(f"{records}/customerRefund", entries[start : start + SEED_BATCH])
    seeded.deposits_seeded, seeded.refunds_seeded = len(charges), len(refunds)
    seeded.timings_s["netsuite_receipts"] = round(time.monotonic() - started, 2)
