"""The soak's history check (bench/soak/history.py) on a refund: under PAYMENT_MODEL=none one customer refund for the
whole refund, under a payment model one per Shopify refund transaction; either way a record of the other kind is
one nobody asked for."""

from __future__ import annotations

from decimal import Decimal

from bench.soak import history as hist
from bench.soak.faults import FaultLog
from bench.soak.plan import Lifecycle

ORDER_ID = 5_300_000_048_001
REFUND = {
    "id": 77,
    "transactions": [
        {"id": 901, "kind": "refund", "amount": "20.00"},
        {"id": 902, "kind": "refund", "amount": "8.00"},
    ],
}


def _life() -> Lifecycle:
    order = {"id": ORDER_ID, "name": "#1", "line_items": []}
    return Lifecycle(order, "returned", Decimal("50.00"), refunds=[REFUND])


def _netsuite(refunds: list[tuple[str, str]]) -> dict[str, list[dict]]:
    return {
        "salesOrder": [{"externalId": f"shopify-order-{ORDER_ID}", "total": "50.00", "item": {"items": []}}],
        "creditMemo": [{"externalId": "shopify-refund-77", "total": "28.00"}],
        "customerRefund": [{"externalId": eid, "total": total} for eid, total in refunds],
    }


def _check(netsuite: dict[str, list[dict]], model: str) -> hist.History:
    return hist.check(
        [_life()],
        netsuite,
        {},
        peak=1,
        budget=12,
        shopify_levels={},
        netsuite_levels={},
        dead_letters=[],
        log=FaultLog(),
        payment_model=model,
    )


def test_under_a_payment_model_each_refund_transaction_is_one_customer_refund_of_its_amount():
    per_transaction = _netsuite([("shopify-txn-901", "20.00"), ("shopify-txn-902", "8.00")])
    found = _check(per_transaction, "deposit")
    assert (found.missing, found.duplicated, found.wrong) == ([], [], [])

    wrong_amount = _netsuite([("shopify-txn-901", "20.00"), ("shopify-txn-902", "9.00")])
    assert _check(wrong_amount, "deposit").wrong == [
        "order #1 (5300000048001, returned): customerRefund shopify-txn-902 total 9.00, Shopify 8.00"
    ]
    one_for_all = _netsuite([("shopify-refund-77-payment", "28.00")])
    found = _check(one_for_all, "deposit")
    assert len(found.missing) == 2 and "1 customerRefund shopify-refund-77-payment" in found.duplicated[0]


def test_without_a_model_the_refund_is_one_customer_refund_of_the_whole_amount():
    found = _check(_netsuite([("shopify-refund-77-payment", "28.00")]), "none")
    assert (found.missing, found.duplicated, found.wrong) == ([], [], [])
    found = _check(_netsuite([("shopify-txn-901", "20.00"), ("shopify-txn-902", "8.00")]), "none")
    assert found.missing == ["order #1 (5300000048001, returned): no customerRefund shopify-refund-77-payment"]
