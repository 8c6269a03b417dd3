"""A grooming case follows its conversation after the first alert, and a decided one is followed by a
linked case when new risky behaviour comes in (synthetic chat from tests/text/fixtures.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from safeguard.auth import Role
from tests.text.fixtures import GROOMING

Headers = Callable[[Role], dict[str, str]]
CROSSING = 5  # GROOMING's message 5 (age probing, flattery) raises the alert; 11 asks for a picture


def _post(client: TestClient, headers: dict[str, str], first: int, last: int) -> None:
    for i in range(first, last + 1):
        author, text = GROOMING[i - 1]
        r = client.post(
            "/v1/conversations/chat-7/messages",
            json={"id": f"m{i}", "author": author, "text": text},
            headers=headers,
        )
        assert r.status_code == 200, r.text


def _conversation_cases(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    cases = client.get("/v1/cases", headers=headers, params={"order": "id"}).json()["cases"]
    return [c for c in cases if c["kind"] == "conversation"]


def test_later_messages_update_the_case_and_its_place_in_the_queue(
    client: TestClient, auth_headers: Headers
) -> None:
    platform, moderator = auth_headers(Role.integrator), auth_headers(Role.moderator)
    # A strong media match waits in the queue, above the fresh grooming alert.
    match = {"type": "media_match", "content_id": "img-1", "bank": "known", "bank_content_id": "1"}
    r = client.post("/v1/cases/signals", json={**match, "distance": 0, "labels": ["A1"]}, headers=platform)
    media_case = r.json()["case_id"]
    _post(client, platform, 1, CROSSING)
    [case] = _conversation_cases(client, moderator)
    assert case["signal_count"] == 1 and not case["live_risk"]
    assert case["priority"]["child_at_risk"] == 0
    assert client.get("/v1/cases", headers=moderator).json()["cases"][0]["id"] == media_case

    _post(client, platform, CROSSING + 1, 10)  # home alone, secrecy: more signals, still not live
    [case] = _conversation_cases(client, moderator)
    assert case["signal_count"] > 1 and not case["live_risk"]
    _post(client, platform, 11, 11)  # "do you have a pic of you?": an image request makes it live
    [live] = _conversation_cases(client, moderator)
    assert live["id"] == case["id"] and live["live_risk"] and live["signal_count"] > case["signal_count"]
    assert live["priority"]["child_at_risk"] == 50
    assert live["priority"]["score"] >= case["priority"]["score"] + 50
    assert any("asking for pictures" in reason for reason in live["priority"]["reasons"])
    assert client.get("/v1/cases", headers=moderator).json()["cases"][0]["id"] == live["id"]
    claimed = client.post("/v1/cases/claim", headers=moderator, json={}).json()["case"]
    assert claimed["id"] == live["id"]
    assert "images_webcam" in {b for s in claimed["signals"] for b in s["behaviours"]}

    before = live["signal_count"]
    _post(client, platform, 12, 12)  # the child's "maybe" changes nothing about the adult
    [same] = _conversation_cases(client, moderator)
    assert same["signal_count"] == before


def test_new_risky_messages_after_a_decision_open_a_linked_case(
    client: TestClient, auth_headers: Headers
) -> None:
    platform, moderator = auth_headers(Role.integrator), auth_headers(Role.moderator)
    _post(client, platform, 1, CROSSING + 1)
    claimed = client.post("/v1/cases/claim", headers=moderator, json={}).json()["case"]
    r = client.post(
        f"/v1/cases/{claimed['id']}/decisions",
        headers=moderator,
        json={"label": "not_violating", "actions": []},
    )
    assert r.status_code == 201, r.text
    _post(client, platform, CROSSING + 2, CROSSING + 2)  # "are you home alone right now": new behaviour
    decided, follow = _conversation_cases(client, moderator)
    assert decided["id"] == claimed["id"] and decided["status"] == "decided"
    assert decided["signal_count"] == claimed["signal_count"]
    assert follow["status"] == "open" and follow["subject_id"] == "chat-7"
    links = client.get(f"/v1/cases/{follow['id']}", headers=moderator).json()["links"]
    assert {"case_id": decided["id"], "reason": "same_subject"} in links
    _post(client, platform, CROSSING + 3, 11)  # later messages go to the new case, not a third one
    cases = _conversation_cases(client, moderator)
    assert [c["id"] for c in cases] == [decided["id"], follow["id"]] and cases[1]["live_risk"]
