"""Engine and sessions.

``Database(url)`` owns one SQLAlchemy engine. ``db.session()`` is the unit of work: a transaction that
commits when the block ends and rolls back on any error, so a failed operation never leaves half-written
data. On SQLite it opens the transaction with ``BEGIN IMMEDIATE``: SQLite otherwise starts as a reader and
fails with "database is locked" when two writers race to upgrade; taking the write lock up front makes
writers queue (up to ``busy_timeout``) instead. ``db.read_session()`` is for read-only work and never
takes the write lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool, QueuePool

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = _sqlite_engine(url, echo, "BEGIN IMMEDIATE")
            self.read_engine: Engine = _sqlite_engine(url, echo, "BEGIN")
        else:
            self.engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)
            self.read_engine = self.engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-write transaction: commit on success, roll back on any exception."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A read-only transaction (never commits; never takes SQLite's write lock)."""
        with self._read_sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()


def _sqlite_engine(url: str, echo: bool, begin: str) -> Engine:
    # isolation_level=None hands transaction control to the "begin" listener (the documented pysqlite
    # recipe). Connections are pooled: opening one and running the PRAGMAs on every request was the largest
    # fixed cost of an authenticated API call. An in-memory database cannot be shared through a pool.
    memory = make_url(url).database in (None, "", ":memory:")
    engine = create_engine(
        url,
        echo=echo,
        poolclass=NullPool if memory else QueuePool,
        **({} if memory else {"pool_size": 8, "max_overflow": 56}),
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        isolation_level=None,
    )
    event.listen(engine, "connect", _sqlite_on_connect)

    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    event.listen(engine, "begin", on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
