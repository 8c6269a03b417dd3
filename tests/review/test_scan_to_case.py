"""The main flow through the real routes: an upload is scanned, matches a bank, lands in the review queue,
is decided, and a re-upload of the same content is decided automatically by that decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safeguard.auth import Role
from safeguard.review.models import Case, ReviewEvent
from safeguard.store.db import Database
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


def _events(db: Database, event_type: str) -> list[dict[str, Any]]:
    with db.read_session() as session:
        rows = session.scalars(
            select(ReviewEvent).where(ReviewEvent.type == event_type).order_by(ReviewEvent.id)
        )
        return [dict(r.payload) for r in rows]


def test_upload_matching_two_banks_is_one_case_decided_once(
    client: TestClient, db: Database, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    admin, platform = auth_headers(Role.admin), auth_headers(Role.integrator)
    moderator = auth_headers(Role.moderator)
    image = synthetic_image(23)
    for name in ("ncmec-hashes", "our-confirmed"):
        bank = client.post("/v1/banks", json={"name": name}, headers=admin).json()["id"]
        r = client.post(
            f"/v1/banks/{bank}/content/upload",
            files={"file": ("k.jpg", jpeg_bytes(image))},
            data={"labels": "A1"},
            headers=admin,
        )
        assert r.status_code == 201, r.text
    upload = edited(image)

    def scan(content_id: str | None) -> dict[str, Any]:
        data = {"content_id": content_id} if content_id else {}
        response = client.post("/v1/scan", files={"file": ("u.jpg", upload)}, data=data, headers=platform)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    wait_for(lambda: len({m["bank"] for r in scan(None)["results"] for m in r["matches"]}) == 2 or None)
    first = scan("post-1")
    again = scan("post-1")  # a re-scan of the same content id joins its open case
    assert again["case_id"] == first["case_id"]
    case = client.get(f"/v1/cases/{first['case_id']}", headers=moderator).json()
    assert {s["bank"] for s in case["signals"]} == {"ncmec-hashes", "our-confirmed"}
    assert case["signal_count"] == 4
    assert client.get("/v1/cases", headers=moderator).json()["cases"][0]["id"] == first["case_id"]
    assert len(client.get("/v1/cases", headers=moderator).json()["cases"]) == 1

    claimed = client.post("/v1/cases/claim", headers=moderator, json={}).json()["case"]
    decided = client.post(
        f"/v1/cases/{claimed['id']}/decisions", headers=moderator, json={"label": "A1", "actions": []}
    )
    assert decided.status_code == 201, decided.text

    # A re-upload under a new id matches both banks again: one case, decided once, one decision.made.
    reupload = scan("post-2")
    assert reupload["auto_decision"] == "A1"
    made = _events(db, "decision.made")
    assert [e["subject_id"] for e in made] == ["post-1", "post-2"]
    # Re-scanning decided content brings nothing new: it joins the decided case, nobody is told again.
    rescan = scan("post-2")
    assert rescan["case_id"] == reupload["case_id"] and rescan["auto_decision"] is None
    assert len(_events(db, "decision.made")) == 2
    with db.read_session() as session:
        assert session.scalar(select(func.count(Case.id))) == 2
