"""Tables of the review capability: cases, their signals, fingerprints and links, decisions, appeals,
the domain events a decision emits (the outbox the actions capability fans out), and bank requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from safeguard.review.states import (
    QUEUED_STATUSES,
    AppealStatus,
    BankRequestStatus,
    CaseKind,
    CaseStatus,
    DecisionKind,
    DecisionStatus,
    LinkReason,
)
from safeguard.store.base import Base, JSONDoc
from safeguard.store.columns import StrEnumColumn

BIGINT = BigInteger().with_variant(Integer(), "sqlite")
__all__ = ["QUEUED_STATUSES", "Appeal", "BankRequest", "Case", "CaseFingerprint", "CaseLink", "CaseSignal"]
__all__ += ["Decision", "ReviewEvent"]


class Case(Base):
    """Everything known about one piece of content, one conversation or one account of one integrator."""

    __tablename__ = "review_cases"
    __table_args__ = (
        # The claim query walks this index in order (queued cases, live risk first, then rank) and stops
        # at the first free case, so claiming stays fast with 100k+ cases waiting (see bench/review.py).
        Index("ix_review_cases_queue", "queued", "live_risk", "rank", "id"),
        Index("ix_review_cases_owner_account", "owner", "account_id"),
        # A subject's earlier cases: a re-scan of decided content, a linked case for a decided conversation.
        Index("ix_review_cases_owner_subject", "owner", "kind", "subject"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))  # the integrator that sent the signals ("api_key:7")
    kind: Mapped[CaseKind] = mapped_column(StrEnumColumn(CaseKind, 16))
    subject: Mapped[str] = mapped_column(
        String(300)
    )  # the platform's id of that content/conversation/account
    account_id: Mapped[str | None] = mapped_column(String(300))  # uploader / suspected sender, for links
    # sha256(owner|kind|subject) while the case is undecided, NULL after: the unique constraint makes two
    # concurrent signals about one subject land in one case.
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[CaseStatus] = mapped_column(StrEnumColumn(CaseStatus, 24))
    queued: Mapped[bool] = mapped_column(Boolean, default=True)  # status is open or awaiting_confirmation
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    live_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_eligible: Mapped[bool] = mapped_column(Boolean, default=True)  # only media matches so far
    labels: Mapped[str] = mapped_column(String(64), default=",")  # ",A1,B2," suggested labels, for LIKE
    priority_base: Mapped[float] = mapped_column(Float)
    rank: Mapped[float] = mapped_column(Float)  # priority_base minus the opening time: see priority
    priority_parts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    signal_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime]
    queued_at: Mapped[datetime]  # opened_at, or when an appeal reopened it
    updated_at: Mapped[datetime]
    due_at: Mapped[datetime]
    lease_holder: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    pending_decision_id: Mapped[int | None] = mapped_column(BIGINT)
    # who must not take this case next: the proposer of a decision awaiting four-eyes confirmation, or the
    # moderator whose decision is appealed
    blocked_reviewer: Mapped[str | None] = mapped_column(String(200))
    decision_id: Mapped[int | None] = mapped_column(BIGINT)
    decided_at: Mapped[datetime | None]
    appeal_id: Mapped[int | None] = mapped_column(BIGINT)

    @validates("status")
    def _keep_queued(self, key: str, status: str) -> CaseStatus:
        self.queued = status in QUEUED_STATUSES
        return CaseStatus(status)


class CaseSignal(Base):
    __tablename__ = "review_signals"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))  # media_match | grooming_alert | user_report
    received_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CaseFingerprint(Base):
    """What identifies the media of a case across uploads (the matched bank entry, a SHA-256)."""

    __tablename__ = "review_fingerprints"
    __table_args__ = (UniqueConstraint("case_id", "fingerprint", name="uq_review_fingerprints_case_id"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(300), index=True)


class CaseLink(Base):
    __tablename__ = "review_links"
    __table_args__ = (UniqueConstraint("case_id", "other_case_id", "reason", name="uq_review_links_case_id"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id", ondelete="CASCADE"))
    other_case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id", ondelete="CASCADE"), index=True)
    reason: Mapped[LinkReason] = mapped_column(StrEnumColumn(LinkReason, 32))


class Decision(Base):
    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DecisionKind] = mapped_column(StrEnumColumn(DecisionKind, 16))
    status: Mapped[DecisionStatus] = mapped_column(StrEnumColumn(DecisionStatus, 24))
    label: Mapped[str] = mapped_column(String(24))
    actions: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    moderator: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None]
    source_decision_id: Mapped[int | None] = mapped_column(BIGINT)  # auto decisions: the one applied
    appeal_id: Mapped[int | None] = mapped_column(BIGINT)
    # The bank the moderator picked for add_to_bank / add_to_allowlist: banked when the decision is final.
    bank: Mapped[str | None] = mapped_column(String(200))


class Appeal(Base):
    __tablename__ = "review_appeals"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("review_decisions.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    submitted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    status: Mapped[AppealStatus] = mapped_column(StrEnumColumn(AppealStatus, 16))
    outcome_decision_id: Mapped[int | None] = mapped_column(BIGINT)


class ReviewEvent(Base):
    """Domain events written in the transaction that caused them (outbox); ``safeguard.actions`` turns
    them into webhook deliveries and sets ``dispatched_at``."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)  # also the global order of events
    event_id: Mapped[str] = mapped_column(String(36), unique=True)  # the idempotency key receivers see
    type: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int] = mapped_column(BIGINT)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None] = mapped_column(index=True)


class BankRequest(Base):
    """A decision asked to add confirmed media to a bank, or a false positive to an allowlist."""

    __tablename__ = "review_bank_requests"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("review_decisions.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(BIGINT, index=True)
    action: Mapped[str] = mapped_column(String(32))  # add_to_bank | add_to_allowlist
    label: Mapped[str] = mapped_column(String(24))
    media: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    status: Mapped[BankRequestStatus] = mapped_column(StrEnumColumn(BankRequestStatus, 16))
    created_at: Mapped[datetime]
