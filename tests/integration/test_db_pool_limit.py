"""The PostgreSQL connection budget is a pool limit (docs/CONFIGURATION.md, "PostgreSQL connections"): a process
sized for N units of work never holds more than N + overflow connections of an engine, however many threads
ask at once; the ones past the limit wait for a connection instead of opening another."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from sqlalchemy import text

from app.config import get_settings
from app.db import session as db_session


@pytest.fixture
def sized_for_three(database: str):
    db_session.size_pools(3)
    try:
        yield db_session.pool_limits()
    finally:
        db_session.size_pools(db_session.DEFAULT_CONCURRENCY)


def backends(dsn: str) -> int:
    """Client connections to the test database other than this probe's own."""
    with psycopg.connect(dsn.replace("+psycopg", ""), autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def test_twelve_threads_share_a_pool_sized_for_three(sized_for_three: dict[str, int]):
    limit = sized_for_three["per_engine"]
    assert sized_for_three == {"pool_size": 3, "max_overflow": 2, "per_engine": 5, "engines": 2}
    dsn = get_settings().sqlalchemy_url
    engine = db_session.get_engine()
    engine.dispose()
    before = backends(dsn)  # other engines' idle connections (earlier tests), unchanged during this one
    lock = threading.Lock()
    holding = {"now": 0, "peak": 0}
    seen_on_server: list[int] = []

    def unit_of_work(_n: int) -> int:
        with db_session.session_scope() as session:
            one = session.execute(text("SELECT 1")).scalar_one()  # the session holds a connection from here on
            with lock:
                holding["now"] += 1
                holding["peak"] = max(holding["peak"], holding["now"])
            session.execute(text("SELECT pg_sleep(0.3)"))
            with lock:
                holding["now"] -= 1
            return one

    def watch(stop: threading.Event) -> None:
        while not stop.is_set():
            seen_on_server.append(backends(dsn))
            time.sleep(0.05)

    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(stop,), daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            results = list(pool.map(unit_of_work, range(12)))
    finally:
        stop.set()
        watcher.join(timeout=5)

    assert results == [1] * 12  # every unit ran: the ones past the limit waited for a connection
    assert holding["peak"] == limit  # the limit was reached, and never passed
    assert engine.pool.size() == 3
    assert seen_on_server and max(seen_on_server) - before <= limit
