"""The one base Task: acks late, survives worker loss, retries what the failure says is retryable, and
dead-letters everything else with its reason. Tasks stay thin: each calls one service."""

from __future__ import annotations

import logging
import random

import redis
from celery import Task
from celery.exceptions import Ignore, Reject, Retry

from app.adapters import counters
from app.adapters.failures import classify
from app.adapters.netsuite import netsuite_lane
from app.adapters.redis_client import get_redis
from app.config import get_settings
from app.logging_setup import correlated
from app.services.dlq import FailedTask, record_dead_letter

log = logging.getLogger(__name__)


class WorkerLost(Exception):
    """The task killed (or was killed with) its worker process too many times."""


def retry_countdown(retries: int, cap: int) -> float:
    """Capped exponential backoff with full jitter: 2, 4, 8 ... seconds, drawn uniformly below the bound."""
    return random.uniform(1.0, float(min(cap, 2 ** (retries + 1))))


class ShopsyncTask(Task):
    acks_late = True
    reject_on_worker_lost = True
    ignore_result = True
    typing = True

    @property
    def max_retries(self) -> int:  # type: ignore[override]
        return get_settings().task_max_retries

    def _start_key(self) -> str:
        return f"shopsync:task-starts:{self.request.id}:{self.request.retries}"

    def __call__(self, *args, **kwargs):
        if self.request.called_directly:
            return self.run(*args, **kwargs)
        settings = get_settings()
        key = self._start_key()
        # Counted before running: a task that SIGKILLs its worker never reaches its own error handling, so
        # the redelivered copy is what notices, and after WORKER_LOST_MAX starts it goes to the DLQ.
        starts = None
        try:
            pipe = get_redis().pipeline()
            pipe.incr(key)
            pipe.expire(key, 7 * 86400)
            starts = pipe.execute()[0]
        except redis.RedisError as exc:
            log.warning("attempt counter unavailable (%s); running without it", exc.__class__.__name__)
        if starts is not None and starts > settings.worker_lost_max:
            exc = WorkerLost(f"task started {starts - 1} times without finishing (worker lost each time)")
            self._dead_letter(args, kwargs, exc, "bug", "WORKER_LOST")
            self._forget(key)
            raise Ignore()
        delivery = self.request.delivery_info or {}
        queue = delivery.get("routing_key")
        try:
            # Work from a bulk queue (backfill, reconcile, inventory) takes NetSuite slots from that lane's share.
            # A clean correlation per task: a worker thread must not carry the previous task's delivery id.
            with correlated(None), netsuite_lane(queue if queue in settings.netsuite_lane_shares else None):
                result = self.run(*args, **kwargs)
            # Counted and the attempt counter forgotten in one round trip (the finally's delete is then a no-op).
            counters.task_outcome(self.name, "success", forget=key)
            key = None
            return result
        except (Retry, Ignore, Reject):
            raise
        except Exception as exc:
            verdict = classify(exc)
            if verdict.reschedule:
                self._reschedule(exc, verdict.countdown)
            if verdict.retryable and self.request.retries < self.max_retries:
                self.on_retryable_failure(args, kwargs, exc)
                countdown = retry_countdown(self.request.retries, settings.task_retry_backoff_max)
                log.warning(
                    "task %s[%s] retry %d/%d in %.1fs: %s",
                    self.name,
                    self.request.id,
                    self.request.retries + 1,
                    self.max_retries,
                    countdown,
                    exc,
                )
                counters.task_outcome(self.name, "retry")
                raise self.retry(exc=exc, countdown=countdown) from exc
            category = "transient" if verdict.retryable and verdict.category != "governance" else verdict.category
            self._dead_letter(args, kwargs, exc, category, verdict.code)
            counters.task_outcome(self.name, f"dead_letter:{category}")
            raise
        finally:
            if key is not None:
                self._forget(key)

    def _reschedule(self, exc: BaseException, countdown: float | None) -> None:
        """Give the worker process back and come again without spending one of the task's retries: shortly when
        the fleet's NetSuite budget had no free slot, after `countdown` when the work asked to wait (RunLater)."""
        if countdown is None:
            outcome, why, countdown = "slot_wait", "waiting for a NetSuite slot", random.uniform(0.5, 3.0)
        else:
            outcome, why = "deferred", "deferred"
        log.info("task %s[%s] %s, again in %.1fs: %s", self.name, self.request.id, why, countdown, exc)
        self.signature_from_request(self.request, countdown=countdown).apply_async()
        counters.task_outcome(self.name, outcome)
        raise Ignore() from exc

    def on_retryable_failure(self, args: tuple, kwargs: dict, exc: BaseException) -> None:
        """Hook for tasks that record the last error somewhere visible while they wait to retry."""

    def _forget(self, key: str) -> None:
        try:
            get_redis().delete(key)
        except redis.RedisError:
            pass  # the key expires by itself

    def _dead_letter(self, args: tuple, kwargs: dict, exc: BaseException, category: str, code: str | None) -> None:
        delivery = self.request.delivery_info or {}
        queue = delivery.get("routing_key") or delivery.get("exchange") or "orders"
        record_dead_letter(
            FailedTask(
                task_name=self.name,
                task_id=self.request.id,
                queue=queue,
                args=list(args),
                kwargs=dict(kwargs),
                attempts=self.request.retries + 1,
            ),
            exc,
            category=category,
            code=code,
        )
