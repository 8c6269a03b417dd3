"""Signals in, cases out: what the report route and the scan and conversation flows (safeguard.flows) call.

``open_case(...)`` files a signal into the case for its content, conversation or account (one undecided
case per subject and integrator), recomputes the priority, links related cases (same subject, same account,
same media), and decides re-uploads of already-decided media at once by the earlier decision instead of
queueing them. ``open_case_with_signals(...)`` files several signals about one subject (every bank match
of one upload) into one case, decided at most once.
``open_case_from_match`` / ``open_case_from_alert`` / ``open_case_from_report`` are the typed shortcuts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth import Actor
from safeguard.review import events
from safeguard.review.common import SIGNAL_ADAPTER, AnySignal, emit, open_key_of, who
from safeguard.review.config import ReviewSettings, get_review_settings
from safeguard.review.decisions import apply_earlier_decision, earlier_decision_for
from safeguard.review.models import Case, CaseFingerprint, CaseLink, CaseSignal, Decision
from safeguard.review.priority import rank_of, score
from safeguard.review.signals import (
    GroomingAlertSignal,
    MediaMatchSignal,
    UserReportSignal,
    fingerprints_of,
    subject_of,
)
from safeguard.review.states import CaseStatus, LinkReason
from safeguard.store.base import utcnow

MAX_LINKS_PER_REASON = 50


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    created: bool  # a new case (False: the signal joined an undecided case of the same subject)
    auto_decision: Decision | None  # set when the re-upload was decided by an earlier decision


def open_case(
    session: Session, actor: Actor, signal: AnySignal, *, settings: ReviewSettings | None = None
) -> CaseResult:
    """File one signal from the integrator ``actor`` (the case owner) into its case."""
    return open_case_with_signals(session, actor, [signal], settings=settings)


def open_case_with_signals(
    session: Session, actor: Actor, signals: Sequence[AnySignal], *, settings: ReviewSettings | None = None
) -> CaseResult:
    """File every signal about one subject (one upload's matches in several banks, say) into ONE case.

    The signals join the subject's undecided case if there is one. A re-scan of content whose case is
    decided joins that decided case when it brings no new media evidence (same bank entries and SHA-256),
    so the platform is not told twice. Otherwise a new case opens, linked to the subject's earlier cases;
    a new content case is decided at once - once, whatever the number of signals - by the earlier decision
    on the same media (of another content id: new evidence about decided content goes to a moderator)."""
    if not signals:
        raise ValueError("no signals to file")
    settings = settings or get_review_settings()
    owner = who(actor)
    kind, subject = subject_of(signals[0])
    if any(subject_of(s) != (kind, subject) for s in signals):
        raise ValueError("signals about different subjects go into different cases")
    key = open_key_of(owner, kind, subject)
    for _ in range(3):
        existing = session.scalar(select(Case).where(Case.open_key == key).with_for_update())
        if existing is not None:
            for signal in signals:
                _add_signal(session, existing, signal, settings)
                audit.record(session, actor, "case.signal", "case", str(existing.id), {"type": signal.type})
            return CaseResult(existing, created=False, auto_decision=None)
        decided = _decided_case_holding(session, owner, kind, subject, signals)
        if decided is not None:
            _record_on_decided(session, actor, decided, signals)
            return CaseResult(decided, created=False, auto_decision=None)
        try:
            with session.begin_nested():
                case = _new_case(session, owner, kind, subject, key, signals[0], settings)
            break
        except IntegrityError:
            continue  # a concurrent signal opened the case first: join it
    else:  # pragma: no cover - three lost races in a row
        raise RuntimeError("could not open or find the case")
    for signal in signals[1:]:
        _add_signal(session, case, signal, settings)
    audit.record(
        session, actor, "case.open", "case", str(case.id), {"type": signals[0].type, "subject": subject}
    )
    earlier = _earlier_decision(session, case, signals)
    if earlier is not None:
        return CaseResult(case, created=True, auto_decision=apply_earlier_decision(session, case, earlier))
    emit(session, case, events.CASE_OPENED, events.case_opened(case), utcnow())
    return CaseResult(case, created=True, auto_decision=None)


def _earlier_decision(session: Session, case: Case, signals: Sequence[AnySignal]) -> Decision | None:
    """The decision that decides a new content case at once: the latest on the same media, when every
    signal is a media match and that decision was about other content."""
    if not all(isinstance(s, MediaMatchSignal) for s in signals):
        return None
    fingerprints = list(dict.fromkeys(f for s in signals for f in fingerprints_of(s)))
    earlier = earlier_decision_for(session, case.owner, fingerprints)
    if earlier is None:
        return None
    source = session.get(Case, earlier.case_id)
    if source is not None and (source.kind, source.subject) == (case.kind, case.subject):
        return None  # the same content again with new evidence: a moderator looks at it
    return earlier


def _decided_case_holding(
    session: Session, owner: str, kind: str, subject: str, signals: Sequence[AnySignal]
) -> Case | None:
    """The content's latest decided case, when it already holds all the evidence these signals bring."""
    if kind != "content":
        return None
    case = session.scalar(
        select(Case)
        .where(Case.owner == owner, Case.kind == kind, Case.subject == subject, Case.status == "decided")
        .order_by(Case.id.desc())
        .limit(1)
        .with_for_update()
    )
    if case is None:
        return None
    have = set(session.scalars(select(CaseFingerprint.fingerprint).where(CaseFingerprint.case_id == case.id)))
    bring = {f for s in signals for f in fingerprints_of(s)}
    return case if bring and bring <= have else None


def _record_on_decided(session: Session, actor: Actor, case: Case, signals: Sequence[AnySignal]) -> None:
    """Keep a re-scan's signals on the decided case (history only: no new decision, no event)."""
    now = utcnow()
    for signal in signals:
        session.add(
            CaseSignal(
                case_id=case.id, type=signal.type, received_at=now, payload=signal.model_dump(mode="json")
            )
        )
        audit.record(session, actor, "case.signal", "case", str(case.id), {"type": signal.type})
    case.signal_count += len(signals)
    case.updated_at = now
    session.flush()


def open_case_from_match(
    session: Session, actor: Actor, signal: MediaMatchSignal, *, settings: ReviewSettings | None = None
) -> CaseResult:
    return open_case(session, actor, signal, settings=settings)


def open_case_from_alert(
    session: Session, actor: Actor, signal: GroomingAlertSignal, *, settings: ReviewSettings | None = None
) -> CaseResult:
    return open_case(session, actor, signal, settings=settings)


def open_case_from_report(
    session: Session, actor: Actor, signal: UserReportSignal, *, settings: ReviewSettings | None = None
) -> CaseResult:
    return open_case(session, actor, signal, settings=settings)


def signals_of(session: Session, case_id: int) -> list[AnySignal]:
    payloads = session.scalars(
        select(CaseSignal.payload).where(CaseSignal.case_id == case_id).order_by(CaseSignal.id)
    )
    return [SIGNAL_ADAPTER.validate_python(p) for p in payloads]


def _new_case(
    session: Session,
    owner: str,
    kind: str,
    subject: str,
    key: str,
    signal: AnySignal,
    settings: ReviewSettings,
) -> Case:
    now = utcnow()
    priority = score([signal])
    case = Case(
        owner=owner,
        kind=kind,
        subject=subject,
        account_id=signal.account_id,
        open_key=key,
        status=CaseStatus.open,
        escalated=False,
        live_risk=priority.live_risk,
        auto_eligible=isinstance(signal, MediaMatchSignal),
        labels=_labels_of([signal]),
        priority_base=priority.base,
        rank=rank_of(priority.base, now),
        priority_parts=priority.parts(),
        signal_count=1,
        opened_at=now,
        queued_at=now,
        updated_at=now,
        due_at=now + settings.sla(kind, priority.live_risk),
    )
    session.add(case)
    session.flush()
    session.add(
        CaseSignal(case_id=case.id, type=signal.type, received_at=now, payload=signal.model_dump(mode="json"))
    )
    _add_fingerprints(session, case, signal)
    _link(session, case)
    return case


def _add_signal(session: Session, case: Case, signal: AnySignal, settings: ReviewSettings) -> None:
    now = utcnow()
    session.add(
        CaseSignal(case_id=case.id, type=signal.type, received_at=now, payload=signal.model_dump(mode="json"))
    )
    session.flush()
    signals = signals_of(session, case.id)
    priority = score(signals)
    case.signal_count = len(signals)
    case.labels = _labels_of(signals)
    case.auto_eligible = case.auto_eligible and isinstance(signal, MediaMatchSignal)
    case.priority_base = priority.base
    case.rank = rank_of(priority.base, case.queued_at)
    case.priority_parts = priority.parts()
    if priority.live_risk and not case.live_risk:
        case.live_risk = True
        case.due_at = min(case.due_at, now + settings.sla(case.kind, True))
    if case.account_id is None and signal.account_id is not None:
        case.account_id = signal.account_id
    case.updated_at = now
    _add_fingerprints(session, case, signal)
    _link(session, case)


def _labels_of(signals: list[AnySignal]) -> str:
    labels = sorted({label for s in signals if isinstance(s, MediaMatchSignal) for label in s.labels})
    return "," + "".join(f"{label}," for label in labels)


def _add_fingerprints(session: Session, case: Case, signal: AnySignal) -> None:
    have = set(session.scalars(select(CaseFingerprint.fingerprint).where(CaseFingerprint.case_id == case.id)))
    for fingerprint in fingerprints_of(signal):
        if fingerprint not in have:
            session.add(CaseFingerprint(case_id=case.id, fingerprint=fingerprint))
            have.add(fingerprint)
    session.flush()


def _link(session: Session, case: Case) -> None:
    """Link the case to the integrator's other cases about the same subject (an earlier, decided case of
    this content or conversation), the same account or the same media."""
    linked = {
        (other, reason)
        for other, reason in session.execute(
            select(CaseLink.other_case_id, CaseLink.reason).where(CaseLink.case_id == case.id)
        )
    } | {
        (other, reason)
        for other, reason in session.execute(
            select(CaseLink.case_id, CaseLink.reason).where(CaseLink.other_case_id == case.id)
        )
    }
    candidates: list[tuple[int, LinkReason]] = []
    same_subject = session.scalars(
        select(Case.id)
        .where(Case.owner == case.owner, Case.kind == case.kind, Case.subject == case.subject)
        .where(Case.id != case.id)
        .order_by(Case.id.desc())
        .limit(MAX_LINKS_PER_REASON)
    )
    candidates += [(other, LinkReason.same_subject) for other in same_subject]
    if case.account_id is not None:
        same_account = session.scalars(
            select(Case.id)
            .where(Case.owner == case.owner, Case.account_id == case.account_id, Case.id != case.id)
            .order_by(Case.id.desc())
            .limit(MAX_LINKS_PER_REASON)
        )
        candidates += [(other, LinkReason.same_account) for other in same_account]
    fingerprints = select(CaseFingerprint.fingerprint).where(CaseFingerprint.case_id == case.id)
    same_media = session.scalars(
        select(CaseFingerprint.case_id)
        .join(Case, Case.id == CaseFingerprint.case_id)
        .where(
            CaseFingerprint.fingerprint.in_(fingerprints),
            CaseFingerprint.case_id != case.id,
            Case.owner == case.owner,
        )
        .distinct()
        .order_by(CaseFingerprint.case_id.desc())
        .limit(MAX_LINKS_PER_REASON)
    )
    candidates += [(other, LinkReason.same_content) for other in same_media]
    for other, reason in candidates:
        if (other, reason) not in linked:
            session.add(CaseLink(case_id=case.id, other_case_id=other, reason=reason))
            linked.add((other, reason))
    session.flush()


def related_cases(session: Session, case_id: int) -> list[tuple[int, str]]:
    """(other case id, reason) for every link of the case, in either direction."""
    rows = session.execute(
        select(CaseLink.other_case_id, CaseLink.reason)
        .where(CaseLink.case_id == case_id)
        .union(select(CaseLink.case_id, CaseLink.reason).where(CaseLink.other_case_id == case_id))
    )
    return sorted((int(other), str(reason)) for other, reason in rows)


__all__ = [
    "CaseResult",
    "open_case",
    "open_case_from_alert",
    "open_case_from_match",
    "open_case_from_report",
    "open_case_with_signals",
    "related_cases",
    "signals_of",
]
