"""The payout job against both simulators over HTTP: a payout becomes one deposit equal to its net to the cent, read
back from NetSuite; a re-run creates nothing; a payout whose receipt is missing waits, then posts with a variance
after the lag; a payout that fails after PAID is reversed; --dry-run writes nothing.

Receipts are written here straight to NetSuite by external id (what the payments flow writes for each Shopify
transaction), so this test holds the payout job alone; tests/e2e covers the whole ledger story.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import requests

from app.adapters.netsuite import get_netsuite
from app.adapters.shopify import get_shopify
from app.config import load_settings
from app.db.payout_repository import list_payouts, read_cursor
from app.db.session import session_scope
from app.domain.keys import transaction_external_id
from app.services.payouts import sync_payouts
from shopify_client import order_transactions
from simulators.shopify import order_factory as of
from tests.conftest import TEST_ENV
from tests.unit.test_config import PAYOUTS

D = Decimal
# The accounts of tests/unit/test_config.py, one bank (USD), the deposit model.
PAYOUT_ENV = {
    **PAYOUTS,
    "PAYOUT_BANK_ACCOUNTS": "USD=101",
    "PAYMENT_MODEL": "deposit",
    "NETSUITE_DEFAULT_PAYMENT_METHOD_ID": "9",
    "PAYOUT_LAG_HOURS": "72",
}
CUSTOMER = of.Customer(
    7101, "Grace", "Hopper", "grace@example.com", of.Address("Grace", "Hopper", "2 Main St", "Austin", "TX", "73301")
)
ORDER_BASE = 6_950_000_000
DAY = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()


class Stores:
    def __init__(self, shopify: str, netsuite: str) -> None:
        self.shopify, self.netsuite = shopify, netsuite
        self.client = get_netsuite()
        self.customer = self.client.upsert("customer", "shopify-customer-7101", {"companyName": "Test customer"})

    def shop(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.shopify}/_sim{path}", json=body, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def orders(self, *prices: str, day: str = DAY, start: int = 1) -> list[int]:
        made = []
        for n, price in enumerate(prices, start):
            lines = [of.Line(f"SKU-P{n}", "Widget", price, 1, 700 + n, 900 + n)]
            made.append(
                of.build_order(
                    order_id=ORDER_BASE + n,
                    number=5000 + n,
                    customer=CUSTOMER,
                    lines=lines,
                    created_at=f"{day}T10:00:00Z",
                )
            )
        self.shop("POST", "/orders", made)
        return [o["id"] for o in made]

    def receipts(self, order_ids: list[int], *, skip: frozenset[int] = frozenset()) -> None:
        """What the payments flow writes: one customer deposit per sale or capture, one customer refund per refund."""
        for order_id in order_ids:
            if order_id in skip:
                continue
            deposits: dict[int, str] = {}
            for txn in order_transactions(get_shopify(), order_id) or []:
                if txn.status != "SUCCESS" or txn.gateway != "shopify_payments":
                    continue
                eid = transaction_external_id(txn.id)
                if txn.kind in ("SALE", "CAPTURE"):
                    body = {"customer": {"id": self.customer}, "payment": txn.amount, "undepFunds": True}
                    deposits[txn.id] = self.client.upsert_receipt("customerDeposit", eid, body)
                elif txn.kind == "REFUND":
                    doc = {"doc": {"id": deposits[txn.parent_id]}, "apply": True, "amount": txn.amount}
                    body = {"customer": {"id": self.customer}, "deposit": {"items": [doc]}}
                    self.client.upsert_receipt("customerRefund", eid, body)

    def payouts(self) -> list[dict]:
        return self.shop("POST", "/payments/payouts")["payouts"]

    def deposits(self) -> list[dict]:
        stats = requests.get(f"{self.netsuite}/_sim/records/deposit", timeout=10)
        return stats.json() if stats.status_code == 200 else []


@pytest.fixture
def stores(sim: str, shopify_server: str, clean_db: str) -> Stores:
    requests.post(f"{shopify_server}/_sim/reset", timeout=10).raise_for_status()
    return Stores(shopify_server, sim)


def run(**kwargs: Any):
    settings = load_settings({**TEST_ENV, **PAYOUT_ENV, **kwargs.pop("env", {})})
    with session_scope() as session:
        return sync_payouts(session, get_shopify(), get_netsuite(), settings, **kwargs)


def test_a_payout_becomes_one_deposit_equal_to_its_net_and_a_rerun_changes_nothing(stores: Stores):
    ids = stores.orders("120.00", "45.50", "80.00")
    line = requests.get(f"{stores.shopify}/_sim/orders/{ids[1]}", timeout=10).json()["line_items"][0]["id"]
    stores.shop("POST", f"/orders/{ids[1]}/refunds", {"refund_line_items": [{"line_item_id": line}]})
    stores.shop("POST", "/payments/reserve", {"amount": "25.00"})
    stores.shop("POST", "/payments/disputes", {"order_id": ids[2], "amount": "30.00"})
    today = dt.datetime.now(dt.UTC).date().isoformat()
    ids += stores.orders("150.00", day=today, start=4)  # today's payout stays a deposit (positive)
    stores.receipts(ids)
    payouts = stores.payouts()  # yesterday's sales, and today's refund, reserve and dispute
    assert len(payouts) == 2 and {p["status"] for p in payouts} == {"PAID"}

    report = run()
    assert (report.posted, report.waiting, report.errors) == (2, 0, 0), report
    deposits = [stores.client.get_deposit(external_id=f"shopify-payout-{p['id']}") for p in payouts]
    for payout, deposit, outcome in zip(payouts, deposits, report.payouts, strict=True):
        assert deposit.total == D(payout["net"]) == D(outcome.deposit_total)  # NetSuite's own total, to the cent
        assert D(outcome.variance) == 0
    assert sum(len(d.payments) for d in deposits) == 5  # four sales and the refund, each its own receipt
    assert {line.account for d in deposits for line in d.cashback} >= {"601", "602", "603"}  # fees, dispute, reserve
    with session_scope() as session:
        rows = list_payouts(session)
        assert sorted((r.state, r.deposit_netsuite_id, r.missing) for r in rows) == sorted(
            ("deposited", d.id, 0) for d in deposits
        )
        assert read_cursor(session) is not None

    again = run()
    assert (again.posted, again.unchanged) == (0, 2)
    assert [stores.client.get_deposit(external_id=f"shopify-payout-{p['id']}").total for p in payouts] == [
        d.total for d in deposits
    ]


def test_a_missing_receipt_makes_the_payout_wait_then_post_with_a_variance_after_the_lag(stores: Stores):
    ids = stores.orders("60.00", "40.00", start=11)
    stores.receipts(ids, skip=frozenset({ids[1]}))
    [payout] = stores.payouts()

    waiting = run()
    assert (waiting.posted, waiting.waiting) == (0, 1) and waiting.payouts[0].missing == 1
    with session_scope() as session:
        assert list_payouts(session)[0].state == "waiting"

    # The late order's receipt arrives: the next run posts it whole, no variance.
    stores.receipts([ids[1]])
    landed = run()
    assert landed.posted == 1 and D(landed.payouts[0].variance) == 0
    assert stores.client.get_deposit(external_id=f"shopify-payout-{payout['id']}").total == D(payout["net"])


def test_after_the_lag_a_payout_posts_with_the_gap_on_the_variance_line(stores: Stores):
    ids = stores.orders("60.00", "40.00", start=21)
    stores.receipts(ids, skip=frozenset({ids[1]}))
    [payout] = stores.payouts()
    late = run(env={"PAYOUT_LAG_HOURS": "0"})
    assert late.posted == 1
    deposit = stores.client.get_deposit(external_id=f"shopify-payout-{payout['id']}")
    assert deposit.total == D(payout["net"])
    variance = [line for line in deposit.other if line.account == "698"]
    assert [line.amount for line in variance] == [D("40.00")]
    with session_scope() as session:
        assert list_payouts(session)[0].variance == D("40.00")


def test_a_payout_that_fails_after_paid_is_reversed_and_its_receipts_freed(stores: Stores):
    ids = stores.orders("75.00", start=31)
    stores.receipts(ids)
    [payout] = stores.payouts()
    assert run().posted == 1
    stores.shop("POST", f"/payments/payouts/{payout['id']}/status", {"status": "FAILED"})
    reversed_run = run()
    assert reversed_run.reversed == 1
    with pytest.raises(Exception, match="404|not found|NOT_FOUND"):
        stores.client.get_deposit(external_id=f"shopify-payout-{payout['id']}")
    undeposited = stores.client.receipts_by_external_ids(
        [transaction_external_id(t.id) for t in order_transactions(get_shopify(), ids[0]) or [] if t.kind == "SALE"]
    )
    assert [r.undeposited for r in undeposited] == [True]
    with session_scope() as session:
        assert list_payouts(session)[0].state == "reversed"
    assert run().reversed == 0  # reversed once


def test_a_dry_run_decides_and_writes_nothing(stores: Stores):
    ids = stores.orders("33.00", start=41)
    stores.receipts(ids)
    [payout] = stores.payouts()
    dry = run(dry_run=True)
    assert dry.posted == 1 and D(dry.payouts[0].deposit_total) == D(payout["net"])
    with pytest.raises(Exception, match="404|not found|NOT_FOUND"):
        stores.client.get_deposit(external_id=f"shopify-payout-{payout['id']}")
    with session_scope() as session:
        assert list_payouts(session) == [] and read_cursor(session) is None


def test_without_a_bank_account_the_job_says_so_and_does_nothing(stores: Stores):
    settings = load_settings(TEST_ENV)
    with session_scope() as session:
        report = sync_payouts(session, get_shopify(), get_netsuite(), settings)
    assert report.not_run and "PAYOUT_BANK_ACCOUNTS" in report.not_run and report.payouts_read == 0


def check(now: dt.datetime | None = None):
    from app.services.payouts_check import check_payouts

    settings = load_settings({**TEST_ENV, **PAYOUT_ENV})
    with session_scope() as session:
        return check_payouts(session, get_netsuite(), get_shopify(), settings, now=now)


def test_the_nightly_check_compares_shopifys_payouts_with_netsuites_own_deposits(stores: Stores):
    ids = stores.orders("90.00", start=51) + stores.orders("30.00", start=52, day=dt.date.today().isoformat())
    stores.receipts(ids)
    yesterday, today = sorted(stores.payouts(), key=lambda p: p["id"])
    assert check().waiting == 2  # no deposit yet, but within the lag: not a difference
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=5)
    missing = check(later)
    assert {(d.payout_id, d.problem, d.netsuite_total) for d in missing.differences} == {
        (str(yesterday["id"]), "missing", None),
        (str(today["id"]), "missing", None),
    }
    assert all(d.age_hours > 72 for d in missing.differences)

    assert run().posted == 2
    assert (check().matched, check().differences) == (2, [])
    # Someone edits the deposit in NetSuite: the check reads NetSuite's total, not the job's row.
    eid = f"shopify-payout-{yesterday['id']}"
    deposit = stores.client.get_deposit(external_id=eid)
    extra = {"items": [{"account": {"id": "604"}, "amount": D("1.00"), "memo": "by hand"}]}
    stores.client.upsert("deposit", eid, {"other": extra})  # NetSuite appends an unkeyed line
    [diff] = check().differences
    assert (diff.payout_id, diff.problem, D(diff.netsuite_total)) == (str(yesterday["id"]), "amount", deposit.total + 1)
    # Shopify says today's payout failed; until the job reverses it, its deposit is a difference.
    stores.shop("POST", f"/payments/payouts/{today['id']}/status", {"status": "FAILED"})
    assert {d.problem for d in check().differences} == {"amount", "deposit_of_failed_payout"}
    assert run().reversed == 1
    assert {d.problem for d in check().differences} == {"amount"}


def test_a_netsuite_refusal_fails_that_payout_alone_and_the_next_run_posts_it(stores: Stores):
    ids = stores.orders("50.00", start=61) + stores.orders("70.00", start=62, day=dt.date.today().isoformat())
    stores.receipts(ids)
    first, second = sorted(stores.payouts(), key=lambda p: p["id"])
    # NetSuite answers the first deposit's PUT with a 400 (no retry of a 4xx): the run goes on to the second.
    fault = {"status": 400, "count": 1, "match": "PUT deposit"}
    requests.post(f"{stores.netsuite}/_sim/faults", json=fault, timeout=5).raise_for_status()
    report = run()
    assert (report.posted, report.errors) == (1, 1)
    failed = next(p for p in report.payouts if p.action == "error")
    assert failed.payout_id == str(first["id"]) and "NetSuite refused the post" in failed.reason
    with session_scope() as session:
        states = {r.payout_id: r.state for r in list_payouts(session)}
    assert states == {str(first["id"]): "failed", str(second["id"]): "deposited"}
    again = run()
    assert (again.posted, again.errors, again.unchanged) == (1, 0, 1)
    assert stores.client.get_deposit(external_id=f"shopify-payout-{first['id']}").total == D(first["net"])


def test_a_receipt_in_another_currency_than_the_payout_counts_as_missing_never_a_refused_deposit(stores: Stores):
    ids = stores.orders("60.00", "40.00", start=71)
    stores.receipts(ids, skip=frozenset({ids[1]}))
    # The second order was booked in EUR (an order paid in euros, settled by Shopify in dollars).
    eur = {"customer": {"id": stores.customer}, "payment": D("40.00"), "undepFunds": True, "currency": {"id": "2"}}
    second = next(t for t in order_transactions(get_shopify(), ids[1]) or [] if t.kind == "SALE")
    stores.client.upsert_receipt("customerDeposit", transaction_external_id(second.id), eur)
    [payout] = stores.payouts()
    env = {"NETSUITE_CURRENCY_MAP": "USD=1,EUR=2"}
    assert run(env=env).waiting == 1
    late = run(env={**env, "PAYOUT_LAG_HOURS": "0"})
    assert (late.posted, late.errors) == (1, 0)
    deposit = stores.client.get_deposit(external_id=f"shopify-payout-{payout['id']}")
    assert deposit.total == D(payout["net"]) and len(deposit.payments) == 1
    assert [line.amount for line in deposit.other if line.account == "698"] == [D("40.00")]


def test_unmapped_types_failed_posts_and_reversals_each_page_a_person(stores: Stores):
    from app.db.payout_repository import payouts_needing_a_person
    from app.domain.alerts import payout_attention_observation

    ids = stores.orders("80.00", start=81) + stores.orders("20.00", start=82, day=dt.date.today().isoformat())
    stores.receipts(ids)
    stores.shop("POST", "/payments/balance_transactions", {"type": "SHOP_CASH_CREDIT", "amount": "3.10"})
    first, second = sorted(stores.payouts(), key=lambda p: p["id"])
    fault = {"status": 400, "count": 1, "match": "PUT deposit"}
    requests.post(f"{stores.netsuite}/_sim/faults", json=fault, timeout=5).raise_for_status()
    run()  # the first payout's deposit is refused; the second (today's, with the unmapped type) posts

    def keys() -> set[str]:
        with session_scope() as session:
            return {c.key for c in payout_attention_observation(payouts_needing_a_person(session)).firing}

    assert keys() == {f"payout:failed:{first['id']}", f"payout:suspense:{second['id']}"}
    run()  # posted now: that condition clears
    assert keys() == {f"payout:suspense:{second['id']}"}
    stores.shop("POST", f"/payments/payouts/{first['id']}/status", {"status": "CANCELED"})
    run()
    assert keys() == {f"payout:suspense:{second['id']}", f"payout:reversed:{first['id']}"}
