"""Order states and the transitions the foundation applies (the full per-line machine deepens this)."""

from __future__ import annotations

from datetime import datetime

CREATED = "created"
PARTIALLY_FULFILLED = "partially_fulfilled"
FULFILLED = "fulfilled"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"
CANCELLED = "cancelled"

STATES = (CREATED, PARTIALLY_FULFILLED, FULFILLED, PARTIALLY_REFUNDED, REFUNDED, CANCELLED)


def is_stale(last_applied: datetime | None, incoming: datetime) -> bool:
    """An order payload older than (or as old as) the one already applied must not roll NetSuite back."""
    return last_applied is not None and incoming <= last_applied
