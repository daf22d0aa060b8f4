"""The Celery app object, its queues and the one routing table. Imported by tasks/, never the reverse."""

from __future__ import annotations

import gc

from celery import Celery, signals
from kombu import Queue

from app.adapters import broker
from app.config import Settings, get_settings, orders_worker_concurrency
from app.db.session import dispose_engines, size_pools
from app.logging_setup import configure_logging
from app.routing import QUEUES, TASK_MODULES, TASK_ROUTES

# The longest a task may run (hard limit) plus the longest retry countdown must stay below the visibility
# timeout, or Redis would hand a still-running task to a second worker.
TASK_TIME_LIMIT = 300
TASK_SOFT_TIME_LIMIT = 240


def celery_config(settings: Settings) -> dict:
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": 3,
        "broker_transport_options": {
            # Redis redelivers a message unacked for this long. Countdowns (retries, slot waits) and the hard time
            # limit stay far below it, or a waiting task would be handed to a second worker.
            "visibility_timeout": max(3600, 3 * (TASK_TIME_LIMIT + settings.task_retry_backoff_max)),
            "socket_connect_timeout": 3,
            "socket_timeout": 10,
            "retry_on_timeout": True,
            # Read only by kombu's sentinel:// transport (REDIS_SENTINELS set): the primary's name at the sentinels.
            **(_sentinel_options(settings) if settings.redis_sentinels else {}),
        },
        "broker_pool_limit": 10,
        "task_ignore_result": True,
        "result_backend": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # worker_orders' Procfile line passes no --concurrency unless WORKER_CONCURRENCY is set: sized from the
        # NetSuite budget (the other workers' lines pass their own).
        "worker_concurrency": orders_worker_concurrency(settings),
        "task_time_limit": TASK_TIME_LIMIT,
        "task_soft_time_limit": TASK_SOFT_TIME_LIMIT,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "worker_send_task_events": True,
        # No task-sent event: one more Redis PUBLISH per webhook in the intake, for a state Flower can do without
        # (tasks appear there when a worker receives them).
        "task_send_sent_event": False,
        "task_queues": [Queue(name, routing_key=name) for name in QUEUES],
        "task_default_queue": "orders",
        "task_create_missing_queues": False,
        "task_routes": TASK_ROUTES,
        "worker_hijack_root_logger": False,
    }


def _sentinel_options(settings: Settings) -> dict:
    # The sentinels themselves get the same short timeouts, so a dead sentinel is skipped fast, never waited on.
    return {
        "master_name": settings.redis_sentinel_master,
        "sentinel_kwargs": {"socket_connect_timeout": 3, "socket_timeout": 3},
    }


def create_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    broker.register()  # the broker URL's redis:// or sentinel:// resolves to kombu's transport, one client a channel
    app = Celery("shopsync", include=TASK_MODULES)
    app.conf.update(celery_config(settings))
    return app  # beat's schedule is added by app.beat, the module the beat process loads


celery_app = create_celery()


@signals.setup_logging.connect
def _setup_logging(**_kwargs) -> None:
    # Connecting this signal stops Celery from installing its own handlers: ours masks personal data.
    configure_logging(get_settings().log_level, get_settings().log_format)


def _runs_tasks_in_threads(pool: object) -> bool:
    """True for the pools that run every task in the worker process itself (threads, gevent, eventlet, solo)."""
    name = pool if isinstance(pool, str) else f"{getattr(pool, '__module__', '')}.{getattr(pool, '__name__', '')}"
    return not any(kind in name.lower() for kind in ("prefork", "processes"))


@signals.worker_init.connect
def _size_for_pool(sender: object = None, **_kwargs) -> None:
    # A thread (or green-thread) pool runs `concurrency` tasks in this process at once: one connection of each
    # engine per task (app/db/session.py). A prefork parent runs none; its children size themselves below.
    if sender is None:
        return
    if _runs_tasks_in_threads(getattr(sender, "pool_cls", "prefork")):
        size_pools(int(getattr(sender, "concurrency", 1) or 1))
    else:
        # Everything imported so far leaves the collector's reach: the children share those pages with the parent
        # instead of copying them when a collection touches every object's header (less memory per child).
        gc.freeze()


@signals.worker_process_init.connect
def _after_fork(**_kwargs) -> None:
    # A prefork child runs one task at a time, and must not reuse the parent's pooled sockets.
    dispose_engines()
    size_pools(1)
    # An order allocates tens of thousands of short-lived objects (ORM rows, JSON, marshmallow): collect the young
    # generation every 50,000 allocations instead of 700 (profile_order: ~1 ms less CPU per order, a few MB more).
    gc.set_threshold(50_000, 20, 20)
