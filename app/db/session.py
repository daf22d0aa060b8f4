"""Engine and unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import get_settings


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    # connect_timeout keeps a PostgreSQL outage a fast 503 instead of a hung request.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        pool_timeout=5,
        connect_args={"connect_timeout": 3},
    )


@lru_cache(maxsize=4)
def intake_engine_for(url: str) -> Engine:
    """The engine for single-statement writes on hot paths (webhook intake, NetSuite call log): one autocommit
    INSERT per request (a single statement is atomic on its own),
    no BEGIN/COMMIT round trips and no pre-ping. A connection that died is discarded by the pool when its
    statement fails, and that request answers 503 (Shopify retries), so the ping would buy nothing per request.
    """
    return create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=8,
        max_overflow=8,
        pool_timeout=5,
        pool_recycle=1800,
        connect_args={"connect_timeout": 3},
    )


def get_engine() -> Engine:
    return engine_for(get_settings().sqlalchemy_url)


@lru_cache(maxsize=4)
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
