"""Payment webhooks through real processes: gunicorn takes orders/paid and order_transactions/create, they travel on
the `payments` queue, and the Procfile's worker_fulfillment consumes it. The session's stack runs with
PAYMENT_MODEL=none (the shipped default), so each event is done with nothing written; the receipts themselves are
held per model by tests/integration/test_payments_flow.py."""

from __future__ import annotations

import requests
from sqlalchemy import select

from app.db.models import OrderTransition, WebhookEvent
from app.db.session import session_scope
from simulators.shopify.payments_control import transaction_payload
from tests import story
from tests.e2e.conftest import E2E, wait_until
from tests.e2e.test_lifecycle import send, settled


def test_payment_webhooks_are_consumed_from_their_queue_and_post_nothing_without_a_model(fresh: E2E):
    order = story.order_as_shopify_has_it_now()
    requests.post(f"{fresh.shopify}/_sim/orders", json=order, timeout=10).raise_for_status()
    txns = requests.get(f"{fresh.shopify}/_sim/orders/{story.ORDER_ID}/transactions", timeout=10).json()
    sale = next(t for t in txns if t["kind"] == "sale")
    send(fresh, "orders/create", story.ORDER)
    send(fresh, "order_transactions/create", transaction_payload(sale))
    send(fresh, "orders/paid", requests.get(f"{fresh.shopify}/_sim/orders/{story.ORDER_ID}", timeout=10).json())
    wait_until(lambda: settled(3), 60, what="the three deliveries processed")

    with session_scope() as s:
        statuses = dict(s.execute(select(WebhookEvent.topic, WebhookEvent.status)).all())
        payment_transitions = list(
            s.scalars(
                select(OrderTransition).where(OrderTransition.topic.in_(("orders/paid", "order_transactions/create")))
            )
        )
    assert statuses == {"orders/create": "done", "order_transactions/create": "done", "orders/paid": "done"}
    assert payment_transitions == []  # PAYMENT_MODEL=none: the handler returned before touching the order
    assert len(fresh.sim_records("salesOrder")) == 1
    for record_type in ("customerDeposit", "cashSale", "customerPayment", "invoice"):
        assert fresh.sim_records(record_type) == []
