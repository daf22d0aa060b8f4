"""Beat-driven housekeeping tasks."""

from __future__ import annotations

from app.celery import celery_app
from app.routing import TASK_CHECK_CREDENTIALS, TASK_CHECK_SUBSCRIPTIONS, TASK_OUTBOX_RELAY, TASK_SCHEDULED_CHECKS
from app.services.outbox import relay_pending
from app.services.subscriptions import check_subscriptions
from tasks.base import ShopsyncTask


@celery_app.task(name=TASK_OUTBOX_RELAY, base=ShopsyncTask, bind=True, max_retries=0)
def outbox_relay(self: ShopsyncTask) -> int:
    return relay_pending()


@celery_app.task(name=TASK_CHECK_SUBSCRIPTIONS, base=ShopsyncTask, bind=True, max_retries=0)
def check_webhook_subscriptions(self: ShopsyncTask) -> dict:
    # No retries: the next hourly run is the retry, and a repair must not be attempted twice at once.
    return check_subscriptions().as_dict()


@celery_app.task(name=TASK_CHECK_CREDENTIALS, base=ShopsyncTask, bind=True, max_retries=0)
def check_credentials(self: ShopsyncTask) -> dict:
    from app.adapters.netsuite import get_netsuite
    from app.adapters.shopify import get_shopify
    from app.config import get_settings
    from app.services.credentials import check_credentials as run_check

    settings = get_settings()
    return run_check(
        get_netsuite(),
        get_shopify(),
        service_items=settings.order_money.service_skus(),
        sku_field=settings.netsuite_item_sku_field,
    )


@celery_app.task(name=TASK_SCHEDULED_CHECKS, base=ShopsyncTask, bind=True, max_retries=0)
def scheduled_checks(self: ShopsyncTask) -> dict:
    from app.db.session import session_scope
    from app.services.checks import run_checks
    from app.services.dlq import rebuild_redis_mirror

    with session_scope() as session:
        result = run_checks(session)
    # Hourly self-healing of the DLQ's Redis mirror: after a Redis loss, Flower and the depth metric catch up.
    result["dlq_mirror"] = rebuild_redis_mirror()
    return result
