"""Queues, task names and the one routing table (shared by the web side, workers and beat)."""

from __future__ import annotations

from dataclasses import dataclass

QUEUES = (
    "orders",
    "fulfillments",
    "refunds",
    "payments",
    "inventory",
    "reconcile",
    "backfill",
    "alerts",
    "dead_letter",
)

# Process groups: which queues each kind of worker consumes (Procfile lines worker_<group>).
WORKER_GROUPS = {
    "orders": ("orders",),
    # payments: an order's receipts, beside its refunds (both lock the order and write money records).
    "fulfillment": ("fulfillments", "refunds", "payments"),
    # alerts: a queue of its own, so an evaluation never waits behind a backlog of bulk work, and no order worker
    # ever waits on Slack or PagerDuty.
    "bulk": ("inventory", "reconcile", "backfill", "alerts"),
}

TASK_PROCESS_EVENT = "shopsync.process_event"
TASK_OUTBOX_RELAY = "shopsync.outbox_relay"
TASK_DEAD_LETTER = "shopsync.dead_letter"
TASK_INVENTORY_PUSH = "shopsync.inventory_push"
TASK_RECONCILE = "shopsync.reconcile"
TASK_REQUEUE_DEAD_LETTER = "shopsync.requeue_dead_letter"
TASK_CHECK_CREDENTIALS = "shopsync.check_credentials"
TASK_SCHEDULED_CHECKS = "shopsync.scheduled_checks"
TASK_CHECK_SUBSCRIPTIONS = "shopsync.check_subscriptions"
TASK_SYNC_PAYOUTS = "shopsync.sync_payouts"
TASK_EVALUATE_ALERTS = "shopsync.evaluate_alerts"
TASK_DAILY_DIGEST = "shopsync.daily_digest"


@dataclass(frozen=True)
class Topic:
    queue: str
    # The name of its use case in app.services.events.HANDLERS (a test holds the two together).
    handler: str


# The one topic table: every topic the service subscribes to, the queue it is published on, who handles it.
TOPICS = {
    "orders/create": Topic("orders", "order"),
    "orders/updated": Topic("orders", "order"),
    "orders/cancelled": Topic("orders", "order"),
    # The edit's deltas only: the handler reads the order as Shopify has it now.
    "orders/edited": Topic("orders", "order_edit"),
    "fulfillments/create": Topic("fulfillments", "fulfillment"),
    "fulfillments/update": Topic("fulfillments", "fulfillment"),
    "refunds/create": Topic("refunds", "refund"),
    # Either one makes the handler read the order's transactions from Shopify and post the receipts still missing
    # (app/services/payments.py), so duplicates and any delivery order converge.
    "orders/paid": Topic("payments", "payment"),
    "order_transactions/create": Topic("payments", "payment"),
    # Shopify's own inventory changes: NetSuite is the truth for stock, so these are recorded (and counted for
    # drift), never written to NetSuite; the push-back flow corrects Shopify from NetSuite.
    "inventory_levels/update": Topic("inventory", "record"),
    # Disputes are recorded and shown (their money reaches NetSuite on the payout's deposit). On the refunds queue:
    # post-purchase money, few deliveries, and no queue of their own to deploy.
    "disputes/create": Topic("refunds", "dispute"),
    "disputes/update": Topic("refunds", "dispute"),
}
TOPIC_QUEUES = {topic: spec.queue for topic, spec in TOPICS.items()}

# Static routes; process_event is routed per topic at publish time (TOPIC_QUEUES).
TASK_ROUTES = {
    TASK_OUTBOX_RELAY: {"queue": "reconcile"},
    TASK_DEAD_LETTER: {"queue": "dead_letter"},
    TASK_INVENTORY_PUSH: {"queue": "inventory"},
    TASK_RECONCILE: {"queue": "reconcile"},
    # Flower's "apply task" is the operator's requeue button: a small task any online bulk worker runs.
    TASK_REQUEUE_DEAD_LETTER: {"queue": "reconcile"},
    TASK_CHECK_CREDENTIALS: {"queue": "reconcile"},
    TASK_SCHEDULED_CHECKS: {"queue": "reconcile"},
    TASK_CHECK_SUBSCRIPTIONS: {"queue": "reconcile"},
    # Shopify sends no payout webhook: beat polls. A batch job on the bulk worker, NetSuite calls in the reconcile lane.
    TASK_SYNC_PAYOUTS: {"queue": "reconcile"},
    TASK_EVALUATE_ALERTS: {"queue": "alerts"},
    TASK_DAILY_DIGEST: {"queue": "alerts"},
}

TASK_MODULES = [
    "tasks.events",
    "tasks.maintenance",
    "tasks.dead_letter",
    "tasks.inventory",
    "tasks.reconcile",
    "tasks.alerts",
    "tasks.payouts",
]
