"""vPDQ in import files (CSV/TSV quoting, JSON Lines, HMA signal maps), exports, the CLI and the schema
migration that made room for it."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from safeguard.auth import Actor
from safeguard.banks import importers, service
from safeguard.banks.errors import ImportRejected
from safeguard.banks.matcher import BankMatcher
from safeguard.banks.matching import match_signal
from safeguard.banks.signals import signal_key
from safeguard.store.db import Database
from safeguard.store.migrate import alembic_config, upgrade
from tests.banks.helpers import random_pdq, vpdq_frames, vpdq_string
from tests.cli.helpers import assert_one_line_error, run_cli

ACTOR = Actor.system("tests")
OLD_ROWS = (
    "INSERT INTO banks (id, name, description, is_allowlist, enabled, enabled_ratio, pdq_threshold, version,"
    " created_at, updated_at) VALUES (1, 'old', '', false, true, 1.0, 31, 0, CURRENT_TIMESTAMP,"
    " CURRENT_TIMESTAMP)",
    "INSERT INTO bank_content (id, bank_id, labels, source, external_ids, notes, enabled, created_at,"
    " updated_at) VALUES (1, 1, '[]', '', '{}', '', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO bank_signals (id, content_id, bank_id, signal_type, value, kind, active)"
    " VALUES (1, 1, 1, 'md5', '" + "b" * 32 + "', 'primary', true)",
)


def _import(db: Database, body: str, fmt: str) -> importers.ImportResult:
    with db.session() as session:
        bank = service.get_bank_by_name(session, "videos")
        return importers.import_stream(session, ACTOR, bank, io.StringIO(body), fmt)


@pytest.fixture
def bank(db: Database) -> Database:
    with db.session() as session:
        service.create_bank(session, ACTOR, name="videos")
    return db


def test_vpdq_in_every_import_format_and_back_out(bank: Database) -> None:
    db = bank
    rng = random.Random(1)
    videos = [vpdq_string(vpdq_frames(rng, 30 + i)) for i in range(4)]
    # CSV carries the hash as one field, quoted with its inner quotes doubled (RFC 4180).
    assert ',"[""' in f"vpdq,{_csv_field(videos[0])},A1"
    csv_text = f"signal_type,hash,label\nvpdq,{_csv_field(videos[0])},A1\n"
    assert _import(db, csv_text, "csv").added == 1
    assert _import(db, f"vpdq\t{_csv_field(videos[1])}\tA2\n", "tsv").added == 1
    line = {"signal_type": "vpdq", "hash": videos[2], "labels": ["B1"], "external_ids": {"iwf": "V-1"}}
    assert _import(db, json.dumps(line) + "\n", "jsonl").added == 1
    hma = {"vpdq": videos[3], "video_md5": "a" * 32, "metadata": {"content_id": "9"}}
    assert _import(db, json.dumps(hma) + "\n", "hma").added == 1

    # The imported hashes match (here: each video's first ten frames, a trimmed copy).
    matcher = BankMatcher(db)
    matcher.load()
    for value in videos:
        clip = json.dumps(json.loads(value)[:10])
        result = match_signal(None, matcher, "vpdq", clip)
        assert result.matched and result.matches[0].query_match_percent == 100.0

    # Exports carry vpdq in every format; importing them again adds nothing.
    with db.read_session() as session:
        b = service.get_bank_by_name(session, "videos")
        exported = {fmt: "".join(importers.export_lines(session, b, fmt)) for fmt in importers.FORMATS}
    rows = list(csv.reader(io.StringIO(exported["csv"])))
    assert [(r[0], r[1]) for r in rows if r[0] == "vpdq"] == [("vpdq", v) for v in videos]
    for fmt, body in exported.items():
        result = _import(db, body, fmt)
        assert (result.added, result.duplicates) == (0, result.items), fmt


def test_bad_vpdq_lines_reject_the_file(bank: Database) -> None:
    db = bank
    rng = random.Random(2)
    good = vpdq_string(vpdq_frames(rng, 5))
    unquoted = f"signal_type,hash\nvpdq,{_csv_field(good)}\nvpdq,{good}\n"
    with pytest.raises(ImportRejected, match=r"line 3: .*quote it and double its inner quotes"):
        _import(db, unquoted, "csv")
    bad_frame = json.dumps({"signal_type": "vpdq", "hash": json.dumps([f"{random_pdq(rng)},100"])})
    with pytest.raises(ImportRejected, match="line 2: vpdq frame 0 is not 'pdq,quality,timestamp'"):
        _import(db, json.dumps({"signal_type": "vpdq", "hash": good}) + "\n" + bad_frame + "\n", "jsonl")
    with pytest.raises(ImportRejected, match=r"line 1: .*vpdq"):
        _import(db, json.dumps({"vpdq": 5}) + "\n", "hma")
    with db.read_session() as session:
        assert service.content_count(session, service.get_bank_by_name(session, "videos").id) == 0


def test_a_long_video_imports_in_csv(bank: Database) -> None:
    """Four hours at a frame a second: beyond the csv module's default 128 kB field limit."""
    db = bank
    value = vpdq_string(vpdq_frames(random.Random(3), 14_400))
    assert len(value) > 1_000_000
    assert _import(db, f"vpdq,{_csv_field(value)}\n", "csv").added == 1
    with db.read_session() as session:
        b = service.get_bank_by_name(session, "videos")
        (content,) = service.list_content(session, b)
        (signal,) = service.signals_of(session, [content.id])[content.id]
        assert signal.value == value and signal.value_key == signal_key(value)
        assert signal.value_key.startswith("sha256:")


def test_cli_adds_and_matches_vpdq(db: Database, tmp_path: Path) -> None:
    home, url = tmp_path / "home", db.url
    with db.session() as session:
        service.create_bank(session, ACTOR, name="videos")
    frames = vpdq_frames(random.Random(4), 12)
    hash_file = tmp_path / "video.vpdq"
    hash_file.write_text(vpdq_string(frames) + "\n")
    result = run_cli(
        "banks", "add-hash", "videos", "vpdq", f"@{hash_file}", "-l", "A1", home=home, database_url=url
    )
    assert result.returncode == 0, result.stderr
    clip = tmp_path / "clip.vpdq"
    clip.write_text(vpdq_string(frames[:6]))
    result = run_cli("banks", "match", "vpdq", f"@{clip}", home=home, database_url=url)
    assert result.returncode == 0, result.stderr
    match = json.loads(result.stdout.splitlines()[0])
    assert (match["bank"], match["labels"], match["query_match_percent"]) == ("videos", ["A1"], 100.0)
    assert match["compared_match_percent"] == 50.0

    bad = run_cli("banks", "add-hash", "videos", "vpdq", '["abc,100,0.0"]', home=home, database_url=url)
    assert_one_line_error(bad, "vpdq frame 0")
    missing = run_cli("banks", "match", "vpdq", f"@{tmp_path / 'nope'}", home=home, database_url=url)
    assert_one_line_error(missing, "cannot read the hash")


def test_migration_keys_existing_signals(db: Database) -> None:
    """Signals banked before vPDQ (hex, at most 64 characters) keep their value as their key."""
    config = alembic_config(db)
    command.downgrade(config, "0008_banks_vpdq-1")  # the revision before this one, wherever it sits
    try:
        with db.engine.begin() as conn:
            for statement in OLD_ROWS:
                conn.execute(text(statement))
    finally:
        upgrade(db)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT value, value_key FROM bank_signals")).all() == [("b" * 32, "b" * 32)]
    with db.session() as session:
        bank = service.get_bank_by_name(session, "old")
        added = service.add_content(
            session, ACTOR, bank, [service.SignalIn("md5", "B" * 32)], service.ContentMeta()
        )
        assert (added.created, added.content.id) == (False, 1)


def _csv_field(value: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([value])
    return buffer.getvalue()
