"""Cases and the review queue.

Integrators send signals and reports (``POST /v1/reports``, ``POST /v1/cases/signals``) and appeals;
moderators claim, decide, confirm (four eyes), escalate and release; admins act as senior reviewers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.api.deps import db_session, read_session, require_roles
from safeguard.auth import Actor, Role
from safeguard.flows import decision as decision_flow
from safeguard.review import decisions, flows, queue
from safeguard.review.config import ReviewSettings, get_review_settings
from safeguard.review.decisions import Action, load_case
from safeguard.review.models import Appeal, Case, Decision
from safeguard.review.priority import with_waiting
from safeguard.review.signals import Label, MatchLabel, Signal, UserReportSignal
from safeguard.store.base import utcnow

router = APIRouter(tags=["review"])
integrators = require_roles(Role.integrator)
moderators = require_roles(Role.moderator)
appellants = require_roles(Role.integrator, Role.moderator)

CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DecisionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Kind = Literal["content", "conversation", "account"]


def review_settings(request: Request) -> ReviewSettings:
    settings: ReviewSettings | None = getattr(request.app.state, "review_settings", None)
    return settings or get_review_settings()


class CaseRef(BaseModel):
    case_id: int
    created: bool = Field(description="False when the signal joined an undecided case of the same subject.")
    status: str
    live_risk: bool
    auto_decision_id: int | None = Field(
        description="Set when a re-upload was decided by an earlier decision."
    )


class CaseOut(BaseModel):
    id: int
    owner: str
    kind: str
    subject_id: str
    account_id: str | None
    status: str
    escalated: bool
    live_risk: bool
    labels: list[str]
    priority: dict[str, Any] = Field(
        description="Score and its parts: severity, confidence, child_at_risk, ..."
    )
    signal_count: int
    opened_at: datetime
    due_at: datetime
    overdue: bool
    lease_holder: str | None
    lease_expires_at: datetime | None
    pending_decision_id: int | None
    decision_id: int | None
    appeal_id: int | None

    @classmethod
    def of(cls, case: Case) -> CaseOut:
        now = utcnow()
        leased = case.lease_expires_at is not None and case.lease_expires_at > now
        return cls(
            id=case.id,
            owner=case.owner,
            kind=case.kind,
            subject_id=case.subject,
            account_id=case.account_id,
            status=case.status,
            escalated=case.escalated,
            live_risk=case.live_risk,
            labels=[label for label in case.labels.split(",") if label],
            priority=with_waiting(case.priority_parts, case.priority_base, case.queued_at, now),
            signal_count=case.signal_count,
            opened_at=case.opened_at,
            due_at=case.due_at,
            overdue=case.status != "decided" and case.due_at < now,
            lease_holder=case.lease_holder if leased else None,
            lease_expires_at=case.lease_expires_at if leased else None,
            pending_decision_id=case.pending_decision_id,
            decision_id=case.decision_id,
            appeal_id=case.appeal_id,
        )


class DecisionOut(BaseModel):
    id: int
    case_id: int
    kind: str
    status: str
    label: str
    actions: list[str]
    notes: str
    moderator: str
    created_at: datetime
    confirmed_by: str | None
    confirmed_at: datetime | None
    source_decision_id: int | None
    appeal_id: int | None
    bank: str | None = Field(description="Where add_to_bank / add_to_allowlist put the case's hashes.")

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls.model_validate(decision, from_attributes=True)


class AppealOut(BaseModel):
    id: int
    case_id: int
    decision_id: int
    reason: str
    submitted_by: str
    created_at: datetime
    status: str
    outcome_decision_id: int | None

    @classmethod
    def of(cls, appeal: Appeal) -> AppealOut:
        return cls.model_validate(appeal, from_attributes=True)


class LinkOut(BaseModel):
    case_id: int
    reason: str


class CaseDetail(CaseOut):
    signals: list[dict[str, Any]]
    links: list[LinkOut]
    decisions: list[DecisionOut]
    appeals: list[AppealOut]


def _detail(session: Session, case: Case) -> CaseDetail:
    signals = [s.model_dump(mode="json") for s in flows.signals_of(session, case.id)]
    links = [LinkOut(case_id=other, reason=reason) for other, reason in flows.related_cases(session, case.id)]
    made = session.scalars(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id))
    appeals = session.scalars(select(Appeal).where(Appeal.case_id == case.id).order_by(Appeal.id))
    return CaseDetail(
        **CaseOut.of(case).model_dump(),
        signals=signals,
        links=links,
        decisions=[DecisionOut.of(d) for d in made],
        appeals=[AppealOut.of(a) for a in appeals],
    )


def _ref(result: flows.CaseResult) -> CaseRef:
    return CaseRef(
        case_id=result.case.id,
        created=result.created,
        status=result.case.status,
        live_risk=result.case.live_risk,
        auto_decision_id=result.auto_decision.id if result.auto_decision else None,
    )


@router.post("/v1/reports", response_model=CaseRef, status_code=201, summary="Report content, a contact...")
def report(
    body: UserReportSignal,
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(db_session)],
    settings: Annotated[ReviewSettings, Depends(review_settings)],
) -> CaseRef:
    """A user, a child or a parent on the platform reported content, a conversation or an account."""
    return _ref(flows.open_case_from_report(session, actor, body, settings=settings))


@router.post("/v1/cases/signals", response_model=CaseRef, status_code=201, summary="Submit a signal")
def submit_signal(
    body: Annotated[Signal, Body()],
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(db_session)],
    settings: Annotated[ReviewSettings, Depends(review_settings)],
) -> CaseRef:
    """A media match, grooming alert or user report (``type`` tells which) opens or updates a case."""
    return _ref(flows.open_case(session, actor, body, settings=settings))


class CaseList(BaseModel):
    cases: list[CaseOut]
    next_after: int | None


@router.get("/v1/cases", response_model=CaseList, summary="List cases (queue order by default)")
def list_cases(
    actor: Annotated[Actor, Depends(moderators)],
    session: Annotated[Session, Depends(read_session)],
    status: Literal["open", "awaiting_confirmation", "decided"] | None = None,
    kind: Kind | None = None,
    label: MatchLabel | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    order: Literal["priority", "id"] = "priority",
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CaseList:
    page = queue.list_cases(
        session,
        actor,
        status=status,
        kind=kind,
        label=label,
        overdue=overdue,
        escalated=escalated,
        order=order,
        after=after,
        limit=limit,
    )
    return CaseList(cases=[CaseOut.of(c) for c in page.cases], next_after=page.next_after)


class StatsOut(BaseModel):
    by_status: dict[str, int]
    waiting_by_kind: dict[str, int]
    claimed: int
    overdue: int
    escalated: int
    live_risk: int
    decided_by_label: dict[str, int]
    automatic_decisions: int
    oldest_waiting_since: datetime | None


@router.get("/v1/cases/stats", response_model=StatsOut, summary="Queue figures: waiting, overdue, decided")
def case_stats(
    actor: Annotated[Actor, Depends(moderators)], session: Annotated[Session, Depends(read_session)]
) -> StatsOut:
    return StatsOut.model_validate(queue.stats(session), from_attributes=True)


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kinds: list[Kind] = Field(default_factory=list, max_length=3)
    labels: list[MatchLabel] = Field(default_factory=list, max_length=4)
    escalated: bool | None = Field(
        default=None, description="Senior reviewers (admin): only escalated cases."
    )
    live_risk_only: bool = False


class ClaimOut(BaseModel):
    case: CaseDetail | None = Field(description="None when nothing matching is waiting.")


@router.post("/v1/cases/claim", response_model=ClaimOut, summary="Claim the most urgent case (with a lease)")
def claim(
    actor: Annotated[Actor, Depends(moderators)],
    session: Annotated[Session, Depends(db_session)],
    settings: Annotated[ReviewSettings, Depends(review_settings)],
    body: ClaimIn | None = None,
) -> ClaimOut:
    body = body or ClaimIn()
    flt = queue.QueueFilter(body.kinds, body.labels, body.escalated, body.live_risk_only)
    case = queue.claim_next(session, actor, flt, settings=settings)
    return ClaimOut(case=_detail(session, case) if case else None)


@router.get("/v1/cases/{case_id}", response_model=CaseDetail, summary="A case with signals, links, decisions")
def get_case(
    case_id: CaseId,
    actor: Annotated[Actor, Depends(moderators)],
    session: Annotated[Session, Depends(read_session)],
) -> CaseDetail:
    return _detail(session, load_case(session, case_id))


@router.post("/v1/cases/{case_id}/release", response_model=CaseOut, summary="Give a claimed case back")
def release(
    case_id: CaseId,
    actor: Annotated[Actor, Depends(moderators)],
    session: Annotated[Session, Depends(db_session)],
) -> CaseOut:
    return CaseOut.of(queue.release(session, actor, case_id))


@router.post("/v1/cases/{case_id}/lease", response_model=CaseOut, summary="Extend the lease on a held case")
def renew(
    case_id: CaseId,
    actor: Annotated[Actor, Depends(moderators)],
    session: Annotated[Session, Depends(db_session)],
    settings: Annotated[ReviewSettings, Depends(review_settings)],
) -> CaseOut:
    return CaseOut.of(queue.renew(session, actor, case_id, settings=settings))


class EscalateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=4000)


@router.post(
    "/v1/cases/{case_id}/escalate", response_model=CaseOut, summary="Hand a case to a senior reviewer"
)
def escalate(
    case_id: CaseId,
    body: EscalateIn,
    actor: Annotated[Actor, Depends(moderators)],
    session: Annotated[Session, Depends(db_session)],
) -> CaseOut:
    return CaseOut.of(queue.escalate(session, actor, case_id, reason=body.reason))


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Label
    actions: list[Action] = Field(default_factory=list, max_length=7)
    notes: str = Field(default="", max_length=10_000)
    bank: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The bank (by name) add_to_bank puts the case's hashes into, or the allowlist bank "
        "for add_to_allowlist; banked when the decision is final (after four eyes, if configured).",
    )


@router.post("/v1/cases/{case_id}/decisions", response_model=DecisionOut, status_code=201, summary="Decide")
def decide(
    case_id: CaseId,
    body: DecisionIn,
    actor: Annotated[Actor, Depends(moderators)],
    session: Annotated[Session, Depends(db_session)],
    settings: Annotated[ReviewSettings, Depends(review_settings)],
) -> DecisionOut:
    """Decide a case you hold. Decisions with a four-eyes action or label wait for a second moderator
    (``status: pending_confirmation``); ``needs_escalation`` hands the case to a senior reviewer."""
    decision = decision_flow.decide(
        session,
        actor,
        case_id,
        label=body.label,
        actions=body.actions,
        notes=body.notes,
        bank=body.bank,
        settings=settings,
    )
    return DecisionOut.of(decision)


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    notes: str = Field(default="", max_length=10_000)


@router.post(
    "/v1/cases/{case_id}/decisions/{decision_id}/confirm",
    response_model=DecisionOut,
    summary="Confirm or reject another moderator's decision (four eyes)",
)
def confirm(
    case_id: CaseId,
    decision_id: DecisionId,
    body: ConfirmIn,
    actor: Annotated[Actor, Depends(moderators)],
    session: Annotated[Session, Depends(db_session)],
) -> DecisionOut:
    decision = decision_flow.confirm(
        session, actor, case_id, decision_id, approve=body.approve, notes=body.notes
    )
    return DecisionOut.of(decision)


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=4000)


@router.post("/v1/cases/{case_id}/appeals", response_model=AppealOut, status_code=201, summary="Appeal")
def appeal(
    case_id: CaseId,
    body: AppealIn,
    actor: Annotated[Actor, Depends(appellants)],
    session: Annotated[Session, Depends(db_session)],
    settings: Annotated[ReviewSettings, Depends(review_settings)],
) -> AppealOut:
    """Reopen a decided case for a new review by a different moderator; both outcomes are kept."""
    return AppealOut.of(decisions.appeal(session, actor, case_id, reason=body.reason, settings=settings))
