"""Flower as the Procfile runs it: stock Flower with one change, so the dead-letter queue is on its Broker page.

Flower's Broker page and its `/api/queues/length` list only the queues that online workers consume (it asks each
worker for its `active_queues`), falling back to the app's declared queues when no worker answers
(mher/flower#335, #559). Nothing consumes `dead_letter` on purpose: its messages wait there for an operator, so a
consumer would drain the very depth that must stay visible. This module widens Flower's list to the consumed queues
*plus* every queue the app declares (`app.routing.QUEUES`, dead_letter included), then hands over to Flower's own
command line unchanged (same options, same authentication).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence


def queue_names(consumed: Iterable[str], declared: Iterable[str]) -> list[str]:
    """What Flower should list: every queue a worker consumes and every queue the app declares."""
    return sorted(set(consumed) | set(declared))


def install() -> None:
    """Patch Flower's queue list (the one method both the Broker page and the queues API call)."""
    from flower.views import BaseHandler

    from app.routing import QUEUES

    consumed_only = BaseHandler.get_active_queue_names
    if getattr(consumed_only, "shopsync_patched", False):
        return

    def get_active_queue_names(self: BaseHandler) -> list[str]:
        consumed = set()
        for info in self.application.workers.values():
            consumed.update(q["name"] for q in info.get("active_queues", []) or [])
        return queue_names(consumed, QUEUES)

    get_active_queue_names.shopsync_patched = True  # type: ignore[attr-defined]
    BaseHandler.get_active_queue_names = get_active_queue_names


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m app.flower [flower options]` = `celery -A app.celery:celery_app flower [flower options]`."""
    from celery.bin.celery import main as celery_main

    install()
    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["celery", "-A", "app.celery:celery_app", "flower", *args]
    celery_main()


if __name__ == "__main__":
    main()
