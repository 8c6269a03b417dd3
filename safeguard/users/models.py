"""User accounts and their sign-in sessions.

Passwords are stored as argon2id hashes only. Session ids are 256 random bits kept by the browser; the
table holds their SHA-256 digest, so a copy of the database cannot be used to take over a session, and
ending a session (logout, expiry, disabling the user) is a row update the next request sees.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from safeguard.store.base import Base, utcnow

BIGINT = BigInteger().with_variant(Integer(), "sqlite")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # How strongly case media is blurred for this person (CSS pixels); they may choose within limits.
    blur_px: Mapped[int] = mapped_column(Integer, default=24)


class UserSession(Base):
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Per-session anti-forgery token, sent in every form; useless without the session cookie itself.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # Wellness: media items shown since the last break, and when that break was.
    items_viewed: Mapped[int] = mapped_column(Integer, default=0)
    break_at: Mapped[datetime] = mapped_column(default=utcnow)
