"""Malformed JSON, wrong types, oversized bodies and unknown ids never produce a 5xx, on every route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from safeguard.api.app import create_app
from safeguard.config import Settings
from safeguard.store.db import Database
from tests.api.routes import protected_routes
from tests.helpers import problem_of

SMALL_LIMIT = 4096


@pytest.fixture
def small_limit_client(db: Database, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path, database_url=db.url, max_body_bytes=SMALL_LIMIT)
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as client:
        yield client


BAD_BODIES: list[tuple[str, bytes]] = [
    ("malformed json", b'{"name": '),
    ("json array", b"[1, 2, 3]"),
    ("json number", b"12345"),
    ("wrong types", b'{"name": 7, "role": ["admin"], "signals": "x", "text": 1, "hash": {}}'),
    ("not utf-8", b"\xff\xfe\xfa"),
    ("deep nesting", b"[" * 5000 + b"]" * 5000),
]


def test_bad_bodies_and_unknown_ids_never_5xx(
    small_limit_client: TestClient, admin_headers: dict[str, str]
) -> None:
    client = small_limit_client
    for case in protected_routes(client.app):  # type: ignore[arg-type]
        for id_value in ("999999", "0", "-1", "not-an-id", "%00", "x" * 300):
            response = client.request(case.method, case.url(id_value), headers=admin_headers)
            assert response.status_code < 500, (
                f"{case} id={id_value!r}: {response.status_code} {response.text}"
            )
            if response.status_code >= 400:
                problem_of(response)
        if case.method not in {"POST", "PUT", "PATCH"}:
            continue
        for label, body in BAD_BODIES if case.has_body else []:
            headers = {**admin_headers, "Content-Type": "application/json"}
            response = client.request(case.method, case.url("999999"), headers=headers, content=body)
            assert 400 <= response.status_code < 500, (
                f"{case} {label}: {response.status_code} {response.text}"
            )
            problem_of(response)
        big = b'{"pad": "' + b"x" * (SMALL_LIMIT * 2) + b'"}'
        headers = {**admin_headers, "Content-Type": "application/json"}
        response = client.request(case.method, case.url("999999"), headers=headers, content=big)
        assert response.status_code == 413, f"{case} oversized: {response.status_code}"
        assert "limit" in problem_of(response)["detail"]  # type: ignore[operator]


def test_oversized_body_without_content_length_is_refused(
    small_limit_client: TestClient, admin_headers: dict[str, str]
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 1024

    response = small_limit_client.post("/v1/keys", headers=admin_headers, content=chunks())
    assert response.status_code == 413


def test_validation_error_names_the_field(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post("/v1/keys", headers=admin_headers, json={"name": "x", "role": "superuser"})
    assert response.status_code == 422
    problem = problem_of(response)
    assert "body.role" in str(problem["detail"])


def test_malformed_json_is_400(client: TestClient, admin_headers: dict[str, str]) -> None:
    headers = {**admin_headers, "Content-Type": "application/json"}
    response = client.post("/v1/keys", headers=headers, content=b'{"name": ')
    assert response.status_code == 400
    assert problem_of(response)["type"] == "/problems/malformed-input"


def test_unknown_route_and_method_are_problems(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.get("/v1/no-such-thing", headers=admin_headers)
    assert response.status_code == 404
    assert "no route GET /v1/no-such-thing" in str(problem_of(response)["detail"])
    response = client.delete("/health")
    assert response.status_code == 405
    problem_of(response)


def test_unknown_id_is_404_naming_it(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.post("/v1/keys/424242/revoke", headers=admin_headers)
    assert response.status_code == 404
    assert "424242" in str(problem_of(response)["detail"])
