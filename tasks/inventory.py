"""The inventory queue: NetSuite -> Shopify available quantities."""

from __future__ import annotations

from app.celery import celery_app
from app.config import get_settings
from app.db.session import session_scope
from app.routing import TASK_INVENTORY_PUSH
from app.services.inventory import push_inventory
from app.services.netsuite import get_netsuite
from app.services.shopify import get_shopify
from tasks.base import ShopsyncTask


@celery_app.task(name=TASK_INVENTORY_PUSH, base=ShopsyncTask, bind=True, max_retries=3)
def inventory_push(self: ShopsyncTask) -> dict:
    # One cycle at a time: the advisory lock keeps two beats (or a slow cycle and the next) from overlapping.
    with session_scope() as session:
        from sqlalchemy import text

        if not session.execute(text("SELECT pg_try_advisory_xact_lock(7345100)")).scalar():
            return {"skipped": "another inventory push is running"}
        return push_inventory(session, get_netsuite(), get_shopify(), get_settings()).as_dict()
