"""The audit log is append-only and tamper-evident, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from safeguard import audit
from safeguard.auth import Actor, Role
from safeguard.store.db import Database

ACTOR = Actor(kind="api_key", id="7", role=Role.moderator, request_id="r-1")


def _write(db: Database, n: int) -> None:
    with db.session() as session:
        for i in range(n):
            audit.record(session, ACTOR, "case.decide", "case", str(i), {"label": "A1", "n": i})


def _as_attacker(db: Database, sql: str) -> None:
    """Run SQL with the append-only triggers out of the way, as someone with full database rights could."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        conn.execute(text(sql))
        if not db.is_sqlite:
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def _verify(db: Database) -> audit.ChainReport:
    with db.read_session() as session:
        return audit.verify(session)


def test_intact_chain_verifies(db: Database) -> None:
    _write(db, 10)
    report = _verify(db)
    assert report.ok and report.records == 10 and report.first_broken_seq is None


def test_empty_log_verifies(db: Database) -> None:
    assert _verify(db).ok


def test_updates_and_deletes_are_refused_by_the_database(db: Database) -> None:
    _write(db, 3)
    for sql in ("UPDATE audit_log SET action = 'x' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 3"):
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
    assert _verify(db).ok


@pytest.mark.parametrize(
    ("sql", "broken", "words"),
    [
        ("UPDATE audit_log SET action = 'case.undo' WHERE seq = 4", 4, "altered"),
        ("UPDATE audit_log SET change_digest = '" + "0" * 64 + "' WHERE seq = 6", 6, "altered"),
        ("UPDATE audit_log SET actor_id = '8' WHERE seq = 1", 1, "altered"),
        ("DELETE FROM audit_log WHERE seq = 5", 5, "missing"),
        ("DELETE FROM audit_log WHERE seq >= 9", 9, "head"),
    ],
)
def test_tampering_is_detected_and_named(db: Database, sql: str, broken: int, words: str) -> None:
    _write(db, 10)
    _as_attacker(db, sql)
    report = _verify(db)
    assert not report.ok
    assert report.first_broken_seq == broken
    assert words in (report.problem or "")


def test_rewriting_a_record_with_a_fresh_hash_breaks_the_next_link(db: Database) -> None:
    _write(db, 5)
    with db.read_session() as session:
        rec = session.get(audit.service.AuditRecord, 3)
        assert rec is not None
        rec.action = "forged"
        forged_hash = audit.service.record_hash(rec)
        session.rollback()
    _as_attacker(db, f"UPDATE audit_log SET action = 'forged', hash = '{forged_hash}' WHERE seq = 3")
    report = _verify(db)
    assert not report.ok and report.first_broken_seq == 4


def test_rolled_back_operation_leaves_no_record(db: Database) -> None:
    _write(db, 2)
    with pytest.raises(RuntimeError), db.session() as session:
        audit.record(session, ACTOR, "case.decide", "case", "x", {})
        raise RuntimeError("the operation failed after auditing")
    report = _verify(db)
    assert report.ok and report.records == 2
