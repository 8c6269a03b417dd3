"""SQLite write transactions queue on Safeguard's own lock (threads and processes), lose no update, may end
in another thread than the one that began them, and a second write transaction opened by a thread that
already holds one fails instead of hanging."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from safeguard.store import db as db_module
from safeguard.store.db import Database, WriteLock

INCREMENTS = 60


def _make_counter(path: Path) -> Database:
    database = Database(f"sqlite:///{path}")
    with database.session() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS counter (n INTEGER NOT NULL)"))
        if session.execute(text("SELECT count(*) FROM counter")).scalar_one() == 0:
            session.execute(text("INSERT INTO counter VALUES (0)"))
    return database


def _increment(database: Database, times: int) -> None:
    # Read, then write what was read plus one: a lost update shows as a final count below the total.
    for _ in range(times):
        with database.session() as session:
            n = session.execute(text("SELECT n FROM counter")).scalar_one()
            session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})


def _count(database: Database) -> int:
    with database.read_session() as session:
        return int(session.execute(text("SELECT n FROM counter")).scalar_one())


def _process_worker(path: str) -> None:
    database = Database(f"sqlite:///{path}")
    threads = [threading.Thread(target=_increment, args=(database, INCREMENTS)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    database.dispose()


def test_threads_and_processes_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "counter.db"
    database = _make_counter(path)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_process_worker, args=(str(path),)) for _ in range(2)]
    for p in processes:
        p.start()
    _increment(database, INCREMENTS)
    for p in processes:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert _count(database) == INCREMENTS * (2 * 3 + 1)
    assert (tmp_path / "counter.db-write.lock").exists()


def test_a_transaction_may_end_in_another_thread(tmp_path: Path) -> None:
    database = _make_counter(tmp_path / "counter.db")
    context = database.session()
    session = context.__enter__()
    session.execute(text("UPDATE counter SET n = 41"))  # begins: takes the lock in this thread
    finished = threading.Thread(target=context.__exit__, args=(None, None, None))
    finished.start()
    finished.join()
    _increment(database, 1)  # the lock was given back by the other thread: this does not wait
    assert _count(database) == 42


def test_rollback_gives_the_lock_back(tmp_path: Path) -> None:
    database = _make_counter(tmp_path / "counter.db")
    with pytest.raises(RuntimeError), database.session() as session:
        session.execute(text("UPDATE counter SET n = 99"))
        raise RuntimeError("fail inside the transaction")
    _increment(database, 1)
    assert _count(database) == 1


def test_nested_write_transaction_fails_instead_of_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 200)
    database = _make_counter(tmp_path / "counter.db")
    with database.session() as outer:
        outer.execute(text("UPDATE counter SET n = 5"))
        with pytest.raises(OperationalError, match="database is locked"), database.session() as inner:
            inner.execute(text("UPDATE counter SET n = 6"))
    assert _count(database) == 5
    _increment(database, 1)
    assert _count(database) == 6


def test_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    database = _make_counter(tmp_path / "counter.db")
    with database.session() as writer:
        writer.execute(text("UPDATE counter SET n = 7"))
        assert _count(database) == 0  # WAL: the reader sees the last commit, at once
    assert _count(database) == 7


def test_in_memory_databases_have_no_lock() -> None:
    assert WriteLock.for_database(":memory:") is None
    assert WriteLock.for_database(None) is None


def test_one_lock_per_database_file(tmp_path: Path) -> None:
    first = WriteLock.for_database(str(tmp_path / "a.db"))
    assert first is not None
    assert WriteLock.for_database(str(tmp_path / "." / "a.db")) is first
    assert WriteLock.for_database(str(tmp_path / "b.db")) is not first


def test_the_file_lock_is_held_exactly_while_a_write_transaction_is_open(tmp_path: Path) -> None:
    import fcntl
    import os

    database = _make_counter(tmp_path / "counter.db")
    lock_file = str(tmp_path / "counter.db-write.lock")

    def locked() -> bool:
        fd = os.open(lock_file, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    with database.session() as session:
        assert not locked()  # the session has not begun a transaction yet
        session.execute(text("UPDATE counter SET n = 1"))
        assert locked()
    assert not locked()
    with database.read_session() as session:
        session.execute(text("SELECT n FROM counter"))
        assert not locked()
