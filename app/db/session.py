"""Engines, their connection pools, and the unit of work.

Connection budget (docs/CONFIGURATION.md, "PostgreSQL connections"): a process runs `concurrency` units of work at
once (a gunicorn thread, a Celery pool thread, a prefork child's one task). A unit holds at most one connection of
each engine at a time: its ORM session (held for the whole event, NetSuite call included) and one autocommitted
single-statement write (call log, intake row, drift count). Each engine's pool is therefore sized to the units,
with a little overflow for the rare nested session, and that is a hard limit: a process never opens more than
`2 x (concurrency + POOL_OVERFLOW)` connections, whatever its load.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.config import get_settings
from app.once import built_once

DEFAULT_CONCURRENCY = 8  # gunicorn's threads per process (app/gunicorn_conf.py); CLI and beat use one
POOL_OVERFLOW = 2  # connections past the pool size, closed again when returned (a nested session, a CLI helper)
_sizing = {"concurrency": DEFAULT_CONCURRENCY}
_sizing_lock = threading.Lock()


def size_pools(concurrency: int) -> None:
    """Size this process's pools for `concurrency` units of work. Call before the first engine is built (a worker's
    init hook); engines already built are disposed so the next checkout uses the new size."""
    with _sizing_lock:
        changed = _sizing["concurrency"] != max(1, concurrency)
        _sizing["concurrency"] = max(1, concurrency)
    if changed:
        for build in (engine_for, intake_engine_for, _factory):
            build.cache_clear()  # type: ignore[attr-defined]


def pool_limits() -> dict[str, int]:
    """The connection limits of this process's engines, as built: pool size, overflow, and their sum per engine."""
    n = _sizing["concurrency"]
    return {"pool_size": n, "max_overflow": POOL_OVERFLOW, "per_engine": n + POOL_OVERFLOW, "engines": 2}


def connect_args(url: str) -> dict:
    """connect_timeout keeps a PostgreSQL outage a fast 503 instead of a hung request. TCP keepalives on both ends
    (DATABASE_KEEPALIVE_SECONDS, 0 = the kernel's defaults): a worker's session holds its event's row lock through
    the NetSuite calls, and a machine that vanishes (power, network) never closes its connections, so without them
    PostgreSQL keeps that backend, its transaction and its row locks for the kernel's two hours (and the outbox
    relay skips the locked events). With them the server drops a silent client after about twice the setting; the
    client side notices a vanished server the same way."""
    args: dict = {"connect_timeout": 3}
    idle = get_settings().database_keepalive_seconds
    if idle > 0:
        interval = max(1, idle // 3)
        # Keepalives cover an idle connection; a peer that vanished before it acknowledged the last reply leaves
        # data unacknowledged, where only the user timeout applies (else ~15 minutes of retransmissions).
        user_timeout_ms = (idle + 3 * interval) * 1000
        server = (
            f"-c tcp_keepalives_idle={idle} -c tcp_keepalives_interval={interval} -c tcp_keepalives_count=3"
            f" -c tcp_user_timeout={user_timeout_ms}"
        )
        given = make_url(url).query.get("options")  # the URL's own options (a search_path, say) are kept
        args |= {
            "keepalives": 1,
            "keepalives_idle": idle,
            "keepalives_interval": interval,
            "keepalives_count": 3,
            "tcp_user_timeout": user_timeout_ms,
            "options": f"{given} {server}" if given else server,
        }
    return args


@built_once
def engine_for(url: str) -> Engine:
    limits = pool_limits()
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=limits["pool_size"],
        max_overflow=limits["max_overflow"],
        pool_timeout=5,
        connect_args=connect_args(url),
    )


@built_once
def intake_engine_for(url: str) -> Engine:
    """The engine for single-statement writes on hot paths (webhook intake, NetSuite call log): one autocommit
    INSERT per request (a single statement is atomic on its own),
    no BEGIN/COMMIT round trips and no pre-ping. A connection that died is discarded by the pool when its
    statement fails, and that request answers 503 (Shopify retries), so the ping would buy nothing per request.
    """
    limits = pool_limits()
    return create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=limits["pool_size"],
        max_overflow=limits["max_overflow"],
        pool_timeout=5,
        pool_recycle=1800,
        connect_args=connect_args(url),
    )


def get_engine() -> Engine:
    return engine_for(get_settings().sqlalchemy_url)


@built_once
def _factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    session = _factory(get_settings().sqlalchemy_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    """After fork (gunicorn, celery prefork) a child must not reuse the parent's pooled sockets."""
    get_engine().dispose(close=False)
