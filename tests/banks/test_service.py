"""Banks, content and the change log through the service layer, with the matcher on top."""

from __future__ import annotations

import random

import pytest

from safeguard.auth import Actor
from safeguard.banks import changes, service
from safeguard.banks.errors import BankExists, BankNotFound, InvalidSignal
from safeguard.banks.matcher import BankMatcher
from safeguard.banks.matching import coinflip, match_signal
from safeguard.errors import InvalidInput
from safeguard.store.db import Database
from tests.banks.helpers import flip_bits, random_pdq

ACTOR = Actor.system("tests")


def _add(db: Database, bank_name: str, value: str, labels: tuple[str, ...] = ()) -> int:
    with db.session() as session:
        bank = service.get_bank_by_name(session, bank_name)
        meta = service.ContentMeta(labels=labels, external_ids={"ncmec": "N-1"})
        return service.add_content(session, ACTOR, bank, [service.SignalIn("pdq", value)], meta).content.id


def test_bank_lifecycle_and_versions(db: Database) -> None:
    with db.session() as session:
        bank = service.create_bank(session, ACTOR, name="ncmec", description="NCMEC hash list")
        first_version = bank.version
        with pytest.raises(BankExists):
            service.create_bank(session, ACTOR, name="ncmec")
    with db.session() as session:
        bank = service.get_bank_by_name(session, "ncmec")
        service.update_bank(session, ACTOR, bank, name="ncmec-2024", pdq_threshold=20, enabled_ratio=0.5)
        assert bank.version > first_version
        with pytest.raises(InvalidInput):
            service.update_bank(session, ACTOR, bank, pdq_threshold=64)
    with db.session() as session:
        bank = service.get_bank_by_name(session, "ncmec-2024")
        service.delete_bank(session, ACTOR, bank)
    with db.session() as session:
        with pytest.raises(BankNotFound):
            service.get_bank_by_name(session, "ncmec-2024")
        assert service.list_banks(session) == []
        # The name is free again after a (soft) delete.
        service.create_bank(session, ACTOR, name="ncmec-2024")


def test_add_content_is_idempotent_and_validated(db: Database) -> None:
    rng = random.Random(1)
    value = random_pdq(rng)
    with db.session() as session:
        service.create_bank(session, ACTOR, name="b")
    first = _add(db, "b", value, ("A1",))
    assert _add(db, "b", value.upper(), ("A1",)) == first  # same hash (case-insensitive): same item
    with db.session() as session:
        bank = service.get_bank_by_name(session, "b")
        assert service.content_count(session, bank.id) == 1
        with pytest.raises(InvalidSignal, match="pdq hash"):
            service.add_content(session, ACTOR, bank, [service.SignalIn("pdq", "abc")], service.ContentMeta())
        with pytest.raises(InvalidSignal, match="unknown signal type"):
            service.add_content(
                session, ACTOR, bank, [service.SignalIn("phash", value)], service.ContentMeta()
            )


def test_change_log_is_gap_free_and_ordered(db: Database) -> None:
    rng = random.Random(2)
    with db.session() as session:
        service.create_bank(session, ACTOR, name="b")
    ids = [_add(db, "b", random_pdq(rng)) for _ in range(3)]
    with db.session() as session:
        bank = service.get_bank_by_name(session, "b")
        service.set_content_enabled(session, ACTOR, bank, ids[0], enabled=False, reason="false positive")
        service.remove_content(session, ACTOR, bank, ids[1])
    with db.read_session() as session:
        rows = changes.changes_since(session, 0, 100)
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        assert [r.op for r in rows] == ["bank", "add", "add", "add", "disable", "remove"]
        assert changes.current_checkpoint(session) == rows[-1].seq
        assert [r.op for r in changes.changes_since(session, 4, 100)] == ["disable", "remove"]


def test_matcher_applies_changes_and_rules(db: Database) -> None:
    rng = random.Random(3)
    known, other = random_pdq(rng), random_pdq(rng)
    with db.session() as session:
        service.create_bank(session, ACTOR, name="csam")
        service.create_bank(session, ACTOR, name="partner", pdq_threshold=10)
        service.create_bank(session, ACTOR, name="allow", is_allowlist=True)
    known_id = _add(db, "csam", known, ("A1",))
    matcher = BankMatcher(db)
    matcher.load()
    near = flip_bits(known, 25, rng)
    with db.read_session() as session:
        result = match_signal(session, matcher, "pdq", near)
        assert [(m.bank, m.content_id, m.distance, m.labels) for m in result.matches] == [
            ("csam", known_id, 25, ["A1"])
        ]
        assert result.matches[0].external_ids == {"ncmec": "N-1"}
        assert match_signal(session, matcher, "pdq", flip_bits(known, 32, rng)).matches == []

    # Added after the load: picked up by refresh; the partner bank's tighter threshold applies.
    _add(db, "partner", known)
    _add(db, "csam", other)
    assert matcher.refresh() == 2
    with db.read_session() as session:
        banks = {m.bank for m in match_signal(session, matcher, "pdq", near).matches}
        assert banks == {"csam"}  # distance 25 > partner threshold 10
        assert {m.bank for m in match_signal(session, matcher, "pdq", known).matches} == {"csam", "partner"}

    # An allowlist hit suppresses the other banks' matches for that hash.
    _add(db, "allow", known)
    matcher.refresh()
    with db.read_session() as session:
        result = match_signal(session, matcher, "pdq", known)
        assert not result.matched
        assert {(m.bank, m.suppressed_by_allowlist) for m in result.matches} == {
            ("csam", True),
            ("partner", True),
            ("allow", False),
        }
        assert match_signal(session, matcher, "pdq", other).matched

    # Disabling an item stops it matching; the bank filter narrows the other banks.
    with db.session() as session:
        bank = service.get_bank_by_name(session, "csam")
        service.set_content_enabled(session, ACTOR, bank, known_id, enabled=False, reason="collision")
        service.update_bank(session, ACTOR, service.get_bank_by_name(session, "allow"), enabled=False)
    matcher.refresh()
    with db.read_session() as session:
        assert {m.bank for m in match_signal(session, matcher, "pdq", known).matches} == {"partner"}
        partner_only = match_signal(session, matcher, "pdq", other, bank_ids={2})
        assert partner_only.matches == []


def test_enabled_ratio_is_deterministic_per_content(db: Database) -> None:
    rng = random.Random(4)
    values = [random_pdq(rng) for _ in range(40)]
    with db.session() as session:
        service.create_bank(session, ACTOR, name="half", enabled_ratio=0.5)
    for value in values:
        _add(db, "half", value)
    matcher = BankMatcher(db)
    matcher.load()
    with db.read_session() as session:
        answered = [bool(match_signal(session, matcher, "pdq", v).matches) for v in values]
        again = [bool(match_signal(session, matcher, "pdq", v).matches) for v in values]
    assert answered == again
    assert answered == [coinflip("pdq", v) < 0.5 for v in values]
    assert 5 < sum(answered) < 35
