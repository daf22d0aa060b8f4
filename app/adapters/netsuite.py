"""The process's NetSuite client, wired to settings and to netsuite_call_log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import requests

from app.adapters import counters
from app.adapters.redis_client import get_redis
from app.config import Settings, get_settings
from app.db.session import intake_engine_for
from app.once import built_once
from netsuite_client import CallRecord, NetSuiteClient, OAuth2ClientCredentials, TokenAuth, default_token_url
from netsuite_client.limiter import LIVE, LimiterConfig, RedisSlotLimiter

log = logging.getLogger(__name__)


INSERT_CALL = """
INSERT INTO netsuite_call_log
    (operation, method, record_type, external_id, internal_id, http_status, error_code, attempt, duration_ms,
     final_status, correlation_id)
VALUES (%(operation)s, %(method)s, %(record_type)s, %(external_id)s, %(internal_id)s, %(http_status)s,
        %(error_code)s, %(attempt)s, %(duration_ms)s, %(final_status)s, %(correlation_id)s)
"""


def record_call(call: CallRecord) -> None:
    """One row per HTTP attempt, autocommitted on its own, so it survives the caller's rollback; one
    driver-level INSERT (no ORM session, no BEGIN/COMMIT round trips) because it runs for every call."""
    counters.netsuite_call(call.operation, call.http_status, call.error_code, call.duration_ms / 1000)
    with intake_engine_for(get_settings().sqlalchemy_url).connect() as conn:
        conn.exec_driver_sql(
            INSERT_CALL,
            {
                "operation": call.operation,
                "method": call.method,
                "record_type": call.record_type,
                "external_id": call.external_id,
                "internal_id": call.internal_id,
                "http_status": call.http_status,
                "error_code": call.error_code,
                "attempt": call.attempt,
                "duration_ms": int(call.duration_ms),
                "final_status": call.outcome,
                "correlation_id": call.correlation_id,
            },
        )


# The lane of the work this thread is doing (set from the task's queue): bulk queues keep to their share of the
# budget without every call site having to pass a lane.
_current_lane: ContextVar[str | None] = ContextVar("netsuite_lane", default=None)


@contextmanager
def netsuite_lane(lane: str | None) -> Iterator[None]:
    token = _current_lane.set(lane)
    try:
        yield
    finally:
        _current_lane.reset(token)


class LaneAwareLimiter:
    """The fleet limiter, with the caller's default lane replaced by the lane of the current work."""

    def __init__(self, limiter: RedisSlotLimiter) -> None:
        self.limiter = limiter

    def slot(self, lane: str = LIVE):  # noqa: ANN201 - the limiter's context manager
        override = _current_lane.get()
        return self.limiter.slot(override if override and lane == LIVE else lane)


@built_once
def get_limiter() -> RedisSlotLimiter:
    """The process's handle on the one fleet-wide budget (state lives in Redis, shared by every process)."""
    s = get_settings()
    config = LimiterConfig(
        max_budget=s.netsuite_concurrency,
        lane_shares=dict(s.netsuite_lane_shares),
        lease_s=s.netsuite_slot_lease_seconds,
        renew_every_s=max(0.2, s.netsuite_slot_lease_seconds / 6),
        max_wait_s={LIVE: s.netsuite_slot_wait_seconds},
        default_bulk_wait_s=s.netsuite_bulk_slot_wait_seconds,
    )
    return RedisSlotLimiter(get_redis(), config)


def netsuite_auth(s: Settings) -> requests.auth.AuthBase:
    """TBA (OAuth 1.0a HMAC-SHA256) by default; OAuth 2.0 client credentials with NETSUITE_AUTH=oauth2."""
    if s.netsuite_auth == "oauth2":
        with open(s.netsuite_private_key_file, "rb") as fh:
            key = fh.read()
        return OAuth2ClientCredentials(
            token_url=default_token_url(s.netsuite_base_url),
            client_id=s.netsuite_client_id,
            certificate_id=s.netsuite_certificate_id,
            private_key_pem=key,
            algorithm="ES256" if _is_ec(key) else "PS256",
        )
    return TokenAuth(
        account_id=s.netsuite_account_id,
        consumer_key=s.netsuite_consumer_key,
        consumer_secret=s.netsuite_consumer_secret,
        token_id=s.netsuite_token_id,
        token_secret=s.netsuite_token_secret,
    )


def _is_ec(pem: bytes) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return isinstance(load_pem_private_key(pem, password=None), ec.EllipticCurvePrivateKey)


@built_once
def get_netsuite() -> NetSuiteClient:
    s = get_settings()
    auth = netsuite_auth(s)
    return NetSuiteClient(
        base_url=s.netsuite_base_url,
        auth=auth,
        timeout=(s.netsuite_timeout_connect, s.netsuite_timeout_read),
        max_tries=s.netsuite_max_tries,
        on_call=record_call,
        limiter=LaneAwareLimiter(get_limiter()),
    )
