"""Conversations scored as they happen: the business rules behind the conversations API.

- A conversation belongs to the integrator that sends it (its owner, ``api_key:<id>``): state, retained
  text, alerts and message-id deduplication are keyed by (owner, conversation id), so two integrators
  using the same conversation id have two conversations and neither can read or disturb the other's.
  Asking for another owner's conversation is answered as "not found" and audited (``tenant.refused``).
- The running state of each conversation is stored in ``conversation_states`` and locked while a request
  adds messages, so any API worker can continue any conversation and two requests never lose an update.
- A message whose id the conversation has just seen (a retry) is not counted twice.
- When an author's risk crosses the threshold a :class:`~safeguard.text.alerts.GroomingAlert` goes to
  every sink (stored in ``grooming_alerts``; the API also files a review case).
- Text is kept only for conversations that raised an alert (for ``alert_text_days``), and - only if
  ``pending_text_seconds`` is set - briefly for the others, so the messages before an alert can be
  reviewed; :func:`purge_expired_text` deletes what has expired.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth import Actor, Role
from safeguard.auth.identity import owner_of, refusal
from safeguard.store.base import utcnow
from safeguard.text.alerts import AlertSink, DatabaseAlertSink, GroomingAlert
from safeguard.text.config import TextSettings
from safeguard.text.errors import ConversationNotFound, InvalidMessage, InvalidOwner
from safeguard.text.messages import MAX_TEXT_CHARS, Message
from safeguard.text.model import DEFAULT_MODEL_PATH, GroomingModel
from safeguard.text.models import ConversationMessageRow, ConversationStateRow, GroomingAlertRow
from safeguard.text.scorer import AuthorRisk, StreamingScorer
from safeguard.text.state import ConversationState

ID_CHARS = 200


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    author_id: str
    text: str
    message_id: str | None = None
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessageRisk:
    message_id: str
    author_id: str
    risk: float
    flagged: bool
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class ConversationAssessment:
    owner: str
    conversation_id: str
    risk: float
    flagged: bool
    threshold: float
    messages: int
    alerted_at: datetime | None
    authors: list[AuthorRisk]
    per_message: list[MessageRisk]
    alerts: list[GroomingAlert]
    text_retained: bool


# --- the scorer the API uses ------------------------------------------------------------------------------

_lock = threading.Lock()
_scorers: dict[tuple[str, float | None], tuple[StreamingScorer, str]] = {}


def scorer_for(settings: TextSettings) -> tuple[StreamingScorer, str]:
    """The process's scorer for these settings and the model file's SHA-256 (loaded once)."""
    path = settings.model_path or DEFAULT_MODEL_PATH
    key = (str(path), settings.threshold)
    with _lock:
        cached = _scorers.get(key)
        if cached is None:
            model = GroomingModel.load(Path(path))
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            cached = _scorers[key] = (StreamingScorer(model, settings.threshold), digest)
    return cached


# --- adding messages --------------------------------------------------------------------------------------


def post_messages(
    session: Session,
    actor: Actor,
    conversation_id: str,
    incoming: Sequence[IncomingMessage],
    *,
    settings: TextSettings,
    scorer: StreamingScorer,
    model_digest: str,
    sinks: Sequence[AlertSink] = (),
    now: datetime | None = None,
) -> ConversationAssessment:
    _check(conversation_id, incoming, settings)
    now = now or utcnow()
    owner = owner_of(actor)
    locked = _lock_state_row(session, owner, conversation_id, now)
    state = ConversationState.from_dict(locked.state) if locked.state else ConversationState()
    alerted_at = locked.alerted_at

    seen = set(state.recent_ids)
    fresh: list[Message] = []
    duplicates: list[MessageRisk] = []
    for item in incoming:
        if item.message_id is not None and item.message_id in seen:
            author = state.authors.get(item.author_id)
            peak = author.peak if author else 0.0
            duplicates.append(
                MessageRisk(item.message_id, item.author_id, peak, peak >= scorer.threshold, True)
            )
            continue
        if item.message_id is not None:
            seen.add(item.message_id)
        fresh.append(Message(conversation_id, item.author_id, item.text, item.time, item.message_id))
    result = scorer.score_messages({conversation_id: state}, fresh)

    alerts: list[GroomingAlert] = []
    all_sinks: list[AlertSink] = [DatabaseAlertSink(), *sinks]
    for crossing in result.crossings:
        risk = scorer.author_risk(conversation_id, state, crossing.author_id)
        others = tuple(a for a in state.authors if a != crossing.author_id)
        alert = GroomingAlert.from_risk(
            risk,
            message_id=crossing.message_id,
            others=others,
            threshold=scorer.threshold,
            model=model_digest,
            raised_at=now,
            owner=owner,
        )
        for sink in all_sinks:
            sink.emit(session, alert)
        alerts.append(alert)
    if alerts and alerted_at is None:
        alerted_at = now
        # The messages kept pending review of a possible alert now belong to an alerted conversation.
        session.execute(
            update(ConversationMessageRow)
            .where(ConversationMessageRow.owner == owner)
            .where(ConversationMessageRow.conversation_id == conversation_id)
            .values(expires_at=now + timedelta(days=settings.alert_text_days))
        )

    risks = result.risk.tolist()
    conversation_risk_now = state.risk()
    session.execute(
        update(ConversationStateRow)
        .where(ConversationStateRow.owner == owner)
        .where(ConversationStateRow.conversation_id == conversation_id)
        .values(
            state=state.to_dict(),
            messages=state.messages,
            risk=conversation_risk_now,
            alerted_at=alerted_at,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    kept = _Kept(owner, conversation_id, alerted_at, now)
    retained = _retain(session, kept, fresh, result.message_ids, risks, settings)
    audit.record(
        session,
        actor,
        "conversation.messages",
        "conversation",
        conversation_id,
        {
            "messages": len(fresh),
            "duplicates": len(duplicates),
            "risk": conversation_risk_now,
            "alerts": [a.author_id for a in alerts],
        },
    )
    per_message = [
        MessageRisk(mid, m.author_id, r, r >= scorer.threshold)
        for m, mid, r in zip(fresh, result.message_ids, risks, strict=True)
    ] + duplicates
    return _assessment(owner, conversation_id, alerted_at, state, scorer, per_message, alerts, retained)


@dataclass(frozen=True, slots=True)
class _LockedState:
    state: dict[str, Any]
    alerted_at: datetime | None


def _lock_state_row(session: Session, owner: str, conversation_id: str, now: datetime) -> _LockedState:
    """Lock the conversation's state row (creating it if new) for the rest of the transaction.

    Core statements: the row is read once and written once (``post_messages``), with no ORM object to
    track. A conversation's first message from two workers at once: ``SELECT ... FOR UPDATE`` locks
    nothing while the row does not exist, so the row is created with ``INSERT ... ON CONFLICT DO
    NOTHING`` (which waits for the other transaction's insert to commit or roll back) and then selected
    for update: one request waits for the other instead of failing on the primary key (PostgreSQL; on
    SQLite the write transaction is already exclusive)."""
    query = (
        select(ConversationStateRow.state, ConversationStateRow.alerted_at)
        .where(ConversationStateRow.owner == owner)
        .where(ConversationStateRow.conversation_id == conversation_id)
        .with_for_update()
    )
    found = session.execute(query).one_or_none()
    if found is None:
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(ConversationStateRow)
            .values(
                owner=owner,
                conversation_id=conversation_id,
                state={},
                messages=0,
                risk=0.0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["owner", "conversation_id"])
        )
        found = session.execute(query).one()
    return _LockedState(found.state, found.alerted_at)


@dataclass(frozen=True, slots=True)
class _Kept:
    owner: str
    conversation_id: str
    alerted_at: datetime | None
    now: datetime


def _retain(
    session: Session,
    kept: _Kept,
    messages: list[Message],
    ids: list[str],
    risks: list[float],
    settings: TextSettings,
) -> bool:
    now = kept.now
    if kept.alerted_at is not None:
        expires = kept.alerted_at + timedelta(days=settings.alert_text_days)
    elif settings.pending_text_seconds > 0:
        expires = now + timedelta(seconds=settings.pending_text_seconds)
    else:
        return False
    session.add_all(
        ConversationMessageRow(
            owner=kept.owner,
            conversation_id=kept.conversation_id,
            message_id=mid,
            author_id=m.author_id,
            text=m.text,
            sent_at=m.time,
            received_at=now,
            risk=risk,
            expires_at=expires,
        )
        for m, mid, risk in zip(messages, ids, risks, strict=True)
    )
    return True


def _check(conversation_id: str, incoming: Sequence[IncomingMessage], settings: TextSettings) -> None:
    if not conversation_id or len(conversation_id) > ID_CHARS:
        raise InvalidMessage(f"conversation id must be 1-{ID_CHARS} characters", field="conversation_id")
    if not incoming:
        raise InvalidMessage("no messages given", field="messages")
    if len(incoming) > settings.max_batch:
        raise InvalidMessage(f"at most {settings.max_batch} messages per request", field="messages")
    for i, item in enumerate(incoming):
        if not item.author_id or len(item.author_id) > ID_CHARS:
            raise InvalidMessage(f"message {i}: author must be 1-{ID_CHARS} characters", field="author")
        if item.message_id is not None and not 0 < len(item.message_id) <= ID_CHARS:
            raise InvalidMessage(f"message {i}: id must be 1-{ID_CHARS} characters", field="id")
        if len(item.text) > MAX_TEXT_CHARS:
            raise InvalidMessage(f"message {i}: text longer than {MAX_TEXT_CHARS} characters", field="text")


# --- reading --------------------------------------------------------------------------------------------


def reader_owner(actor: Actor, owner: str | None) -> str:
    """Whose conversations ``actor`` reads: its own, or (admin only) ``owner``'s."""
    mine = owner_of(actor)
    if owner is None or owner == mine:
        return mine
    if actor.role is not Role.admin:
        raise InvalidOwner(
            "only an admin may read another integrator's conversations", field="owner"
        ).refusing(refusal(actor, "conversation", "*", owner))
    return owner


def conversation_risk(
    session: Session,
    actor: Actor,
    conversation_id: str,
    scorer: StreamingScorer,
    *,
    owner: str | None = None,
) -> ConversationAssessment:
    """The conversation's risk; another owner's conversation is "not found" to everyone but an admin
    naming that ``owner`` (and the refusal is audited)."""
    owner = reader_owner(actor, owner)
    row = session.get(ConversationStateRow, (owner, conversation_id))
    if row is None:
        error = ConversationNotFound(f"no messages have been scored for conversation {conversation_id!r}")
        if actor.role is Role.admin:  # may read any owner's (?owner=): nothing is refused
            raise error
        other = session.scalar(
            select(ConversationStateRow.owner)
            .where(ConversationStateRow.conversation_id == conversation_id)
            .limit(1)
        )
        raise (
            error if other is None else error.refusing(refusal(actor, "conversation", conversation_id, other))
        )
    state = ConversationState.from_dict(row.state)
    retained = session.scalar(
        select(ConversationMessageRow.id)
        .where(ConversationMessageRow.owner == owner)
        .where(ConversationMessageRow.conversation_id == conversation_id)
        .limit(1)
    )
    return _assessment(owner, conversation_id, row.alerted_at, state, scorer, [], [], retained is not None)


def _assessment(
    owner: str,
    conversation_id: str,
    alerted_at: datetime | None,
    state: ConversationState,
    scorer: StreamingScorer,
    per_message: list[MessageRisk],
    alerts: list[GroomingAlert],
    retained: bool,
) -> ConversationAssessment:
    authors = scorer.conversation_risks(conversation_id, state)
    risk = max((a.risk for a in authors), default=0.0)
    return ConversationAssessment(
        owner=owner,
        conversation_id=conversation_id,
        risk=risk,
        flagged=risk >= scorer.threshold,
        threshold=scorer.threshold,
        messages=state.messages,
        alerted_at=alerted_at,
        authors=authors,
        per_message=per_message,
        alerts=alerts,
        text_retained=retained,
    )


def list_alerts(session: Session, *, after_id: int = 0, limit: int = 100) -> list[GroomingAlertRow]:
    """Alerts in the order they were raised (``after_id`` pages through them): what review consumes."""
    query = select(GroomingAlertRow).where(GroomingAlertRow.id > after_id).order_by(GroomingAlertRow.id)
    return list(session.scalars(query.limit(max(1, min(limit, 1000)))))


def purge_expired_text(session: Session, actor: Actor, *, now: datetime | None = None) -> int:
    """Delete conversation text whose retention has run out; returns how many messages were deleted."""
    now = now or utcnow()
    result = session.execute(delete(ConversationMessageRow).where(ConversationMessageRow.expires_at <= now))
    deleted = int(getattr(result, "rowcount", 0) or 0)
    audit.record(
        session, actor, "conversation_text.purge", "conversation_messages", "expired", {"deleted": deleted}
    )
    return deleted
