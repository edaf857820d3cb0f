"""Engines and sessions. SQLite (embedded default) gets the pragmas that let threads share it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# Connections a process keeps when nobody says how many threads will use them.
DEFAULT_POOL_SIZE = 5


def make_engine(url: str, pool_size: int | None = None, pre_ping: bool = True) -> Engine:
    """An engine for `url`. A worker passes its concurrency as `pool_size`, so every thread has
    a connection and none waits, and turns `pre_ping` off: a checkout then costs no round trip,
    and a connection that died with a database restart fails its step, which is retried on a
    fresh pool (SQLAlchemy drops the whole pool when it sees a disconnect). Long-lived commands
    that sleep between sweeps keep the ping."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    size = pool_size or DEFAULT_POOL_SIZE
    # LIFO hands out the most recently used connection, so a burst's extra connections go idle
    # and are recycled instead of being kept warm by round-robin use.
    engine = create_engine(url, pool_pre_ping=pre_ping, pool_size=size, max_overflow=size,
                           pool_use_lifo=True, pool_recycle=3600)
    event.listen(engine, "connect", _plan_each_execution)
    return engine


def _plan_each_execution(dbapi_connection: Any, _record: Any) -> None:
    """psycopg prepares a statement run five times on a connection, and PostgreSQL then keeps a
    generic plan for it: one made while a fresh database's tables were nearly empty scans the
    whole table for every job's few ledger rows until the next ANALYZE (never, with autovacuum
    off), so each job cost more than the one before. A custom plan per execution sees the
    table as it is; the statement is still parsed once."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET plan_cache_mode = force_custom_plan")
    cursor.close()
    # Leave no transaction open: the pool hands the connection out as idle.
    dbapi_connection.commit()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (status, Flower-like watchers) run while workers write.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """An engine and its session factory, passed to whatever needs the tables."""

    def __init__(self, url: str, pool_size: int | None = None, pre_ping: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size, pre_ping)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work commits as one transaction, or rolls back whole."""
        with self._sessions() as session, session.begin():
            yield session

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()
