"""The database-backed intake: import, idempotency, whole-file rejection, linking across imports, splits,
merges, deconfliction, package view, search, state and outcomes, audit. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from safeguard import audit
from safeguard.auth import Actor
from safeguard.intake import packages, service
from safeguard.intake.errors import (
    ImportRejected,
    InvalidMerge,
    InvalidOutcome,
    InvalidSplit,
    InvalidTransition,
    ReferralChanged,
    SuspectNotFound,
)
from safeguard.intake.models import IntakeAlert, IntakeBatch, IntakeLinkBlock, IntakeReferral, IntakeSuspect
from safeguard.intake.views import BankMatchView
from safeguard.store.db import Database

SAMPLES = Path(__file__).parent / "samples"
ANALYST = Actor(kind="api_key", id="key-7", role=__import__("safeguard.auth", fromlist=["Role"]).Role.analyst)
AT = datetime(2024, 5, 1, 12, tzinfo=UTC)


def doc(*referrals: dict[str, Any]) -> bytes:
    return json.dumps({"format": "safeguard.referrals/v1", "referrals": list(referrals)}).encode()


def ref(rid: str, **person: Any) -> dict[str, Any]:
    extra = {k: person.pop(k) for k in ("files", "indicators", "incident") if k in person}
    return {"source": "nca", "id": rid, "person": person, **extra}


def ip(address: str, hours: float = 0) -> dict[str, str]:
    return {"address": address, "at": (AT + timedelta(hours=hours)).isoformat()}


def load(db: Database, data: bytes, fmt: str | None = None) -> service.ImportReport:
    with db.session() as session:
        return service.import_file(session, ANALYST, data, format=fmt, filename="test")


def suspect_of(db: Database, external_id: str) -> int:
    with db.read_session() as session:
        value = session.scalar(
            select(IntakeReferral.suspect_id).where(IntakeReferral.external_id == external_id)
        )
    assert value is not None
    return value


def count(db: Database, table: type) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_import_every_format_and_reimport_is_a_no_op(db: Database) -> None:
    first = load(db, (SAMPLES / "cybertip.xml").read_bytes())
    assert (first.imported, first.duplicates, first.suspects_created) == (2, 0, 1)
    assert suspect_of(db, "CT-1001") == suspect_of(db, "CT-1002")  # same phone
    again = load(db, (SAMPLES / "cybertip.xml").read_bytes())
    assert (again.imported, again.duplicates, again.batch_id) == (0, 2, None)
    assert count(db, IntakeBatch) == 1 and count(db, IntakeReferral) == 2
    json_report = load(db, (SAMPLES / "referrals.json").read_bytes())
    csv_report = load(db, (SAMPLES / "referrals.csv").read_bytes())
    assert json_report.imported == 2 and csv_report.imported == 2
    # outlook: plus tag dropped, dots kept -> t.person@outlook.com vs tperson@outlook.com: different people
    assert suspect_of(db, "NCA-24-0001") != suspect_of(db, "HL-77")
    # gmail dots and googlemail: the CSV's two rows are one person
    assert suspect_of(db, "PUB-1") == suspect_of(db, "HL-78")
    with db.read_session() as session:
        actions = [r.action for r in audit.page(session, limit=50).records]
    assert actions.count("intake.import") == 3  # the no-op re-import wrote nothing


def test_bad_or_changed_file_imports_nothing(db: Database) -> None:
    good = ref("A1", emails=["a@example.org"])
    bad = ref("A2", ips=[{"address": "198.51.100.1", "at": "2024-01-01T10:00:00"}])
    with pytest.raises(ImportRejected) as caught:
        load(db, doc(good, bad))
    assert caught.value.where == "referrals[1].person.ips[0].at"
    assert count(db, IntakeReferral) == 0 and count(db, IntakeBatch) == 0
    load(db, doc(good))
    changed = ref("A1", emails=["other@example.org"])
    with pytest.raises(ReferralChanged, match="A1"), db.session() as session:
        service.import_file(session, ANALYST, doc(ref("B1", emails=["b@example.org"]), changed))
    assert count(db, IntakeReferral) == 1


def test_links_across_imports_and_explains_them(db: Database) -> None:
    load(db, doc(ref("L1", emails=["one@example.org"], ips=[ip("198.51.100.5")])))
    load(db, doc(ref("L2", emails=["two@example.org"], ips=[ip("198.51.100.5", 2)])))
    assert suspect_of(db, "L1") != suspect_of(db, "L2")
    with db.read_session() as session:
        view = packages.package(session, suspect_of(db, "L1"))
    (possible,) = view.possible_links
    assert possible.suspect_id == suspect_of(db, "L2") and possible.score == 0.6
    assert possible.evidence[0].explanation == "same IP address 198.51.100.5 used 2.0 h apart"
    # later referrals bring a PDQ-matched file in common: with the pending IP evidence, the two merge
    pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    near = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b23"
    load(db, doc(ref("L3", emails=["two@example.org"], files=[{"pdq": pdq}])))
    assert suspect_of(db, "L3") == suspect_of(db, "L2") != suspect_of(db, "L1")
    report = load(db, doc(ref("L4", emails=["one@example.org"], files=[{"pdq": near}])))
    assert report.merges == 2  # L4 into L1's suspect (email), then L2's suspect into it (IP + media)
    assert len({suspect_of(db, f"L{n}") for n in range(1, 5)}) == 1
    with db.read_session() as session:
        view = packages.package(session, suspect_of(db, "L1"))
        merged_away = session.scalar(select(func.count()).where(IntakeSuspect.state == "merged"))
        explanations = {link.explanation for link in view.links}
        assert "same email address two@example.org" in explanations
        assert "PDQ-matched media (1 of 256 bits differ)" in explanations
        assert "same IP address 198.51.100.5 used 2.0 h apart" in explanations
        assert merged_away and len(view.referrals) == 4 and view.merged_from
        redirected = packages.package(session, view.merged_from[0])
        assert redirected.suspect.id == view.suspect.id and redirected.redirected_from == view.merged_from[0]


def test_split_is_kept_by_later_imports_and_merge_lifts_it(db: Database) -> None:
    load(
        db,
        doc(
            ref("S1", emails=["family@example.org"], phones=["07700 900001"]),
            ref("S2", emails=["family@example.org"], phones=["07700 900002"]),
        ),
    )
    whole = suspect_of(db, "S1")
    assert suspect_of(db, "S2") == whole
    s2 = _referral_id(db, "S2")
    with db.session() as session:
        kept, new = service.split_suspect(session, ANALYST, whole, [s2], reason="shared family email")
    assert kept == whole and suspect_of(db, "S2") == new
    assert count(db, IntakeLinkBlock) == 1
    load(db, doc(ref("S3", phones=["07700 900001", "07700 900002"])))
    assert suspect_of(db, "S1") != suspect_of(db, "S2")  # strong evidence to both, but never joined
    with db.read_session() as session:
        view = packages.package(session, whole)
    assert any(link.overruled for link in view.links)  # the email link the split overruled is shown
    with db.session() as session, pytest.raises(InvalidSplit, match="at least one referral behind"):
        service.split_suspect(session, ANALYST, new, [s2], reason="x")
    with db.session() as session, pytest.raises(InvalidSplit, match="not in suspect"):
        service.split_suspect(session, ANALYST, whole, [s2], reason="x")
    with db.session() as session:
        keep = service.merge_suspects(session, ANALYST, whole, new, reason="confirmed same person")
    assert suspect_of(db, "S1") == suspect_of(db, "S2") == suspect_of(db, "S3") == keep
    assert count(db, IntakeLinkBlock) == 0
    with db.read_session() as session:
        actions = [r.action for r in audit.page(session, limit=50).records]
        view = packages.package(session, keep)
        assert "intake.split" in actions and "intake.merge" in actions
        assert view.suspect.referral_count == 3
        assert any(link.explanation == "merged by key-7: confirmed same person" for link in view.links)


def _referral_id(db: Database, external_id: str) -> int:
    with db.read_session() as session:
        value = session.scalar(select(IntakeReferral.id).where(IntakeReferral.external_id == external_id))
    assert value is not None
    return value


def test_deconfliction_alerts_the_owner(db: Database) -> None:
    load(db, doc(ref("D1", emails=["d@example.org"])))
    owned = suspect_of(db, "D1")
    with db.session() as session:
        packages.assign(session, ANALYST, owned, officer="DC Smith", force="Police Scotland")
    load(db, doc(ref("D2", emails=["d@example.org"])))
    assert suspect_of(db, "D2") == owned
    d2 = _referral_id(db, "D2")
    with db.read_session() as session:
        (alert,) = packages.alerts(session, owner="DC Smith")
        assert alert.kind == "referral_attached" and alert.suspect_id == owned
        assert alert.message.startswith(f"new referral {d2} attached to suspect {owned}")
    load(db, doc(ref("D3", phones=["07700 900777"])))
    other = suspect_of(db, "D3")
    with db.session() as session:
        packages.assign(session, ANALYST, other, officer="DC Jones", force="Police Scotland")
    load(db, doc(ref("D4", emails=["d@example.org"], phones=["07700 900777"])))
    assert suspect_of(db, "D1") != suspect_of(db, "D3")
    with db.read_session() as session:
        jones = packages.alerts(session, owner="DC Jones")
        assert [a.kind for a in jones] == ["possible_link"] and f"suspect {owned}" in jones[0].message
        alert_id = jones[0].id
    with db.session() as session, pytest.raises(InvalidMerge, match="deconfliction"):
        service.merge_suspects(session, ANALYST, owned, other, reason="?")
    with db.session() as session:
        packages.acknowledge(session, ANALYST, alert_id)
    with db.read_session() as session:
        assert packages.alerts(session, owner="DC Jones") == []
        smith = sorted(a.kind for a in packages.alerts(session, owner="DC Smith"))
        assert smith == ["possible_link", "referral_attached", "referral_attached"]  # D2, then D4 attached
        assert session.scalar(select(func.count()).select_from(IntakeAlert)) == 4


def test_package_view_search_state_and_outcomes(db: Database) -> None:
    load(db, (SAMPLES / "cybertip.xml").read_bytes())
    sid = suspect_of(db, "CT-1001")
    with db.read_session() as session:
        view = packages.package(session, sid)
        kinds = {(i.kind, i.value) for i in view.identifiers}
        assert ("email", "sample@gmail.com") in kinds and ("phone", "+447700900123") in kinds
        cgnat = next(i for i in view.identifiers if i.value == "100.64.12.9")
        assert not cgnat.linkable and cgnat.note and "carrier-grade NAT" in cgnat.note
        assert {m.md5 for m in view.media} == {
            "9e107d9d372bb6826bd81d3542a419d6",
            "e4d909c290d0fb1ca068ffaddf22cbd0",
        }
        assert view.locations[0].force == "Police Scotland" and view.locations[0].council == "Glasgow City"
        assert view.tier == "immediate" and view.reasons[0].factor == "grooming_identified_child"
        assert [e.kind for e in view.timeline][:2] == ["incident", "referral"] or view.timeline
        found = packages.search(session, "Sam.Ple@gmail.com")
        assert {h.external_id for h in found.hits} == {"CT-1001"} and found.hits[0].suspect_id == sid
        assert {h.external_id for h in packages.search(session, "07700 900123").hits} == {
            "CT-1001",
            "CT-1002",
        }
        assert {h.external_id for h in packages.search(session, "s4m_ple", "username").hits} == {
            "CT-1001",
            "CT-1002",
        }
        assert packages.search(session, "CT-1002").hits[0].kind == "referral"
        assert packages.search(session, "203.0.113.7").hits[0].kind == "ip"
    with db.session() as session, pytest.raises(InvalidTransition, match="actioned or closed"):
        packages.record_outcome(session, ANALYST, sid, apprehended=True)
    with db.session() as session:
        packages.set_state(session, ANALYST, sid, "assessed")
        packages.set_state(session, ANALYST, sid, "actioned")
        packages.record_outcome(session, ANALYST, sid, apprehended=True, charged=True, children_safeguarded=2)
    with db.session() as session, pytest.raises(InvalidOutcome, match="both charged and no further action"):
        packages.record_outcome(session, ANALYST, sid, no_further_action=True)
    with db.session() as session, pytest.raises(InvalidTransition, match="can move to: closed"):
        packages.set_state(session, ANALYST, sid, "new")
    with db.session() as session:
        packages.set_state(session, ANALYST, sid, "closed")
    # a new referral for a closed package opens a new package on the same suspect
    load(db, doc(ref("N1", phones=["+447700900123"])))
    with db.read_session() as session:
        suspect = session.get(IntakeSuspect, sid)
        assert suspect is not None and suspect.state == "new" and suspect.previous_packages == 1
        assert suspect.apprehended and suspect.children_safeguarded == 2
        view = packages.package(session, sid)
        assert {r.factor for r in view.reasons} >= {"previous_packages", "previous_charge"}
        listed, total = packages.list_packages(session, state="new")
        assert total == 1 and listed[0].id == sid
    with db.session() as session, pytest.raises(SuspectNotFound):
        packages.assign(session, ANALYST, 999_999, officer="x", force=None)


def test_media_known_to_the_banks_is_labelled(db: Database) -> None:
    from safeguard.banks import service as banks

    md5 = "e4d909c290d0fb1ca068ffaddf22cbd0"
    with db.session() as session:
        bank = banks.create_bank(session, ANALYST, name="known-material")
        banks.add_content(
            session, ANALYST, bank, [banks.SignalIn("md5", md5)], banks.ContentMeta(labels=("A1",))
        )
    load(db, (SAMPLES / "cybertip.xml").read_bytes())
    with db.read_session() as session:
        view = packages.package(session, suspect_of(db, "CT-1002"))
        by_md5 = {m.md5: m.bank_matches for m in view.media}
    assert by_md5[md5] == [
        BankMatchView(bank="known-material", signal_type="md5", labels=["A1"], allowlist=False)
    ]
    assert by_md5["9e107d9d372bb6826bd81d3542a419d6"] == []
