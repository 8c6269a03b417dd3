"""User accounts: argon2 hashes, sign-in with lock-out (audited), sessions that really end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from safeguard import audit
from safeguard.audit.models import AuditRecord
from safeguard.auth import Actor, Role
from safeguard.errors import InvalidInput
from safeguard.store.base import utcnow
from safeguard.store.db import Database
from safeguard.users import service as users
from safeguard.users.config import WebSettings
from safeguard.users.errors import InvalidUsername, UserExists, WeakPassword
from safeguard.users.models import User, UserSession
from safeguard.users.throttle import LoginThrottle, LoginThrottled

SYSTEM = Actor.system("tests")
PASSWORD = "a calm long passphrase 42"
SETTINGS = WebSettings(lockout_attempts=3, lockout_minutes=10, session_hours=8, idle_minutes=30)


def _create(db: Database, name: str = "mod", role: Role = Role.moderator) -> users.UserInfo:
    with db.session() as session:
        return users.create_user(session, SYSTEM, username=name, role=role, password=PASSWORD)


def _login(db: Database, name: str, password: str = PASSWORD) -> users.LoginOutcome:
    return users.login(db, name, password, settings=SETTINGS)


def _actions(db: Database) -> list[str]:
    with db.read_session() as session:
        return list(session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)))


def test_password_is_stored_as_argon2id_only(db: Database) -> None:
    info = _create(db, "Alice.Moderator")
    assert info.username == "alice.moderator"
    with db.read_session() as session:
        row = session.get(User, info.id)
        assert row is not None
        assert row.password_hash.startswith("$argon2id$")
        assert PASSWORD not in row.password_hash
    assert _actions(db) == ["user.create"]


def test_create_refuses_duplicates_weak_passwords_and_bad_names(db: Database) -> None:
    _create(db, "mod")
    with pytest.raises(UserExists), db.session() as session:
        users.create_user(session, SYSTEM, username="MOD", role=Role.moderator, password=PASSWORD)
    with pytest.raises(WeakPassword), db.session() as session:
        users.create_user(session, SYSTEM, username="other", role=Role.moderator, password="short")
    with pytest.raises(InvalidUsername), db.session() as session:
        users.create_user(session, SYSTEM, username="has space", role=Role.moderator, password=PASSWORD)


def test_login_creates_a_session_stored_only_as_a_digest(db: Database) -> None:
    _create(db)
    outcome = _login(db, "mod")
    assert outcome.ok and outcome.token and outcome.csrf_token
    with db.read_session() as session:
        row = session.scalars(select(UserSession)).one()
        assert row.token_hash == users.hash_token(outcome.token)
        assert outcome.token not in row.token_hash
        active = users.resolve_session(session, outcome.token, settings=SETTINGS)
    assert active is not None and active.user.username == "mod" and active.csrf_token == outcome.csrf_token
    assert _actions(db)[-1] == "user.login"


def test_unknown_user_and_wrong_password_fail_alike(db: Database) -> None:
    _create(db)
    unknown = _login(db, "nobody")
    wrong = _login(db, "mod", "not the password at all")
    assert not unknown.ok and unknown.reason == "bad_credentials"
    assert not wrong.ok and wrong.reason == "bad_credentials"
    assert _actions(db)[-2:] == ["user.login_failed", "user.login_failed"]
    with db.read_session() as session:
        first = session.scalars(select(AuditRecord).where(AuditRecord.action == "user.login_failed")).first()
        assert first is not None and first.actor_kind == "anonymous" and first.object_id == "nobody"


def test_unknown_locked_and_disabled_users_cost_a_full_password_check(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each failure path runs argon2 once, so timing does not tell which names exist or are locked."""
    calls: list[str | None] = []
    real = users.verify_password
    monkeypatch.setattr(users, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    info = _create(db)
    for _ in range(SETTINGS.lockout_attempts):
        _login(db, "mod", "wrong password here")
    assert _login(db, "mod").reason == "locked"
    assert _login(db, "nobody").reason == "bad_credentials"
    with db.session() as session:
        users.unlock(session, SYSTEM, info.id)
        users.set_disabled(session, SYSTEM, info.id, True)
    assert _login(db, "mod").reason == "disabled"
    assert len(calls) == SETTINGS.lockout_attempts + 3
    assert calls.count(None) == 1  # the unknown name: the dummy hash


def test_the_password_check_runs_outside_any_transaction(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While argon2 runs, another writer gets the write lock at once (it used to wait for the check)."""
    _create(db)
    real = users.verify_password
    seen: list[bool] = []

    def verify(stored: str | None, password: str) -> bool:
        with db.session() as session:  # would deadlock / time out if login held the write lock
            audit.record(session, SYSTEM, "test.during_check", "user", "0")
        seen.append(True)
        return real(stored, password)

    monkeypatch.setattr(users, "verify_password", verify)
    assert _login(db, "mod").ok
    assert seen == [True]
    assert _actions(db)[-2:] == ["test.during_check", "user.login"]


def test_a_password_changed_during_the_check_does_not_sign_in(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = _create(db)
    real = users.verify_password

    def verify(stored: str | None, password: str) -> bool:
        with db.session() as session:
            users.set_password(session, SYSTEM, info.id, "a brand new passphrase 9")
        return real(stored, password)

    monkeypatch.setattr(users, "verify_password", verify)
    assert _login(db, "mod").reason == "bad_credentials"


def test_throttle_stops_one_client_not_the_user(db: Database) -> None:
    _create(db)
    throttle = LoginThrottle(attempts=2, window_s=60)
    settings = WebSettings(lockout_attempts=50)

    def attempt(client: str, password: str) -> users.LoginOutcome:
        return users.login(db, "mod", password, settings=settings, client=client, throttle=throttle)

    for _ in range(2):
        assert attempt("10.0.0.66", "wrong password here").reason == "bad_credentials"
    with pytest.raises(LoginThrottled) as refused:
        attempt("10.0.0.66", PASSWORD)  # even the right password: this client must wait
    assert 1 <= refused.value.retry_after <= 60
    assert refused.value.to_problem()["status"] == 429
    assert attempt("10.0.0.7", PASSWORD).ok  # the real user, elsewhere, is not locked out
    assert _actions(db).count("user.login_failed") == 2  # the throttled try never reached the database


def test_throttle_window_expires_and_success_clears() -> None:
    throttle = LoginThrottle(attempts=1, window_s=10)
    throttle.failed("a", "mod", now=100.0)
    with pytest.raises(LoginThrottled):
        throttle.check("a", "mod", now=105.0)
    throttle.check("a", "mod", now=111.0)
    throttle.failed("a", "mod", now=111.0)
    throttle.succeeded("a", "mod")
    throttle.check("a", "mod", now=112.0)


def test_throttle_table_is_bounded() -> None:
    throttle = LoginThrottle(attempts=1, window_s=60, max_entries=3)
    for n in range(10):
        throttle.failed("a", f"name{n}", now=1.0)
    assert len(throttle._entries) == 3
    with pytest.raises(LoginThrottled):
        throttle.check("a", "name9", now=2.0)
    throttle.check("a", "name0", now=2.0)  # evicted


def test_lockout_after_repeated_failures_is_audited_and_refuses_the_right_password(db: Database) -> None:
    info = _create(db)
    for _ in range(SETTINGS.lockout_attempts - 1):
        assert _login(db, "mod", "wrong password here").reason == "bad_credentials"
    assert _login(db, "mod", "wrong password here").reason == "locked"
    assert "user.locked" in _actions(db)
    refused = _login(db, "mod")
    assert not refused.ok and refused.reason == "locked"
    with db.read_session() as session:
        assert users.get_user(session, info.id).locked
    with db.session() as session:
        users.unlock(session, SYSTEM, info.id)
    assert _login(db, "mod").ok
    with db.read_session() as session:
        assert audit.verify(session).ok


def test_lockout_expires(db: Database) -> None:
    info = _create(db)
    for _ in range(SETTINGS.lockout_attempts):
        _login(db, "mod", "wrong password here")
    with db.session() as session:
        row = session.get(User, info.id)
        assert row is not None and row.locked_until is not None
        row.locked_until = utcnow() - timedelta(seconds=1)
    assert _login(db, "mod").ok


def test_logout_ends_the_session(db: Database) -> None:
    _create(db)
    outcome = _login(db, "mod")
    assert outcome.token
    with db.session() as session:
        assert users.logout(session, outcome.token)
    with db.read_session() as session:
        assert users.resolve_session(session, outcome.token, settings=SETTINGS) is None
    with db.session() as session:
        assert not users.logout(session, outcome.token)


def test_expired_idle_and_disabled_sessions_are_refused(db: Database) -> None:
    info = _create(db)
    tokens = [_login(db, "mod").token for _ in range(3)]
    assert all(tokens)
    now = utcnow()
    with db.session() as session:
        rows = {r.token_hash: r for r in session.scalars(select(UserSession))}
        rows[users.hash_token(str(tokens[0]))].expires_at = now - timedelta(seconds=1)
        rows[users.hash_token(str(tokens[1]))].last_seen_at = now - SETTINGS.idle_timeout
    with db.read_session() as session:
        assert users.resolve_session(session, str(tokens[0]), settings=SETTINGS) is None
        assert users.resolve_session(session, str(tokens[1]), settings=SETTINGS) is None
        assert users.resolve_session(session, str(tokens[2]), settings=SETTINGS) is not None
    with db.session() as session:
        users.set_disabled(session, SYSTEM, info.id, True)
    with db.read_session() as session:
        assert users.resolve_session(session, str(tokens[2]), settings=SETTINGS) is None
    assert _login(db, "mod").reason == "disabled"


def test_password_change_and_role_change_end_sessions(db: Database) -> None:
    info = _create(db)
    first = _login(db, "mod").token
    with db.session() as session:
        users.set_role(session, SYSTEM, info.id, "analyst")
    second = _login(db, "mod").token
    with db.session() as session:
        users.set_password(session, SYSTEM, info.id, "another long passphrase 7")
    with db.read_session() as session:
        assert users.resolve_session(session, str(first), settings=SETTINGS) is None
        assert users.resolve_session(session, str(second), settings=SETTINGS) is None
    assert not _login(db, "mod").ok
    outcome = _login(db, "mod", "another long passphrase 7")
    assert outcome.ok and outcome.user is not None and outcome.user.role is Role.analyst


def test_wellness_counter_and_break(db: Database) -> None:
    _create(db)
    token = str(_login(db, "mod").token)
    with db.session() as session:
        active = users.resolve_session(session, token, settings=SETTINGS)
        assert active is not None
        assert users.count_views(session, active.id, 3) == 3
    settings = WebSettings(break_after_items=3)
    with db.read_session() as session:
        active = users.resolve_session(session, token, settings=settings)
        assert active is not None and users.break_due(active, settings=settings)
    with db.session() as session:
        users.take_break(session, Actor(kind="user", id="1", role=Role.moderator), active.id)
    with db.read_session() as session:
        active = users.resolve_session(session, token, settings=settings)
        assert active is not None and active.items_viewed == 0
        taken = session.scalars(select(AuditRecord).where(AuditRecord.action == "ui.break")).one()
        assert taken.object_id == str(active.id) and taken.actor_kind == "user"
        assert not users.break_due(active, settings=settings)
        assert users.break_due(active, settings=settings, now=utcnow() + settings.break_interval)


def test_activity_is_recorded_for_the_idle_timeout(db: Database) -> None:
    _create(db)
    token = str(_login(db, "mod").token)
    stale = utcnow() - timedelta(seconds=users.TOUCH_SECONDS + 1)
    with db.session() as session:
        session.scalars(select(UserSession)).one().last_seen_at = stale
    with db.read_session() as session:
        active = users.resolve_session(session, token, settings=SETTINGS, touch=False)
    assert active is not None and users.needs_touch(active)
    with db.session() as session:
        users.touch_session(session, active.id)
    with db.read_session() as session:
        fresh = users.resolve_session(session, token, settings=SETTINGS, touch=False)
    assert fresh is not None and not users.needs_touch(fresh)


def test_an_admin_cannot_disable_or_demote_themselves(db: Database) -> None:
    info = _create(db, "boss", Role.admin)
    me = info.actor()
    with pytest.raises(InvalidInput), db.session() as session:
        users.set_disabled(session, me, info.id, True)
    with pytest.raises(InvalidInput), db.session() as session:
        users.set_role(session, me, info.id, "moderator")
    other = _create(db, "other", Role.admin)
    with db.session() as session:
        assert users.set_disabled(session, me, other.id, True).disabled
