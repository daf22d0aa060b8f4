"""Loading and saving the order as we know it: the state row, its lines, its documents, its transitions, and the
customers NetSuite already has from us. The SQL of the order use cases lives here; they speak in domain values."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import Row, TextClause, bindparam, delete, func, inspect, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, make_transient_to_detached

from app.db.models import (
    CustomerSync,
    EventStatus,
    GuestCustomerSync,
    InventoryRestock,
    OrderDocument,
    OrderLine,
    OrderState,
    OrderTransition,
    WebhookEvent,
)
from app.domain.state_machine import ZERO, Component, Line, OrderView

# The statements every order runs are built once, with bind parameters: building a select and its cache key on
# each call cost more than executing it.
_STATE_FOR_UPDATE = select(OrderState).where(OrderState.shopify_order_id == bindparam("order_id")).with_for_update()
_LINES = select(OrderLine).where(OrderLine.shopify_order_id == bindparam("order_id")).order_by(OrderLine.position)
_DOCUMENTS = select(OrderDocument.kind, OrderDocument.shopify_id).where(
    OrderDocument.shopify_order_id == bindparam("order_id")
)


def load_view(session: Session, order_id: int) -> tuple[OrderState | None, OrderView | None]:
    """The order's state row (locked for this transaction) and our view of it; (None, None) if never synced."""
    key = {"order_id": order_id}
    state = session.execute(_STATE_FOR_UPDATE, key).scalar_one_or_none()
    if state is None or state.netsuite_internal_id is None:
        return state, None
    rows = session.scalars(_LINES, key).all()
    docs = session.execute(_DOCUMENTS, key).all()
    view = OrderView(
        order_id=order_id,
        state=state.state,
        lines=tuple(
            Line(
                line_id=r.shopify_line_id,
                sku=r.sku,
                ordered=r.ordered,
                price=r.price,
                fulfilled=r.fulfilled,
                refunded=r.refunded,
                restocked=r.restocked,
                netsuite_line=r.netsuite_line,
                components=tuple(Component(c["sku"], c["line"], c["units"]) for c in r.components or ()),
            )
            for r in rows
        ),
        total=state.total_price or ZERO,
        refunded_amount=state.refunded_amount or ZERO,
        cancelled=bool(state.cancelled),
        fulfillments=frozenset(sid for kind, sid in docs if kind == "fulfillment"),
        refunds=frozenset(sid for kind, sid in docs if kind == "refund"),
    )
    return state, view


def new_order_state(session: Session, order_id: int, state: str) -> OrderState:
    # Not flushed here: the caller fills it in, and the next statement's autoflush INSERTs it whole (one INSERT
    # instead of an INSERT and an UPDATE per new order).
    row = OrderState(shopify_order_id=order_id, state=state, version=0)
    session.add(row)
    return row


def save_view(session: Session, state: OrderState, view: OrderView) -> None:
    state.state = view.state
    state.total_price = view.total
    state.refunded_amount = view.refunded_amount
    state.cancelled = view.cancelled
    state.version = (state.version or 0) + 1
    rows = [
        {
            "shopify_order_id": view.order_id,
            "shopify_line_id": line.line_id,
            "position": position,
            "sku": line.sku,
            "ordered": line.ordered,
            "price": line.price,
            "fulfilled": line.fulfilled,
            "refunded": line.refunded,
            "restocked": line.restocked,
            "netsuite_line": line.netsuite_line,
            "components": [{"sku": c.sku, "line": c.netsuite_line, "units": c.units} for c in line.components] or None,
        }
        for position, line in enumerate(view.lines)
    ]
    if not rows:
        return
    # The state row first (its INSERT or UPDATE): the lines reference it, and a Core execute does not autoflush.
    if inspect(state).pending:
        _insert_new_state(session, state)
    session.flush()
    # One statement for all the lines, built once per line count: an executemany ran psycopg's pipeline for a few
    # rows (more CPU than the rows), and a multi-row VALUES built per order was compiled anew each time.
    for start in range(0, len(rows), _LINES_PER_STATEMENT):  # PostgreSQL takes at most 65,535 parameters
        chunk = rows[start : start + _LINES_PER_STATEMENT]
        params = {f"{column}_{n}": value for n, row in enumerate(chunk) for column, value in row.items()}
        session.connection().execute(_upsert_lines(len(chunk)), params)


# The model's own column defaults (the unit of work applied them); columns with only a server default (the
# timestamps) are left to PostgreSQL.
_STATE_DEFAULTS = {c.key: c.default.arg for c in OrderState.__table__.columns if c.default is not None}
assert all(c.default.is_scalar for c in OrderState.__table__.columns if c.default is not None), "scalar defaults only"
_STATE_COLUMNS = tuple(
    c.key for c in OrderState.__table__.columns if c.server_default is None or c.key in _STATE_DEFAULTS
)
_INSERT_STATE = text(
    f"INSERT INTO order_state ({', '.join(_STATE_COLUMNS)}) VALUES ({', '.join(f':{c}' for c in _STATE_COLUMNS)})"
).bindparams(*(bindparam(c, type_=OrderState.__table__.c[c].type) for c in _STATE_COLUMNS))


def _insert_new_state(session: Session, state: OrderState) -> None:
    """A new order's state row by one constant statement instead of the unit of work's INSERT (its flush machinery
    was an eighth of a worker's CPU per order); the object then stands in the session as if it had been loaded."""
    values = {c: getattr(state, c) for c in _STATE_COLUMNS}
    values.update({c: default for c, default in _STATE_DEFAULTS.items() if values[c] is None})
    session.expunge(state)
    session.connection().execute(_INSERT_STATE, values)
    make_transient_to_detached(state)  # created_at / updated_at (the server's) load if read
    session.add(state)


_LINE_KEY = ("shopify_order_id", "shopify_line_id")
_LINES_PER_STATEMENT = 500
_LINE_COLUMNS = (
    *_LINE_KEY,
    *("position", "sku", "ordered", "price", "fulfilled", "refunded", "restocked", "netsuite_line", "components"),
)


@lru_cache(maxsize=64)
def _upsert_lines(count: int) -> TextClause:
    """The upsert of `count` lines (parameters `<column>_<n>`). Written as text: SQLAlchemy gives PostgreSQL's ON
    CONFLICT statements no cache key, so `insert(...).on_conflict_do_update(...)` was compiled on every execution;
    a text statement is compiled once per process. Every column is updated on conflict, the key aside."""
    rows = ", ".join("(" + ", ".join(f":{c}_{n}" for c in _LINE_COLUMNS) + ")" for n in range(count))
    updates = ", ".join(f"{c} = excluded.{c}" for c in _LINE_COLUMNS if c not in _LINE_KEY)
    types = {c: OrderLine.__table__.c[c].type for c in _LINE_COLUMNS}
    return text(
        f"INSERT INTO order_lines ({', '.join(_LINE_COLUMNS)}) VALUES {rows} "
        f"ON CONFLICT ({', '.join(_LINE_KEY)}) DO UPDATE SET {updates}"
    ).bindparams(*(bindparam(f"{c}_{n}", type_=types[c]) for n in range(count) for c in _LINE_COLUMNS))


def drop_removed_lines(session: Session, order_id: int, keep: list[int]) -> None:
    """Lines an order edit removed in Shopify are gone from the order."""
    session.execute(
        delete(OrderLine).where(OrderLine.shopify_order_id == order_id, OrderLine.shopify_line_id.not_in(keep))
    )


def record_transition(
    session: Session, order_id: int, event_id: int | None, before: str | None, after: str, topic: str, note: str
) -> None:
    # A Core INSERT of one constant statement, not an ORM object for the unit of work: one runs for every event.
    session.flush()  # the state row it references may still be pending
    session.connection().execute(
        _INSERT_TRANSITION,
        {
            "shopify_order_id": order_id,
            "webhook_event_id": event_id,
            "from_state": before,
            "to_state": after,
            "topic": topic,
            "note": note[:4000],
        },
    )


_INSERT_TRANSITION = OrderTransition.__table__.insert()


def record_document(
    session: Session,
    order_id: int,
    kind: str,
    shopify_id: int,
    *,
    external_id: str,
    netsuite_type: str,
    netsuite_internal_id: str | None,
    amount: Decimal | None,
) -> None:
    """The NetSuite document a Shopify fulfillment or refund became (once: a replay keeps the first row)."""
    session.execute(
        insert(OrderDocument)
        .values(
            shopify_order_id=order_id,
            kind=kind,
            shopify_id=shopify_id,
            external_id=external_id,
            netsuite_type=netsuite_type,
            netsuite_internal_id=netsuite_internal_id,
            amount=amount,
        )
        .on_conflict_do_nothing(constraint="uq_order_documents_kind_shopify_id")
    )


def recorded_documents(session: Session, order_id: int, kind: str) -> set[str]:
    """External ids of the order's documents of this kind (fulfillment | refund) we recorded."""
    return set(
        session.scalars(
            select(OrderDocument.external_id).where(
                OrderDocument.shopify_order_id == order_id, OrderDocument.kind == kind
            )
        )
    )


def record_restocks(
    session: Session, order_id: int, refund_id: int, restocks: Iterable[tuple[str, int | None, int]]
) -> None:
    for sku, location_id, quantity in restocks:
        session.add(
            InventoryRestock(
                shopify_order_id=order_id,
                shopify_refund_id=refund_id,
                sku=sku,
                shopify_location_id=location_id,
                quantity=quantity,
            )
        )


# Customers: a Shopify customer is remembered by its Shopify id (customer_sync), a guest by the external id the
# service gave it (guest_customer_sync). `key` is the one or the other (app.domain.customers.CustomerNeed.sync_key).
CustomerKey = int | str


def _customer_table(key: CustomerKey) -> type[CustomerSync] | type[GuestCustomerSync]:
    return GuestCustomerSync if isinstance(key, str) else CustomerSync


def known_customer(session: Session, key: CustomerKey) -> Row | None:
    """What we remember of the customer (external_id, netsuite_internal_id, body_hash, matched), or None. Columns,
    not the ORM entity: this runs for every order, and loading an entity into the session costs several times more."""
    return session.execute(_KNOWN_CUSTOMER[_customer_table(key)], {"key": key}).first()


_KNOWN_CUSTOMER = {
    table: select(table.external_id, table.netsuite_internal_id, table.body_hash, table.matched).where(
        (table.external_id if table is GuestCustomerSync else CustomerSync.shopify_customer_id) == bindparam("key")
    )
    for table in (CustomerSync, GuestCustomerSync)
}


def forget_customer(session: Session, key: CustomerKey) -> None:
    table = _customer_table(key)
    column = table.external_id if table is GuestCustomerSync else CustomerSync.shopify_customer_id
    session.execute(delete(table).where(column == key))


def save_customer(
    session: Session,
    key: CustomerKey,
    external_id: str,
    internal_id: str | None,
    body_hash: str,
    *,
    matched: bool = False,
) -> None:
    """Remember what NetSuite has for this customer: the body we sent it (hash), or the customer found by email."""
    table = _customer_table(key)
    row = {"external_id": external_id, "netsuite_internal_id": internal_id, "body_hash": body_hash, "matched": matched}
    key_column = "external_id" if table is GuestCustomerSync else "shopify_customer_id"
    row[key_column] = key
    stmt = insert(table).values(**row)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[key_column],
            set_={
                "external_id": stmt.excluded.external_id,
                "netsuite_internal_id": func.coalesce(stmt.excluded.netsuite_internal_id, table.netsuite_internal_id),
                "body_hash": stmt.excluded.body_hash,
                "matched": stmt.excluded.matched,
                "synced_at": func.now(),
            },
        )
    )


# Topics whose payload is the whole order (synced by sync_order_payload, which records its updated_at).
ORDER_PAYLOAD_TOPICS = ("orders/create", "orders/updated", "orders/cancelled")


def database_now(session: Session) -> datetime:
    """The database's clock (the one that stamps webhook_events.received_at), as of this transaction."""
    return session.execute(select(func.now())).scalar_one()


def order_payload_queued(session: Session, order_id: int) -> bool:
    """Whether a delivery carrying the whole order (orders/create, updated, cancelled) is received and not yet
    processed (waiting in its queue, or between retries)."""
    return (
        session.execute(
            select(WebhookEvent.id)
            .where(
                WebhookEvent.topic.in_(ORDER_PAYLOAD_TOPICS),
                WebhookEvent.resource_id == order_id,
                WebhookEvent.status.in_((EventStatus.RECEIVED, EventStatus.PROCESSING)),
            )
            .limit(1)
        ).first()
        is not None
    )


def finish_event(session: Session, event_id: int, processed_at: datetime) -> None:
    """The event done: its status, one more attempt and the time, written once with the outcome (one constant
    UPDATE, not the ORM's change tracking of the loaded row)."""
    session.connection().execute(_FINISH_EVENT, {"finished_id": event_id, "finished_at": processed_at})


_EVENTS = WebhookEvent.__table__
_FINISH_EVENT = (
    _EVENTS.update()
    .where(_EVENTS.c.id == bindparam("finished_id"))
    .values(
        status=EventStatus.DONE,
        attempts=_EVENTS.c.attempts + 1,
        processed_at=bindparam("finished_at"),
        last_error=None,
    )
)


_EVENT_FOR_UPDATE = (
    select(WebhookEvent).where(WebhookEvent.id == bindparam("event_id")).with_for_update(skip_locked=True)
)


def lock_event(session: Session, event_id: int) -> WebhookEvent | None:
    """The stored delivery, locked for this transaction; None if it does not exist or another transaction holds it
    (a duplicate message, or the relay about to commit)."""
    return session.execute(_EVENT_FOR_UPDATE, {"event_id": event_id}).scalar_one_or_none()
