"""Asynchronous requests: `Prefer: respond-async` turns a record or SuiteQL request into a job.

Oracle's model is job -> task -> result; the simulator runs one task per job, with the job's id. `<base>` is
`http://<host>/services/rest`.

Submitting (any record operation, or SuiteQL with `Prefer: respond-async, transient`):

    X-NetSuite-Idempotency-Key: <UUID, 8-4-4-4-12 hex>       required
    -> 202, no body, `Location: <base>/async/v1/job/<jobId>`, `Preference-Applied: respond-async`
    replayed key  -> 400 o:errorCode IDEMPOTENCY_ERROR, `Location: <base>/async/v1/job/<earlier jobId>`
    missing key   -> 400 o:errorCode USER_ERROR (API_FACTS says async requests carry the key, not what NetSuite
                     does without one; the simulator refuses, so a client that forgets it fails in tests)
    malformed key -> 400 o:errorCode USER_ERROR

A key is spent once the 202 is answered, so a request refused before that (401, 429, an injected fault) can be
retried with the same key; a retry after a lost 202 gets the IDEMPOTENCY_ERROR that points at the job. Keys
are per account (the simulator is one account) and forgotten by `/_sim/reset`, which also drops the jobs (one
not yet started then never runs). The key is ignored on synchronous requests. `async_job_delay_ms` (config)
keeps a job "pending" that long before it runs.

Polling:

    GET <base>/async/v1/job/<jobId> -> 200
        {"links": [{"rel": "self", "href": "<base>/async/v1/job/<jobId>"}],
         "id": "<jobId>", "progress": "pending" | "processing" | "succeeded" | "failed",
         "completed": <bool>, "createdTime": "<ISO-8601 UTC>", "completedTime": "<ISO-8601 UTC>" (once completed),
         "task": {"links": [{"rel": "self", "href": "<base>/async/v1/job/<jobId>/task"}]}}
    GET <base>/async/v1/job/<jobId>/task -> 200
        {"links": [{"rel": "self", "href": ".../task"}], "count": 1, "hasMore": false, "offset": 0,
         "totalResults": 1, "items": [{"links": [{"rel": "self", "href": ".../task/<taskId>"}], "id": "<taskId>"}]}
    GET <base>/async/v1/job/<jobId>/task/<taskId> -> 200
        {"links": [{"rel": "self", ...}], "id": "<taskId>", "progress", "completed", "createdTime",
         "completedTime"?, "result": {"links": [{"rel": "self", "href": ".../task/<taskId>/result"}]}}
    GET <base>/async/v1/job/<jobId>/task/<taskId>/result
        -> the synchronous response the request would have had: its status (204, 200, 400, ...), its
           Location and Content-Type headers, its body. Before the task completes: 404 NONEXISTENT_ID.

"succeeded" means the result's status is below 400, "failed" that it is an error (the error is the result).
Unknown job or task ids answer 404 NONEXISTENT_ID. The work runs on a background thread, as the request would
have run synchronously; it holds no concurrency slot, because NetSuite runs async jobs in its own queue: only
the submitting request counts toward the cap, while it is being answered.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from simulators.clock import REAL_CLOCK, Clock

IDEMPOTENCY_HEADER = "X-NetSuite-Idempotency-Key"
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class JobResult:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Job:
    id: str
    idempotency_key: str
    operation: str
    created: float  # epoch seconds, from the simulator's clock
    progress: str = "pending"
    completed: float | None = None
    result: JobResult | None = None


class AsyncJobs:
    """The account's jobs and the idempotency keys that created them."""

    def __init__(self, clock: Clock = REAL_CLOCK) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._by_key: dict[str, str] = {}
        # Never reset, so a job id is never reused, even across /_sim/reset.
        self._next_id = 1

    def claim(self, idempotency_key: str, operation: str) -> tuple[Job, bool]:
        """(new job, True) for a fresh key, (the key's earlier job, False) for a replayed one."""
        key = idempotency_key.lower()
        with self._lock:
            earlier = self._by_key.get(key)
            if earlier is not None:
                return self._jobs[earlier], False
            job = Job(str(self._next_id), key, operation, created=self._clock.time())
            self._next_id += 1
            self._jobs[job.id] = job
            self._by_key[key] = job.id
            return job, True

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def start(self, job: Job) -> bool:
        """Mark the job processing; False if a reset dropped it meanwhile, so it must not run: a test's
        reset must not be followed by a write that an earlier test submitted."""
        with self._lock:
            if self._jobs.get(job.id) is not job:
                return False
            job.progress = "processing"
            return True

    def finish(self, job: Job, result: JobResult) -> None:
        with self._lock:
            job.result = result
            job.completed = self._clock.time()
            job.progress = "succeeded" if result.status < 400 else "failed"

    def reset(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._by_key.clear()

    def counts(self) -> dict[str, int]:
        with self._lock:
            counts = dict.fromkeys(("pending", "processing", "succeeded", "failed"), 0)
            for job in self._jobs.values():
                counts[job.progress] += 1
            return counts


def job_url(base: str, job_id: str) -> str:
    return f"{base}/async/v1/job/{job_id}"


def _status_fields(job: Job) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "progress": job.progress,
        "completed": job.completed is not None,
        "createdTime": _iso(job.created),
    }
    if job.completed is not None:
        fields["completedTime"] = _iso(job.completed)
    return fields


def job_view(base: str, job: Job) -> dict[str, Any]:
    url = job_url(base, job.id)
    return {
        "links": [{"rel": "self", "href": url}],
        "id": job.id,
        **_status_fields(job),
        "task": {"links": [{"rel": "self", "href": f"{url}/task"}]},
    }


def tasks_view(base: str, job: Job) -> dict[str, Any]:
    url = f"{job_url(base, job.id)}/task"
    return {
        "links": [{"rel": "self", "href": url}],
        "count": 1,
        "hasMore": False,
        "items": [{"links": [{"rel": "self", "href": f"{url}/{job.id}"}], "id": job.id}],
        "offset": 0,
        "totalResults": 1,
    }


def task_view(base: str, job: Job) -> dict[str, Any]:
    url = f"{job_url(base, job.id)}/task/{job.id}"
    return {
        "links": [{"rel": "self", "href": url}],
        "id": job.id,
        **_status_fields(job),
        "result": {"links": [{"rel": "self", "href": f"{url}/result"}]},
    }
