"""Queue and decision rules: priority, leases, filters, SLA, escalation, four eyes, appeals, re-uploads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from safeguard.review import decisions, flows, queue
from safeguard.review.decisions import Action
from safeguard.review.errors import CaseNotOpen, FourEyesViolation, InvalidDecision, LeaseNotHeld, SeniorOnly
from safeguard.review.models import BankRequest, Case, ReviewEvent
from safeguard.review.signals import Label, ReportCategory, ReporterKind, UserReportSignal
from safeguard.store.base import utcnow
from safeguard.store.db import Database
from safeguard.text.vocabulary import Behaviour
from tests.review.helpers import INTEGRATOR, MOD_A, MOD_B, REVIEW, SENIOR, alert, match


def open_signal(db: Database, signal: object) -> int:
    with db.session() as session:
        return flows.open_case(session, INTEGRATOR, signal, settings=REVIEW).case.id  # type: ignore[arg-type]


def claim(db: Database, actor: object = MOD_A, **filters: object) -> int | None:
    with db.session() as session:
        case = queue.claim_next(session, actor, queue.QueueFilter(**filters), settings=REVIEW)  # type: ignore[arg-type]
        return case.id if case else None


def test_live_risk_outranks_a_thousand_reuploads_and_waiting_ages_the_rest(db: Database) -> None:
    b2 = open_signal(db, match("old", entry="e-b2", labels=["B2"], account="a1"))
    with db.session() as session:  # the B2 case has waited two days
        old = session.get(Case, b2)
        assert old is not None
        old.queued_at -= timedelta(days=2)
        old.rank += 72.0  # rank = base - rate * queued time: queued earlier ranks higher
    a1 = open_signal(db, match("new", entry="e-a1", labels=["A1"], distance=0, account="a2"))
    not_live = open_signal(db, alert("c-old", behaviours=[Behaviour.meeting], live=False))
    live = open_signal(db, alert("c-now", behaviours=[Behaviour.threats_sextortion], risk=0.3))
    order = [claim(db) for _ in range(4)]
    assert order[0] == live  # lowest risk score, but a child at risk now
    assert order[1:] == [b2, a1, not_live]  # two days of waiting outweigh A1 vs B2
    assert claim(db) is None


def test_signals_about_one_subject_join_one_case_and_links(db: Database) -> None:
    first = open_signal(db, match("upload-1", entry="e1", account="uploader"))
    report = UserReportSignal(
        subject_kind="content",
        subject_id="upload-1",
        reporter_kind=ReporterKind.user,
        category=ReportCategory.csam,
    )
    assert open_signal(db, report) == first
    other = open_signal(db, match("upload-2", entry="e9", account="uploader"))
    with db.read_session() as session:
        case = session.get(Case, first)
        assert case is not None and case.signal_count == 2 and not case.auto_eligible
        assert flows.related_cases(session, other) == [(first, "same_account")]


def test_lease_expiry_returns_the_case_and_the_old_holder_cannot_decide(db: Database) -> None:
    case_id = open_signal(db, match("upload-1"))
    assert claim(db, MOD_A) == case_id
    assert claim(db, MOD_B) is None
    with db.session() as session:
        session.execute(update(Case).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert claim(db, MOD_B) == case_id
    with pytest.raises(LeaseNotHeld), db.session() as session:
        decisions.decide(session, MOD_A, case_id, label=Label.A1)
    with db.session() as session:
        queue.release(session, MOD_B, case_id)
    assert claim(db, MOD_A) == case_id


def test_filters_by_kind_and_label_and_overdue(db: Database) -> None:
    a2 = open_signal(db, match("u1", entry="e1", labels=["A2"]))
    open_signal(db, match("u2", entry="e2", labels=["B1"]))
    conversation = open_signal(db, alert("c1", behaviours=[Behaviour.secrecy]))
    assert claim(db, labels=["A2"]) == a2
    assert claim(db, kinds=["conversation"]) == conversation
    assert claim(db, labels=["A1"]) is None
    with db.session() as session:
        session.execute(update(Case).where(Case.id == a2).values(due_at=utcnow() - timedelta(minutes=1)))
        page = queue.list_cases(session, SENIOR, overdue=True)
        assert [c.id for c in page.cases] == [a2]
        assert queue.stats(session).overdue == 1


def test_escalation_goes_to_senior_reviewers_only(db: Database) -> None:
    case_id = open_signal(db, match("u1"))
    claim(db, MOD_A)
    with db.session() as session:
        decisions.decide(session, MOD_A, case_id, label=Label.needs_escalation, notes="unsure of age")
    assert claim(db, MOD_B) is None
    with pytest.raises(SeniorOnly), db.session() as session:
        queue.claim_next(session, MOD_B, queue.QueueFilter(escalated=True))
    assert claim(db, SENIOR, escalated=True) == case_id
    with db.session() as session:
        decision = decisions.decide(session, SENIOR, case_id, label=Label.B2, actions=[Action.remove_content])
        assert decision.status == "final"


def test_four_eyes_needs_a_second_moderator(db: Database) -> None:
    case_id = open_signal(db, match("u1"))
    claim(db, MOD_A)
    with db.session() as session:
        proposed = decisions.decide(
            session,
            MOD_A,
            case_id,
            label=Label.A1,
            actions=[Action.remove_content, Action.report_to_authorities],
        )
        assert proposed.status == "pending_confirmation"
        assert session.scalars(select(ReviewEvent.type)).all() == ["case.opened"]  # nothing sent yet
    assert claim(db, MOD_A) is None  # the proposer is not offered their own decision
    assert claim(db, MOD_B) == case_id
    with pytest.raises(CaseNotOpen), db.session() as session:
        decisions.decide(session, MOD_B, case_id, label=Label.A1)
    with db.session() as session:
        confirmed = decisions.confirm(session, MOD_B, case_id, proposed.id, approve=True)
        assert confirmed.status == "final" and confirmed.confirmed_by == "api_key:202"
        assert session.scalars(select(ReviewEvent.type).order_by(ReviewEvent.id)).all() == [
            "case.opened",
            "decision.made",
        ]


def test_the_proposer_cannot_confirm_and_a_rejection_requeues(db: Database) -> None:
    case_id = open_signal(db, match("u1"))
    claim(db, MOD_A)
    with db.session() as session:
        proposed = decisions.decide(
            session, MOD_A, case_id, label=Label.A1, actions=[Action.report_to_authorities]
        )
    with db.session() as session:  # the proposer's lease was released; a stale claim would be refused
        case = session.get(Case, case_id)
        assert case is not None
        case.lease_holder, case.lease_expires_at = "api_key:201", utcnow() + timedelta(minutes=5)
    with pytest.raises(FourEyesViolation), db.session() as session:
        decisions.confirm(session, MOD_A, case_id, proposed.id, approve=True)
    with db.session() as session:
        session.execute(update(Case).values(lease_holder=None, lease_expires_at=None))
    assert claim(db, MOD_B) == case_id
    with db.session() as session:
        assert decisions.confirm(session, MOD_B, case_id, proposed.id, approve=False).status == "rejected"
        case = session.get(Case, case_id)
        assert case is not None and case.status == "open"


def test_appeal_is_a_new_review_by_someone_else_and_keeps_both(db: Database) -> None:
    case_id = open_signal(db, match("u1"))
    claim(db, MOD_A)
    with db.session() as session:
        first = decisions.decide(session, MOD_A, case_id, label=Label.B2, actions=[Action.remove_content])
    with db.session() as session:
        appeal = decisions.appeal(session, INTEGRATOR, case_id, reason="this is an adult")
    assert claim(db, MOD_A) is None
    assert claim(db, MOD_B) == case_id
    with db.session() as session:
        second = decisions.decide(session, MOD_B, case_id, label=Label.not_violating)
        assert second.kind == "appeal" and second.appeal_id == appeal.id
    with db.read_session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.decision_id == second.id
        payloads = session.scalars(
            select(ReviewEvent.payload).where(ReviewEvent.type == "decision.made")
        ).all()
        assert [(p["label"], p["appeal_outcome"]) for p in payloads] == [
            ("B2", None),
            ("not_violating", "overturned"),
        ]
        assert first.id != second.id


def test_reuploads_waiting_in_the_queue_are_decided_with_the_first(db: Database) -> None:
    first = open_signal(db, match("u0", entry="same", account="a0"))
    waiting = [open_signal(db, match(f"u{i}", entry="same", account=f"a{i}")) for i in range(1, 6)]
    assert claim(db, MOD_A) == first
    with db.session() as session:
        decisions.decide(
            session, MOD_A, first, label=Label.A1, actions=[Action.remove_content, Action.add_to_bank]
        )
    assert claim(db, MOD_B) is None
    with db.read_session() as session:
        for case_id in waiting:
            case = session.get(Case, case_id)
            assert case is not None and case.status == "decided"
        assert queue.stats(session).automatic_decisions == 5
        requests = session.scalars(select(BankRequest)).all()
        assert [(r.action, r.label, r.media[0]["bank_content_id"]) for r in requests] == [
            ("add_to_bank", "A1", "same")
        ]


def test_invalid_decisions_are_refused(db: Database) -> None:
    conversation = open_signal(db, alert("c1", behaviours=[Behaviour.secrecy]))
    claim(db, MOD_A)
    with db.session() as session:
        for label, actions in [
            (Label.not_violating, [Action.suspend_account]),
            (Label.A1, [Action.add_to_allowlist]),
            (Label.needs_escalation, [Action.remove_content]),
            (Label.B1, [Action.remove_content]),  # a conversation has no content to remove
        ]:
            with pytest.raises(InvalidDecision):
                decisions.decide(session, MOD_A, conversation, label=label, actions=actions)


def test_renewing_a_lease_is_audited(db: Database) -> None:
    from safeguard.audit.models import AuditRecord

    case_id = open_signal(db, match("upload-1"))
    assert claim(db) == case_id
    with db.session() as session:
        queue.renew(session, MOD_A, case_id, settings=REVIEW)
    with db.read_session() as session:
        renewed = session.scalars(select(AuditRecord).where(AuditRecord.action == "case.renew")).one()
        assert renewed.object_id == str(case_id) and renewed.actor_id == MOD_A.id
