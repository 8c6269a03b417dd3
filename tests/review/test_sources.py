"""Adapters from the banks capability: scan matches open cases; decisions add media to banks."""

from __future__ import annotations

import dataclasses
import random

import pydantic
import pytest
from sqlalchemy import select

from safeguard.banks import service as banks
from safeguard.banks.matching import Match, SignalMatches
from safeguard.banks.models import BankSignal
from safeguard.review import decisions, queue
from safeguard.review.decisions import Action
from safeguard.review.models import BankRequest
from safeguard.review.priority import score
from safeguard.review.signals import Label, MediaMatchSignal
from safeguard.review.sources import BanksSink, alert_from_text, open_case_from_scan, signals_from_matches
from safeguard.store.db import Database
from tests.banks.helpers import vpdq_frames, vpdq_string
from tests.review.helpers import INTEGRATOR, MOD_A, REVIEW, SENIOR

QUERY = "f" * 64


def hit(bank_id: int, bank: str, content_id: int, distance: int, **flags: bool) -> Match:
    return Match(
        bank_id=bank_id,
        bank=bank,
        is_allowlist=flags.get("allow", False),
        content_id=content_id,
        signal_type="pdq",
        distance=distance,
        labels=["A1", "not-an-industry-label"],
        external_ids={"ncmec": "123"},
        suppressed_by_allowlist=flags.get("suppressed", False),
    )


def _confirm_into_bank(db: Database, label: Label) -> None:
    """A moderator claims the next case and confirms it with add_to_bank (banks sink)."""
    with db.session() as session:
        case = queue.claim_next(session, MOD_A, settings=REVIEW)
        assert case is not None
        sink = BanksSink(MOD_A, bank="confirmed", allowlist="false-positives")
        actions = [Action.add_to_bank]
        decisions.decide(
            session, MOD_A, case.id, label=label, actions=actions, bank_sink=sink, settings=REVIEW
        )


def test_matches_become_signals_without_allowlisted_ones() -> None:
    results = [
        SignalMatches("pdq", QUERY, [hit(1, "known", 7, 12), hit(1, "known", 8, 3, suppressed=True)]),
        SignalMatches("pdq", "e" * 64, [hit(1, "known", 7, 5), hit(2, "fp", 9, 0, allow=True)]),
    ]
    signals = signals_from_matches(results, content_id="upload-1", account_id="u1")
    assert len(signals) == 1
    signal = signals[0]
    assert (signal.bank, signal.bank_content_id, signal.distance, signal.query_hash) == (
        "known",
        "7",
        5,
        "e" * 64,
    )
    assert signal.labels == ["A1"] and signal.external_ids == ["ncmec:123"] and signal.threshold == 31


def test_scan_to_case_to_bank(db: Database) -> None:
    with db.session() as session:
        bank = banks.create_bank(session, SENIOR, name="confirmed")
        banks.create_bank(session, SENIOR, name="false-positives", is_allowlist=True)
        result = open_case_from_scan(
            session,
            INTEGRATOR,
            [SignalMatches("pdq", QUERY, [hit(bank.id, "confirmed", 1, 4)])],
            content_id="upload-1",
            settings=REVIEW,
        )
        assert result is not None and result.created
        assert (
            open_case_from_scan(session, INTEGRATOR, [SignalMatches("pdq", QUERY, [])], content_id="x")
            is None
        )
    _confirm_into_bank(db, Label.A2)
    with db.read_session() as session:
        assert session.scalars(select(BankRequest.status)).all() == ["applied"]
        banked = session.scalars(select(BankSignal.value).where(BankSignal.bank_id == bank.id)).all()
        assert banked == [QUERY]


def test_detector_behaviours_are_review_behaviours() -> None:
    """One vocabulary: the detector's names arrive unchanged (the partner's disclosure as context, the
    speaker's own dropped); a name outside the vocabulary is an error, never a silent "other"."""
    signal = alert_from_text(
        conversation_id="c1",
        risk=0.8,
        behaviours=["secrecy", "meeting", "minor_self_disclosure", "other_participant_minor"],
        reasons=["asks to meet on saturday"],
    )
    assert [b.value for b in signal.behaviours] == ["secrecy", "meeting", "other_participant_minor"]
    with pytest.raises(ValueError):
        alert_from_text(conversation_id="c1", risk=0.8, behaviours=["secrecy", "something_new"])
    assert score([signal]).live_risk
    calm = alert_from_text(conversation_id="c1", risk=0.8, behaviours=["flattery_trust", "age_gap"])
    assert not score([calm]).live_risk


def test_a_vpdq_match_carries_the_upload_hash_and_is_banked_on_confirm(db: Database) -> None:
    """A video matched by vPDQ alone: the case keeps the upload's frame list, and confirming it banks
    that list (so re-uploads match), as for an image's PDQ."""
    query = vpdq_string(vpdq_frames(random.Random(5), 12))
    with db.session() as session:
        bank = banks.create_bank(session, SENIOR, name="confirmed")
        banks.create_bank(session, SENIOR, name="false-positives", is_allowlist=True)
        result = open_case_from_scan(
            session,
            INTEGRATOR,
            [
                SignalMatches(
                    "vpdq", query, [dataclasses.replace(hit(bank.id, "confirmed", 1, 6), signal_type="vpdq")]
                )
            ],
            content_id="video-1",
            settings=REVIEW,
        )
        assert result is not None and result.created
    _confirm_into_bank(db, Label.A1)
    with db.read_session() as session:
        assert session.scalars(select(BankRequest.status)).all() == ["applied"]
        stored = session.scalars(select(BankSignal).where(BankSignal.bank_id == bank.id)).all()
        assert [(s.signal_type, s.value) for s in stored] == [
            ("vpdq", banks.normalize_signals([banks.SignalIn("vpdq", query)])[0].value)
        ]
    base = {"content_id": "c", "bank": "b", "bank_content_id": "1", "distance": 3}
    with pytest.raises(pydantic.ValidationError, match="query_hash"):
        MediaMatchSignal(**base, signal_type="vpdq", query_hash="[not frames")
    with pytest.raises(pydantic.ValidationError, match="hex"):
        MediaMatchSignal(**base, signal_type="pdq", query_hash="[]")
