"""`/_sim` control of Shopify Payments (`payments.py`), and the webhook payloads of its topics.

- `POST /_sim/orders/<id>/transactions` `{"kind": "capture"|"void"|"sale"|"authorization", "amount"?,
  "parent_id"?, "gateway"?, "status"?}`: a capture (partial with `amount`, several allowed, never above what the
  authorization has left), a void of the open authorization, or a sale; answers `{"transaction"}` (REST shape).
- `GET /_sim/orders/<id>/transactions`: the order's transactions (REST shape).
- `POST /_sim/orders/<id>/transactions/expire`: its open authorizations expire now; answers `{"expired"}`.
- `POST /_sim/payments/payouts` `{"status"?: "PAID"}`: Shopify's payout run now: charges and refunds from the
  orders, then one payout per UTC day of pending balance transactions; answers `{"payouts": [...]}`.
- `GET /_sim/payments/payouts`: every payout with its rows. `POST /_sim/payments/payouts/<id>/status`
  `{"status": "FAILED"|"CANCELED"|"PAID"|"SCHEDULED"}`.
- `POST /_sim/payments/reserve` `{"amount", "release"?: false}`: a reserve hold or release (pending).
- `POST /_sim/payments/balance_transactions` `{"type", "amount", "fee"?, "order_id"?, "source_type"?,
  "adjustment_reason"?, "date"?}`: a row of any ShopifyPaymentsTransactionType (a rare one), pending.
- `POST /_sim/payments/disputes` `{"order_id", "amount"?, "fee"?: "15.00", "reason"?, "status"?, "type"?, "date"?}` and
  `POST /_sim/payments/disputes/<id>` `{"status"}`; `GET /_sim/payments/disputes`.

Webhooks: `POST /_sim/webhooks/deliver` without `payload` but with `resource_id` builds the body of `orders/paid`
(the order), `order_transactions/create` (a transaction id) or `disputes/create|update` (a dispute id) the way
Shopify's examples show them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from simulators.shopify.payments import BalanceRow, PaymentsLedger, Payout
from simulators.shopify.store import StoreError, money_text
from simulators.wsgi import json_body

if TYPE_CHECKING:
    from collections.abc import Callable

BUILT_TOPICS = frozenset({"orders/paid", "order_transactions/create", "disputes/create", "disputes/update"})


def row_json(row: BalanceRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "source_type": row.source_type,
        "source_id": row.source_id,
        "order_id": row.order_id,
        "amount": money_text(row.amount),
        "fee": money_text(row.fee),
        "net": money_text(row.net),
        "currency": row.currency,
        "date": row.date.isoformat(),
        "payout_id": row.payout_id,
    }


def payout_json(ledger: PaymentsLedger, payout: Payout) -> dict[str, Any]:
    return {
        "id": payout.id,
        "status": payout.status,
        "issued_at": payout.issued_at.isoformat(),
        "net": money_text(payout.net),
        "currency": payout.currency,
        "balance_transactions": [row_json(r) for r in ledger.payout_rows(payout.id)],
    }


def transaction_payload(tx: dict[str, Any]) -> dict[str, Any]:
    """order_transactions/create: the REST transaction with the keys of Shopify's 2026-04 example."""
    shop = tx["amount_set"]["shop_money"]
    presentment = tx["amount_set"]["presentment_money"]
    return {
        "id": tx["id"],
        "order_id": tx["order_id"],
        "kind": tx["kind"],
        "gateway": tx["gateway"],
        "status": tx["status"],
        "message": None,
        "created_at": tx["created_at"],
        "test": tx["test"],
        "authorization": None,
        "location_id": None,
        "user_id": None,
        "parent_id": tx.get("parent_id"),
        "processed_at": tx["processed_at"],
        "device_id": None,
        "error_code": None,
        "source_name": "web",
        "payment_details": None,
        "receipt": {},
        "amount": tx["amount"],
        "currency": tx["currency"],
        "payment_id": f"#{tx['order_id']}.{tx['id']}",
        "total_unsettled_set": {
            "presentment_money": {"amount": "0.00", "currency": presentment["currency_code"]},
            "shop_money": {"amount": "0.00", "currency": shop["currency_code"]},
        },
        "manual_payment_gateway": tx["gateway"] not in ("shopify_payments", "gift_card"),
        "amount_rounding": None,
        "admin_graphql_api_id": tx["admin_graphql_api_id"],
    }


def dispute_payload(dispute: dict[str, Any]) -> dict[str, Any]:
    """disputes/create|update: the REST Dispute resource (UNCONFIRMED: the webhook reference's example is not in
    shared/reference; these are the REST resource's fields, as schemas/examples/2026-04/disputes/ has them)."""
    return {k: v for k, v in dispute.items() if k not in ("fee", "admin_graphql_api_id")}


def build_payload(ledger: PaymentsLedger, topic: str, resource_id: Any) -> dict[str, Any]:
    """The body Shopify would send for `topic` about `resource_id`."""
    if not isinstance(resource_id, int) or isinstance(resource_id, bool):
        raise ValueError("resource_id must be an integer id")
    if topic == "orders/paid":
        order = ledger.store.get(resource_id)
        if order is None:
            raise StoreError(404, f"no order {resource_id}")
        return order
    if topic == "order_transactions/create":
        for entry in ledger.store.snapshot():
            for tx in ledger.transactions(entry.order):
                if tx["id"] == resource_id:
                    return transaction_payload(tx)
        raise StoreError(404, f"no order transaction {resource_id}")
    if topic in ("disputes/create", "disputes/update"):
        return dispute_payload(ledger.dispute(resource_id))
    raise ValueError(f"the simulator builds payloads only for {sorted(BUILT_TOPICS)}")


def order_transactions(ledger: PaymentsLedger, request: Request, order_id: int, rest: list[str]) -> Any:
    """`/_sim/orders/<id>/transactions[/expire]`; None when the path is not one of them."""
    if rest == [] and request.method == "GET":
        order = ledger.store.get(order_id)
        if order is None:
            raise StoreError(404, f"no order {order_id}")
        return ledger.transactions(order)
    if rest == [] and request.method == "POST":
        return {"transaction": ledger.add_transaction(order_id, json_body(request))}
    if rest == ["expire"] and request.method == "POST":
        return {"expired": ledger.expire_authorizations(order_id)}
    return None


def payments(ledger: PaymentsLedger, request: Request, parts: list[str], transaction_types: frozenset[str]) -> Any:
    """`/_sim/payments/...`; None when the path is not one of them."""
    method = request.method
    body: Callable[[], dict[str, Any]] = lambda: json_body(request, default={})  # noqa: E731
    if parts == ["payouts"] and method == "POST":
        return {"payouts": [payout_json(ledger, p) for p in ledger.create_payouts(body())]}
    if parts == ["payouts"] and method == "GET":
        return [payout_json(ledger, p) for p in sorted(ledger.payouts.values(), key=lambda p: p.id)]
    if len(parts) == 3 and parts[0] == "payouts" and parts[2] == "status" and method == "POST":
        payout = ledger.set_payout_status(_int(parts[1]), body().get("status"))
        return payout_json(ledger, payout)
    if parts == ["reserve"] and method == "POST":
        return row_json(ledger.reserve(body()))
    if parts == ["balance_transactions"] and method == "POST":
        return row_json(ledger.add_row(body(), transaction_types))
    if parts == ["balance_transactions"] and method == "GET":
        return [row_json(r) for r in list(ledger.rows)]
    if parts == ["disputes"] and method == "POST":
        return ledger.add_dispute(body())
    if parts == ["disputes"] and method == "GET":
        return [dict(d) for d in ledger.disputes.values()]
    if len(parts) == 2 and parts[0] == "disputes" and method == "POST":
        return ledger.update_dispute(_int(parts[1]), body())
    return None


def _int(text: str) -> int:
    if not text.isdigit():
        raise StoreError(404, f"no such id {text!r}")
    return int(text)


def answer(result: Any, respond: Callable[[int, Any], Response], request: Request) -> Response:
    if result is None:
        return respond(404, {"error": f"no such simulator endpoint: {request.method} {request.path}"})
    return respond(200, result)
