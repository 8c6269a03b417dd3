"""The case routes as moderators and seniors use them: who sees escalated cases, banking on decision, the
platform told of an escalation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from safeguard.actions.worker import DeliveryWorker
from safeguard.auth import Role
from safeguard.review.config import ReviewSettings
from safeguard.store.db import Database
from tests.actions.receiver import Receiver, running
from tests.banks.helpers import edited, jpeg_bytes, synthetic_image, wait_for
from tests.review.helpers import WEBHOOKS

Headers = Callable[[Role], dict[str, str]]


def _signal(content_id: str) -> dict[str, Any]:
    return {
        "type": "media_match",
        "content_id": content_id,
        "bank": "known",
        "bank_content_id": content_id,
        "distance": 3,
        "labels": ["A2"],
    }


def test_moderators_do_not_list_escalated_cases(client: TestClient, auth_headers: Headers) -> None:
    platform, moderator = auth_headers(Role.integrator), auth_headers(Role.moderator)
    senior = auth_headers(Role.admin)
    ids = [
        client.post("/v1/cases/signals", json=_signal(c), headers=platform).json()["case_id"] for c in "ab"
    ]
    held = client.post("/v1/cases/claim", headers=moderator, json={}).json()["case"]["id"]
    r = client.post(f"/v1/cases/{held}/escalate", headers=moderator, json={"reason": "unsure of the age"})
    assert r.status_code == 200, r.text

    def listed(headers: dict[str, str], **params: str) -> list[int]:
        response = client.get("/v1/cases", headers=headers, params=params)
        assert response.status_code == 200, response.text
        return sorted(c["id"] for c in response.json()["cases"])

    assert listed(moderator) == [i for i in ids if i != held]
    assert listed(moderator, order="id", status="open") == [i for i in ids if i != held]
    assert listed(senior) == sorted(ids)
    assert listed(senior, escalated="true") == [held]
    refused = client.get("/v1/cases", headers=moderator, params={"escalated": "true"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def _scan(
    client: TestClient, headers: dict[str, str], upload: bytes, content_id: str | None
) -> dict[str, Any]:
    data = {"content_id": content_id} if content_id else {}
    response = client.post("/v1/scan", files={"file": ("u.jpg", upload)}, data=data, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _banks_matched(body: dict[str, Any]) -> set[str]:
    return {m["bank"] for r in body["results"] for m in r["matches"]}


def test_confirmed_add_to_bank_banks_the_hashes_and_a_reupload_matches(
    client: TestClient, auth_headers: Headers
) -> None:
    client.app.state.review_settings = ReviewSettings(four_eyes_actions=["add_to_bank"])  # type: ignore[attr-defined]
    admin, platform = auth_headers(Role.admin), auth_headers(Role.integrator)
    first, second = auth_headers(Role.moderator), auth_headers(Role.moderator)
    known = client.post("/v1/banks", json={"name": "hotline-list"}, headers=admin).json()["id"]
    ours = client.post("/v1/banks", json={"name": "our-confirmed"}, headers=admin).json()["id"]
    client.post("/v1/banks", json={"name": "false-positives", "is_allowlist": True}, headers=admin)
    image = synthetic_image(41)
    r = client.post(
        f"/v1/banks/{known}/content/upload", files={"file": ("k.jpg", jpeg_bytes(image))}, headers=admin
    )
    assert r.status_code == 201, r.text
    upload = edited(image)
    wait_for(lambda: _banks_matched(_scan(client, platform, upload, None)) or None)
    case_id = _scan(client, platform, upload, "post-9")["case_id"]
    held = client.post("/v1/cases/claim", headers=first, json={}).json()["case"]["id"]
    assert held == case_id

    def decide(**body: Any) -> Any:
        return client.post(f"/v1/cases/{case_id}/decisions", headers=first, json={"label": "A2", **body})

    # The bank is checked when the decision is made: missing, unknown, of the wrong kind, or without action.
    for bad in (
        {"actions": ["add_to_bank"]},
        {"actions": ["add_to_bank"], "bank": "no-such-bank"},
        {"actions": ["add_to_bank"], "bank": "false-positives"},
        {"actions": ["remove_content"], "bank": "our-confirmed"},
    ):
        refused = decide(**bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["field"] == "bank"
    proposed = decide(actions=["add_to_bank"], bank="our-confirmed")
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "pending_confirmation" and proposed.json()["bank"] == "our-confirmed"
    # Nothing is banked before the second moderator confirms.
    assert client.get(f"/v1/banks/{ours}/content", headers=admin).json() == []

    assert client.post("/v1/cases/claim", headers=second, json={}).json()["case"]["id"] == case_id
    confirmed = client.post(
        f"/v1/cases/{case_id}/decisions/{proposed.json()['id']}/confirm",
        headers=second,
        json={"approve": True},
    )
    assert confirmed.status_code == 200, confirmed.text
    [item] = client.get(f"/v1/banks/{ours}/content", headers=admin).json()
    assert item["labels"] == ["A2"]
    assert item["external_ids"]["safeguard_case"] == str(case_id)
    assert item["external_ids"]["safeguard_decision"] == str(proposed.json()["id"])
    assert item["external_ids"]["safeguard_moderator"] == proposed.json()["moderator"]
    assert item["external_ids"]["safeguard_confirmed_by"] == confirmed.json()["confirmed_by"]

    # The re-upload now matches the bank the moderator picked, at distance 0 (its own hash).
    matched = wait_for(
        lambda: "our-confirmed" in _banks_matched(found := _scan(client, platform, upload, None)) and found
    )
    ours_hits = [m for r in matched["results"] for m in r["matches"] if m["bank"] == "our-confirmed"]
    assert min(m["distance"] for m in ours_hits) == 0


def test_escalation_tells_the_platform(client: TestClient, db: Database, auth_headers: Headers) -> None:
    client.app.state.webhook_settings = WEBHOOKS  # type: ignore[attr-defined]
    platform, moderator = auth_headers(Role.integrator), auth_headers(Role.moderator)
    with running(Receiver()) as receiver:
        r = client.post(
            "/v1/webhooks", headers=platform, json={"url": receiver.url, "events": ["case.escalated"]}
        )
        assert r.status_code == 201, r.text
        receiver.secret = r.json()["secret"]
        ids = [
            client.post("/v1/cases/signals", json=_signal(c), headers=platform).json()["case_id"]
            for c in "xy"
        ]
        # One by the escalate route, one by a needs_escalation decision.
        held = client.post("/v1/cases/claim", headers=moderator, json={}).json()["case"]["id"]
        r = client.post(f"/v1/cases/{held}/escalate", headers=moderator, json={"reason": "age unclear"})
        assert r.status_code == 200, r.text
        other = client.post("/v1/cases/claim", headers=moderator, json={}).json()["case"]["id"]
        r = client.post(
            f"/v1/cases/{other}/decisions",
            headers=moderator,
            json={"label": "needs_escalation", "notes": "?"},
        )
        assert r.status_code == 201, r.text
        worker = DeliveryWorker(db, WEBHOOKS, poll_seconds=0.02).start()
        try:
            wait_for(lambda: len(receiver.applied) == 2 or None, timeout=20)
        finally:
            worker.stop()
    assert receiver.bad_signatures == 0
    assert [e["type"] for e in receiver.applied] == ["case.escalated"] * 2
    assert sorted(e["data"]["case_id"] for e in receiver.applied) == sorted(ids)
    assert all("age unclear" not in str(e["data"]) for e in receiver.applied)
