"""Where "add confirmed media to a bank" and "add to the allowlist as a false positive" go.

Review only records the request (``review_bank_requests``, in the decision's transaction) through the
:class:`BankSink` interface; an adapter to the banks service (``sources.py``) can apply it directly instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.review.models import BankRequest, Case, CaseSignal, Decision
from safeguard.review.states import BankRequestStatus


class BankSink(Protocol):
    def request(
        self, session: Session, case: Case, decision: Decision, action: str, now: datetime
    ) -> BankRequest: ...


def media_of(session: Session, case: Case) -> list[dict[str, Any]]:
    """The media evidence of a case: the bank entries it matched and the hashes the platform sent."""
    media: list[dict[str, Any]] = []
    for payload in session.scalars(select(CaseSignal.payload).where(CaseSignal.case_id == case.id)):
        if payload.get("type") == "media_match":
            media.append(
                {
                    "content_id": payload["content_id"],
                    "bank": payload["bank"],
                    "bank_content_id": payload["bank_content_id"],
                    "signal_type": payload["signal_type"],
                    "content_sha256": payload.get("content_sha256"),
                    "query_hash": payload.get("query_hash"),
                }
            )
        elif payload.get("content_sha256"):
            media.append({"content_id": payload["subject_id"], "content_sha256": payload["content_sha256"]})
    return media


class RecordingBankSink:
    """Records the request as pending; the banks capability (or an operator) applies it."""

    def request(
        self, session: Session, case: Case, decision: Decision, action: str, now: datetime
    ) -> BankRequest:
        row = BankRequest(
            decision_id=decision.id,
            case_id=case.id,
            action=action,
            label=decision.label,
            media=media_of(session, case),
            status=BankRequestStatus.pending,
            created_at=now,
        )
        session.add(row)
        return row
