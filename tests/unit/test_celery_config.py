from app.celery import TASK_TIME_LIMIT, celery_config
from app.config import load_settings
from app.routing import QUEUES, TOPIC_QUEUES
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
