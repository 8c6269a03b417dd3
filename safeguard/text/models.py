"""Tables: the scorer's running state per conversation, the text kept for review, and the alerts.

``conversation_states`` holds no message text, only the running state (counts, sums, the peak risk and a
few evidence excerpts). ``conversation_messages`` holds text only for conversations that raised an alert
(and, if configured, briefly for the others); every row carries the time it must be deleted by.
``grooming_alerts`` is the record the review queue reads (``docs/grooming.md``, "Alerts").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safeguard.store.base import Base, JSONDoc, utcnow

BIGINT = BigInteger().with_variant(Integer(), "sqlite")
ID_CHARS = 200


class ConversationStateRow(Base):
    __tablename__ = "conversation_states"

    # The integrator that sent the conversation ("api_key:7", safeguard.auth.identity.owner_of): the same
    # conversation id from two integrators is two conversations, and neither sees the other's.
    owner: Mapped[str] = mapped_column(String(ID_CHARS), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(ID_CHARS), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column()
    messages: Mapped[int] = mapped_column(Integer, default=0)
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    alerted_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationMessageRow(Base):
    __tablename__ = "conversation_messages"
    __table_args__ = (
        Index("ix_conversation_messages_expires_at", "expires_at"),
        Index("ix_conversation_messages_owner_conversation_id", "owner", "conversation_id"),
        ForeignKeyConstraint(
            ["owner", "conversation_id"],
            ["conversation_states.owner", "conversation_states.conversation_id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(ID_CHARS))
    conversation_id: Mapped[str] = mapped_column(String(ID_CHARS))
    message_id: Mapped[str] = mapped_column(String(ID_CHARS))
    author_id: Mapped[str] = mapped_column(String(ID_CHARS))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    expires_at: Mapped[datetime] = mapped_column()


class GroomingAlertRow(Base):
    __tablename__ = "grooming_alerts"
    __table_args__ = (Index("ix_grooming_alerts_owner_conversation_id", "owner", "conversation_id"),)

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(ID_CHARS))
    conversation_id: Mapped[str] = mapped_column(String(ID_CHARS))
    author_id: Mapped[str] = mapped_column(String(ID_CHARS))
    other_authors: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    message_id: Mapped[str] = mapped_column(String(ID_CHARS))
    author_message_index: Mapped[int] = mapped_column(Integer)
    risk: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    behaviours: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    reasons: Mapped[dict[str, Any]] = mapped_column()
    model: Mapped[str] = mapped_column(String(64))
    raised_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    review_case_id: Mapped[int | None] = mapped_column(BIGINT, default=None)
