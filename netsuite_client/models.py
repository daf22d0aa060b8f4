"""Plain data the client hands to its callers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["AsyncJob", "AsyncResult", "CallRecord", "Outcome"]

Outcome = Literal["ok", "retry", "failed"]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP attempt against NetSuite, for the call log.

    A logical call (one `upsert`, one SuiteQL page) yields one record per attempt, sharing
    `correlation_id`; the last one has `final=True` and outcome "ok" or "failed".
    `record_type`/`internal_id` name the record addressed (for a transform: the source record; for a create
    or upsert: the record created or updated, when NetSuite returned its Location).
    """

    operation: str
    method: str
    record_type: str | None
    external_id: str | None
    internal_id: str | None
    http_status: int | None
    error_code: str | None
    attempt: int
    duration_ms: int
    final: bool
    outcome: Outcome
    correlation_id: str
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class AsyncResult:
    """The original response of an asynchronous request, read back from its job's task result.

    `status` is the status the request itself got (204 for an upsert), not the status of the poll;
    `internal_id` comes from its `Location` when NetSuite gave one.
    """

    job_id: str | None
    status: int
    internal_id: str | None
    location: str | None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AsyncJob:
    """A request NetSuite accepted for asynchronous processing (202 + `Location: .../async/v1/job/<id>`).

    Small and picklable so a task can store it (or just `id`) and poll later. `replayed` is true when the
    idempotency key had been used before and this is the job of that earlier submission. `result` is set
    only when the server ignored `Prefer: respond-async` and answered at once; `id` is then None.
    """

    id: str | None
    location: str | None
    idempotency_key: str
    replayed: bool = False
    record_type: str | None = None
    external_id: str | None = None
    result: AsyncResult | None = None
