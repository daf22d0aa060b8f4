"""A real Celery worker (prefork, as shipped) writes a task's failure, traceback included, with personal data masked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.integration.pii_worker import worker_app

SECRETS = ("Bobbie", "Normanton", "Chestnut", "40202", "hostmail")


@pytest.mark.timeout(120)
def test_a_prefork_worker_masks_a_failed_task_and_its_traceback(redis_db, tmp_path):
    queue = f"pii-{uuid.uuid4().hex[:8]}"
    log_path = tmp_path / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "tests.integration.pii_worker:worker_app", "worker", "-Q", queue]
    command += ["--pool", "prefork", "--concurrency", "1", "--without-mingle", "--without-gossip", "-l", "INFO"]
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "LOG_FORMAT": "json"}
        )
    try:
        worker_app.send_task("pii.push_customer", args=[820982911946154508], queue=queue)
        deadline = time.monotonic() + 90
        while "raised unexpected" not in log_path.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.3)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    failure = next(line for line in lines if "raised unexpected" in line["message"])
    assert failure["logger"] == "celery.app.trace" and "820982911946154508" in failure["message"]
    assert "Traceback" in failure["exc_info"] and "RuntimeError" in failure["exc_info"]
    assert "Louisville" in failure["message"]  # masked by key, not blanked
    written = log_path.read_text()
    assert not [s for s in SECRETS if s in written], [s for s in SECRETS if s in written]
