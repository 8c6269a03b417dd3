"""Conversations belong to the integrator that sends them (issue 24.1): another integrator can neither
read them (404, exactly like a conversation that does not exist, and audited as ``tenant.refused``) nor
disturb them (its messages and message ids land in its own conversation of the same id)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safeguard.audit.models import AuditRecord
from safeguard.auth import Role
from safeguard.review.models import Case
from safeguard.store.db import Database
from safeguard.text.models import ConversationStateRow, GroomingAlertRow
from tests.helpers import problem_of
from tests.text.fixtures import GROOMING

Headers = Callable[[Role], dict[str, str]]


def _refusals(db: Database) -> list[tuple[str, str, str, str]]:
    """(object type, object id, actor kind, actor id) of each ``tenant.refused`` record."""
    with db.read_session() as session:
        rows = session.execute(
            select(
                AuditRecord.object_type, AuditRecord.object_id, AuditRecord.actor_kind, AuditRecord.actor_id
            )
            .where(AuditRecord.action == "tenant.refused")
            .order_by(AuditRecord.seq)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _groom(client: TestClient, headers: dict[str, str], conversation: str) -> dict[str, object]:
    batch = {"messages": [{"id": f"m{i}", "author": a, "text": t} for i, (a, t) in enumerate(GROOMING, 1)]}
    response = client.post(f"/v1/conversations/{conversation}/messages", json=batch, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_another_integrator_gets_404_and_the_refusal_is_audited(
    client: TestClient, db: Database, auth_headers: Headers
) -> None:
    first, second = auth_headers(Role.integrator), auth_headers(Role.integrator)
    owned = _groom(client, first, "c1")
    assert owned["flagged"] and str(owned["owner"]).startswith("api_key:")

    refused = client.get("/v1/conversations/c1/risk", headers=second)
    missing = client.get("/v1/conversations/never-sent/risk", headers=second)
    assert refused.status_code == missing.status_code == 404
    a, b = problem_of(refused), problem_of(missing)
    assert (a["type"], a["title"]) == (b["type"], b["title"])  # no existence leak
    assert "adult" not in refused.text and "m1" not in refused.text

    records = _refusals(db)  # the refusal is audited; the truly missing id is not a refusal
    assert [r[:3] for r in records] == [("conversation", "c1", "api_key")]
    assert f"api_key:{records[0][3]}" != owned["owner"]
    assert client.get("/v1/conversations/c1/risk", headers=first).json()["flagged"] is True


def test_pre_sent_message_ids_do_not_mark_the_owners_messages_duplicate(
    client: TestClient, db: Database, auth_headers: Headers
) -> None:
    first, second = auth_headers(Role.integrator), auth_headers(Role.integrator)
    hostile = {"messages": [{"id": f"m{i}", "author": "x", "text": "hello"} for i in range(1, 4)]}
    assert client.post("/v1/conversations/c1/messages", json=hostile, headers=second).status_code == 200

    owned = _groom(client, first, "c1")
    per_message = owned["per_message"]
    assert isinstance(per_message, list)
    assert [m["duplicate"] for m in per_message] == [False] * len(GROOMING)
    assert owned["messages"] == len(GROOMING) and owned["flagged"]
    assert {a["author"] for a in owned["authors"]} == {a for a, _ in GROOMING}  # type: ignore[attr-defined]

    theirs = client.get("/v1/conversations/c1/risk", headers=second).json()
    assert theirs["messages"] == 3 and not theirs["flagged"]
    assert [a["author"] for a in theirs["authors"]] == ["x"]
    with db.read_session() as session:
        owners = session.scalars(select(ConversationStateRow.owner).order_by(ConversationStateRow.owner))
        assert len(set(owners)) == 2
        alert_owners = list(session.scalars(select(GroomingAlertRow.owner)))
        case_owners = list(session.scalars(select(Case.owner)))
    assert alert_owners == case_owners == [owned["owner"]]


def test_admin_reads_across_owners_only_when_naming_one(
    client: TestClient, db: Database, auth_headers: Headers, admin_headers: dict[str, str]
) -> None:
    first, second = auth_headers(Role.integrator), auth_headers(Role.integrator)
    owner = str(_groom(client, first, "c1")["owner"])

    assert client.get("/v1/conversations/c1/risk", headers=admin_headers).status_code == 404
    read = client.get("/v1/conversations/c1/risk", headers=admin_headers, params={"owner": owner})
    assert read.status_code == 200 and read.json()["owner"] == owner and read.json()["flagged"]

    # ?owner= is the admin's: an integrator naming another owner is refused (and audited).
    named = client.get("/v1/conversations/c1/risk", headers=second, params={"owner": owner})
    assert problem_of(named)["status"] == 422 and problem_of(named)["field"] == "owner"
    assert client.get("/v1/conversations/c1/risk", headers=first, params={"owner": owner}).status_code == 200
    with db.read_session() as session:
        count = session.scalar(
            select(func.count(AuditRecord.seq)).where(AuditRecord.action == "tenant.refused")
        )
    assert count == 1
