"""The soak's history check: what NetSuite (the simulator) holds against what Shopify made, and the verdict.

Only NetSuite's own records count, never a copy our database wrote: every order once, with its lines (each
Shopify product line once, its SKU and quantity) and the total NetSuite computed; each fulfillment once with its
units; each refund once as a credit memo of its amount and a customer refund paying it; a cancelled order's lines
closed; no record nobody asked for (a bad refund's credit memo, a second copy under another id). Then the peak of
our NetSuite calls in flight (the simulator's count) against the budget, inventory drift (Shopify's levels against
NetSuite's), and every dead letter against the fault log.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.soak.faults import FaultLog
from bench.soak.plan import Lifecycle

CHECKED_TYPES = ("salesOrder", "itemFulfillment", "creditMemo", "customerRefund")


def dec(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0"))


@dataclass
class History:
    """The check's findings: each a short sentence naming the order and what is off."""

    orders: int
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    peak: int = 0
    budget: int = 0
    drift: list[str] = field(default_factory=list)
    levels_compared: int = 0
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    unexplained: list[dict[str, Any]] = field(default_factory=list)
    documents: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not (self.missing or self.duplicated or self.wrong or self.drift or self.unexplained) and (
            self.peak <= self.budget
        )

    def verdict(self) -> str:
        dead = len(self.dead_letters)
        explained = "all explained" if not self.unexplained else f"{len(self.unexplained)} unexplained"
        return (
            f"soak verdict: {'PASS' if self.passed else 'FAIL'} — {self.orders} orders: {len(self.missing)} missing,"
            f" {len(self.duplicated)} duplicated, {len(self.wrong)} wrong; peak {self.peak}/{self.budget};"
            f" drift {len(self.drift)}; {dead} dead letter{'s' if dead != 1 else ''}, {explained}"
        )

    def facts(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "orders": self.orders,
            "missing": len(self.missing),
            "duplicated": len(self.duplicated),
            "wrong": len(self.wrong),
            "peak": self.peak,
            "budget": self.budget,
            "drift": len(self.drift),
            "levels_compared": self.levels_compared,
            "dead_letters": len(self.dead_letters),
            "unexplained_dead_letters": len(self.unexplained),
            "documents": self.documents,
        }


def _by_external_id(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in records:
        out[str(record.get("externalId"))].append(record)
    return out


class _Checker:
    def __init__(
        self, history: History, netsuite: Mapping[str, list[dict]], items: Mapping[str, str], payment_model: str
    ) -> None:
        self.h = history
        self.payment_model = payment_model
        self.items = items  # NetSuite item id -> itemid (SKU)
        self.records = {t: _by_external_id(netsuite.get(t, [])) for t in CHECKED_TYPES}
        self.expected: dict[str, set[str]] = {t: set() for t in CHECKED_TYPES}

    def one(self, record_type: str, eid: str, what: str) -> Mapping[str, Any] | None:
        """The one record of that external id (missing or duplicated noted)."""
        self.expected[record_type].add(eid)
        found = self.records[record_type].get(eid, [])
        if not found:
            self.h.missing.append(f"{what}: no {record_type} {eid}")
            return None
        if len(found) > 1:
            self.h.duplicated.append(f"{what}: {len(found)} {record_type} records {eid}")
        return found[0]

    def life(self, life: Lifecycle) -> None:
        name = f"order {life.order.get('name')} ({life.order_id}, {life.kind})"
        so = self.one("salesOrder", f"shopify-order-{life.order_id}", name)
        if so is not None:
            self.sales_order(life, so, name)
        for f in life.fulfillments:
            record = self.one("itemFulfillment", f"shopify-fulfillment-{f['id']}", name)
            shipped = sum(int(li["quantity"]) for li in f["line_items"])
            if record is not None:
                units = sum(int(dec(li.get("quantity"))) for li in (record.get("item") or {}).get("items") or [])
                if units != shipped:
                    self.h.wrong.append(f"{name}: fulfillment {f['id']} ships {units} units, Shopify {shipped}")
        for r in life.refunds:
            amount = sum((dec(t["amount"]) for t in r["transactions"] if t.get("kind") == "refund"), Decimal(0))
            expected = [("creditMemo", f"shopify-refund-{r['id']}", amount)]
            if self.payment_model == "none":  # one customer refund paying the refund
                expected.append(("customerRefund", f"shopify-refund-{r['id']}-payment", amount))
            else:  # under a payment model, one per Shopify refund transaction (the payout's deposit takes it)
                expected += [
                    ("customerRefund", f"shopify-txn-{t['id']}", dec(t["amount"]))
                    for t in r["transactions"]
                    if t.get("kind") == "refund"
                ]
            for record_type, eid, want in expected:
                record = self.one(record_type, eid, name)
                if record is not None and dec(record.get("total")) != want:
                    self.h.wrong.append(f"{name}: {record_type} {eid} total {record.get('total')}, Shopify {want}")

    def sales_order(self, life: Lifecycle, so: Mapping[str, Any], name: str) -> None:
        if dec(so.get("total")) != life.total:
            self.h.wrong.append(f"{name}: sales order total {so.get('total')}, Shopify {life.total}")
        lines: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for line in (so.get("item") or {}).get("items") or []:
            lines[str(line.get("custcol_shopify_line_id") or "")].append(line)
        for li in life.product_lines():
            found = lines.get(str(li["id"]), [])
            if len(found) != 1:
                self.h.wrong.append(f"{name}: Shopify line {li['id']} ({li['sku']}) on {len(found)} lines")
                continue
            line = found[0]
            sku = self.items.get(str((line.get("item") or {}).get("id")))
            if sku != li["sku"] or int(dec(line.get("quantity"))) != int(li["quantity"]):
                self.h.wrong.append(
                    f"{name}: line {li['id']} is {sku} x {line.get('quantity')}, Shopify {li['sku']} x {li['quantity']}"
                )
            if life.cancelled is not None and not line.get("isClosed"):
                self.h.wrong.append(f"{name}: cancelled, line {li['id']} ({li['sku']}) still open")

    def unexpected(self) -> None:
        """Records of the checked types nobody's history asked for (a copy under another id, a refused refund)."""
        for record_type in CHECKED_TYPES:
            for eid, found in self.records[record_type].items():
                if eid not in self.expected[record_type]:
                    self.h.duplicated.append(f"{len(found)} {record_type} {eid} that no lifecycle made")


def check(
    lifecycles: list[Lifecycle],
    netsuite: Mapping[str, list[dict]],
    items: Mapping[str, str],
    *,
    peak: int,
    budget: int,
    shopify_levels: Mapping[tuple[str, int], int],
    netsuite_levels: Mapping[tuple[str, int], int],
    dead_letters: list[dict[str, Any]],
    log: FaultLog,
    payment_model: str = "none",
) -> History:
    """The verdict's facts. `*_levels`: (SKU, Shopify location) -> available; `dead_letters`: rows with the
    webhook id of their event, `webhook_id`, and `error_code`; `payment_model`: the service's PAYMENT_MODEL (which
    customer refunds a refund makes)."""
    history = History(orders=len(lifecycles), peak=peak, budget=budget)
    checker = _Checker(history, netsuite, items, payment_model)
    for life in lifecycles:
        checker.life(life)
    checker.unexpected()
    history.documents = {t: sum(len(v) for v in checker.records[t].values()) for t in CHECKED_TYPES}
    for key in sorted(set(shopify_levels) | set(netsuite_levels)):
        history.levels_compared += 1
        if shopify_levels.get(key) != netsuite_levels.get(key):
            history.drift.append(
                f"{key[0]} at {key[1]}: Shopify {shopify_levels.get(key)}, NetSuite {netsuite_levels.get(key)}"
            )
    _dead_letters(history, dead_letters, log)
    return history


def _dead_letters(history: History, rows: list[dict[str, Any]], log: FaultLog) -> None:
    seen: Counter[str] = Counter()
    for row in rows:
        fault = log.explaining(row.get("webhook_id"), row.get("error_code"))
        entry = {**row, "explained_by": f"{fault.kind}: {fault.detail}" if fault else None}
        history.dead_letters.append(entry)
        if fault is None:
            history.unexplained.append(entry)
        else:
            seen[fault.webhook_id or ""] += 1
    for fault in log.entries:
        if fault.expect_code and not seen.get(fault.webhook_id or ""):
            history.wrong.append(
                f"injected {fault.kind} ({fault.detail}) did not end in a {fault.expect_code} dead letter"
            )
