"""What an orders/edited needs before the sales order reflects it. Pure: times and flags in, a step out.

An edit's payload holds only deltas (docs/MAPPING.md "Order edits"). Shopify sends an orders/updated for the same
change, carrying the order after it (each line's `current_quantity`, the new totals), and we record the
`updated_at` of the last order payload applied. So:

- when the order payload applied is at or after the edit's commit, the sales order already reflects the edit:
  nothing to read, nothing to send;
- otherwise the edit waits a short while (ORDER_EDIT_WAIT_SECONDS from its receipt), and longer while an order
  payload of the same order is queued (up to ORDER_EDIT_MAX_WAIT_SECONDS), for that payload to land first;
- then the order is read from Shopify and synced: an edit whose orders/updated never arrives still reaches
  NetSuite, at most ORDER_EDIT_MAX_WAIT_SECONDS late.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

APPLIED = "applied"  # the order payload applied already reflects the edit
WAIT = "wait"  # run again in `wait_s`: the orders/updated may land first
READ = "read"  # read the order from Shopify now

# How often an edit looks again while an order payload of its order is queued.
QUEUED_POLL_S = 2.0


@dataclass(frozen=True)
class EditWait:
    """How long an edit waits for Shopify's orders/updated before reading the order itself (seconds)."""

    settle_s: float = 10.0  # from its receipt, whatever is queued
    max_s: float = 45.0  # while an order payload of the same order is queued


@dataclass(frozen=True)
class EditStep:
    action: str  # APPLIED | WAIT | READ
    note: str
    wait_s: float = 0.0


def edit_time(edit: Mapping[str, Any]) -> datetime | None:
    """When the edit took effect: its `committed_at` (Shopify's since 2024-07), else its `created_at`."""
    return edit.get("committed_at") or edit.get("created_at")


def plan_edit(
    edit_at: datetime | None,
    applied_at: datetime | None,
    waited_s: float,
    payload_queued: bool,
    wait: EditWait,
) -> EditStep:
    """The next step of an edit committed at `edit_at`, when the last order payload applied (synced to NetSuite)
    was updated at `applied_at` and the edit was received `waited_s` ago; `payload_queued`: an order payload of
    the same order is received and not yet processed."""
    if edit_at is not None and applied_at is not None and applied_at >= edit_at:
        return EditStep(
            APPLIED,
            f"edit committed {edit_at.isoformat()} already reflected: the order payload applied was updated "
            f"{applied_at.isoformat()}; no Shopify read",
        )
    if waited_s < wait.settle_s:
        return EditStep(WAIT, "waiting for the orders/updated Shopify sends with the edit", wait.settle_s - waited_s)
    if payload_queued and waited_s < wait.max_s:
        return EditStep(
            WAIT, "an order payload of the order is queued: waiting for it", min(QUEUED_POLL_S, wait.max_s - waited_s)
        )
    return EditStep(READ, "the order payload applied does not reflect the edit: reading the order from Shopify")
