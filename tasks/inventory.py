"""The inventory queue: NetSuite -> Shopify available quantities."""

from __future__ import annotations

from app.adapters.netsuite import get_netsuite
from app.adapters.shopify import get_shopify
from app.celery import celery_app
from app.config import get_settings
from app.db.session import session_scope
from app.routing import TASK_INVENTORY_PUSH
from app.services.inventory import push_inventory
from tasks.base import ShopsyncTask


@celery_app.task(name=TASK_INVENTORY_PUSH, base=ShopsyncTask, bind=True, max_retries=3)
def inventory_push(self: ShopsyncTask) -> dict:
    with session_scope() as session:
        return push_inventory(session, get_netsuite(), get_shopify(), get_settings()).as_dict()
