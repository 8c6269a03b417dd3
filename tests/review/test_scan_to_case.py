"""The main flow through the real routes: an upload is scanned, matches a bank, lands in the review queue,
is decided, and a re-upload of the same content is decided automatically by that decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from safeguard.auth import Role
from tests.banks.helpers import edited, jpeg_bytes, synthetic_image, wait_for


def test_scan_opens_case_then_reupload_is_auto_decided(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, platform = auth_headers(Role.admin), auth_headers(Role.integrator)
    moderator = auth_headers(Role.moderator)
    bank = client.post("/v1/banks", json={"name": "known"}, headers=admin).json()["id"]
    image = synthetic_image(11)
    r = client.post(
        f"/v1/banks/{bank}/content/upload",
        files={"file": ("k.jpg", jpeg_bytes(image))},
        data={"labels": "A1"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    upload = edited(image)

    def scan(content_id: str | None) -> dict[str, Any]:
        data = {"content_id": content_id, "account_id": "acct-9", "views": "120"} if content_id else {}
        response = client.post("/v1/scan", files={"file": ("u.jpg", upload)}, data=data, headers=platform)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    # Without a content id the scan only answers; with one, the match is filed into a case.
    wait_for(lambda: scan(None)["matched"] or None)
    assert scan(None)["case_id"] is None
    first = scan("upload-1")
    assert first["matched"] and first["case_id"] is not None and first["auto_decision"] is None

    claimed = client.post("/v1/cases/claim", headers=moderator, json={}).json()["case"]
    assert claimed["id"] == first["case_id"] and claimed["labels"] == ["A1"]
    decided = client.post(
        f"/v1/cases/{claimed['id']}/decisions",
        headers=moderator,
        json={"label": "A1", "actions": ["remove_content"]},
    )
    assert decided.status_code == 201, decided.text

    again = scan("upload-2")
    assert again["matched"] and again["auto_decision"] == "A1"
    assert again["case_id"] != first["case_id"]
    # Nothing new waits in the queue: the re-upload was decided, not queued.
    assert client.post("/v1/cases/claim", headers=moderator, json={}).json()["case"] is None
