"""Step 6: the money story, as tests/e2e/test_ledger_story.py tells it. Orders paid at checkout by card, one
authorized and captured in part, one paid by gift card, two refunds, a dispute with its fee and a reserve hold are
made in the Shopify simulator and their webhooks delivered (duplicated and shuffled; receipts and customer refunds
under PAYMENT_MODEL=deposit); one more order's webhooks come late. Shopify's payout run (`POST
/_sim/payments/payouts`) pays them out; the payout job runs as an operator runs it, `shopsync payouts sync --json`
(beat runs the same job every PAYOUTS_EVERY_MINUTES): the payout waits for the late order's receipt, then, once its
webhooks are in, is deposited in NetSuite, read back: total equal to the payout's net to the cent, variance 0; a run
after that posts nothing.

A fresh set of its own: the earlier steps' orders were paid too (their orders/paid went with orders/create), but
their payout is left SCHEDULED (the job skips a payout not paid yet): among them are orders in EUR, GBP and CAD,
whose receipts NetSuite holds in the order's currency, and the payout job cannot put a receipt in another currency on
the USD payout's deposit yet (NetSuite refuses it). The report says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import requests

from bench.common import Delivery
from bench.netsuite_throughput.run import CATALOG
from bench.soak import plan
from devtools.demo.report import Section, section
from devtools.demo.stack import PAYOUT_ACCOUNTS, Demo
from simulators.shopify import order_factory as of
from simulators.shopify.payments_control import transaction_payload

TITLE = "payouts → deposits: captures, refunds, a dispute and a reserve paid out, deposited equal to the net"
ORDER_BASE = 6_980_000_000
CARD_ORDERS = 8
CUSTOMER = of.Customer(
    7401, "Mary", "Jackson", "mary@example.com", of.Address("Mary", "Jackson", "3 Main St", "Portland", "OR", "97205")
)
CAPTURE = ("100.00", "40.00")  # authorized, captured
DISPUTE = ("30.00", "15.00")  # amount, fee
RESERVE = "25.00"
LATE = "44.00"  # the order whose webhooks come after the first payout run
ACCOUNTS = {account: role for role, account in PAYOUT_ACCOUNTS.items()}
D = Decimal


def money(value: object) -> Decimal:
    return D(str(value)).quantize(D("0.01"))


@dataclass
class Story:
    paid: list[plan.Lifecycle]  # paid at checkout: orders/create and orders/paid
    captured: list[Delivery]  # the authorized order's orders/create and its capture's order_transactions/create
    late: plan.Lifecycle  # its webhooks come after the first payout run

    def orders(self) -> int:
        return len(self.paid) + 2


class Shop:
    """The Shopify simulator's control API and the story's orders, made as Shopify makes them."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.url = f"{demo.urls['shop']}/_sim"

    def sim(self, method: str, path: str, body: object = None) -> object:
        response = requests.request(method, f"{self.url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def place(self, n: int, price: str, **extras: str) -> plan.Lifecycle:
        sku, title, _ = CATALOG[n % len(CATALOG)]
        order = of.build_order(
            order_id=ORDER_BASE + n,
            number=70_000 + n,
            customer=CUSTOMER,
            lines=[of.Line(sku, title, price, 1, 8_800 + n, 9_500 + n)],
            created_at=(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=10)).isoformat(),
            extras=of.Extras(**extras) if extras else None,
        )
        life = plan.Lifecycle(order, "placed", D(order["total_price"]))
        plan.create(requests.Session(), self.demo.urls["shop"], life)
        self.demo.lifecycles.append(life)
        return life

    def refund(self, life: plan.Lifecycle, n: int) -> None:
        """One unit of the order's only line returned, the money back to the card."""
        body = of.build_refund(
            life.order,
            refund_id=ORDER_BASE + 500 + n,
            lines={life.order["line_items"][0]["id"]: 1},
            location_id=plan.LOCATIONS[0],
            created_at=dt.datetime.now(dt.UTC).isoformat(),
            transaction_id=ORDER_BASE + 600 + n,
        )
        life.kind = "returned"
        life.refunds.append(self.sim("POST", f"/orders/{life.order_id}/refunds", body)["refund"])


def make_story(shop: Shop) -> Story:
    """The section's own orders in Shopify, and the capture's webhooks (its order is authorized, not paid)."""
    card = [shop.place(n, f"{20 + 3 * n}.{n % 10}5") for n in range(1, CARD_ORDERS + 1)]
    authorized = shop.place(CARD_ORDERS + 1, CAPTURE[0], financial_status="authorized")
    gift = shop.place(CARD_ORDERS + 2, "60.00", gateway="gift_card")
    for n, life in enumerate(card[:2]):
        shop.refund(life, n)
    capture = shop.sim("POST", f"/orders/{authorized.order_id}/transactions", {"kind": "capture", "amount": CAPTURE[1]})
    shop.sim("POST", "/payments/disputes", {"order_id": card[2].order_id, "amount": DISPUTE[0], "fee": DISPUTE[1]})
    shop.sim("POST", "/payments/reserve", {"amount": RESERVE})
    prefix = shop.demo.prefix
    tx = transaction_payload(capture["transaction"])
    captured = [
        Delivery("orders/create", authorized.order, f"{prefix}create-{authorized.order_id}"),
        Delivery("order_transactions/create", tx, f"{prefix}txn-{tx['id']}"),
    ]
    return Story([*card, gift], captured, shop.place(CARD_ORDERS + 3, LATE))


def sync(demo: Demo) -> dict:
    """The payout job now, as an operator runs it (again while beat's own run holds the lock)."""
    return demo.shopsync_json("payouts", "sync", busy="not_run")


def deposits(demo: Demo) -> dict[str, dict]:
    records = requests.get(f"{demo.urls['sim']}/_sim/records/deposit", timeout=30).json()
    return {str(r.get("externalId")): r for r in records}


def put_calls(demo: Demo) -> int:
    stats = requests.get(f"{demo.urls['sim']}/_sim/stats", timeout=30).json()
    return int(stats.get("calls_by_operation", {}).get("PUT deposit", 0))


def lines_of(deposit: dict) -> str:
    """The deposit's lines as NetSuite holds them: payments, then each other or cash-back line by its account."""
    payments = (deposit.get("payment") or {}).get("items") or []
    parts = [f"{len(payments)} payments"]
    for sublist, sign in (("other", ""), ("cashback", "−")):
        for line in (deposit.get(sublist) or {}).get("items") or []:
            account = str((line.get("account") or {}).get("id"))
            parts.append(f"{ACCOUNTS.get(account, 'account ' + account)} {sign}{money(line.get('amount'))}")
    return ", ".join(parts)


def waits(report: dict) -> list[str]:
    return [
        f"payout {p['payout_id']} ({p['net']} {p['currency']}) waits: {p['reason']}"
        for p in report.get("payouts") or []
        if p["action"] == "wait"
    ]


def earlier_payouts(shop: Shop) -> list[dict]:
    """Shopify's payout of the earlier steps' money, left SCHEDULED (the module's docstring says why)."""
    return shop.sim("POST", "/payments/payouts", {"status": "SCHEDULED"})["payouts"]


def foreign(demo: Demo, earlier: int) -> list[str]:
    return sorted({life.order["presentment_currency"] for life in demo.lifecycles[:earlier]} - {"USD"})


def run(demo: Demo) -> Section:
    shop = Shop(demo)
    earlier = len(demo.lifecycles)
    scheduled = earlier_payouts(shop)
    story = make_story(shop)
    late = story.late
    demo.deliver(story.paid, "webhooks of the money story", demo.options.duplicate_share)
    demo.send(story.captured, "the capture's webhooks")
    demo.settle("receipts and refunds landing in NetSuite")
    payouts = shop.sim("POST", "/payments/payouts")["payouts"]
    first = sync(demo)
    demo.deliver([late], "the late order's webhooks", demo.options.duplicate_share)
    demo.settle("the late receipt landing")
    second = sync(demo)
    held = deposits(demo)
    calls = put_calls(demo)
    third = sync(demo)
    again = deposits(demo)
    listed = demo.shopsync("payouts", "list").splitlines()
    seen = demo.netsuite()
    history = demo.check(seen)
    figures = [
        f"{story.orders()} orders: {CARD_ORDERS} paid by card, 1 authorized {CAPTURE[0]} and captured"
        f" {CAPTURE[1]}, 1 by gift card (gift card money never reaches a payout), 1 ({late.order['name']}) whose"
        f" webhooks come late; 2 refunds of one unit; a dispute of {DISPUTE[0]} with its {DISPUTE[1]} fee; a"
        f" reserve of {RESERVE} held",
        f"the {earlier} earlier orders' money: Shopify payout(s) "
        + ", ".join(f"{p['id']} net {p['net']} {p['currency']}" for p in scheduled)
        + f" left SCHEDULED: the job skips a payout not paid yet. Among those orders some are in"
        f" {'/'.join(foreign(demo, earlier)) or 'no other currency'}: their receipts are in the order's currency, and"
        " the job cannot deposit those on the USD payout's deposit yet (NetSuite refuses a receipt in another"
        " currency)",
        f"Shopify's payout run: {len(payouts)} payout(s), "
        + "; ".join(
            f"{p['id']} net {p['net']} {p['currency']} ({len(p['balance_transactions']) - 1} balance transactions)"
            for p in payouts
        ),
        f"shopsync payouts sync --json: {first.get('posted')} posted, {first.get('waiting')} waiting — "
        + ("; ".join(waits(first)) or "nothing waits")
        + f" (order {late.order['name']}'s orders/create and orders/paid had not arrived)",
        f"{late.order['name']}'s webhooks delivered; the job again: {second.get('posted')} posted,"
        f" {second.get('waiting')} waiting, {second.get('unchanged')} unchanged",
    ]
    problems = history.missing + history.duplicated + history.wrong
    if not waits(first):
        problems.append(f"the first run did not wait for {late.order['name']}'s receipt")
    for p in payouts:
        deposit = held.get(f"shopify-payout-{p['id']}")
        if deposit is None:
            problems.append(f"payout {p['id']}: no deposit in NetSuite")
            continue
        variance = money(p["net"]) - money(deposit.get("total"))
        figures.append(
            f"deposit {deposit.get('id')} (shopify-payout-{p['id']}): total {money(deposit.get('total'))} vs payout"
            f" net {money(p['net'])}, variance {variance}; lines: {lines_of(deposit)}"
        )
        if variance:
            problems.append(f"payout {p['id']}: deposit total {deposit.get('total')} != net {p['net']}")
    figures.append(
        f"a third run: {third.get('posted')} posted, {third.get('unchanged')} unchanged; deposits {len(held)} →"
        f" {len(again)}, PUT deposit calls {calls} → {put_calls(demo)}"
    )
    figures.append("shopsync payouts list:")
    if third.get("posted") or len(again) != len(held) or put_calls(demo) != calls:
        problems.append("the run after the deposits posted something again")
    if not payouts:
        problems.append("Shopify's payout run made no payout")
    problems += waits(second)
    done = section(TITLE, figures, problems)
    done.block = listed
    return done
