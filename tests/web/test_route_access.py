"""Every UI route: refused without a session, refused to roles it does not allow, refused without CSRF."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from safeguard.auth import Role
from safeguard.store.db import Database
from tests.web.conftest import MakeUser, sign_in
from tests.web.routes import ui_app, ui_routes


def test_ui_routes_are_enumerated_and_protected(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    routes = ui_routes(app)
    paths = {r.path for r in routes}
    assert {"/", "/account", "/admin/keys", "/admin/audit", "/admin/users", "/logout"} <= paths
    # Mounted, so invisible to the API's key-based route enumeration and its OpenAPI document.
    assert not any(p.startswith("/ui") for p in app.openapi()["paths"])
    assert ui_app(app).openapi_url is None


def test_without_a_session_pages_redirect_to_login_and_posts_are_refused(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    for route in ui_routes(app):
        response = client.request(route.method, route.url(), follow_redirects=False, data={"x": "1"})
        if route.method == "GET":
            assert response.status_code == 303, route
            assert response.headers["location"].startswith("/ui/login"), route
        else:
            assert response.status_code == 401, route


def test_a_forged_or_stale_session_cookie_is_refused(client: TestClient) -> None:
    client.cookies.set("sg_session", "not-a-real-session", path="/ui")
    response = client.get("/ui/admin/keys", follow_redirects=False)
    assert response.status_code == 303


def test_roles_outside_a_route_are_refused(client: TestClient, make_user: MakeUser, db: Database) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    routes = ui_routes(app)
    for role in (Role.moderator, Role.analyst, Role.integrator):
        client.cookies.clear()
        csrf = sign_in(client, make_user(role))
        for route in routes:
            if role in route.roles:
                continue
            response = client.request(
                route.method, route.url(), data={"csrf_token": csrf}, follow_redirects=False
            )
            assert response.status_code == 403, f"{role.value} reached {route}"
            assert "your role cannot open this page" in response.text


def test_every_form_needs_the_session_csrf_token(
    client: TestClient, login: Callable[[Role], str], make_user: MakeUser
) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    csrf = login(Role.admin)
    other = sign_in(TestClient(app), make_user(Role.admin, "other-admin"))  # another session's token
    for route in ui_routes(app):
        if not route.writes:
            continue
        for data in ({}, {"csrf_token": ""}, {"csrf_token": other}, {"csrf_token": csrf + "x"}):
            response = client.request(route.method, route.url(), data=data, follow_redirects=False)
            assert response.status_code == 403, f"{route} accepted {data}"
    assert client.get("/ui/account").status_code == 200  # still signed in: nothing above logged us out
