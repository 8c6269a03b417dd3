"""Engine and sessions.

``Database(url)`` owns one SQLAlchemy engine. ``db.session()`` is the unit of work: a transaction that
commits when the block ends and rolls back on any error, so a failed operation never leaves half-written
data. On SQLite it opens the transaction with ``BEGIN IMMEDIATE``: SQLite otherwise starts as a reader and
fails with "database is locked" when two writers race to upgrade; taking the write lock up front makes
writers queue (up to ``busy_timeout``) instead. ``db.read_session()`` is for read-only work and never
takes the write lock.

SQLite write transactions are also queued by Safeguard itself (:class:`WriteLock`): a writer that finds
SQLite's lock taken retries in sleeps growing to 100 ms (SQLite's busy handler), which gave a 1 s p99 on
the conversations API with two workers and eight clients (docs/grooming.md "Speed"). Before ``BEGIN
IMMEDIATE`` a writer takes a per-database lock in its process and then a blocking ``flock`` on a file
beside the database, which the kernel hands to the next waiter the moment the holder commits or rolls
back. Neither lock belongs to a thread, so a transaction may begin in one thread and end in another
(FastAPI enters and leaves a dependency's session in different threads).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
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
            lock = WriteLock.for_database(parsed.database)
            self.engine: Engine = _sqlite_engine(url, echo, "BEGIN IMMEDIATE", lock)
            self.read_engine: Engine = _sqlite_engine(url, echo, "BEGIN", None)
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


class WriteLock:
    """Queues the write transactions of one SQLite database across threads and processes.

    ``acquire`` takes a ``threading.Lock`` shared by every engine of this database in the process (with
    SQLite's busy timeout, so a thread that opens a second write transaction while it holds one fails as
    SQLite would have failed, instead of hanging), then an exclusive ``flock`` on ``<database>-write.lock``
    through a file opened for this transaction. ``release`` closes the file (which drops the ``flock``)
    and releases the thread lock; any thread may call it.
    """

    _registry: ClassVar[dict[str, WriteLock]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, database: str) -> None:
        self.database = database
        self.path = database + "-write.lock"
        self._threads = threading.Lock()

    @classmethod
    def for_database(cls, database: str | None) -> WriteLock | None:
        if not database or database == ":memory:" or database.startswith("file:"):
            return None  # nothing to share: an in-memory database lives in one connection
        path = os.path.realpath(database)
        with cls._registry_lock:
            lock = cls._registry.get(path)
            if lock is None:
                lock = cls._registry[path] = cls(path)
            return lock

    def acquire(self) -> int:
        """Wait for the lock; returns the file descriptor to hand back to :meth:`release`."""
        if not self._threads.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked (waited for this process's other writer)")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except BaseException:
            self._threads.release()
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocks until the other process's writer commits
        except BaseException:
            os.close(fd)
            self._threads.release()
            raise
        return fd

    def release(self, fd: int) -> None:
        try:
            os.close(fd)  # drops the flock: it belongs to this open file, opened for this transaction
        finally:
            self._threads.release()


class _LockedConnection(sqlite3.Connection):
    """A pysqlite connection that gives the write lock back once COMMIT or ROLLBACK has run.

    SQLAlchemy's ``commit``/``rollback`` events fire *before* the DBAPI call; releasing there would let
    the next writer in while this one still holds SQLite's lock, so the release lives here."""

    write_lock: WriteLock | None = None
    held: int | None = None

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_write_lock()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_write_lock()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_write_lock()

    def acquire_write_lock(self) -> None:
        if self.write_lock is not None and self.held is None:
            self.held = self.write_lock.acquire()

    def release_write_lock(self) -> None:
        fd, self.held = self.held, None
        if fd is not None and self.write_lock is not None:
            self.write_lock.release(fd)


def _sqlite_engine(url: str, echo: bool, begin: str, lock: WriteLock | None) -> Engine:
    # isolation_level=None hands transaction control to the "begin" listener (the documented pysqlite
    # recipe). Connections are pooled: opening one and running the PRAGMAs on every request was the largest
    # fixed cost of an authenticated API call. An in-memory database cannot be shared through a pool.
    memory = make_url(url).database in (None, "", ":memory:")
    engine = create_engine(
        url,
        echo=echo,
        poolclass=NullPool if memory else QueuePool,
        **({} if memory else {"pool_size": 8, "max_overflow": 56}),
        connect_args={
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            "factory": _LockedConnection,
        },
        isolation_level=None,
    )
    event.listen(engine, "connect", _sqlite_on_connect)

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        if isinstance(dbapi_connection, _LockedConnection):
            dbapi_connection.write_lock = lock

    event.listen(engine, "connect", on_connect)

    def on_begin(conn: Any) -> None:
        dbapi = conn.connection.dbapi_connection
        if isinstance(dbapi, _LockedConnection):
            try:
                dbapi.acquire_write_lock()
            except sqlite3.OperationalError as exc:
                raise OperationalError(begin, None, exc) from exc
        try:
            conn.exec_driver_sql(begin)
        except BaseException:
            if isinstance(dbapi, _LockedConnection):
                dbapi.release_write_lock()
            raise

    event.listen(engine, "begin", on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
