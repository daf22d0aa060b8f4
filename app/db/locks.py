"""Every PostgreSQL advisory lock the service takes, in one keyspace.

Advisory locks share one 64-bit keyspace per database, so every key is chosen here. Shopify order ids serialize
the events of one order (a transaction lock per order); the singleton jobs use small fixed keys far below any
Shopify order id (Shopify's ids are 13 digits and up), so the two never meet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

INVENTORY_PUSH = 7345100  # one inventory push cycle at a time (beat, CLI, a slow cycle and the next)
RECONCILIATION = 7345200  # one reconciliation at a time, whoever started it
ALERT_EVALUATION = 7345300  # one alert evaluation at a time: two could both send an episode's trigger
PAYOUTS = 7345400  # one payout run at a time: two would both decide a payout is not deposited yet

_KEYSPACE = 2**63  # bigint


def order_key(order_id: int) -> int:
    return order_id % _KEYSPACE


def lock_order(session: Session, order_id: int) -> None:
    """Wait for every earlier transaction on this order: two workers never interleave one order's events."""
    session.execute(_ORDER_LOCK, {"k": order_key(order_id)})


_ORDER_LOCK = text("SELECT pg_advisory_xact_lock(:k)")  # built once: it runs for every event of an order


def try_transaction_lock(session: Session, key: int) -> bool:
    """Take `key` for the rest of the session's transaction, or answer False at once if someone holds it."""
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar())


@contextmanager
def held_on_connection(conn: Connection, key: int) -> Iterator[bool]:
    """A session-level lock on a connection of its own (for work that commits as it goes and so hands its own
    connection back to the pool). Yields whether it was taken; released on the same connection."""
    taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
    try:
        yield taken
    finally:
        if taken:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
