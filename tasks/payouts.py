"""The payout job on the reconcile queue: Shopify Payments payouts → NetSuite deposits."""

from __future__ import annotations

from app.adapters.netsuite import get_netsuite
from app.adapters.shopify import get_shopify
from app.celery import celery_app
from app.config import get_settings
from app.db.session import session_scope
from app.routing import TASK_SYNC_PAYOUTS
from app.services.payouts import sync_payouts
from tasks.base import ShopsyncTask


@celery_app.task(
    name=TASK_SYNC_PAYOUTS, base=ShopsyncTask, bind=True, max_retries=2, soft_time_limit=1700, time_limit=1800
)
def payouts_sync(self: ShopsyncTask) -> dict:
    with session_scope() as session:
        report = sync_payouts(session, get_shopify(), get_netsuite(), get_settings())
    return {k: v for k, v in report.as_dict().items() if k != "payouts"}
