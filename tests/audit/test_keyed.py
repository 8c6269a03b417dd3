"""The keyed chain and its signed checkpoints: what someone with full database rights but without the audit
key can no longer hide (a rewrite re-hashed to fit, a downgrade to unkeyed hashes, a truncation with the
head moved back), and that chains written before the key still verify."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select, text

from safeguard import audit
from safeguard.audit import checkpoints, keys
from safeguard.audit.models import AuditRecord
from safeguard.audit.service import GENESIS_HASH, KEYED, UNKEYED, record_hash
from safeguard.store.db import Database
from tests.audit.test_tamper import ACTOR, _as_attacker, _verify, _write
from tests.cli.helpers import assert_one_line_error, run_cli

ATTACKER_KEY = b"not the deployment's key, guessed" * 2


def _rows(db: Database) -> list[AuditRecord]:
    with db.read_session() as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        session.expunge_all()
        return rows


def _rechain(db: Database, start: int, *, version: int, key: bytes | None, action: str = "forged") -> None:
    """Rewrite record ``start``'s action, then re-hash it and every later record so the chain fits again,
    and move the head: what an attacker with the database (and ``key``, if any) can do."""
    rows = _rows(db)
    prev = rows[start - 2].hash if start > 1 else GENESIS_HASH
    statements = []
    for rec in rows[start - 1 :]:
        if rec.seq == start:
            rec.action = action
        rec.prev_hash, rec.version = prev, version
        rec.hash = record_hash(rec, key)
        prev = rec.hash
        statements.append(
            f"UPDATE audit_log SET action = '{rec.action}', prev_hash = '{rec.prev_hash}', "
            f"hash = '{rec.hash}', version = {version} WHERE seq = {rec.seq}"
        )
    for sql in [*statements, f"UPDATE audit_head SET hash = '{prev}'"]:
        _as_attacker(db, sql)


def _checkpoint(db: Database) -> audit.Checkpoint:
    with db.read_session() as session:
        line = checkpoints.to_line(checkpoints.take(session))
    return checkpoints.parse(line)[0]


def test_new_records_are_keyed(db: Database) -> None:
    _write(db, 3)
    assert {r.version for r in _rows(db)} == {KEYED}
    report = _verify(db)
    assert report.ok and report.unkeyed == 0


def test_a_rewrite_rehashed_without_the_key_is_detected(db: Database) -> None:
    _write(db, 10)
    _rechain(db, 3, version=KEYED, key=ATTACKER_KEY)
    report = _verify(db)
    assert not report.ok and report.first_broken_seq == 3 and "altered" in (report.problem or "")


def test_a_downgrade_to_unkeyed_hashes_is_detected(db: Database) -> None:
    _write(db, 10)
    _rechain(db, 3, version=UNKEYED, key=None)
    report = _verify(db)
    assert not report.ok and report.first_broken_seq == 3 and "downgraded" in (report.problem or "")


def test_truncation_with_the_head_moved_back_is_caught_by_a_checkpoint(db: Database) -> None:
    _write(db, 60)
    checkpoint = _checkpoint(db)
    kept = _rows(db)[9]
    _as_attacker(db, "DELETE FROM audit_log WHERE seq > 10")
    _as_attacker(db, f"UPDATE audit_head SET seq = 10, hash = '{kept.hash}'")
    assert _verify(db).ok  # the chain alone cannot tell (the threat model says so)
    with db.read_session() as session:
        report = audit.verify(session, [checkpoint])
    assert not report.ok and report.first_broken_seq == 11
    assert "ends at record 10" in (report.problem or "") and "saw 60" in (report.problem or "")


def test_a_rewrite_by_someone_holding_the_key_is_caught_by_a_checkpoint(db: Database) -> None:
    _write(db, 10)
    checkpoint = _checkpoint(db)
    _rechain(db, 4, version=KEYED, key=keys.chain_key())
    assert _verify(db).ok
    with db.read_session() as session:
        report = audit.verify(session, [checkpoint])
    assert not report.ok and report.first_broken_seq == 10 and "checkpoint" in (report.problem or "")


def test_a_checkpoint_edited_or_signed_with_another_key_is_refused(db: Database) -> None:
    _write(db, 5)
    line = checkpoints.to_line(_checkpoint(db))
    with pytest.raises(checkpoints.CheckpointRefused, match="not signed"):
        checkpoints.parse(line.replace('"seq":5', '"seq":4'))
    with pytest.raises(checkpoints.CheckpointRefused, match="line 2"):
        checkpoints.parse(line + "\n{not json\n")


def test_a_chain_written_before_the_key_still_verifies(db: Database) -> None:
    _write(db, 4)
    # Turn the rows into what the old code wrote: version 1, plain SHA-256.
    _rechain(db, 1, version=UNKEYED, key=None, action="case.decide")
    _write(db, 3)  # new records chain onto the old ones, keyed
    report = _verify(db)
    assert report.ok and report.records == 7 and report.unkeyed == 4
    assert [r.version for r in _rows(db)] == [UNKEYED] * 4 + [KEYED] * 3
    legacy = _rows(db)[0]
    fields = audit.service._record_fields(legacy)
    assert legacy.hash == hashlib.sha256(audit.service.canonical_json(fields).encode()).hexdigest()


def test_the_key_file_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "home" / "audit.key"
    first = keys._read_or_create(path)
    assert len(first) == 32 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keys._read_or_create(path) == first
    path.write_text("abcd")
    with pytest.raises(keys.AuditKeyInvalid, match="shorter"):
        keys._read_or_create(path)


def test_checkpoint_and_verify_commands(db: Database, tmp_path: Path) -> None:
    _write(db, 20)
    file = tmp_path / "checkpoints.jsonl"
    taken = run_cli("audit", "checkpoint", "--out", str(file), home=tmp_path, database_url=db.url)
    assert taken.returncode == 0, taken.stderr
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600
    ok = run_cli("audit", "verify", "--checkpoint", str(file), home=tmp_path, database_url=db.url)
    assert ok.returncode == 0 and "checked against 1 checkpoints" in ok.stdout, ok.stderr
    kept = _rows(db)[4]
    _as_attacker(db, "DELETE FROM audit_log WHERE seq > 5")
    _as_attacker(db, f"UPDATE audit_head SET seq = 5, hash = '{kept.hash}'")
    caught = run_cli("audit", "verify", "--checkpoint", str(file), home=tmp_path, database_url=db.url)
    assert_one_line_error(caught, "record 6", "checkpoint")
    file.write_text(file.read_text().replace('"seq":20', '"seq":2'))
    forged = run_cli("audit", "verify", "--checkpoint", str(file), home=tmp_path, database_url=db.url)
    assert_one_line_error(forged, "not signed")
    missing = run_cli(
        "audit", "verify", "--checkpoint", str(tmp_path / "nope"), home=tmp_path, database_url=db.url
    )
    assert_one_line_error(missing, "cannot read")


def test_records_survive_a_round_trip_of_the_version_column(db: Database) -> None:
    with db.session() as session:
        audit.record(session, ACTOR, "case.decide", "case", "1", {})
    with db.read_session() as session:
        assert session.execute(text("SELECT version FROM audit_log")).scalar() == KEYED
