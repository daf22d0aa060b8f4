"""Asynchronous requests (`Prefer: respond-async`): submitting with an idempotency key, polling the job, its result.

Any REST request can be submitted as a job; `upsert_async` is the record upsert submitted that way.
"""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

from .errors import AsyncJobTimeoutError, NetSuiteError, error_from_parts
from .models import AsyncJob, AsyncResult
from .records import _check_upsert, _replace_params
from .responses import _internal_id_from_location, _json_body, _self_link_segments
from .transport import Transport

__all__ = ["IDEMPOTENCY_HEADER", "AsyncJobOperations"]

logger = logging.getLogger("netsuite_client")

IDEMPOTENCY_HEADER = "X-NetSuite-Idempotency-Key"
_ASYNC_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
# Progress values are compared lowercased; NetSuite documents "succeeded"/"failed", the rest are spellings a
# server (or a later API version) might plausibly use.
_JOB_SUCCEEDED = frozenset({"succeeded", "success", "successful", "completed", "complete", "done", "finished"})
_JOB_FAILED = frozenset({"failed", "failure", "error", "errored", "aborted", "cancelled", "canceled"})
_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_JOB_PATH = re.compile(r"/async/v1/job/([^/?#]+)/?$")
# NetSuite documents the key as a UUID; the canonical 8-4-4-4-12 form is the one every server accepts.
_IDEMPOTENCY_KEY = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _idempotency_key(key: str | uuid.UUID | None) -> str:
    if key is None:
        return str(uuid.uuid4())
    if isinstance(key, uuid.UUID):
        return str(key)
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.match(key):
        raise ValueError("idempotency key must be a UUID (e.g. uuid.uuid5(namespace, '<order>-<revision>'))")
    return key


def _check_relative_path(path: str) -> str:
    if not isinstance(path, str) or not path.strip("/"):
        raise ValueError("relative_path must be a non-empty path")
    parts = urllib.parse.urlsplit(path)
    segments = path.strip("/").split("/")
    if parts.scheme or parts.netloc or parts.query or parts.fragment or any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"relative_path must be a plain path under the base URL (query in params=): {path!r}")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in path):
        raise ValueError(f"relative_path must not contain whitespace or control characters: {path!r}")
    return path.strip("/")


def _job_id_from_location(location: str | None) -> str | None:
    if not location:
        return None
    match = _JOB_PATH.search(urllib.parse.urlsplit(location).path)
    if match is None:
        return None
    job_id = urllib.parse.unquote(match.group(1))
    return job_id if _JOB_ID.match(job_id) else None


def _job_id_of(job: AsyncJob | str) -> str:
    job_id = job.id if isinstance(job, AsyncJob) else job
    # The id becomes a path segment; polling always goes to our own base URL, never to a Location's host.
    if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
        raise ValueError(f"invalid async job id: {job_id!r}")
    return job_id


def _is_idempotency_replay(response: requests.Response, error: NetSuiteError) -> bool:
    return (
        400 <= response.status_code < 500
        and error.code == "IDEMPOTENCY_ERROR"
        and _job_id_from_location(response.headers.get("Location")) is not None
    )


def _json_object(response: requests.Response) -> tuple[dict[str, Any], None]:
    doc = _json_body(response)
    if not isinstance(doc, dict):
        raise NetSuiteError("response is not a JSON object", status=response.status_code, code="INVALID_RESPONSE")
    return doc, None


def _job_state(doc: Mapping[str, Any]) -> str:
    """One of succeeded, failed, finished (done; the result tells how) or running."""
    progress = doc.get("progress")
    if isinstance(progress, str):
        value = progress.strip().lower()
        if value in _JOB_SUCCEEDED:
            return "succeeded"
        if value in _JOB_FAILED:
            return "failed"
    if doc.get("completed") is True:
        return "finished"
    return "running"


def _first_task_id(doc: Mapping[str, Any]) -> str | None:
    items = doc.get("items")
    if not isinstance(items, list):
        return None
    for item in items:
        if not isinstance(item, dict):
            continue
        candidates: list[Any] = [item.get("id"), *_self_link_segments(item.get("links") or ())]
        for candidate in candidates:
            if isinstance(candidate, int) and not isinstance(candidate, bool):
                candidate = str(candidate)
            if isinstance(candidate, str) and _JOB_ID.match(candidate):
                return candidate
    return None


def _decode_body(value: Any) -> Any:
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _envelope_headers(value: Any) -> dict[str, str]:
    pairs: Iterable[Any] = value.items() if isinstance(value, Mapping) else value if isinstance(value, list) else ()
    headers: dict[str, str] = {}
    for pair in pairs:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            name, val = pair
        elif isinstance(pair, Mapping) and "name" in pair and "value" in pair:
            name, val = pair["name"], pair["value"]
        else:
            continue
        if isinstance(name, str) and isinstance(val, str | int):
            headers[name] = str(val)
    return headers


def _result_from_response(job_id: str | None, response: requests.Response) -> AsyncResult:
    """The original response from a task result, whether replayed as is or wrapped in a JSON envelope."""
    text = response.text or ""
    try:
        doc = json.loads(text) if text.strip() else None
    except ValueError:
        doc = None
    envelope = (
        isinstance(doc, dict)
        and isinstance(doc.get("status"), int)
        and not isinstance(doc.get("status"), bool)
        and ("body" in doc or "headers" in doc)
        and "o:errorDetails" not in doc
    )
    if envelope:
        status = doc["status"]
        headers = CaseInsensitiveDict(_envelope_headers(doc.get("headers")))
        body = _decode_body(doc.get("body"))
    else:
        status = response.status_code
        headers = CaseInsensitiveDict(response.headers)
        body = doc if doc is not None else (text or None)
    location = headers.get("Location")
    return AsyncResult(
        job_id=job_id,
        status=status,
        internal_id=_internal_id_from_location(location),
        location=location,
        body=body,
        headers=headers,
    )


def _submitted_job(response: requests.Response, key: str, record_type: str | None, external_id: str | None) -> AsyncJob:
    """The job NetSuite answered a submission with: new (202), replayed (a used key), or already finished."""
    if 200 <= response.status_code < 300 and response.status_code != 202:
        # The server ignored `Prefer: respond-async` and did the work at once: hand the answer back as an
        # already finished job rather than pretend there is something to poll.
        job_id, location, replayed, result = None, None, False, _result_from_response(None, response)
    else:
        location = response.headers.get("Location")
        job_id = _job_id_from_location(location)
        if job_id is None:
            raise NetSuiteError(
                "NetSuite accepted an asynchronous request without a job Location",
                status=response.status_code,
                code="MISSING_LOCATION",
            )
        replayed = response.status_code != 202
        if replayed:
            logger.info("netsuite idempotency key already used; continuing with earlier job %s", job_id)
        result = None
    return AsyncJob(
        id=job_id,
        location=location,
        idempotency_key=key,
        replayed=replayed,
        record_type=record_type,
        external_id=external_id,
        result=result,
    )


class AsyncJobOperations(Transport):
    """Asynchronous submissions and their jobs, over the transport."""

    # -- asynchronous requests --

    def async_request(
        self,
        method: str,
        relative_path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | uuid.UUID | None = None,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> AsyncJob:
        """Submit any REST request for asynchronous processing (`Prefer: respond-async`); its job.

        `relative_path` is relative to the base URL (`record/v1/salesOrder/eid:x`). The request carries
        `X-NetSuite-Idempotency-Key` (a new uuid4 unless given), which is what makes the submission safe to
        repeat: every attempt of this call sends the same key, and a key NetSuite has seen before is answered
        with the earlier job, which is returned (`replayed=True`) instead of an error. Pass a stable key
        (e.g. `uuid.uuid5(namespace, "<order>-<revision>")`) to make a resubmission by a retried task safe too.
        """
        method = method.upper() if isinstance(method, str) else method
        if method not in _ASYNC_METHODS:
            raise ValueError(f"async_request method must be one of {sorted(_ASYNC_METHODS)}: {method!r}")
        if body is not None and not isinstance(body, Mapping):
            raise TypeError("async_request body must be a mapping")
        return self._submit_async(
            operation="async_request",
            method=method,
            path=_check_relative_path(relative_path),
            params=dict(params) if params else None,
            body=body,
            idempotency_key=idempotency_key,
            record_type=None,
            external_id=None,
            correlation_id=correlation_id,
            lane=lane,
        )

    def upsert_async(
        self,
        record_type: str,
        external_id: str,
        body: Mapping[str, Any],
        *,
        replace: Sequence[str] = (),
        idempotency_key: str | uuid.UUID | None = None,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> AsyncJob:
        """`upsert` submitted asynchronously; the job to pass to `wait_for_job` / `poll_job`."""
        _check_upsert(record_type, external_id, body)
        return self._submit_async(
            operation="upsert_async",
            method="PUT",
            path=f"record/v1/{record_type}/eid:{external_id}",
            params=_replace_params(replace) or None,
            body=body,
            idempotency_key=idempotency_key,
            record_type=record_type,
            external_id=external_id,
            correlation_id=correlation_id,
            lane=lane,
        )

    def _submit_async(
        self,
        *,
        operation: str,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        idempotency_key: str | uuid.UUID | None,
        record_type: str | None,
        external_id: str | None,
        correlation_id: str | None,
        lane: str,
    ) -> AsyncJob:
        key = _idempotency_key(idempotency_key)
        return self._call(
            operation=operation,
            method=method,
            path=path,
            params=params,
            body=dict(body) if body is not None else None,
            extra_headers={"Prefer": "respond-async", IDEMPOTENCY_HEADER: key},
            parse=lambda r: (_submitted_job(r, key, record_type, external_id), None),
            record_type=record_type,
            external_id=external_id,
            # The idempotency key makes a repeat harmless: NetSuite answers it with the job it already has.
            repeatable=True,
            accept=_is_idempotency_replay,
            correlation_id=correlation_id,
            lane=lane,
        )

    def poll_job(
        self,
        job: AsyncJob | str,
        *,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> AsyncResult | None:
        """One look at a job: None while it runs; its result once it has finished.

        For a task that would rather reschedule itself than block a worker in `wait_for_job`. Raises the
        typed error of the original request when the job failed.
        """
        if isinstance(job, AsyncJob) and job.result is not None:
            return job.result
        job_id = _job_id_of(job)
        record_type = job.record_type if isinstance(job, AsyncJob) else None
        external_id = job.external_id if isinstance(job, AsyncJob) else None
        corr = correlation_id or uuid.uuid4().hex
        common: dict[str, Any] = {
            "method": "GET",
            "record_type": record_type,
            "external_id": external_id,
            "correlation_id": corr,
            "lane": lane,
        }
        doc = self._call(operation="job_status", path=f"async/v1/job/{job_id}", parse=_json_object, **common)
        state = _job_state(doc)
        if state == "running":
            return None
        tasks = self._call(operation="job_tasks", path=f"async/v1/job/{job_id}/task", parse=_json_object, **common)
        task_id = _first_task_id(tasks)
        if task_id is None:
            if state == "failed":
                raise NetSuiteError(f"async job {job_id} failed and has no task result", code="ASYNC_JOB_FAILED")
            raise NetSuiteError(f"async job {job_id} finished without a task", code="INVALID_RESPONSE")
        # An original response that was an error may come back as the result's own status (then _call raises
        # its typed error, retrying 5xx/governance as for any read) or wrapped in a 200 envelope (below).
        result = self._call(
            operation="job_result",
            path=f"async/v1/job/{job_id}/task/{task_id}/result",
            parse=lambda r: (_result_from_response(job_id, r), None),
            **common,
        )
        if not 200 <= result.status < 300:
            raise error_from_parts(result.status, result.body, result.headers)
        if state == "failed":
            raise NetSuiteError(
                f"async job {job_id} reported failure but its result has status {result.status}",
                status=result.status,
                code="ASYNC_JOB_FAILED",
            )
        return result

    def wait_for_job(
        self,
        job: AsyncJob | str,
        *,
        poll_interval: float = 0.5,
        timeout: float = 300.0,
        correlation_id: str | None = None,
        lane: str = "live",
    ) -> AsyncResult:
        """Poll a job until it finishes; the original request's status, internal id (from its Location), body.

        A failed job raises the typed error of the original request (ValidationError, NotFoundError...).
        Raises `AsyncJobTimeoutError` (retryable, ambiguous) if the job is still running after `timeout`
        seconds; the job is not cancelled and may be waited on again.
        """
        if poll_interval < 0 or timeout < 0:
            raise ValueError("poll_interval and timeout must not be negative")
        corr = correlation_id or uuid.uuid4().hex
        deadline = time.monotonic() + timeout
        while True:
            result = self.poll_job(job, correlation_id=corr, lane=lane)
            if result is not None:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                job_id = _job_id_of(job)
                raise AsyncJobTimeoutError(f"async job {job_id} still running after {timeout:g}s", job_id=job_id)
            time.sleep(min(poll_interval, remaining))
