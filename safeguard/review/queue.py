"""The review queue: claim the most urgent case with a lease, release it, escalate it, list and count.

Claiming is safe under concurrency on both backends: on PostgreSQL the candidate row is taken with
``SELECT ... FOR UPDATE SKIP LOCKED`` (a second moderator skips a row another is claiming and takes the
next); on SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (``safeguard.store.db``), so
claims run one after another. A lease that expires puts the case back in the queue without any sweeper:
the claim query treats an expired lease as free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth import Actor, Role
from safeguard.auth.identity import identities_of
from safeguard.review import events
from safeguard.review.common import emit, who
from safeguard.review.config import ReviewSettings, get_review_settings
from safeguard.review.decisions import load_case, release_lease, require_lease
from safeguard.review.errors import CaseNotOpen, SeniorOnly
from safeguard.review.models import Case, Decision
from safeguard.review.states import CaseStatus, DecisionKind, DecisionStatus
from safeguard.store.base import utcnow


@dataclass(frozen=True, slots=True)
class QueueFilter:
    kinds: Sequence[str] = ()
    labels: Sequence[str] = ()
    escalated: bool | None = None  # None: moderators get non-escalated cases, seniors (admin) any
    live_risk_only: bool = False


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(Case.lease_holder.is_(None), Case.lease_expires_at <= now)


def _escalated_for(actor: Actor, escalated: bool | None) -> bool | None:
    """The escalated filter an actor may use: seniors (admin) any, everyone else non-escalated cases."""
    if actor.role is Role.admin:
        return escalated
    if escalated:
        raise SeniorOnly("escalated cases are for senior reviewers (admin role)")
    return False


def _filters(actor: Actor, flt: QueueFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Case.queued == true()]
    if flt.kinds:
        conditions.append(Case.kind.in_(list(flt.kinds)))
    if flt.labels:
        conditions.append(or_(*(Case.labels.contains(f",{label},") for label in flt.labels)))
    escalated = _escalated_for(actor, flt.escalated)
    if escalated is not None:
        conditions.append(Case.escalated.is_(escalated))
    if flt.live_risk_only:
        conditions.append(Case.live_risk.is_(True))
    return conditions


def claim_next(
    session: Session, actor: Actor, flt: QueueFilter | None = None, *, settings: ReviewSettings | None = None
) -> Case | None:
    """Lease the most urgent case the actor may take, or None when nothing is waiting."""
    settings = settings or get_review_settings()
    flt = flt or QueueFilter()
    now = utcnow()
    me = who(actor)
    query = (
        select(Case)
        .where(*_filters(actor, flt), _free(now))
        .where(or_(Case.blocked_reviewer.is_(None), Case.blocked_reviewer.not_in(identities_of(session, me))))
        .order_by(Case.live_risk.desc(), Case.rank.desc(), Case.id.desc())
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    case = session.scalar(query)
    if case is None:
        return None
    case.lease_holder = me
    case.lease_expires_at = now + timedelta(seconds=settings.lease_seconds)
    session.flush()
    audit.record(session, actor, "case.claim", "case", str(case.id), {"until": case.lease_expires_at})
    return case


def renew(session: Session, actor: Actor, case_id: int, *, settings: ReviewSettings | None = None) -> Case:
    settings = settings or get_review_settings()
    case = load_case(session, case_id, for_update=True)
    require_lease(case, actor)
    case.lease_expires_at = utcnow() + timedelta(seconds=settings.lease_seconds)
    audit.record(session, actor, "case.renew", "case", str(case.id), {"until": case.lease_expires_at})
    return case


def release(session: Session, actor: Actor, case_id: int) -> Case:
    """Give a claimed case back to the queue undecided."""
    case = load_case(session, case_id, for_update=True)
    require_lease(case, actor)
    release_lease(case)
    audit.record(session, actor, "case.release", "case", str(case.id))
    return case


def escalate(session: Session, actor: Actor, case_id: int, *, reason: str) -> Case:
    """Hand a held case to senior reviewers (the admin role until the web UI adds a senior flag)."""
    case = load_case(session, case_id, for_update=True)
    if case.status is not CaseStatus.open:
        raise CaseNotOpen(f"case {case_id} is {case.status.replace('_', ' ')}")
    require_lease(case, actor)
    now = utcnow()
    session.add(
        Decision(
            case_id=case.id,
            kind=DecisionKind.review,
            status=DecisionStatus.escalation,
            label="needs_escalation",
            actions=[],
            notes=reason,
            moderator=who(actor),
            created_at=now,
        )
    )
    case.escalated = True
    case.updated_at = now
    release_lease(case)
    emit(session, case, events.CASE_ESCALATED, events.case_escalated(case, now), now)
    audit.record(session, actor, "case.escalate", "case", str(case.id), {"reason": reason})
    return case


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: list[Case]
    next_after: int | None


def list_cases(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    kind: str | None = None,
    label: str | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    order: str = "priority",
    after: int = 0,
    limit: int = 50,
) -> CasePage:
    """Cases for the moderator views: by priority (queue order) or by id (``after`` pages by id).

    Escalated cases are for senior reviewers: a moderator's list leaves them out (open or decided), and
    asking for them is refused."""
    now = utcnow()
    escalated = _escalated_for(actor, escalated)
    query = select(Case)
    if status:
        query = query.where(Case.status == status)
    if kind:
        query = query.where(Case.kind == kind)
    if label:
        query = query.where(Case.labels.contains(f",{label},"))
    if overdue is not None:
        late = and_(Case.queued == true(), Case.due_at < now)
        query = query.where(late if overdue else ~late)
    if escalated is not None:
        query = query.where(Case.escalated.is_(escalated))
    if order == "priority":
        query = query.order_by(Case.live_risk.desc(), Case.rank.desc(), Case.id.desc()).offset(after)
        rows = list(session.scalars(query.limit(limit + 1)))
        return CasePage(rows[:limit], after + limit if len(rows) > limit else None)
    rows = list(session.scalars(query.where(Case.id > after).order_by(Case.id).limit(limit + 1)))
    return CasePage(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)


@dataclass(frozen=True, slots=True)
class QueueStats:
    by_status: dict[str, int] = field(default_factory=dict)
    waiting_by_kind: dict[str, int] = field(default_factory=dict)
    claimed: int = 0
    overdue: int = 0
    escalated: int = 0
    live_risk: int = 0
    decided_by_label: dict[str, int] = field(default_factory=dict)
    automatic_decisions: int = 0
    oldest_waiting_since: datetime | None = None


def stats(session: Session) -> QueueStats:
    now = utcnow()
    queued = Case.queued == true()

    def count(*conditions: ColumnElement[bool]) -> int:
        return session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0

    by_status = {
        s.value: n for s, n in session.execute(select(Case.status, func.count()).group_by(Case.status))
    }
    by_kind = {
        k.value: n
        for k, n in session.execute(select(Case.kind, func.count()).where(queued).group_by(Case.kind))
    }
    by_label = {
        label: n
        for label, n in session.execute(
            select(Decision.label, func.count())
            .join(Case, Case.decision_id == Decision.id)
            .group_by(Decision.label)
        )
    }
    return QueueStats(
        by_status=by_status,
        waiting_by_kind=by_kind,
        claimed=count(queued, Case.lease_expires_at > now),
        overdue=count(queued, Case.due_at < now),
        escalated=count(queued, Case.escalated.is_(True)),
        live_risk=count(queued, Case.live_risk.is_(True)),
        decided_by_label=by_label,
        automatic_decisions=session.scalar(
            select(func.count()).select_from(Decision).where(Decision.kind == DecisionKind.auto)
        )
        or 0,
        oldest_waiting_since=session.scalar(select(func.min(Case.queued_at)).where(queued)),
    )
