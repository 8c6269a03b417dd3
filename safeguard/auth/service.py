"""Create, list, revoke and check API keys.

Keys are 256 random bits (``secrets.token_urlsafe(32)``) behind a ``sg_`` prefix. Because they are random
and long, a plain SHA-256 digest is a safe way to store them (no dictionary to attack, unlike passwords)
and lets a request find its key with one indexed lookup instead of a slow hash per stored key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth.errors import (
    ApiKeyAlreadyRevoked,
    ApiKeyNotFound,
    InvalidCredentials,
    UnknownRole,
    UnknownUser,
)
from safeguard.auth.models import ApiKey
from safeguard.auth.roles import Actor, Role
from safeguard.errors import InvalidInput
from safeguard.store.base import utcnow
from safeguard.users.models import User

KEY_PREFIX = "sg_"


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    user: str | None = None  # the UI user who holds the key

    @classmethod
    def of(cls, row: ApiKey, user: str | None = None) -> ApiKeyInfo:
        return cls(
            row.id,
            row.name,
            Role(row.role),
            row.prefix,
            row.created_at,
            row.created_by,
            row.revoked_at,
            row.expires_at,
            row.last_used_at,
            user,
        )

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True, slots=True)
class NewApiKey:
    info: ApiKeyInfo
    key: str  # shown once, never stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise UnknownRole(f"unknown role {value!r}; expected one of: {allowed}", field="role") from None


def _user_id(session: Session, username: str) -> int:
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise UnknownUser(f"no UI user {username!r}", field="user")
    return user_id


def create_key(
    session: Session,
    actor: Actor,
    *,
    name: str,
    role: Role,
    expires_at: datetime | None = None,
    user: str | None = None,
) -> NewApiKey:
    """A new key; ``user`` names the UI user who holds it (one person for four-eyes rules)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("name must be 1 to 200 characters", field="name")
    if expires_at is not None:
        # A time without a zone is read as UTC.
        expires_at = (
            expires_at.replace(tzinfo=UTC) if expires_at.tzinfo is None else expires_at.astimezone(UTC)
        )
        if expires_at <= utcnow():
            raise InvalidInput("expires_at must be in the future", field="expires_at")
    user_id = _user_id(session, user) if user is not None else None
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        role=role.value,
        prefix=key[:10],
        key_hash=hash_key(key),
        created_at=utcnow(),
        created_by=f"{actor.kind}:{actor.id}",
        expires_at=expires_at,
        user_id=user_id,
    )
    session.add(row)
    session.flush()
    change: dict[str, object] = {"name": name, "role": role.value}
    if expires_at is not None:
        change["expires_at"] = expires_at.isoformat(timespec="seconds")
    if user is not None:
        change["user"] = user
    audit.record(session, actor, "api_key.create", "api_key", str(row.id), change)
    return NewApiKey(ApiKeyInfo.of(row, user), key)


def list_keys(session: Session, *, include_revoked: bool = True) -> list[ApiKeyInfo]:
    query = select(ApiKey, User.username).outerjoin(User, ApiKey.user_id == User.id).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return [ApiKeyInfo.of(row, username) for row, username in session.execute(query)]


def revoke_key(session: Session, actor: Actor, key_id: int) -> ApiKeyInfo:
    row = session.get(ApiKey, key_id, with_for_update=True)
    if row is None:
        raise ApiKeyNotFound(f"no API key with id {key_id}", field="key_id")
    if row.revoked_at is not None:
        raise ApiKeyAlreadyRevoked(f"API key {key_id} was already revoked")
    row.revoked_at = utcnow()
    audit.record(session, actor, "api_key.revoke", "api_key", str(row.id), {"revoked": True})
    user = session.get(User, row.user_id) if row.user_id is not None else None
    return ApiKeyInfo.of(row, user.username if user else None)


def key_digest(key: str) -> str:
    """The stored form of a presented key; raises :class:`InvalidCredentials` for a malformed one."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        raise InvalidCredentials("the API key is not valid")
    return hash_key(key)


def authenticate(session: Session, key: str, *, request_id: str | None = None) -> Actor:
    """The actor for a presented key; raises :class:`InvalidCredentials` for unknown or revoked keys."""
    return authenticate_digest(session, key_digest(key), request_id=request_id)


def authenticate_digest(session: Session, digest: str, *, request_id: str | None = None) -> Actor:
    return check_digest(session, digest, request_id=request_id)[0]


@dataclass(frozen=True, slots=True)
class KeyTimes:
    expires_at: datetime | None
    last_used_at: datetime | None

    def use_is_stale(self, now: datetime) -> bool:
        return self.last_used_at is None or self.last_used_at < now - LAST_USE_RESOLUTION


def check_digest(session: Session, digest: str, *, request_id: str | None = None) -> tuple[Actor, KeyTimes]:
    """The actor for a key digest, with when the key stops working and was last seen (for callers that
    cache a key's validity); :class:`InvalidCredentials` for unknown, revoked or expired keys."""
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).one_or_none()
    # compare_digest keeps the final check constant-time even though the lookup itself is by index.
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        raise InvalidCredentials("the API key is not valid")
    if row.revoked_at is not None:
        raise InvalidCredentials("the API key has been revoked")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise InvalidCredentials("the API key has expired")
    actor = Actor(kind="api_key", id=str(row.id), role=Role(row.role), request_id=request_id)
    return actor, KeyTimes(row.expires_at, row.last_used_at)


LAST_USE_RESOLUTION = timedelta(seconds=60)


def record_use(session: Session, key_id: str) -> bool:
    """Note that the key was used now, at most once a minute per key (a short write; True if written)."""
    now = utcnow()
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.id == int(key_id))
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USE_RESOLUTION))
        .values(last_used_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def has_any_key(session: Session) -> bool:
    return session.scalars(select(ApiKey.id).limit(1)).first() is not None
