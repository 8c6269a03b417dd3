"""API keys. Only a SHA-256 digest of each key is stored; the key itself is shown once at creation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from safeguard.store.base import Base, utcnow


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    # First characters of the key, safe to show, so an operator can tell keys apart in lists and logs.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # A key past this moment is refused like a revoked one; None: it does not expire.
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # Advisory, at most a minute stale: written only when a process checks the key against the database.
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    # The UI user who holds the key, if a person does: four-eyes rules treat the key and that user's login
    # as one person (safeguard.auth.identity).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
