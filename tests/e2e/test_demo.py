"""The demo a newcomer runs first (`./run demo`, issue 14), small: every section of its report passes, `--keep`
leaves a stack that answers where the demo says, and Ctrl-C stops every process it started.

`shopsync-dev demo` runs as a newcomer runs it (a process of its own, its own stack of real processes), on a
database and Redis db of this test run's own. Bounded: the demo's own --timeout, and this test's."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.conftest import TEST_DB, TEST_REDIS_DB

ORDERS = 8
SECTIONS = (
    "orders of a realistic mix",
    "a split shipment from two locations",
    "an unknown SKU: dead-lettered",
    "a NetSuite stock change pushed back to Shopify",
    "nightly reconciliation",
    "payouts → deposits",
)


def _lines_of(proc: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _read_until(lines: queue.Queue, seen: list[str], marker: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if marker in line:
            return
    raise AssertionError(f"no {marker!r} within {timeout}s; output:\n" + "\n".join(seen[-80:]))


def _processes_of(database: str) -> list[psutil.Process]:
    """Every live process whose environment names the demo's database (the stack the demo started)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if database in proc.environ().get("DATABASE_URL", ""):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.mark.timeout(240)
def test_the_demo_tells_the_whole_story_keeps_the_stack_and_stops_it_on_ctrl_c(tmp_path: Path):
    database = f"{TEST_DB}_demo"
    command = [
        str(Path(sys.executable).parent / "shopsync-dev"),
        "demo",
        f"--orders={ORDERS}",
        f"--database={database}",
        f"--redis-db={TEST_REDIS_DB}",
        "--latency-ms=10",
        "--jitter-ms=5",
        "--timeout=180",
        f"--run-dir={tmp_path}",
        "--keep",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, seen = _lines_of(proc), []
    try:
        _read_until(lines, seen, "Ctrl-C stops everything", timeout=200)
        _read_until(lines, seen, "logs ", timeout=10)
        report = "\n".join(seen[next(i for i, line in enumerate(seen) if line == "demo report") :])
        for title in SECTIONS:
            assert re.search(rf"^✓ {re.escape(title)}", report, re.M), f"{title}:\n{report}"
        assert "✗" not in report, report
        assert "demo: OK, 6 sections passed" in report
        # The money story: the deposit NetSuite holds equals the payout's net, a run after it posts nothing.
        payouts = report[report.index("✓ payouts → deposits") :]
        flat = re.sub(r"\n {6}", " ", payouts)  # a figure wrapped over lines, whole again
        deposit = re.search(r"total (\S+) vs payout net (\S+), variance (\S+);", flat)
        assert deposit and deposit.group(1) == deposit.group(2) and deposit.group(3) == "0.00", payouts
        assert re.search(r"a third run: 0 posted, [^;]*; deposits (\d+) → \1, PUT deposit calls (\d+) → \2", flat)
        assert re.search(r"^\s+\d+\s+\S+\s+PAID\s+[\d.]+ USD\s+deposited\s+\d+\s+0\.00\s", payouts, re.M), payouts
        plot = Path(re.search(r"drift plot: (\S+)", report).group(1))
        assert plot.is_file() and b"<svg" in plot.read_bytes()

        # --keep: the stack answers where the demo says, with the credentials it printed.
        text = "\n".join(seen)
        console, token = re.search(r"ops console\s+(\S+)\s+\(paste the OPS token: (\S+)\)", text).groups()
        flower, user, password = re.search(r"Flower\s+(\S+)\s+\(user (\S+), password (\S+)\)", text).groups()
        metrics = re.search(r"metrics\s+(\S+)", text).group(1)
        assert requests.get(console, timeout=10).status_code == 200
        web = console.removesuffix("/console/")
        status = requests.get(f"{web}/ops/status", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert status.status_code == 200
        assert requests.get(f"{flower}api/workers", timeout=10).status_code == 401
        assert requests.get(f"{flower}api/workers", auth=(user, password), timeout=10).status_code == 200
        assert "shopsync_webhooks_received_total" in requests.get(metrics, timeout=10).text
        assert len(_processes_of(database)) >= 8  # both simulators, web, three workers, beat, flower (and children)

        # Ctrl-C: everything the demo started stops, and the exit code is the report's.
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        _read_until(lines, seen, "stopped every process the demo started", timeout=5)
        assert _processes_of(database) == []
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
