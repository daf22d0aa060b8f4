"""Integration state. PostgreSQL is the system of record; Redis only carries work."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class EventStatus:
    RECEIVED = "received"
    PROCESSING = "processing"
    DONE = "done"
    IGNORED = "ignored"
    DEAD = "dead"


class WebhookEvent(Base):
    """The inbox and the outbox: one row per Shopify delivery, published to Celery after commit."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_id: Mapped[str | None] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(100))
    shop: Mapped[str] = mapped_column(String(255))
    api_version: Mapped[str] = mapped_column(String(20))
    triggered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    raw_body: Mapped[bytes] = mapped_column(LargeBinary)
    resource_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_webhook_events_status_received", "status", "received_at"),
        Index("ix_webhook_events_resource", "topic", "resource_id"),
    )


class OrderState(Base):
    """Our own view of each order; never derived from NetSuite reads."""

    __tablename__ = "order_state"

    shopify_order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_name: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    netsuite_internal_id: Mapped[str | None] = mapped_column(String(64))
    netsuite_customer_id: Mapped[str | None] = mapped_column(String(64))
    customer_external_id: Mapped[str | None] = mapped_column(String(255))
    last_applied_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_event_id: Mapped[int | None] = mapped_column(BigInteger)
    total_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    taxes_included: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    refunded_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    money_mismatch: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class OrderTransition(Base):
    __tablename__ = "order_transitions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    shopify_order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("order_state.shopify_order_id"), index=True)
    webhook_event_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("webhook_events.id"))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NetSuiteCallLog(Base):
    __tablename__ = "netsuite_call_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    operation: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(10))
    record_type: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    internal_id: Mapped[str | None] = mapped_column(String(64))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    final_status: Mapped[str] = mapped_column(String(16))
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)


class DeadLetter(Base):
    """Every dead-lettering, kept forever here so the Redis queue can always be rebuilt."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_name: Mapped[str] = mapped_column(String(255))
    task_id: Mapped[str | None] = mapped_column(String(255))
    queue: Mapped[str] = mapped_column(String(64))
    args: Mapped[list] = mapped_column(JSONB)
    kwargs: Mapped[dict] = mapped_column(JSONB)
    webhook_event_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    topic: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32))
    error_class: Mapped[str] = mapped_column(String(255))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    requeued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requeue_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ItemMap(Base):
    """SKU -> NetSuite item internal id, refreshed from SuiteQL, so orders don't look items up per line."""

    __tablename__ = "netsuite_item_map"

    sku: Mapped[str] = mapped_column(String(255), primary_key=True)
    netsuite_item_id: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CustomerSync(Base):
    """What we last sent NetSuite for each customer: an unchanged customer costs no NetSuite call."""

    __tablename__ = "customer_sync"

    shopify_customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255))
    netsuite_internal_id: Mapped[str | None] = mapped_column(String(64))
    body_hash: Mapped[str] = mapped_column(String(64))
    # True: an existing NetSuite customer found by email (netsuite_internal_id); the service never writes to it.
    matched: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GuestCustomerSync(Base):
    """The same for customers of orders without a Shopify customer, keyed by the external id the service gives them
    (`shopify-guest-<hash of the email>`, or NETSUITE_DEFAULT_CUSTOMER_EXTERNAL_ID for the single guest)."""

    __tablename__ = "guest_customer_sync"

    external_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    netsuite_internal_id: Mapped[str | None] = mapped_column(String(64))
    body_hash: Mapped[str] = mapped_column(String(64))
    matched: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OrderLine(Base):
    """Per-line quantities of an order as we applied them, and the NetSuite line (or, for a bundle, lines) each one
    became."""

    __tablename__ = "order_lines"

    shopify_order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("order_state.shopify_order_id", ondelete="CASCADE"), primary_key=True
    )
    shopify_line_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(255))
    ordered: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    fulfilled: Mapped[int] = mapped_column(Integer, default=0)
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    restocked: Mapped[int] = mapped_column(Integer, default=0)
    netsuite_line: Mapped[int | None] = mapped_column(Integer)
    # A bundle's component lines on the sales order, read from NetSuite: [{"sku", "line", "units"}] (units per bundle).
    components: Mapped[list | None] = mapped_column(JSONB(none_as_null=True))


class OrderDocument(Base):
    """A fulfillment or refund applied to an order, and the NetSuite record(s) it produced."""

    __tablename__ = "order_documents"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    shopify_order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("order_state.shopify_order_id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # fulfillment | refund
    shopify_id: Mapped[int] = mapped_column(BigInteger)
    external_id: Mapped[str] = mapped_column(String(255))
    netsuite_type: Mapped[str | None] = mapped_column(String(64))
    netsuite_internal_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("kind", "shopify_id", name="uq_order_documents_kind_shopify_id"),)


class InventoryRestock(Base):
    """Quantities a refund or cancellation put back on the shelf, for the inventory flow."""

    __tablename__ = "inventory_restocks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    shopify_order_id: Mapped[int] = mapped_column(BigInteger, index=True)
    shopify_refund_id: Mapped[int] = mapped_column(BigInteger)
    sku: Mapped[str] = mapped_column(String(255))
    shopify_location_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SchemaDrift(Base):
    """Payload fields Shopify sent that no schema uses, counted per topic and API version."""

    __tablename__ = "schema_drift"

    topic: Mapped[str] = mapped_column(String(100), primary_key=True)
    api_version: Mapped[str] = mapped_column(String(20), primary_key=True)
    field_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen: Mapped[int] = mapped_column(BigInteger, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ShopifyInventoryItem(Base):
    """SKU -> Shopify inventory item, refreshed from the Admin API (not looked up per push)."""

    __tablename__ = "shopify_inventory_items"

    sku: Mapped[str] = mapped_column(String(255), primary_key=True)
    inventory_item_id: Mapped[int] = mapped_column(BigInteger)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SyncWatermark(Base):
    """How far a periodic reader has got (e.g. NetSuite inventory changes pushed to Shopify)."""

    __tablename__ = "sync_watermarks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # a timestamp, an id, or a Shopify GraphQL cursor
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InventoryPush(Base):
    """One quantity pushed to Shopify: what, from which NetSuite change, under which idempotency key."""

    __tablename__ = "inventory_pushes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cycle: Mapped[str] = mapped_column(String(64), index=True)
    sku: Mapped[str] = mapped_column(String(255))
    shopify_location_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    previous_quantity: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReconciliationRun(Base):
    """One reconciliation (inventory and orders), with what it compared, found and corrected."""

    __tablename__ = "reconciliation_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # inventory | orders | full
    trigger: Mapped[str] = mapped_column(String(16))  # scheduled | manual
    run_date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    skus_compared: Mapped[int] = mapped_column(Integer, default=0)
    diffs_found: Mapped[int] = mapped_column(Integer, default=0)
    corrections_applied: Mapped[int] = mapped_column(Integer, default=0)
    orders_checked: Mapped[int] = mapped_column(Integer, default=0)
    orders_healed: Mapped[int] = mapped_column(Integer, default=0)
    mismatches: Mapped[int] = mapped_column(Integer, default=0)
    alert: Mapped[str | None] = mapped_column(Text)
    report: Mapped[dict | None] = mapped_column(JSONB)

    __table_args__ = (
        # Two beat processes running by mistake still make one scheduled run a night.
        Index(
            "uq_reconciliation_runs_scheduled",
            "kind",
            "run_date",
            unique=True,
            postgresql_where=text("trigger = 'scheduled'"),
        ),
    )


class ReconciliationDiff(Base):
    __tablename__ = "reconciliation_diffs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("reconciliation_runs.id"), index=True)
    sku: Mapped[str] = mapped_column(String(255))
    shopify_location_id: Mapped[int | None] = mapped_column(BigInteger)
    netsuite_quantity: Mapped[int | None] = mapped_column(Integer)
    shopify_quantity: Mapped[int | None] = mapped_column(Integer)
    tolerance: Mapped[int] = mapped_column(Integer, default=0)
    action: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))


class SyncAlert(Base):
    """Something an operator must look at: a diff spike, a re-registered webhook subscription..."""

    __tablename__ = "sync_alerts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DlqAudit(Base):
    """Every requeue and purge of dead letters: who, when, what, outcome."""

    __tablename__ = "dlq_audit"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))  # requeue | purge
    actor: Mapped[str] = mapped_column(String(255))
    selection: Mapped[dict] = mapped_column(JSONB)  # the id or the filter used
    dead_letter_ids: Mapped[list] = mapped_column(JSONB)
    outcome: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AlertNotification(Base):
    """One episode of an alert condition (app/domain/alerts.py): opened when it fires, clearing when it stops,
    closed once every receiver that was paged got the resolve. `sent` keeps what each receiver has had
    ({"slack": ["trigger"], "pagerduty": ["trigger", "resolve"]}), so a restart or a retry never pages twice."""

    __tablename__ = "alert_notifications"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    sent: Mapped[dict] = mapped_column(JSONB, default=dict)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # One live episode per condition: the evaluation's lock keeps to it, the index makes it a fact.
        Index("uq_alert_notifications_live_key", "key", unique=True, postgresql_where=text("status <> 'closed'")),
    )


def truncate_all_sql() -> str:
    """Empty every table the models define (demo and test resets): derived, so a new table is never missed."""
    return f"TRUNCATE {', '.join(t.name for t in Base.metadata.sorted_tables)} RESTART IDENTITY CASCADE"


class PayoutSync(Base):
    """One Shopify Payments payout and what became of it in NetSuite (the deposit is read back from NetSuite by the
    checks; this row is the job's memory: waiting since when, posted as which deposit, with what variance)."""

    __tablename__ = "payouts"

    payout_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # Shopify's legacyResourceId
    shopify_status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    net: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # waiting | deposited | reversed | skipped | failed
    reason: Mapped[str] = mapped_column(Text, default="")
    transactions: Mapped[int] = mapped_column(Integer, default=0)  # balance transactions, TRANSFER excluded
    missing: Mapped[int] = mapped_column(Integer, default=0)  # receipts NetSuite did not hold when last looked at
    variance: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    suspense_types: Mapped[list | None] = mapped_column(JSONB)
    deposit_external_id: Mapped[str | None] = mapped_column(String(64))
    deposit_netsuite_id: Mapped[str | None] = mapped_column(String(32))
    reversal_netsuite_id: Mapped[str | None] = mapped_column(String(32))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Dispute(Base):
    """One Shopify Payments dispute (chargeback or inquiry) as Shopify last told us: recorded from disputes/create
    and disputes/update (and `shopsync disputes sync`), shown by status, /metrics and the console. `updated_at` is
    when Shopify said it (the delivery's X-Shopify-Triggered-At, or the time a sync read it): Shopify delivers out
    of order, and an older word never replaces a newer one (app/domain/disputes.py)."""

    __tablename__ = "disputes"

    dispute_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Shopify's legacyResourceId
    order_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)  # NEEDS_RESPONSE | UNDER_REVIEW | WON | LOST | ...
    type: Mapped[str] = mapped_column(String(16))  # CHARGEBACK | INQUIRY
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(64))
    initiated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evidence_due_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evidence_sent_on: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finalized_on: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))  # webhook | sync: where the state held came from
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
