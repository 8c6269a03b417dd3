"""Accounts, sign-in with lock-out, sessions and the wellness counter: the rules of ``safeguard.users``.

A failed sign-in is not an exception here: the failure count must be committed, so ``login`` returns an
outcome. ``login`` takes the database, not a session: it runs its own short transactions around the slow
password check.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth import Actor, Role
from safeguard.auth.service import parse_role
from safeguard.errors import InvalidInput
from safeguard.store.base import utcnow
from safeguard.store.db import Database
from safeguard.users.config import WebSettings, get_web_settings
from safeguard.users.errors import InvalidUsername, UserExists, UserNotFound
from safeguard.users.models import User, UserSession
from safeguard.users.passwords import check_strength, hash_password, needs_rehash, verify_password
from safeguard.users.throttle import LoginThrottle

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,99}$")
BLUR_RANGE = (8, 48)
# last_seen_at is written at most this often, so reading pages does not write on every request.
TOUCH_SECONDS = 30


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    created_at: datetime
    disabled: bool
    locked: bool
    last_login_at: datetime | None
    blur_px: int

    @classmethod
    def of(cls, row: User, now: datetime | None = None) -> UserInfo:
        now = now or utcnow()
        locked = row.locked_until is not None and row.locked_until > now
        return cls(
            row.id,
            row.username,
            row.display_name,
            Role(row.role),
            row.created_at,
            row.disabled_at is not None,
            locked,
            row.last_login_at,
            row.blur_px,
        )

    def actor(self, request_id: str | None = None) -> Actor:
        return Actor(kind="user", id=self.username, role=self.role, request_id=request_id)


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """``token`` and ``csrf_token`` are set on success; ``reason`` says why not otherwise."""

    user: UserInfo | None
    token: str | None = None
    csrf_token: str | None = None
    reason: str | None = None  # bad_credentials | locked | disabled

    @property
    def ok(self) -> bool:
        return self.token is not None


@dataclass(frozen=True, slots=True)
class ActiveSession:
    id: int
    user: UserInfo
    csrf_token: str
    items_viewed: int
    break_at: datetime
    created_at: datetime
    last_seen_at: datetime

    def actor(self, request_id: str | None = None) -> Actor:
        return self.user.actor(request_id)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise InvalidUsername(
            "a user name is 2 to 100 characters: lower-case letters, digits and . _ @ -", field="username"
        )
    return name


def _load(session: Session, user_id: int, *, for_update: bool = False) -> User:
    row = session.get(User, user_id, with_for_update=for_update)
    if row is None:
        raise UserNotFound(f"no user with id {user_id}", field="user_id")
    return row


def create_user(
    session: Session, actor: Actor, *, username: str, role: Role, password: str, display_name: str = ""
) -> UserInfo:
    name = normalise_username(username)
    check_strength(password, name)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise UserExists(f"a user named {name!r} already exists", field="username")
    row = User(
        username=name,
        display_name=display_name.strip()[:200],
        role=role.value,
        password_hash=hash_password(password),
        created_at=utcnow(),
        created_by=f"{actor.kind}:{actor.id}",
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "user.create", "user", str(row.id), {"username": name, "role": role.value})
    return UserInfo.of(row)


def list_users(session: Session) -> list[UserInfo]:
    now = utcnow()
    return [UserInfo.of(row, now) for row in session.scalars(select(User).order_by(User.username))]


def get_user(session: Session, user_id: int) -> UserInfo:
    return UserInfo.of(_load(session, user_id))


def find_user(session: Session, username: str) -> UserInfo:
    row = session.scalar(select(User).where(User.username == username.strip().lower()))
    if row is None:
        raise UserNotFound(f"no user named {username!r}", field="username")
    return UserInfo.of(row)


def _end_sessions(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def _not_self(actor: Actor, row: User, what: str) -> None:
    # An admin who demotes or disables themselves could leave nobody able to undo it.
    if actor.kind == "user" and actor.id == row.username:
        raise InvalidInput(f"you cannot {what} your own account; ask another admin", field="user_id")


def set_role(session: Session, actor: Actor, user_id: int, role: str) -> UserInfo:
    row = _load(session, user_id, for_update=True)
    _not_self(actor, row, "change the role of")
    new_role = parse_role(role)
    row.role = new_role.value
    _end_sessions(session, row.id, utcnow())  # the next sign-in carries the new role
    audit.record(session, actor, "user.role", "user", str(row.id), {"role": new_role.value})
    return UserInfo.of(row)


def set_disabled(session: Session, actor: Actor, user_id: int, disabled: bool) -> UserInfo:
    row = _load(session, user_id, for_update=True)
    if disabled:
        _not_self(actor, row, "disable")
    now = utcnow()
    row.disabled_at = now if disabled else None
    if disabled:
        _end_sessions(session, row.id, now)
    audit.record(session, actor, "user.disable" if disabled else "user.enable", "user", str(row.id))
    return UserInfo.of(row)


def unlock(session: Session, actor: Actor, user_id: int) -> UserInfo:
    row = _load(session, user_id, for_update=True)
    row.failed_logins = 0
    row.locked_until = None
    audit.record(session, actor, "user.unlock", "user", str(row.id))
    return UserInfo.of(row)


def set_password(session: Session, actor: Actor, user_id: int, password: str) -> UserInfo:
    row = _load(session, user_id, for_update=True)
    check_strength(password, row.username)
    row.password_hash = hash_password(password)
    row.failed_logins = 0
    row.locked_until = None
    _end_sessions(session, row.id, utcnow())
    audit.record(session, actor, "user.password", "user", str(row.id))
    return UserInfo.of(row)


def set_blur(session: Session, actor: Actor, user_id: int, blur_px: int) -> UserInfo:
    row = _load(session, user_id, for_update=True)
    low, high = BLUR_RANGE
    row.blur_px = max(low, min(high, blur_px))
    audit.record(session, actor, "user.blur", "user", str(row.id), {"blur_px": row.blur_px})
    return UserInfo.of(row)


@dataclass(frozen=True, slots=True)
class _Checked:
    """What the password check, run with no transaction open, found."""

    user_id: int | None
    password_hash: str | None  # the hash that was checked (a later change makes the check stale)
    verified: bool
    new_hash: str | None  # a re-hash with current parameters, made before the write transaction


def login(
    db: Database,
    username: str,
    password: str,
    *,
    settings: WebSettings | None = None,
    request_id: str | None = None,
    client: str = "",
    throttle: LoginThrottle | None = None,
) -> LoginOutcome:
    """Check a password, counting failures; lock the account after ``lockout_attempts`` in a row.

    The slow argon2 check runs between two short transactions (read the user; then record the outcome),
    never inside a write transaction, so sign-in attempts cannot hold the database's write lock.
    Unknown, locked and disabled users cost one full check too. ``throttle`` (per ``client`` address and
    user name) refuses a client that failed too often with :class:`LoginThrottled` before any check.
    """
    settings = settings or get_web_settings()
    name = username.strip().lower()[:100]
    if throttle is not None:
        throttle.check(client, name)
    checked = _check_password(db, name, password)
    with db.session() as session:
        outcome = _record_outcome(session, name, checked, settings, request_id, client)
    if throttle is not None:
        if outcome.ok:
            throttle.succeeded(client, name)
        else:
            throttle.failed(client, name)
    return outcome


def _check_password(db: Database, name: str, password: str) -> _Checked:
    with db.read_session() as session:
        found = session.execute(select(User.id, User.password_hash).where(User.username == name)).first()
    user_id, stored = (found[0], found[1]) if found is not None else (None, None)
    verified = verify_password(stored, password)  # a dummy hash when unknown: the same time either way
    new_hash = hash_password(password) if verified and stored and needs_rehash(stored) else None
    return _Checked(user_id, stored, verified, new_hash)


def _record_outcome(
    session: Session,
    name: str,
    checked: _Checked,
    settings: WebSettings,
    request_id: str | None,
    client: str,
) -> LoginOutcome:
    now = utcnow()
    row = session.get(User, checked.user_id, with_for_update=True) if checked.user_id is not None else None
    if row is None:
        anonymous = Actor(
            kind="anonymous", id=client or "unknown", role=Role.integrator, request_id=request_id
        )
        # The typed name, as the record's object: an unknown name is worth seeing (guessing, typos).
        shown = name if USERNAME.match(name) else "(not a valid user name)"
        audit.record(session, anonymous, "user.login_failed", "user", shown, {"reason": "unknown"})
        return LoginOutcome(None, reason="bad_credentials")
    actor = Actor(kind="user", id=row.username, role=Role(row.role), request_id=request_id)
    if row.locked_until is not None and row.locked_until > now:
        audit.record(session, actor, "user.login_refused", "user", str(row.id), {"reason": "locked"})
        return LoginOutcome(UserInfo.of(row, now), reason="locked")
    # A password changed while we checked the old one: the check no longer says anything.
    if not checked.verified or row.password_hash != checked.password_hash:
        row.failed_logins += 1
        audit.record(session, actor, "user.login_failed", "user", str(row.id), {"count": row.failed_logins})
        if row.failed_logins >= settings.lockout_attempts:
            row.locked_until = now + settings.lockout
            row.failed_logins = 0
            audit.record(session, actor, "user.locked", "user", str(row.id), {"until": row.locked_until})
            return LoginOutcome(UserInfo.of(row, now), reason="locked")
        return LoginOutcome(UserInfo.of(row, now), reason="bad_credentials")
    if row.disabled_at is not None:
        audit.record(session, actor, "user.login_refused", "user", str(row.id), {"reason": "disabled"})
        return LoginOutcome(UserInfo.of(row, now), reason="disabled")
    return _start_session(session, row, actor, checked, settings, now)


def _start_session(
    session: Session, row: User, actor: Actor, checked: _Checked, settings: WebSettings, now: datetime
) -> LoginOutcome:
    if checked.new_hash is not None:
        row.password_hash = checked.new_hash
    row.failed_logins = 0
    row.locked_until = None
    row.last_login_at = now
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=hash_token(token),
            user_id=row.id,
            csrf_token=csrf_token,
            created_at=now,
            last_seen_at=now,
            expires_at=now + settings.session_lifetime,
            items_viewed=0,
            break_at=now,
        )
    )
    session.flush()
    audit.record(session, actor, "user.login", "user", str(row.id))
    return LoginOutcome(UserInfo.of(row, now), token=token, csrf_token=csrf_token)


def resolve_session(
    session: Session, token: str, *, settings: WebSettings | None = None, touch: bool = True
) -> ActiveSession | None:
    """The live session for a cookie value, or None if unknown, ended, expired, idle or its user disabled.

    ``touch`` records the activity (for the idle time-out); callers on a read-only transaction pass False
    and call :func:`touch_session` when :func:`needs_touch` says so."""
    settings = settings or get_web_settings()
    if not token or len(token) > 200:
        return None
    now = utcnow()
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_token(token))
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    if (
        row.ended_at is not None
        or row.expires_at <= now
        or row.last_seen_at + settings.idle_timeout <= now
        or user.disabled_at is not None
    ):
        return None
    active = ActiveSession(
        row.id,
        UserInfo.of(user, now),
        row.csrf_token,
        row.items_viewed,
        row.break_at,
        row.created_at,
        row.last_seen_at,
    )
    if touch and needs_touch(active, now):
        row.last_seen_at = now
    return active


def needs_touch(active: ActiveSession, now: datetime | None = None) -> bool:
    """Activity is written at most every ``TOUCH_SECONDS``, so reading pages rarely needs a write."""
    return ((now or utcnow()) - active.last_seen_at).total_seconds() >= TOUCH_SECONDS


def touch_session(session: Session, session_id: int) -> None:
    row = session.get(UserSession, session_id)
    if row is not None:
        row.last_seen_at = utcnow()


def logout(session: Session, token: str, *, request_id: str | None = None) -> bool:
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_token(token), UserSession.ended_at.is_(None))
    ).one_or_none()
    if found is None:
        return False
    row, user = found
    row.ended_at = utcnow()
    actor = Actor(kind="user", id=user.username, role=Role(user.role), request_id=request_id)
    audit.record(session, actor, "user.logout", "user", str(user.id))
    return True


def count_views(session: Session, session_id: int, items: int) -> int:
    """Add viewed media items to the wellness counter; returns the new count."""
    row = session.get(UserSession, session_id, with_for_update=True)
    if row is None:
        return 0
    row.items_viewed += max(0, items)
    return row.items_viewed


def take_break(session: Session, actor: Actor, session_id: int) -> None:
    """The reviewer answered the break prompt: restart the wellness counter (audited, with what it had
    reached, so a supervisor can see breaks were offered and taken)."""
    row = session.get(UserSession, session_id, with_for_update=True)
    if row is not None:
        viewed = row.items_viewed
        row.items_viewed = 0
        row.break_at = utcnow()
        audit.record(session, actor, "ui.break", "user_session", str(row.id), {"items_viewed": viewed})


def break_due(
    active: ActiveSession, *, settings: WebSettings | None = None, now: datetime | None = None
) -> bool:
    settings = settings or get_web_settings()
    now = now or utcnow()
    return (
        active.items_viewed >= settings.break_after_items or now - active.break_at >= settings.break_interval
    )
