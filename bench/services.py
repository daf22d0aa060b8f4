"""A benchmark's own PostgreSQL cluster and Redis server, started in a temporary directory (optionally inside a
network namespace) so that a benchmark or test can restart, kill or flush them without touching the machine's
shared servers. Nothing here is used by the service itself."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

PG_USER = "postgres"  # initdb refuses to run as root


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (looked in /usr/lib/postgresql/*/bin)")
    return found[-1]


def netns_prefix(netns: str | None) -> list[str]:
    """The argv prefix that runs a command inside `netns` (nothing for the root namespace)."""
    return ["ip", "netns", "exec", netns] if netns else []


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as exc:  # noqa: BLE001 - still starting; the last error goes into the message
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s (last error: {last})")


@dataclass
class PrivatePostgres:
    """A throwaway PostgreSQL cluster: trust auth for `root`, listening on `host:port` in `netns`."""

    host: str = "127.0.0.1"
    port: int = 55432
    netns: str | None = None
    max_connections: int = 200
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="shopsync-pg-")))

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://root@{self.host}:{self.port}/{database}"

    def _as_postgres(self, *argv: str) -> list[str]:
        return [*netns_prefix(self.netns), "runuser", "-u", PG_USER, "--", *argv]

    def init(self) -> PrivatePostgres:
        shutil.chown(self.directory, PG_USER, PG_USER)
        subprocess.run(
            self._as_postgres(_pg_bin("initdb"), "-D", str(self.data), "-U", "root", "--auth=trust", "-E", "UTF8"),
            check=True,
            capture_output=True,
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '{self.host}'\nport = {self.port}\nmax_connections = {self.max_connections}\n"
                f"unix_socket_directories = '{self.directory}'\nfsync = off\nsynchronous_commit = off\n"
                "full_page_writes = off\nshared_buffers = 128MB\n"
            )
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("host all all 0.0.0.0/0 trust\n")
        return self

    def start(self) -> PrivatePostgres:
        log = self.directory / "postgres.log"
        subprocess.run(
            self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "-t", "30", "start"),
            check=True,
            capture_output=True,
        )
        _wait(lambda: psycopg.connect(self.dsn(), connect_timeout=2).close() is None, 30, "PostgreSQL")
        return self

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"),
            check=False,
            capture_output=True,
        )

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class PrivateRedis:
    """A throwaway Redis server (nothing on disk) listening on `host:port` in `netns`."""

    host: str = "127.0.0.1"
    port: int = 56379
    netns: str | None = None
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, db=db, socket_timeout=5)

    def start(self) -> PrivateRedis:
        argv = [
            *netns_prefix(self.netns),
            "redis-server",
            "--bind",
            self.host,
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--maxmemory-policy",
            "noeviction",
            # Protected mode refuses every client but loopback when there is no password: a server on a
            # namespace's private link address serves the other namespaces of the benchmark.
            "--protected-mode",
            "yes" if self.host.startswith("127.") else "no",
        ]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(lambda: self.client().ping(), 15, "Redis")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def require_root() -> None:
    if os.geteuid() != 0:
        raise SystemExit("this benchmark creates network namespaces or PostgreSQL clusters: run it as root")
