"""Conversations scored message by message for grooming (role integrator).

``POST /v1/conversations/{id}/messages`` adds one message (``{"author", "text", "id"?, "time"?}``) or a
batch (``{"messages": [...]}``) and answers the conversation's current risk, each author's risk and the
reasons; ``GET /v1/conversations/{id}/risk`` answers the same without adding anything. When an author's
risk crosses the threshold the alert is stored (``grooming_alerts``) and filed as a review case, which
later messages keep up to date (``safeguard.flows.conversation``). Conversations are the sending
integrator's own (keyed by owner and id); an admin reads another's with ``?owner=api_key:7``.

The POST route opens its own transaction (not the ``db_session`` dependency) so that it ends as soon as
the database work is done: building and validating the response, and the framework's work around the
route, happen after COMMIT, outside the write lock every writer of the deployment queues on (SQLite has
one writer; the audit chain's head row serialises writers on PostgreSQL too). See docs/grooming.md
"Speed".
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from safeguard.api.deps import get_db, read_session, require_roles
from safeguard.auth import Actor, Role
from safeguard.flows import conversation
from safeguard.review.config import ReviewSettings, get_review_settings
from safeguard.store.db import Database
from safeguard.text import service
from safeguard.text.config import TextSettings, get_text_settings
from safeguard.text.errors import ModelFileError, ModelNotLoaded
from safeguard.text.messages import MAX_TEXT_CHARS
from safeguard.text.scorer import AuthorRisk, StreamingScorer

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
integrators = require_roles(Role.integrator)

# Ids are opaque to us but must be storable on both backends: no control characters (PostgreSQL refuses NUL).
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
ConversationId = Annotated[
    str,
    Path(min_length=1, max_length=200, pattern=PRINTABLE, description="The platform's conversation id."),
]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=PRINTABLE,
        description="The platform's message id.",
    )
    author: str = Field(
        min_length=1, max_length=200, pattern=PRINTABLE, description="The platform's id of the sender."
    )
    text: str = Field(max_length=MAX_TEXT_CHARS, description="The message text (no NUL characters).")

    @field_validator("text")
    @classmethod
    def _no_nul(cls, text: str) -> str:
        if "\x00" in text:
            raise ValueError("text must not contain NUL characters")
        return text

    time: datetime | None = None


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[MessageIn] = Field(min_length=1, max_length=10_000)


class EvidenceOut(BaseModel):
    message_id: str
    author_message_index: int = Field(description="1-based position among the author's messages.")
    start: int = Field(description="Character offset in the message text as sent.")
    end: int
    excerpt: str


class ReasonOut(BaseModel):
    behaviour: str
    description: str
    messages: int = Field(description="How many of the author's messages showed it.")
    evidence: list[EvidenceOut]


class AuthorOut(BaseModel):
    author: str
    risk: float = Field(description="Highest calibrated risk so far (0-1).")
    current: float = Field(description="Risk after the author's latest message.")
    flagged: bool
    first_flag_message: int | None
    messages: int
    child_directed_evidence: bool = Field(
        description="False while no child-directed behaviour has been seen: the risk then stays below the "
        "threshold whatever else is said."
    )
    reasons: list[ReasonOut]


class MessageRiskOut(BaseModel):
    id: str
    author: str
    risk: float
    flagged: bool
    duplicate: bool = Field(description="Already received (same id): not counted again.")


class AlertOut(BaseModel):
    author: str
    message_id: str
    risk: float
    behaviours: list[str]


class ConversationRiskOut(BaseModel):
    owner: str = Field(description='The integrator the conversation belongs to ("api_key:7").')
    conversation: str
    risk: float
    flagged: bool
    threshold: float
    messages: int
    alerted_at: datetime | None
    text_retained: bool = Field(description="Whether Safeguard keeps this conversation's text (see docs).")
    authors: list[AuthorOut]
    alerts: list[AlertOut] = Field(description="Alerts raised by this request.")
    per_message: list[MessageRiskOut] = Field(description="The author's risk after each message sent.")


def text_settings(request: Request) -> TextSettings:
    settings: TextSettings | None = getattr(request.app.state, "text_settings", None)
    return settings or get_text_settings()


def review_settings(request: Request) -> ReviewSettings:
    settings: ReviewSettings | None = getattr(request.app.state, "review_settings", None)
    return settings or get_review_settings()


def _scorer(settings: TextSettings) -> tuple[StreamingScorer, str]:
    try:
        return service.scorer_for(settings)
    except ModelFileError as exc:
        raise ModelNotLoaded(f"the grooming model cannot be loaded: {exc.detail}") from exc


def _out(assessment: service.ConversationAssessment) -> ConversationRiskOut:
    return ConversationRiskOut(
        owner=assessment.owner,
        conversation=assessment.conversation_id,
        risk=assessment.risk,
        flagged=assessment.flagged,
        threshold=assessment.threshold,
        messages=assessment.messages,
        alerted_at=assessment.alerted_at,
        text_retained=assessment.text_retained,
        authors=[_author(a) for a in assessment.authors],
        alerts=[
            AlertOut(author=a.author_id, message_id=a.message_id, risk=a.risk, behaviours=list(a.behaviours))
            for a in assessment.alerts
        ],
        per_message=[
            MessageRiskOut(
                id=m.message_id, author=m.author_id, risk=m.risk, flagged=m.flagged, duplicate=m.duplicate
            )
            for m in assessment.per_message
        ],
    )


def _author(risk: AuthorRisk) -> AuthorOut:
    return AuthorOut(
        author=risk.author_id,
        risk=risk.risk,
        current=risk.current,
        flagged=risk.flagged,
        first_flag_message=risk.first_flag_message,
        messages=risk.messages,
        child_directed_evidence=risk.child_directed_evidence,
        reasons=[
            ReasonOut(
                behaviour=r.behaviour,
                description=r.description,
                messages=r.messages,
                evidence=[
                    EvidenceOut(
                        message_id=e.message_id,
                        author_message_index=e.message_index,
                        start=e.start,
                        end=e.end,
                        excerpt=e.excerpt,
                    )
                    for e in r.evidence
                ],
            )
            for r in risk.reasons
        ],
    )


@router.post("/{conversation_id}/messages", response_model=ConversationRiskOut)
def post_messages(
    conversation_id: ConversationId,
    body: Annotated[MessageIn | BatchIn, Body()],
    actor: Annotated[Actor, Depends(integrators)],
    db: Annotated[Database, Depends(get_db)],
    settings: Annotated[TextSettings, Depends(text_settings)],
    review: Annotated[ReviewSettings, Depends(review_settings)],
) -> ConversationRiskOut:
    """Score one message or a batch, in order; returns the conversation's risk and the reasons."""
    items = body.messages if isinstance(body, BatchIn) else [body]
    scorer, digest = _scorer(settings)
    incoming = [service.IncomingMessage(m.author, m.text, m.id, m.time) for m in items]
    with db.session() as session:
        assessment = conversation.post_messages(
            session,
            actor,
            conversation_id,
            incoming,
            text_settings=settings,
            review_settings=review,
            scorer=scorer,
            model_digest=digest,
        )
    return _out(assessment)


@router.get("/{conversation_id}/risk", response_model=ConversationRiskOut)
def get_risk(
    conversation_id: ConversationId,
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
    settings: Annotated[TextSettings, Depends(text_settings)],
    owner: Annotated[
        str | None,
        Query(min_length=1, max_length=200, pattern=PRINTABLE, description="Admin only: whose conversation."),
    ] = None,
) -> ConversationRiskOut:
    """The conversation's current risk, each author's risk and the reasons."""
    scorer, _ = _scorer(settings)
    return _out(service.conversation_risk(session, actor, conversation_id, scorer, owner=owner))
