"""A Celery app for test_worker_log_masking: one task that fails with a customer's personal data in its exception.

Importing app.celery connects the project's setup_logging handler, so the worker logs exactly as the shipped
workers do (configure_logging, LOG_FORMAT from the environment); only the task is the test's.
"""

from __future__ import annotations

from celery import Celery

import app.celery  # noqa: F401 - connects the project's setup_logging to this worker too
from app.config import get_settings

worker_app = Celery("pii", broker=get_settings().broker_url, set_as_current=False)
worker_app.conf.update(
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    worker_send_task_events=False,
)

CUSTOMER = {
    "firstName": "Bobbie",
    "lastName": "Normanton",
    "email": "bobbie.normanton@hostmail.com",
    "addressBook": {
        "items": [{"addressBookAddress": {"addressee": "Bobbie Normanton", "addr1": "Chestnut Street 92"}}]
    },
}


@worker_app.task(name="pii.push_customer")
def push_customer(order_id: int) -> None:
    shipping = {"name": "Bobbie Normanton", "address1": "Chestnut Street 92", "zip": "40202", "city": "Louisville"}
    raise RuntimeError(f"NetSuite refused the customer of order {order_id}", CUSTOMER, shipping)
