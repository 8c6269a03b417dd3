from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from safeguard.api.app import create_app
from safeguard.auth import Actor, Role
from safeguard.auth import service as keys
from safeguard.auth.models import ApiKey
from safeguard.config import Settings
from safeguard.store.db import Database


def test_create_use_list_revoke(client: TestClient, admin_headers: dict[str, str], db: Database) -> None:
    response = client.post(
        "/v1/keys", headers=admin_headers, json={"name": "upload path", "role": "integrator"}
    )
    assert response.status_code == 201
    created = response.json()
    key = created["key"]
    assert key.startswith("sg_") and len(key) >= 43
    # Only a hash is stored.
    with db.read_session() as session:
        stored = session.scalars(select(ApiKey.key_hash)).all()
    assert key not in stored and all(len(h) == 64 for h in stored)
    # Listing never shows keys.
    listed = client.get("/v1/keys", headers=admin_headers).json()
    assert all("key" not in item for item in listed)
    assert any(item["name"] == "upload path" and item["role"] == "integrator" for item in listed)
    # The new key authenticates (a non-admin key on an admin route is a 403, not a 401).
    assert client.get("/v1/keys", headers={"Authorization": f"Bearer {key}"}).status_code == 403
    revoked = client.post(f"/v1/keys/{created['id']}/revoke", headers=admin_headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/v1/keys", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    again = client.post(f"/v1/keys/{created['id']}/revoke", headers=admin_headers)
    assert again.status_code == 409


def test_audit_pages_and_request_ids(client: TestClient, admin_headers: dict[str, str]) -> None:
    for i in range(5):
        headers = {**admin_headers, "X-Request-ID": f"req-{i}"}
        response = client.post("/v1/keys", headers=headers, json={"name": f"k{i}", "role": "moderator"})
        assert response.headers["x-request-id"] == f"req-{i}"
    first = client.get("/v1/audit", params={"limit": 3}, headers=admin_headers).json()
    assert len(first["records"]) == 3 and first["next_after"] is not None
    rest = client.get("/v1/audit", params={"after": first["next_after"]}, headers=admin_headers).json()
    seqs = [r["seq"] for r in first["records"] + rest["records"]]
    assert seqs == list(range(1, len(seqs) + 1))
    creates = [r for r in first["records"] + rest["records"] if r["action"] == "api_key.create"]
    assert {r["request_id"] for r in creates} >= {f"req-{i}" for i in range(5)}
    report = client.get("/v1/audit/verify", headers=admin_headers).json()
    assert report["ok"] is True and report["records"] == len(seqs)


def test_a_key_revoked_elsewhere_stops_working_within_the_cache_time(
    settings: Settings, db: Database, make_key: Callable[[Role], str]
) -> None:
    """Workers trust a checked key for ``auth_cache_seconds``; a revocation made in another process (the
    CLI, another worker) applies once that time is up, and an unknown key is never cached."""
    app = create_app(settings.model_copy(update={"auth_cache_seconds": 0.5}), db)
    key = make_key(Role.admin)
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:
        assert client.get("/v1/keys", headers=headers).status_code == 200
        with db.session() as session:  # as `safeguard keys revoke` would, outside the server
            key_id = next(k.id for k in keys.list_keys(session) if k.revoked_at is None and k.role == "admin")
            keys.revoke_key(session, Actor.system("tests"), key_id)
        assert client.get("/v1/keys", headers=headers).status_code == 200  # still cached here
        time.sleep(0.6)
        assert client.get("/v1/keys", headers=headers).status_code == 401
        assert client.get("/v1/keys", headers={"Authorization": "Bearer sg_unknown"}).status_code == 401


def test_keys_show_last_use_and_expire(
    client: TestClient, admin_headers: dict[str, str], db: Database
) -> None:
    created = client.post(
        "/v1/keys", headers=admin_headers, json={"name": "short-lived", "role": "integrator"}
    ).json()
    assert created["last_used_at"] is None and created["expires_at"] is None
    key = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/v1/banks", headers=key).status_code == 200
    listed = {k["id"]: k for k in client.get("/v1/keys", headers=admin_headers).json()}
    assert listed[created["id"]]["last_used_at"] is not None

    past = client.post(
        "/v1/keys",
        headers=admin_headers,
        json={"name": "late", "role": "integrator", "expires_at": "2001-01-01T00:00:00Z"},
    )
    assert past.status_code == 422 and past.json()["field"] == "expires_at"

    soon = datetime.now(UTC) + timedelta(seconds=1)
    expiring = client.post(
        "/v1/keys",
        headers=admin_headers,
        json={"name": "expiring", "role": "integrator", "expires_at": soon.isoformat()},
    ).json()
    assert expiring["expires_at"] is not None
    bearer = {"Authorization": f"Bearer {expiring['key']}"}
    assert client.get("/v1/banks", headers=bearer).status_code == 200  # cached, but only until it expires
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.05)
    refused = client.get("/v1/banks", headers=bearer)
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
