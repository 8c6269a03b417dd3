"""Every route but /health refuses a missing, wrong or revoked key (401) and a key of the wrong role (403)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from safeguard.auth import Role
from tests.api.routes import protected_routes
from tests.helpers import problem_of


def test_every_route_is_protected_and_there_are_routes(client: TestClient) -> None:
    cases = protected_routes(client.app)  # type: ignore[arg-type]
    paths = {c.path for c in cases}
    assert "/v1/keys" in paths and "/v1/audit" in paths


def test_missing_wrong_and_revoked_keys_get_401(
    client: TestClient, make_key: Callable[[Role], str], admin_headers: dict[str, str]
) -> None:
    revoked = make_key(Role.admin)
    key_id = client.get("/v1/keys", headers=admin_headers).json()[-1]["id"]
    assert client.post(f"/v1/keys/{key_id}/revoke", headers=admin_headers).status_code == 200
    bad_headers: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer sg_not-a-real-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": f"Bearer {revoked}"},
    ]
    for case in protected_routes(client.app):  # type: ignore[arg-type]
        for headers in bad_headers:
            response = client.request(case.method, case.url(), headers=headers)
            assert response.status_code == 401, f"{case} with {headers}: {response.status_code}"
            assert problem_of(response)["type"] in {
                "/problems/missing-credentials",
                "/problems/invalid-credentials",
            }


def test_wrong_role_gets_403(client: TestClient, make_key: Callable[[Role], str]) -> None:
    keys = {role: make_key(role) for role in Role}
    checked = 0
    for case in protected_routes(client.app):  # type: ignore[arg-type]
        for role in Role:
            if role is Role.admin or role in case.roles:
                continue
            response = client.request(
                case.method, case.url(), headers={"Authorization": f"Bearer {keys[role]}"}
            )
            assert response.status_code == 403, f"{case} as {role}: {response.status_code}"
            assert problem_of(response)["type"] == "/problems/role-not-allowed"
            checked += 1
    assert checked > 0


def test_health_needs_no_key(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
