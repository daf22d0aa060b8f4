"""Start and stop the service's real processes from the Procfile, as operators (honcho), the demo and the
end-to-end tests do. Each process gets its own session so a stop takes its children (prefork pools) too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"


def procfile_commands(path: Path = PROCFILE) -> dict[str, str]:
    commands: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if sep:
            commands[name.strip()] = command.strip()
    return commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30.0, auth: tuple[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2, auth=auth).status_code < 500:
                return
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s ({last})")


@dataclass
class Managed:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Stack:
    """A set of processes started from Procfile lines (or explicit commands) with one environment."""

    env: Mapping[str, str]
    run_dir: Path
    processes: dict[str, Managed] = field(default_factory=dict)

    def start(self, name: str, command: str | None = None, extra_env: Mapping[str, str] | None = None) -> Managed:
        command = command or procfile_commands()[name]
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.run_dir / f"{name}.log"
        env = {**self.env, **(extra_env or {})}
        log = open(log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        popen = subprocess.Popen(
            ["bash", "-c", command],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        managed = Managed(name, popen, log_path)
        self.processes[name] = managed
        return managed

    def stop(self, name: str, timeout: float = 15.0) -> None:
        managed = self.processes.pop(name, None)
        if managed is None:
            return
        _stop_group(managed.popen, timeout)

    def stop_all(self, timeout: float = 15.0) -> None:
        """Every process group asked to stop at once, then each waited for until one shared deadline (SIGKILL
        after it): stopping is bounded by `timeout` + 5 s whatever the number of processes, where one at a time
        could take `timeout` for each one still finishing its work."""
        stopping = [self.processes.pop(name).popen for name in list(self.processes)[::-1]]
        for popen in stopping:
            _signal_group(popen, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for popen in stopping:
            _await_group(popen, max(0.1, deadline - time.monotonic()))

    def check_alive(self) -> None:
        dead = [m for m in self.processes.values() if not m.alive()]
        if dead:
            details = "\n".join(f"--- {m.name} exited {m.popen.returncode}:\n{m.log_tail()}" for m in dead)
            raise RuntimeError(f"process(es) died: {', '.join(m.name for m in dead)}\n{details}")


def _stop_group(popen: subprocess.Popen, timeout: float) -> None:
    if _signal_group(popen, signal.SIGTERM):
        _await_group(popen, timeout)


def _signal_group(popen: subprocess.Popen, sig: int) -> bool:
    """`sig` to the process's group; False when it has already exited."""
    if popen.poll() is not None:
        return False
    try:
        os.killpg(popen.pid, sig)
    except ProcessLookupError:
        return False
    return True


def _await_group(popen: subprocess.Popen, timeout: float) -> None:
    """The process waited for `timeout` s after its SIGTERM, then its group SIGKILLed."""
    try:
        popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(popen.pid, signal.SIGKILL)  # the group, even if its leader exits meanwhile
        except ProcessLookupError:
            pass
        popen.wait(timeout=5)
