from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from safeguard.auth.models import ApiKey
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
