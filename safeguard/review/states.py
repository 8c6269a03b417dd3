"""The states of review's records, one ``StrEnum`` each (stored as strings, see
``safeguard.store.columns.StrEnumColumn``)."""

from __future__ import annotations

from enum import StrEnum


class CaseKind(StrEnum):
    content = "content"
    conversation = "conversation"
    account = "account"


class CaseStatus(StrEnum):
    open = "open"
    awaiting_confirmation = "awaiting_confirmation"  # a decision waits for a second moderator (four eyes)
    decided = "decided"


QUEUED_STATUSES = frozenset({CaseStatus.open, CaseStatus.awaiting_confirmation})


class DecisionKind(StrEnum):
    review = "review"  # a moderator's
    auto = "auto"  # applied to a re-upload of media already decided
    appeal = "appeal"  # the outcome of an appeal


class DecisionStatus(StrEnum):
    final = "final"
    pending_confirmation = "pending_confirmation"
    rejected = "rejected"  # the second moderator refused it
    escalation = "escalation"  # sent to a senior reviewer instead of decided


class AppealStatus(StrEnum):
    open = "open"
    upheld = "upheld"
    overturned = "overturned"


class BankRequestStatus(StrEnum):
    pending = "pending"
    applied = "applied"


class LinkReason(StrEnum):
    same_subject = "same_subject"  # the same conversation or content again, after its case was decided
    same_account = "same_account"
    same_content = "same_content"
