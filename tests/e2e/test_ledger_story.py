"""The ledger story through the real processes, under each payment model (issue 13's "must be shown"):

20 orders captured (one in part, one by gift card), 2 refunds, 1 dispute with its fee, 1 reserve hold → one payout
→ one NetSuite deposit equal to the payout's net to the cent, read back from NetSuite; the job run again changes
nothing; a payout whose order arrives late waits, then lands; a payout that fails after PAID is reversed.

Webhooks go through gunicorn; receipts and refunds are written by worker_fulfillment (the `payments` and `refunds`
queues) under the model; the payout job runs first as beat sends it (a task on the `reconcile` queue that
worker_bulk takes), then as an operator runs it (`shopsync payouts sync --json`). The two workers are restarted
with the model's settings for this module and given back their shipped settings afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from celery import Celery
from sqlalchemy import select

from app.db.models import PayoutSync, WebhookEvent
from app.db.session import session_scope
from app.routing import TASK_SYNC_PAYOUTS
from simulators.shopify import order_factory as of
from simulators.shopify.payments_control import transaction_payload
from tests.e2e.conftest import E2E, WORKERS, wait_until, workers_answering
from tests.e2e.test_lifecycle import send
from tests.integration.test_payouts_sync import PAYOUT_ENV

D = Decimal
ORDER_BASE = 6_970_000_000
CUSTOMER = of.Customer(
    7301, "Mary", "Jackson", "mary@example.com", of.Address("Mary", "Jackson", "3 Main St", "Austin", "TX", "73301")
)
# The payout job's settings of tests/integration/test_payouts_sync.py, a method per gateway; the model per test.
LEDGER_ENV = {**PAYOUT_ENV, "PAYMENT_METHOD_MAP": "shopify_payments=11,gift_card=12"}
RESTARTED = ("worker_fulfillment", "worker_bulk")


def _restart(e2e: E2E, extra_env: dict[str, str] | None) -> None:
    for name in RESTARTED:
        e2e.stack.stop(name)
    for name in RESTARTED:
        e2e.stack.start(name, extra_env=extra_env)
    wait_until(
        lambda: all(any(n.startswith(w) for n in workers_answering(e2e.redis_port)) for w in WORKERS),
        90,
        interval=0.5,
        what="the restarted workers to answer",
    )


@pytest.fixture(params=["deposit", "cash_sale", "invoice"])
def ledger(request: pytest.FixtureRequest, fresh: E2E) -> Iterator[tuple[E2E, str]]:
    _restart(fresh, {**LEDGER_ENV, "PAYMENT_MODEL": request.param})
    try:
        yield fresh, request.param
    finally:
        _restart(fresh, None)


class Shop:
    def __init__(self, e2e: E2E) -> None:
        self.e2e = e2e
        self.url = f"{e2e.shopify}/_sim"
        self.sent = 0

    def sim(self, method: str, path: str, body: object = None) -> object:
        response = requests.request(method, f"{self.url}{path}", json=body, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def place(self, n: int, price: str, **extras: str) -> dict:
        created = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=10)).isoformat()  # one UTC day: one payout
        lines = [of.Line("SKU-A", "Story item A", price, 1, 800 + n, 950 + n)]
        order = of.build_order(
            order_id=ORDER_BASE + n,
            number=7000 + n,
            customer=CUSTOMER,
            lines=lines,
            created_at=created,
            extras=of.Extras(**extras) if extras else None,
        )
        self.sim("POST", "/orders", order)
        return order

    def send(self, topic: str, payload: dict) -> None:
        send(self.e2e, topic, payload)
        self.sent += 1

    def paid(self, order: dict) -> None:
        """What Shopify delivers for an order paid at checkout: the order, then orders/paid."""
        self.send("orders/create", order)
        self.send("orders/paid", self.sim("GET", f"/orders/{order['id']}"))

    def settled(self) -> bool:
        with session_scope() as s:
            statuses = list(s.scalars(select(WebhookEvent.status)))
        return len(statuses) == self.sent and all(st == "done" for st in statuses)

    def wait_settled(self) -> None:
        wait_until(self.settled, 120, interval=0.5, what=f"{self.sent} deliveries done")


def send_payout_task(e2e: E2E) -> None:
    """What beat sends: the task on the reconcile queue, which worker_bulk takes."""
    app = Celery("ledger-story", broker=f"redis://127.0.0.1:{e2e.redis_port}/0")
    try:
        app.send_task(TASK_SYNC_PAYOUTS, queue="reconcile")
    finally:
        app.close()


def run_payout_job(e2e: E2E, model: str) -> dict:
    """What an operator runs: `shopsync payouts sync --json`, synchronous, again if a run of beat's holds the lock."""
    env = {**e2e.stack.env, **LEDGER_ENV, "PAYMENT_MODEL": model}
    for _ in range(20):
        done = subprocess.run(
            ["shopsync", "payouts", "sync", "--json"], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(done.stdout)
        if report["not_run"] is None:
            return report
        time.sleep(0.5)
    raise AssertionError(f"the payout job never got its lock: {report['not_run']}")


def payout_rows() -> dict[str, PayoutSync]:
    with session_scope() as s:
        return {row.payout_id: row for row in s.scalars(select(PayoutSync))}


def deposits(e2e: E2E) -> list[dict]:
    return e2e.sim_records("deposit")


def deposit_of(e2e: E2E, payout_id: str) -> dict | None:
    return next((d for d in deposits(e2e) if d.get("externalId") == f"shopify-payout-{payout_id}"), None)


def money(value: object) -> Decimal:
    return D(str(value)).quantize(D("0.01"))


def test_twenty_orders_to_one_deposit_equal_to_the_payouts_net(ledger: tuple[E2E, str]):
    ledger, model = ledger
    shop = Shop(ledger)
    card = [shop.place(n, f"{20 + 3 * n}.{n % 10}5") for n in range(1, 19)]
    authorized = shop.place(19, "100.00", financial_status="authorized")
    gift = shop.place(20, "60.00", gateway="gift_card")
    for order in [*card, gift]:
        shop.paid(order)
    shop.send("orders/create", authorized)
    capture = shop.sim("POST", f"/orders/{authorized['id']}/transactions", {"kind": "capture", "amount": "40.00"})
    shop.send("order_transactions/create", transaction_payload(capture["transaction"]))
    for order in card[:2]:  # two refunds of one unit, money back to the card
        refund = of.build_refund(
            order,
            refund_id=order["id"] + 5,
            lines={order["line_items"][0]["id"]: 1},
            location_id=905684977,
            created_at=dt.datetime.now(dt.UTC).isoformat(),
            transaction_id=order["id"] + 6,
        )
        made = shop.sim("POST", f"/orders/{order['id']}/refunds", refund)
        shop.send("refunds/create", made["refund"])
    shop.sim("POST", "/payments/disputes", {"order_id": card[2]["id"], "amount": "30.00", "fee": "15.00"})
    shop.sim("POST", "/payments/reserve", {"amount": "25.00"})
    shop.wait_settled()

    [payout] = shop.sim("POST", "/payments/payouts")["payouts"]
    payout_id = str(payout["id"])
    send_payout_task(ledger)  # the first run as beat runs it: through worker_bulk
    deposit = wait_until(lambda: deposit_of(ledger, payout_id), 60, what="the deposit posted by the worker")
    assert money(deposit["total"]) == money(payout["net"])  # NetSuite's own total, to the cent
    assert len(deposit["payment"]["items"]) == 18 + 1 + 2  # card sales, the partial capture, the two refunds
    row = wait_until(lambda: payout_rows().get(payout_id), 30, what="the payout recorded")
    assert (row.state, row.variance, row.missing) == ("deposited", D("0.00"), 0)

    # The job again: nothing posted twice.
    calls_before = ledger.sim_stats()["calls_by_operation"].get("PUT deposit", 0)
    run_payout_job(ledger, model)
    assert len(deposits(ledger)) == 1
    assert ledger.sim_stats()["calls_by_operation"].get("PUT deposit", 0) == calls_before

    # A payout whose order's webhooks are late: it waits, then lands whole.
    late = shop.place(21, "44.00")
    [second] = shop.sim("POST", "/payments/payouts")["payouts"]
    run_payout_job(ledger, model)
    assert payout_rows()[str(second["id"])].state == "waiting"
    assert deposit_of(ledger, str(second["id"])) is None
    shop.paid(late)
    shop.wait_settled()
    run_payout_job(ledger, model)
    landed = deposit_of(ledger, str(second["id"]))
    assert landed is not None and money(landed["total"]) == money(second["net"])
    assert payout_rows()[str(second["id"])].variance == 0

    # The first payout fails after PAID: its deposit is reversed and its receipts freed.
    shop.sim("POST", f"/payments/payouts/{payout_id}/status", {"status": "FAILED"})
    run_payout_job(ledger, model)
    assert deposit_of(ledger, payout_id) is None
    assert payout_rows()[payout_id].state == "reversed"
    assert deposit_of(ledger, str(second["id"])) is not None  # the other one untouched
