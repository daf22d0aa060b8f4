"""The reconcile queue: the nightly inventory reconciliation."""

from __future__ import annotations

from app.adapters.netsuite import get_netsuite
from app.adapters.shopify import get_shopify
from app.celery import celery_app
from app.config import get_settings
from app.db.session import session_scope
from app.routing import TASK_RECONCILE
from app.services.reconcile import reconcile_inventory
from tasks.base import ShopsyncTask


@celery_app.task(
    name=TASK_RECONCILE, base=ShopsyncTask, bind=True, max_retries=2, soft_time_limit=3300, time_limit=3600
)
def reconcile(self: ShopsyncTask) -> dict:
    with session_scope() as session:
        report = reconcile_inventory(session, get_netsuite(), get_shopify(), get_settings(), scheduled=True)
    return {k: v for k, v in report.as_dict().items() if k != "diffs"}
