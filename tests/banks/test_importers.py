"""Imports are streaming, all-or-nothing per file and idempotent; exports round-trip."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
from sqlalchemy import func, select

from safeguard.auth import Actor
from safeguard.banks import changes, importers, service
from safeguard.banks.errors import ImportRejected
from safeguard.banks.models import BankContent, BankSignal
from safeguard.store.db import Database
from tests.banks.helpers import random_pdq

ACTOR = Actor.system("tests")


def _import(db: Database, text: str, fmt: str) -> importers.ImportResult:
    with db.session() as session:
        bank = service.get_bank_by_name(session, "b")
        return importers.import_stream(session, ACTOR, bank, io.StringIO(text), fmt)


def _counts(db: Database) -> tuple[int, int]:
    with db.read_session() as session:
        return (
            int(session.scalar(select(func.count(BankContent.id))) or 0),
            int(session.scalar(select(func.count(BankSignal.id))) or 0),
        )


@pytest.fixture
def bank(db: Database) -> Database:
    with db.session() as session:
        service.create_bank(session, ACTOR, name="b")
    return db


def test_csv_tsv_jsonl_hma(bank: Database) -> None:
    db = bank
    rng = random.Random(1)
    h = [random_pdq(rng) for _ in range(6)]
    md5 = "0" * 31 + "1"
    csv_text = (
        f"signal_type,hash,labels\npdq,{h[0]},A1,known\n\n# a comment\nPDQ,{h[1].upper()}\nmd5,{md5},B2\n"
    )
    result = _import(db, csv_text, "csv")
    assert (result.lines, result.added, result.duplicates) == (6, 3, 0)
    assert _import(db, f"pdq\t{h[2]}\tA2\n", "tsv").added == 1
    jsonl = json.dumps({"signal_type": "pdq", "hash": h[3], "labels": ["B1"], "external_ids": {"iwf": "I-9"}})
    assert _import(db, jsonl + "\n", "jsonl").added == 1
    hma = json.dumps({"pdq": h[4], "md5": "f" * 32, "metadata": {"content_id": "42"}})
    assert _import(db, hma + "\n", "hma").added == 1
    assert _counts(db) == (6, 7)
    with db.read_session() as session:
        b = service.get_bank_by_name(session, "b")
        exported = "".join(importers.export_lines(session, b, "jsonl"))
        items = [json.loads(line) for line in exported.splitlines()]
        assert items[0]["labels"] == ["A1", "known"]
        assert items[4]["external_ids"] == {"iwf": "I-9"}
        assert items[5]["external_ids"] == {"content_id": "42"}
        assert {s["signal_type"] for s in items[5]["signals"]} == {"pdq", "md5"}
        csv_out = "".join(importers.export_lines(session, b, "csv"))
    assert csv_out.splitlines()[0] == f"pdq,{h[0]},A1,known"
    # Re-importing the export adds nothing.
    assert _import(db, exported, "jsonl").added == 0
    assert _import(db, csv_out, "csv").duplicates == 7
    # Ids set by the import leave the database's own id sequence usable (PostgreSQL setval).
    with db.session() as session:
        b = service.get_bank_by_name(session, "b")
        added = service.add_content(session, ACTOR, b, [service.SignalIn("pdq", h[5])], service.ContentMeta())
        assert added.created and added.content.id == 7


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("pdq,{good}\npdq,nothex\n", 2, "pdq hash"),
        ("pdq,{good}\n\nsha1,{good}\n", 3, "unknown signal type"),
        ("pdq\n", 1, "expected signal_type"),
    ],
)
def test_bad_line_rejects_the_whole_file(bank: Database, text: str, line: int, words: str) -> None:
    db = bank
    good = random_pdq(random.Random(2))
    before = _counts(db)
    with db.read_session() as session:
        checkpoint = changes.current_checkpoint(session)
    with pytest.raises(ImportRejected) as caught:
        _import(db, text.format(good=good), "csv")
    assert f"line {line}:" in caught.value.detail
    assert words in caught.value.detail
    assert "nothing was imported" in caught.value.detail
    assert _counts(db) == before
    with db.read_session() as session:
        assert changes.current_checkpoint(session) == checkpoint


def test_bad_json_line_and_late_failure_after_full_batches(
    bank: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = bank
    monkeypatch.setattr(importers, "BATCH", 10)
    rng = random.Random(3)
    lines = [f"pdq,{random_pdq(rng)}" for _ in range(35)] + ["pdq,zz"]
    with pytest.raises(ImportRejected, match="line 36:"):
        _import(db, "\n".join(lines), "csv")
    assert _counts(db) == (0, 0)  # three batches were written, then rolled back
    with pytest.raises(ImportRejected, match="line 2: not valid JSON"):
        _import(db, '{"signal_type": "md5", "hash": "' + "a" * 32 + '"}\n{"signal_type": ', "jsonl")
    result = _import(db, "\n".join(lines[:35] + lines[:5]), "csv")
    assert (result.added, result.duplicates) == (35, 5)


def test_csv_export_neutralises_formulas_and_round_trips(bank: Database) -> None:
    db = bank
    value = random_pdq(random.Random(4))
    labels = ('=HYPERLINK("http://x.example","y")', "+1", "-2", "@SUM(A1)", "'=already quoted", "plain")
    with db.session() as session:
        b = service.get_bank_by_name(session, "b")
        service.add_content(session, ACTOR, b, [service.SignalIn("pdq", value)], service.ContentMeta(labels))
        service.create_bank(session, ACTOR, name="copy")
    with db.read_session() as session:
        b = service.get_bank_by_name(session, "b")
        exported = {fmt: "".join(importers.export_lines(session, b, fmt)) for fmt in ("csv", "tsv")}
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        cells = next(csv.reader(io.StringIO(exported[fmt]), delimiter=delimiter))
        assert cells[2:] == [
            "'" + labels[0],
            "'+1",
            "'-2",
            "'@SUM(A1)",
            "''=already quoted",  # one more quote, so that import gives back the label as it was
            "plain",
        ]
        assert not any(cell.startswith(importers.FORMULA_STARTS) for cell in cells)
    with db.session() as session:
        copy = service.get_bank_by_name(session, "copy")
        importers.import_stream(session, ACTOR, copy, io.StringIO(exported["csv"]), "csv")
        copy_id = copy.id
    with db.read_session() as session:
        copied = session.scalars(select(BankContent).where(BankContent.bank_id == copy_id)).one()
        assert tuple(copied.labels) == labels


def test_bom_and_a_header_after_comments(bank: Database) -> None:
    db = bank
    rng = random.Random(5)
    h = [random_pdq(rng) for _ in range(4)]
    assert _import(db, f"\ufeffsignal_type,hash,labels\npdq,{h[0]},A1\n", "csv").added == 1
    assert _import(db, f"\ufeffpdq\t{h[1]}\n", "tsv").added == 1
    assert _import(db, "\ufeff" + json.dumps({"signal_type": "pdq", "hash": h[2]}) + "\n", "jsonl").added == 1
    text = f"# exported 2026-12-02\n\n# columns:\nsignal_type,hash,labels\npdq,{h[3]},B1\n"
    assert _import(db, text, "csv").added == 1
    # Only before the first item: a later "signal_type" line is a bad line, not a second header.
    with pytest.raises(ImportRejected, match="line 2: unknown signal type"):
        _import(db, f"pdq,{h[3]}\nsignal_type,hash\n", "csv")
