"""Sign-in, cookies, sign-out and the admin pages for keys, users and the audit log, over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from safeguard.audit.models import AuditHead
from safeguard.auth import Role
from safeguard.auth.models import ApiKey
from safeguard.store.db import Database
from safeguard.users.config import get_web_settings
from safeguard.users.models import User
from safeguard.users.throttle import LoginThrottle
from tests.web.conftest import PASSWORD, MakeUser, csrf_of, sign_in
from tests.web.routes import ui_app


def _post_login(client: TestClient, username: str, password: str) -> object:
    page = client.get("/ui/login")
    return client.post(
        "/ui/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def test_sign_in_sets_a_safe_session_cookie(client: TestClient, make_user: MakeUser) -> None:
    make_user(Role.moderator, "mod")
    response = _post_login(client, "mod", PASSWORD)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == "/ui/queue"  # type: ignore[attr-defined]
    cookie = next(
        c
        for c in response.headers.get_list("set-cookie")
        if c.startswith("sg_session=")  # type: ignore[attr-defined]
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain HTTP and no proxy setting


def test_each_role_lands_on_its_own_work(client: TestClient, make_user: MakeUser) -> None:
    landing = {Role.moderator: "/ui/queue", Role.analyst: "/ui/packages", Role.integrator: "/ui/account"}
    for role, where in landing.items():
        make_user(role, f"who-{role.value}")
        response = _post_login(TestClient(client.app), f"who-{role.value}", PASSWORD)
        assert response.headers["location"] == where, role  # type: ignore[attr-defined]


def test_cookie_is_secure_over_tls(client: TestClient, make_user: MakeUser) -> None:
    make_user(Role.moderator, "mod")
    tls = TestClient(client.app, base_url="https://testserver")
    response = _post_login(tls, "mod", PASSWORD)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("sg_session="))  # type: ignore[attr-defined]
    assert "Secure" in cookie


def test_wrong_password_is_refused_with_one_message(client: TestClient, make_user: MakeUser) -> None:
    make_user(Role.moderator, "mod")
    wrong = _post_login(client, "mod", "not the right password")
    unknown = _post_login(client, "nobody-here", "not the right password")
    for response in (wrong, unknown):
        assert response.status_code == 401  # type: ignore[attr-defined]
        assert "did not work, or the account is locked" in response.text  # type: ignore[attr-defined]
    assert "sg_session" not in client.cookies


def test_repeated_failures_lock_the_account_in_the_browser_flow(
    client: TestClient, make_user: MakeUser, db: Database
) -> None:
    make_user(Role.moderator, "mod")
    ui_app(client.app).state.login_throttle = LoginThrottle(attempts=1000, window_s=60)  # many addresses
    for _ in range(get_web_settings().lockout_attempts):
        _post_login(client, "mod", "not the right password")
    assert _post_login(client, "mod", PASSWORD).status_code == 401  # type: ignore[attr-defined]
    with db.read_session() as session:
        row = session.scalars(select(User).where(User.username == "mod")).one()
        assert row.locked_until is not None


def test_one_client_failing_is_throttled_with_429_and_the_account_stays_usable(
    client: TestClient, make_user: MakeUser, db: Database
) -> None:
    make_user(Role.moderator, "mod")
    for _ in range(get_web_settings().throttle_attempts):
        assert _post_login(client, "mod", "not the right password").status_code == 401  # type: ignore[attr-defined]
    page = _post_login(client, "mod", PASSWORD)
    assert page.status_code == 429  # type: ignore[attr-defined]
    assert 1 <= int(page.headers["retry-after"]) <= 15 * 60  # type: ignore[attr-defined]
    assert "Too many sign-in attempts" in page.text  # type: ignore[attr-defined]
    form = client.get("/ui/login")
    problem = client.post(
        "/ui/login",
        data={"username": "mod", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        headers={"accept": "application/problem+json"},
    )
    assert problem.status_code == 429 and problem.headers["content-type"] == "application/problem+json"
    assert problem.json()["type"] == "/problems/login-throttled" and problem.headers["retry-after"]
    with db.read_session() as session:
        row = session.scalars(select(User).where(User.username == "mod")).one()
        assert row.locked_until is None  # the account itself is not locked: another address signs in
    other = TestClient(client.app, client=("192.0.2.8", 5000))
    assert _post_login(other, "mod", PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_login_form_without_its_csrf_token_is_refused(client: TestClient, make_user: MakeUser) -> None:
    make_user(Role.moderator, "mod")
    client.get("/ui/login")
    response = client.post(
        "/ui/login", data={"username": "mod", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "sg_session" not in client.cookies


def test_next_path_stays_inside_the_ui(client: TestClient, make_user: MakeUser) -> None:
    make_user(Role.admin, "boss")
    page = client.get("/ui/login?next=/ui/admin/audit")
    response = client.post(
        "/ui/login",
        data={
            "username": "boss",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/ui/admin/audit",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/ui/admin/audit"
    client.cookies.clear()
    page = client.get("/ui/login")
    for evil in ("https://evil.example/", "//evil.example/ui/", "/elsewhere"):
        response = client.post(
            "/ui/login",
            data={"username": "boss", "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": evil},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/ui/queue", evil
        page = client.get("/ui/login")


def test_sign_out_really_ends_the_session(client: TestClient, make_user: MakeUser) -> None:
    csrf = sign_in(client, make_user(Role.moderator))
    token = client.cookies.get("sg_session")
    assert token
    response = client.post("/ui/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/login?notice=signed-out"
    replay = TestClient(client.app)
    replay.cookies.set("sg_session", token, path="/ui")
    assert replay.get("/ui/account", follow_redirects=False).status_code == 303


def test_pages_send_security_headers_and_are_not_cached(
    client: TestClient, login: Callable[[Role], str]
) -> None:
    login(Role.admin)
    response = client.get("/ui/admin/keys")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/ui/static/ui.css").status_code == 200


def test_admin_creates_and_revokes_an_api_key(
    client: TestClient, login: Callable[[Role], str], db: Database
) -> None:
    csrf = login(Role.admin)
    response = client.post(
        "/ui/admin/keys", data={"csrf_token": csrf, "name": "platform", "role": "integrator"}
    )
    assert response.status_code == 200
    assert 'id="new-key">sg_' in response.text
    with db.read_session() as session:
        key_id = session.scalars(select(ApiKey.id).where(ApiKey.name == "platform")).one()
    response = client.post(f"/ui/admin/keys/{key_id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 200 and "The API key was revoked." in response.text
    with db.read_session() as session:
        assert session.get(ApiKey, key_id).revoked_at is not None  # type: ignore[union-attr]
    bad = client.post("/ui/admin/keys", data={"csrf_token": csrf, "name": "x", "role": "emperor"})
    assert bad.status_code == 422 and "unknown role" in bad.text


def test_admin_sees_key_expiry_and_last_use(
    client: TestClient, login: Callable[[Role], str], db: Database
) -> None:
    csrf = login(Role.admin)
    form = {"csrf_token": csrf, "name": "trial", "role": "integrator", "expires_in_days": "30"}
    page = client.post("/ui/admin/keys", data=form)
    assert page.status_code == 200 and "active, expires" in page.text and "never" in page.text
    with db.read_session() as session:
        row = session.scalars(select(ApiKey).where(ApiKey.name == "trial")).one()
        assert row.expires_at is not None and row.last_used_at is None
    bad = client.post("/ui/admin/keys", data={**form, "name": "t2", "expires_in_days": "-3"})
    assert bad.status_code == 422 and "expires in days" in bad.text


def test_admin_manages_users(client: TestClient, login: Callable[[Role], str], db: Database) -> None:
    csrf = login(Role.admin)
    response = client.post(
        "/ui/admin/users",
        data={"csrf_token": csrf, "username": "newmod", "role": "moderator", "password": PASSWORD},
    )
    assert response.status_code == 200 and "newmod" in response.text
    weak = client.post(
        "/ui/admin/users", data={"csrf_token": csrf, "username": "weak", "role": "moderator", "password": "x"}
    )
    assert weak.status_code == 422
    with db.read_session() as session:
        user_id = session.scalars(select(User.id).where(User.username == "newmod")).one()
    client.post(f"/ui/admin/users/{user_id}", data={"csrf_token": csrf, "operation": "disable"})
    assert _post_login(TestClient(client.app), "newmod", PASSWORD).status_code == 401  # type: ignore[attr-defined]
    client.post(f"/ui/admin/users/{user_id}", data={"csrf_token": csrf, "operation": "enable"})
    assert _post_login(TestClient(client.app), "newmod", PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_audit_page_shows_chain_status(
    client: TestClient, login: Callable[[Role], str], db: Database
) -> None:
    login(Role.admin)
    page = client.get("/ui/admin/audit?action=user.login")
    assert page.status_code == 200
    assert "Chain verified" in page.text and "user.login" in page.text
    with db.session() as session:
        head = session.get(AuditHead, 1)
        assert head is not None
        head.seq += 1  # as if the newest record had been deleted
    page = client.get("/ui/admin/audit")
    assert "Chain broken" in page.text


def test_audit_page_names_keys_and_people(
    client: TestClient, login: Callable[[Role], str], make_key: Callable[..., str]
) -> None:
    key = make_key(Role.admin, "upload path")
    made = client.post("/v1/banks", headers={"Authorization": f"Bearer {key}"}, json={"name": "named-bank"})
    assert made.status_code == 201, made.text
    login(Role.admin)
    page = client.get("/ui/admin/audit").text
    assert "key “upload path” (#" in page  # the key's name, not api_key:N
    assert re.search(r"<td>admin-user <span", page)  # the sign-in, by user name
    assert not re.search(r"<td>(api_key|user):", page)


def test_moderator_cannot_open_admin_pages(client: TestClient, login: Callable[[Role], str]) -> None:
    login(Role.moderator)
    for path in ("/ui/admin/keys", "/ui/admin/users", "/ui/admin/audit"):
        assert client.get(path).status_code == 403
    app = client.app
    assert isinstance(app, FastAPI) and ui_app(app) is not None
