"""``/v1/users``: web UI accounts managed over the API by an admin, with the service's rules."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from safeguard.auth import Role
from tests.helpers import problem_of

PASSWORD = "correct horse battery staple 42"


def test_admin_lists_creates_disables_and_changes_role(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin = auth_headers(Role.admin)
    body = {"username": "Alice", "role": "moderator", "password": PASSWORD, "display_name": "Alice A."}
    r = client.post("/v1/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    alice = r.json()
    assert (alice["username"], alice["role"], alice["disabled"]) == ("alice", "moderator", False)
    assert "password" not in alice and "password_hash" not in alice

    assert problem_of(client.post("/v1/users", json=body, headers=admin))["status"] == 409
    weak = client.post("/v1/users", json={**body, "username": "bob", "password": "bob"}, headers=admin)
    assert weak.status_code == 422

    listed = client.get("/v1/users", headers=admin).json()
    assert [u["username"] for u in listed] == ["alice"]

    r = client.post(f"/v1/users/{alice['id']}/disable", headers=admin)
    assert r.status_code == 200 and r.json()["disabled"] is True
    r = client.post(f"/v1/users/{alice['id']}/enable", headers=admin)
    assert r.status_code == 200 and r.json()["disabled"] is False
    r = client.post(f"/v1/users/{alice['id']}/role", json={"role": "admin"}, headers=admin)
    assert r.status_code == 200 and r.json()["role"] == "admin"
    assert client.post("/v1/users/999/disable", headers=admin).status_code == 404


def test_only_admins_manage_users(client: TestClient, auth_headers: Callable[[Role], dict[str, str]]) -> None:
    for role in (Role.moderator, Role.analyst, Role.integrator):
        assert client.get("/v1/users", headers=auth_headers(role)).status_code == 403
    assert client.get("/v1/users").status_code == 401


def test_the_routes_the_readme_calls_open_are_open_and_no_others(client: TestClient) -> None:
    for path in ("/health", "/status", "/status/live", "/openapi.json", "/docs", "/ui/login"):
        assert client.get(path).status_code == 200, path
    assert client.get("/v1/keys").status_code == 401
    page = client.get("/ui/queue", follow_redirects=False)
    assert page.status_code == 303 and "/ui/login" in page.headers["location"]
