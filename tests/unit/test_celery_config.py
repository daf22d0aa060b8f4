import gc

from app.celery import TASK_TIME_LIMIT, celery_config
from app.config import load_settings
from app.routing import QUEUES, TASK_ROUTES, TOPIC_QUEUES
from tests.unit.test_config import BASE


def test_the_settings_the_promises_depend_on():
    conf = celery_config(load_settings(BASE))
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["worker_cancel_long_running_tasks_on_connection_loss"]
    assert conf["accept_content"] == ["json"] and conf["timezone"] == "UTC"
    assert conf["worker_send_task_events"]
    assert [q.name for q in conf["task_queues"]] == list(QUEUES)
    assert set(TOPIC_QUEUES.values()) <= set(QUEUES)


def test_countdowns_and_time_limits_stay_far_below_the_visibility_timeout():
    settings = load_settings({**BASE, "TASK_RETRY_BACKOFF_MAX": "900"})
    visibility = celery_config(settings)["broker_transport_options"]["visibility_timeout"]
    assert visibility >= 2 * (TASK_TIME_LIMIT + settings.task_retry_backoff_max)


def test_every_topic_has_a_queue_and_a_handler_and_every_handler_a_topic():
    from app.routing import TOPICS
    from app.services.events import HANDLERS

    assert {spec.handler for spec in TOPICS.values()} == set(HANDLERS)
    assert {spec.queue for spec in TOPICS.values()} <= set(QUEUES) - {"dead_letter"}
    assert TOPIC_QUEUES == {topic: spec.queue for topic, spec in TOPICS.items()}


def test_the_orders_worker_is_sized_from_the_netsuite_budget():
    from app.config import orders_worker_concurrency

    assert celery_config(load_settings(BASE))["worker_concurrency"] == 16  # the default budget 12, plus a third
    assert orders_worker_concurrency(load_settings({**BASE, "NETSUITE_CONCURRENCY": "20"})) == 27
    assert orders_worker_concurrency(load_settings({**BASE, "NETSUITE_CONCURRENCY": "1"})) == 2
    assert orders_worker_concurrency(load_settings({**BASE, "WORKER_CONCURRENCY": "5"})) == 5
    assert orders_worker_concurrency(load_settings({**BASE, "WORKER_CONCURRENCY": ""})) == 16  # empty is unset


def test_the_procfile_gives_worker_orders_no_concurrency_unless_asked():
    from devtools.devstack import procfile_commands

    line = procfile_commands()["worker_orders"]
    assert "--pool ${WORKER_POOL:-prefork}" in line
    assert "${WORKER_CONCURRENCY:+--concurrency $WORKER_CONCURRENCY}" in line  # else worker_concurrency above


def test_pools_that_run_tasks_in_the_worker_process_size_its_connection_pools():
    from celery.concurrency.prefork import TaskPool as Prefork
    from celery.concurrency.thread import TaskPool as Threads

    from app import celery as celery_module
    from app.db import session

    assert not celery_module._runs_tasks_in_threads(Prefork) and not celery_module._runs_tasks_in_threads("prefork")
    assert celery_module._runs_tasks_in_threads(Threads) and celery_module._runs_tasks_in_threads("threads")

    class Worker:
        pool_cls = Threads
        concurrency = 16

    thresholds = gc.get_threshold()
    try:
        celery_module._size_for_pool(sender=Worker())
        assert session.pool_limits()["pool_size"] == 16  # one connection of each engine per task thread
        celery_module._after_fork()
        assert session.pool_limits()["pool_size"] == 1  # a prefork child runs one task at a time
        assert gc.get_threshold()[0] == 50_000
    finally:
        session.size_pools(session.DEFAULT_CONCURRENCY)
        gc.set_threshold(*thresholds)


def test_every_routed_or_scheduled_task_is_registered_by_the_task_modules():
    # A task beat sends or a route names, but no TASK_MODULES module defines, is discarded by the worker as
    # "unregistered": nothing runs and nothing dead-letters.
    from app.celery import celery_app
    from app.config import get_settings
    from beat_schedule import build_schedule

    celery_app.loader.import_default_modules()
    wanted = set(TASK_ROUTES) | {entry["task"] for entry in build_schedule(get_settings()).values()}
    assert wanted - set(celery_app.tasks) == set()
