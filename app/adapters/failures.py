"""What a failure means for the task: retry, or dead-letter under which category."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.domain.errors import PermanentError, RetryLater, RunLater
from netsuite_client.errors import AuthError, ConcurrencyLimitError, NetSuiteError
from netsuite_client.limiter import SlotUnavailable
from shopify_client.errors import ShopifyAuthError, ShopifyError, ShopifyThrottled


@dataclass(frozen=True)
class Verdict:
    retryable: bool
    category: str  # data | schema | transient | governance | auth | bug
    code: str | None
    # Nothing failed and nothing was sent (the fleet's NetSuite budget had no free slot, or the work asked to wait):
    # run again shortly, or after `countdown` seconds when given, without spending one of the task's retries.
    reschedule: bool = False
    countdown: float | None = None


def classify(exc: BaseException) -> Verdict:
    if isinstance(exc, PermanentError):
        return Verdict(False, exc.category, exc.code)
    if isinstance(exc, SlotUnavailable):
        return Verdict(True, "governance", "SLOT_UNAVAILABLE", reschedule=True)
    if isinstance(exc, RunLater):
        return Verdict(True, "transient", exc.code, reschedule=True, countdown=max(0.0, exc.seconds))
    if isinstance(exc, RetryLater):
        return Verdict(True, "transient", exc.code)
    if isinstance(exc, ConcurrencyLimitError):
        return Verdict(True, "governance", exc.code)
    if isinstance(exc, AuthError):
        return Verdict(False, "auth", exc.code)
    if isinstance(exc, NetSuiteError):
        return Verdict(exc.retryable, "transient" if exc.retryable else "data", exc.code)
    if isinstance(exc, ShopifyThrottled):
        return Verdict(True, "governance", exc.code or "THROTTLED")
    if isinstance(exc, ShopifyAuthError):
        return Verdict(False, "auth", exc.code)
    if isinstance(exc, ShopifyError):
        return Verdict(exc.retryable, "transient" if exc.retryable else "data", exc.code)
    if isinstance(exc, (OperationalError, PoolTimeout, redis.ConnectionError, redis.TimeoutError)):
        return Verdict(True, "transient", exc.__class__.__name__)
    if isinstance(exc, (SoftTimeLimitExceeded, ConnectionError, TimeoutError)):
        return Verdict(True, "transient", exc.__class__.__name__)
    return Verdict(False, "bug", exc.__class__.__name__)
