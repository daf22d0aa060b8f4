"""Plain data the client hands to its callers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CallRecord", "Outcome"]

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
