"""A machine that vanishes without closing its PostgreSQL connections (power lost, network cut) must not keep its
transaction's row locks: a worker's session holds its event's row through the NetSuite calls, and the outbox relay
skips a locked event. With the app's connection settings (app/db/session.py connect_args) the server probes the
silent client and ends its backend, rolling back and releasing the lock, after about twice
DATABASE_KEEPALIVE_SECONDS; with keepalives off (0, the kernel's defaults) it would keep them for two hours.

PostgreSQL of its own in one network namespace, two clients on two other hosts (one with a 2-second keepalive, one
with 0), both hosts powered off at once (bench/multihost/network.py): the link cut first, then the namespace
deleted, so the server never sees the connections close."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg
import pytest

from bench.multihost.network import Network
from bench.services import PrivatePostgres

PREFIX = "ssk-"
SUBNET = "10.203.2"
CLIENT = """
import sys, time, psycopg
from app.db.session import connect_args
dsn, row = sys.argv[1], int(sys.argv[2])
conn = psycopg.connect(dsn, **connect_args(dsn))
conn.execute("SELECT id FROM t WHERE id = %s FOR UPDATE", (row,))
print("locked", conn.execute("SHOW tcp_keepalives_idle").fetchone()[0], flush=True)
time.sleep(600)
"""


def _locked(dsn: str, row: int) -> bool:
    with psycopg.connect(dsn, connect_timeout=3) as conn:
        try:
            conn.execute("SELECT id FROM t WHERE id = %s FOR UPDATE NOWAIT", (row,))
        except psycopg.errors.LockNotAvailable:
            return True
        return False


@pytest.fixture
def hosts():
    net = Network(2, prefix=PREFIX, subnet=SUBNET)
    pg = None
    try:
        net.create()
        pg = PrivatePostgres(host=net.infra.address, port=55499, netns=net.infra.netns).init().start()
        yield net, pg.create_database("keepalive")
    finally:
        if pg is not None:
            pg.remove()
        net.remove()


def test_a_vanished_hosts_row_lock_is_released_after_the_keepalive(hosts) -> None:
    net, dsn = hosts
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
    clients = []
    for row, (host, keepalive) in enumerate(zip(net.workers, ("2", "0"), strict=True), start=1):
        env = {**os.environ, "DATABASE_KEEPALIVE_SECONDS": keepalive}
        clients.append(
            subprocess.Popen(
                ["ip", "netns", "exec", host.netns, sys.executable, "-c", CLIENT, dsn, str(row)],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    try:
        first = [c.stdout.readline().split() for c in clients]
        assert first[0] == ["locked", "2"]  # the server probes this client every 2 s of silence
        assert first[1][0] == "locked" and first[1][1] != "2"
        assert _locked(dsn, 1) and _locked(dsn, 2)

        for host in net.workers:
            net.power_off(host)
        cut = time.monotonic()
        while _locked(dsn, 1):
            assert time.monotonic() - cut < 20, "the vanished client's row lock outlived its keepalive"
            time.sleep(0.25)
        released_after = time.monotonic() - cut
        # idle 2 s, then 3 probes 1 s apart: the backend ends within seconds.
        assert released_after < 10
        # Without keepalives the other vanished client's backend still holds its row (for the kernel's 2 hours).
        assert _locked(dsn, 2)
    finally:
        for c in clients:
            c.kill()
            c.wait(5)
