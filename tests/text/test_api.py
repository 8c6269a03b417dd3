"""The conversations API on SQLite and PostgreSQL: risk and reasons per message, one alert and one review
case at the crossing, text kept only once a conversation has alerted, retries not counted twice."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safeguard.auth import Role
from safeguard.review.models import Case
from safeguard.store.db import Database
from safeguard.text.models import ConversationMessageRow, GroomingAlertRow
from tests.text.fixtures import ADVERSARIAL, GROOMING

Headers = Callable[[Role], dict[str, str]]


def _count(db: Database, column: object) -> int:
    with db.read_session() as session:
        return int(session.scalar(select(func.count(column))) or 0)  # type: ignore[call-overload]


def test_grooming_conversation_alerts_once_and_keeps_its_text(
    client: TestClient, db: Database, auth_headers: Headers
) -> None:
    headers = auth_headers(Role.integrator)
    answers = []
    for i, (author, text) in enumerate(GROOMING, start=1):
        response = client.post(
            "/v1/conversations/c1/messages",
            json={"id": f"m{i}", "author": author, "text": text},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        answers.append(response.json())
    last = answers[-1]
    assert last["flagged"] and last["alerted_at"] and last["text_retained"]
    adult = next(a for a in last["authors"] if a["author"] == "adult")
    assert adult["flagged"] and adult["child_directed_evidence"]
    texts = {f"m{i}": text for i, (_, text) in enumerate(GROOMING, start=1)}
    for reason in adult["reasons"]:
        for evidence in reason["evidence"]:
            assert texts[evidence["message_id"]][evidence["start"] : evidence["end"]] == evidence["excerpt"]
    assert sum(len(a["alerts"]) for a in answers) == 1
    assert _count(db, GroomingAlertRow.id) == 1
    assert _count(db, Case.id) == 1
    # Everything from the alert on is kept (no pending retention by default, so not what came before).
    crossing = next(i for i, a in enumerate(answers) if a["alerts"])
    assert _count(db, ConversationMessageRow.id) == len(GROOMING) - crossing

    retry = client.post(
        "/v1/conversations/c1/messages", json={"id": "m3", "author": "adult", "text": "asl?"}, headers=headers
    )
    assert retry.json()["per_message"] == [
        {"id": "m3", "author": "adult", "risk": adult["risk"], "flagged": True, "duplicate": True}
    ]
    assert retry.json()["messages"] == len(GROOMING)

    risk = client.get("/v1/conversations/c1/risk", headers=headers).json()
    assert risk["flagged"] and risk["messages"] == len(GROOMING) and risk["alerts"] == []


def test_adult_chat_in_one_batch_keeps_no_text(
    client: TestClient, db: Database, auth_headers: Headers
) -> None:
    headers = auth_headers(Role.integrator)
    batch = {"messages": [{"author": a, "text": t} for a, t in ADVERSARIAL["adult_flirting"]]}
    answer = client.post("/v1/conversations/c2/messages", json=batch, headers=headers).json()
    assert not answer["flagged"] and answer["alerts"] == [] and not answer["text_retained"]
    assert len(answer["per_message"]) == len(batch["messages"])
    assert _count(db, ConversationMessageRow.id) == 0
    assert _count(db, GroomingAlertRow.id) == 0


def test_roles_and_errors(client: TestClient, auth_headers: Headers) -> None:
    message = {"author": "u1", "text": "hi"}
    moderator = auth_headers(Role.moderator)
    assert client.post("/v1/conversations/c3/messages", json=message, headers=moderator).status_code == 403
    headers = auth_headers(Role.integrator)
    missing = client.get("/v1/conversations/nope/risk", headers=headers)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )
    bad = client.post(
        "/v1/conversations/c3/messages", json={"author": "u1", "text": "a\x00b"}, headers=headers
    )
    assert bad.status_code == 422
    empty = client.post("/v1/conversations/c3/messages", json={"messages": []}, headers=headers)
    assert empty.status_code == 422
