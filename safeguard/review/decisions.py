"""Decisions on cases: decide, four-eyes confirmation, automatic decisions for re-uploads, appeals.

Every function here runs in the caller's transaction, records an audit entry, and - when a decision
becomes final - writes the ``decision.made`` event in the same transaction (outbox), so the platform hears
of every final decision exactly once, even if the process dies right after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth import Actor, Role
from safeguard.auth.identity import refusal, same_person
from safeguard.review import events
from safeguard.review.banking import BankSink, RecordingBankSink
from safeguard.review.common import emit, who
from safeguard.review.config import ReviewSettings, get_review_settings
from safeguard.review.errors import (
    CaseNotFound,
    CaseNotOpen,
    DecisionNotFound,
    FourEyesViolation,
    InvalidDecision,
    LeaseNotHeld,
    SeniorOnly,
)
from safeguard.review.models import Appeal, Case, CaseFingerprint, Decision
from safeguard.review.priority import rank_of
from safeguard.review.signals import CONVERSATION_LABELS, OUTCOME_LABELS, VIOLATION_LABELS, Label
from safeguard.review.states import AppealStatus, CaseKind, CaseStatus, DecisionKind, DecisionStatus
from safeguard.store.base import utcnow

AUTO_ACTOR = Actor.system("review.auto")


class Action(StrEnum):
    remove_content = "remove_content"
    restrict_account = "restrict_account"
    suspend_account = "suspend_account"
    preserve_evidence = "preserve_evidence"
    report_to_authorities = "report_to_authorities"
    add_to_bank = "add_to_bank"
    add_to_allowlist = "add_to_allowlist"


BANK_ACTIONS = frozenset({Action.add_to_bank, Action.add_to_allowlist})
CONTENT_ACTIONS = frozenset({Action.remove_content, Action.add_to_bank, Action.add_to_allowlist})


def load_case(session: Session, case_id: int, *, for_update: bool = False) -> Case:
    query = select(Case).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update()
    case = session.scalar(query)
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


def require_lease(case: Case, actor: Actor) -> None:
    now = utcnow()
    if case.lease_holder != who(actor) or case.lease_expires_at is None or case.lease_expires_at <= now:
        raise LeaseNotHeld(f"claim case {case.id} first (POST /v1/cases/claim): you do not hold its lease")


def release_lease(case: Case) -> None:
    case.lease_holder = None
    case.lease_expires_at = None


def labels_for(kind: CaseKind) -> frozenset[Label]:
    """The labels a case of ``kind`` can be decided with: media categories for content, what the adult did
    for a conversation, either for an account."""
    if kind is CaseKind.content:
        return VIOLATION_LABELS | OUTCOME_LABELS
    if kind is CaseKind.conversation:
        return CONVERSATION_LABELS | OUTCOME_LABELS
    return VIOLATION_LABELS | CONVERSATION_LABELS | OUTCOME_LABELS


def _validate(case: Case, label: Label, actions: Sequence[Action]) -> list[Action]:
    allowed = labels_for(CaseKind(case.kind))
    if label not in allowed:
        names = ", ".join(sorted(a.value for a in allowed))
        raise InvalidDecision(f"a {case.kind} case takes one of the labels: {names}", field="label")
    chosen = list(dict.fromkeys(actions))
    if label is Label.needs_escalation and chosen:
        raise InvalidDecision(
            "an escalation takes no actions; the senior reviewer decides them", field="actions"
        )
    if label is Label.not_violating and set(chosen) - {Action.add_to_allowlist}:
        raise InvalidDecision(
            "content that is not violating can only be added to the allowlist", field="actions"
        )
    if label in VIOLATION_LABELS and Action.add_to_allowlist in chosen:
        raise InvalidDecision("violating content cannot be allowlisted", field="actions")
    if case.kind is not CaseKind.content and set(chosen) & CONTENT_ACTIONS:
        bad = sorted(a.value for a in set(chosen) & CONTENT_ACTIONS)
        raise InvalidDecision(f"{', '.join(bad)} only apply to content cases", field="actions")
    return chosen


def decide(
    session: Session,
    actor: Actor,
    case_id: int,
    *,
    label: Label,
    actions: Sequence[Action] = (),
    notes: str = "",
    settings: ReviewSettings | None = None,
    bank_sink: BankSink | None = None,
    bank: str | None = None,
) -> Decision:
    """Decide a case the actor holds. ``needs_escalation`` hands it to a senior reviewer; a decision with a
    four-eyes action or label waits for a second moderator; anything else is final at once. ``bank`` is
    where a bank action puts the case's hashes (``bank_sink`` applies it when the decision is final)."""
    settings = settings or get_review_settings()
    now = utcnow()
    case = load_case(session, case_id, for_update=True)
    if case.status is not CaseStatus.open:
        raise CaseNotOpen(f"case {case_id} is {case.status.replace('_', ' ')}")
    require_lease(case, actor)
    if case.escalated and actor.role is not Role.admin:
        raise SeniorOnly(f"case {case_id} is escalated: a senior reviewer (admin) decides it")
    if case.blocked_reviewer is not None and same_person(session, case.blocked_reviewer, actor):
        raise FourEyesViolation(f"you decided case {case_id} before; another moderator reviews the appeal")
    chosen = _validate(case, label, actions)
    decision = Decision(
        case_id=case.id,
        kind=DecisionKind.appeal if case.appeal_id else DecisionKind.review,
        status=DecisionStatus.final,
        label=label.value,
        actions=[a.value for a in chosen],
        notes=notes,
        moderator=who(actor),
        created_at=now,
        appeal_id=case.appeal_id,
        bank=bank if set(chosen) & BANK_ACTIONS else None,
    )
    session.add(decision)
    if label is Label.needs_escalation:
        decision.status = DecisionStatus.escalation
        case.escalated = True
        case.updated_at = now
        release_lease(case)
        emit(session, case, events.CASE_ESCALATED, events.case_escalated(case, now), now)
        session.flush()
        audit.record(session, actor, "case.escalate", "case", str(case.id), {"notes": notes})
        return decision
    needs_second = bool(set(decision.actions) & set(settings.four_eyes_actions)) or (
        decision.label in settings.four_eyes_labels
    )
    if needs_second:
        decision.status = DecisionStatus.pending_confirmation
        session.flush()
        case.status = CaseStatus.awaiting_confirmation
        case.pending_decision_id = decision.id
        case.blocked_reviewer = decision.moderator
        case.updated_at = now
        release_lease(case)
        audit.record(
            session,
            actor,
            "decision.propose",
            "case",
            str(case.id),
            {"decision": decision.id, "label": label},
        )
        return decision
    session.flush()
    _finalize(session, actor, case, decision, bank_sink or RecordingBankSink())
    return decision


def confirm(
    session: Session,
    actor: Actor,
    case_id: int,
    decision_id: int,
    *,
    approve: bool,
    notes: str = "",
    bank_sink: BankSink | None = None,
) -> Decision:
    """The second pair of eyes: another moderator, holding the case's lease, confirms or rejects."""
    case = load_case(session, case_id, for_update=True)
    decision = session.get(Decision, decision_id)
    if decision is None or decision.case_id != case.id:
        raise DecisionNotFound(f"case {case_id} has no decision {decision_id}")
    if case.status is not CaseStatus.awaiting_confirmation or case.pending_decision_id != decision.id:
        raise CaseNotOpen(f"decision {decision_id} is not awaiting confirmation")
    require_lease(case, actor)
    if same_person(session, decision.moderator, actor):  # a key and its holder's UI login are one person
        raise FourEyesViolation("a different moderator must confirm this decision")
    now = utcnow()
    decision.confirmed_by = who(actor)
    decision.confirmed_at = now
    if notes:
        decision.notes = f"{decision.notes}\n[{who(actor)}] {notes}".strip()
    case.pending_decision_id = None
    if not approve:
        decision.status = DecisionStatus.rejected
        case.status = CaseStatus.open
        case.blocked_reviewer = None
        case.updated_at = now
        release_lease(case)
        audit.record(session, actor, "decision.reject", "case", str(case.id), {"decision": decision.id})
        return decision
    _finalize(session, actor, case, decision, bank_sink or RecordingBankSink())
    return decision


def _finalize(session: Session, actor: Actor, case: Case, decision: Decision, bank_sink: BankSink) -> None:
    now = utcnow()
    decision.status = DecisionStatus.final
    appeal_outcome = None
    if case.appeal_id is not None:
        appeal = session.get(Appeal, case.appeal_id)
        if appeal is not None:
            original = session.get(Decision, appeal.decision_id)
            same = original is not None and original.label == decision.label
            appeal.status = AppealStatus.upheld if same else AppealStatus.overturned
            appeal.outcome_decision_id = decision.id
            appeal_outcome = appeal.status
    case.status = CaseStatus.decided
    case.decision_id = decision.id
    case.decided_at = now
    case.updated_at = now
    case.open_key = None
    case.appeal_id = None
    case.blocked_reviewer = None
    case.pending_decision_id = None
    release_lease(case)
    for action in decision.actions:
        if action in BANK_ACTIONS:
            bank_sink.request(session, case, decision, action, now)
    emit(
        session,
        case,
        events.DECISION_MADE,
        events.decision_made(case, decision, appeal_outcome=appeal_outcome),
        now,
    )
    session.flush()
    audit.record(
        session,
        actor,
        "decision.final",
        "case",
        str(case.id),
        {"decision": decision.id, "label": decision.label, "actions": decision.actions},
    )
    if decision.kind is not DecisionKind.auto:
        decide_reuploads(session, case, decision)


def decide_reuploads(session: Session, case: Case, decision: Decision) -> int:
    """Decide, by this decision, the open cases of the same integrator that hold only matches of the same
    media (re-uploads queued before the first decision). Cases someone holds are left to them."""
    fingerprints = list(
        session.scalars(select(CaseFingerprint.fingerprint).where(CaseFingerprint.case_id == case.id))
    )
    if not fingerprints:
        return 0
    now = utcnow()
    same_media = select(CaseFingerprint.case_id).where(CaseFingerprint.fingerprint.in_(fingerprints))
    targets = list(
        session.scalars(
            select(Case)
            .where(
                Case.id.in_(same_media),
                Case.id != case.id,
                Case.owner == case.owner,
                Case.status == CaseStatus.open,
                Case.auto_eligible.is_(True),
                Case.escalated.is_(False),
                Case.appeal_id.is_(None),
                or_(Case.lease_holder.is_(None), Case.lease_expires_at <= now),
            )
            .order_by(Case.id)
            .with_for_update()
        )
    )
    for target in targets:
        apply_earlier_decision(session, target, decision)
    return len(targets)


def apply_earlier_decision(session: Session, case: Case, source: Decision) -> Decision:
    """Decide a re-upload by the earlier decision on the same media, recorded as automatic."""
    now = utcnow()
    decision = Decision(
        case_id=case.id,
        kind=DecisionKind.auto,
        status=DecisionStatus.final,
        label=source.label,
        actions=[a for a in source.actions if a not in BANK_ACTIONS],
        notes=f"re-upload of media decided in case {source.case_id} (decision {source.id})",
        moderator=who(AUTO_ACTOR),
        created_at=now,
        source_decision_id=source.id,
    )
    session.add(decision)
    session.flush()
    _finalize(session, AUTO_ACTOR, case, decision, RecordingBankSink())
    return decision


def earlier_decision_for(session: Session, owner: str, fingerprints: Sequence[str]) -> Decision | None:
    """The current final decision of this integrator's latest decided case with the same media."""
    if not fingerprints:
        return None
    return session.scalar(
        select(Decision)
        .join(Case, Case.decision_id == Decision.id)
        .join(CaseFingerprint, CaseFingerprint.case_id == Case.id)
        .where(
            Case.owner == owner,
            Case.status == CaseStatus.decided,
            CaseFingerprint.fingerprint.in_(list(fingerprints)),
            Decision.label != Label.needs_escalation.value,
        )
        .order_by(Decision.id.desc())
        .limit(1)
    )


def appeal(
    session: Session, actor: Actor, case_id: int, *, reason: str, settings: ReviewSettings | None = None
) -> Appeal:
    """Reopen a decided case for a new review by another moderator; both decisions are kept."""
    settings = settings or get_review_settings()
    case = load_case(session, case_id, for_update=True)
    if actor.role is Role.integrator and case.owner != who(actor):
        # an integrator appeals only its own platform's cases; another's looks missing (and is audited)
        raise CaseNotFound(f"no case {case_id}").refusing(refusal(actor, "case", str(case_id), case.owner))
    if case.status is not CaseStatus.decided or case.decision_id is None:
        raise CaseNotOpen(f"case {case_id} has no final decision to appeal")
    original = session.get(Decision, case.decision_id)
    assert original is not None
    now = utcnow()
    row = Appeal(
        case_id=case.id,
        decision_id=original.id,
        reason=reason,
        submitted_by=who(actor),
        created_at=now,
        status=AppealStatus.open,
    )
    session.add(row)
    session.flush()
    case.status = CaseStatus.open
    case.appeal_id = row.id
    case.blocked_reviewer = None if original.kind is DecisionKind.auto else original.moderator
    case.queued_at = now
    case.updated_at = now
    case.rank = rank_of(case.priority_base, now)
    case.due_at = now + settings.sla(case.kind, case.live_risk)
    audit.record(session, actor, "case.appeal", "case", str(case.id), {"appeal": row.id, "reason": reason})
    return row
