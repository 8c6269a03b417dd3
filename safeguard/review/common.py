"""Small helpers shared by the review modules."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from safeguard.auth import Actor
from safeguard.auth.identity import owner_of
from safeguard.review.models import Case, ReviewEvent
from safeguard.review.signals import GroomingAlertSignal, MediaMatchSignal, Signal, UserReportSignal

AnySignal = MediaMatchSignal | GroomingAlertSignal | UserReportSignal
SIGNAL_ADAPTER: TypeAdapter[AnySignal] = TypeAdapter(Signal)


def who(actor: Actor) -> str:
    """The identity stored for owners and moderators ("api_key:7", "user:alice", "cli:root")."""
    return owner_of(actor)


def open_key_of(owner: str, kind: str, subject: str) -> str:
    return hashlib.sha256(f"{owner}\x00{kind}\x00{subject}".encode()).hexdigest()


def emit(session: Session, case: Case, event_type: str, data: dict[str, Any], now: datetime) -> ReviewEvent:
    """Write a domain event in the caller's transaction (the outbox row ``safeguard.actions`` delivers)."""
    event = ReviewEvent(
        event_id=str(uuid.uuid4()),
        type=event_type,
        owner=case.owner,
        case_id=case.id,
        payload=data,
        created_at=now,
    )
    session.add(event)
    return event
