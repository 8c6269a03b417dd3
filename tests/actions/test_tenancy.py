"""Every other resource an integrator creates is its own (issue 24.1): webhook endpoints and their
deliveries, and the cases opened from its signals, reports and scans. Another integrator is answered 404
as for a missing id, and each refusal is audited as ``tenant.refused``."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from safeguard.actions import outbox
from safeguard.actions.models import WebhookDelivery
from safeguard.audit.models import AuditRecord
from safeguard.auth import Role
from safeguard.review.models import Case
from safeguard.store.db import Database
from tests.helpers import problem_of
from tests.review.helpers import WEBHOOKS, match

Headers = Callable[[Role], dict[str, str]]
HOOK = {"url": "http://127.0.0.1:9/x", "events": ["case.opened"]}


def _refused(db: Database) -> list[tuple[str, str]]:
    with db.read_session() as session:
        rows = session.execute(
            select(AuditRecord.object_type, AuditRecord.object_id)
            .where(AuditRecord.action == "tenant.refused")
            .order_by(AuditRecord.seq)
        )
        return [(t, i) for t, i in rows]


def _one_delivery(client: TestClient, db: Database, headers: dict[str, str]) -> tuple[int, int]:
    endpoint = client.post("/v1/webhooks", headers=headers, json=HOOK).json()["id"]
    opened = client.post("/v1/cases/signals", headers=headers, json=match("u1").model_dump(mode="json"))
    assert opened.status_code == 201, opened.text
    with db.session() as session:
        assert outbox.dispatch(session) == 1
        delivery = session.scalars(select(WebhookDelivery.id)).one()
    return endpoint, delivery


def test_webhooks_and_deliveries_of_another_integrator_are_404_and_audited(
    client: TestClient, db: Database, auth_headers: Headers
) -> None:
    client.app.state.webhook_settings = WEBHOOKS  # type: ignore[attr-defined]
    mine, theirs = auth_headers(Role.integrator), auth_headers(Role.integrator)
    endpoint, delivery = _one_delivery(client, db, mine)

    attempts = [
        client.get(f"/v1/webhooks/{endpoint}", headers=theirs),
        client.post(f"/v1/webhooks/{endpoint}/rotate-secret", headers=theirs),
        client.delete(f"/v1/webhooks/{endpoint}", headers=theirs),
        client.post("/v1/webhooks/dead-letters/replay", headers=theirs, json={"endpoint_id": endpoint}),
        client.get(f"/v1/webhooks/deliveries/{delivery}", headers=theirs),
        client.post(f"/v1/webhooks/deliveries/{delivery}/replay", headers=theirs),
    ]
    assert [problem_of(r)["status"] for r in attempts] == [404] * len(attempts)
    missing = client.get("/v1/webhooks/999999", headers=theirs)
    assert problem_of(missing)["type"] == problem_of(attempts[0])["type"]
    assert client.get("/v1/webhooks", headers=theirs).json() == []
    assert client.get("/v1/webhooks/deliveries", headers=theirs).json() == []
    listed = client.get("/v1/webhooks/deliveries", headers=theirs, params={"endpoint_id": endpoint})
    assert listed.json() == []

    assert _refused(db) == [
        ("webhook", str(endpoint)),
        ("webhook", str(endpoint)),
        ("webhook", str(endpoint)),
        ("webhook", str(endpoint)),
        ("webhook_delivery", str(delivery)),
        ("webhook_delivery", str(delivery)),
    ]
    # The owner's endpoint is untouched: still active, same secret works, its delivery is its own.
    assert client.get(f"/v1/webhooks/{endpoint}", headers=mine).json()["active"] is True
    assert client.get(f"/v1/webhooks/deliveries/{delivery}", headers=mine).status_code == 200

    # Registering an endpoint for another integrator is the admin's: refused and audited.
    owner = client.get(f"/v1/webhooks/{endpoint}", headers=mine).json()["owner"]
    forged = client.post("/v1/webhooks", headers=theirs, json={**HOOK, "owner": owner})
    assert problem_of(forged)["status"] == 422
    assert _refused(db)[-1] == ("webhook", "new")


def test_cases_are_per_integrator_and_a_strangers_appeal_is_404_and_audited(
    client: TestClient, db: Database, auth_headers: Headers
) -> None:
    mine, theirs = auth_headers(Role.integrator), auth_headers(Role.integrator)
    signal = match("u1").model_dump(mode="json")
    report = {"type": "user_report", "subject_kind": "content", "subject_id": "post-1", "account_id": "a1"}
    first = client.post("/v1/cases/signals", headers=mine, json=signal).json()
    second = client.post("/v1/cases/signals", headers=theirs, json=signal).json()
    assert first["case_id"] != second["case_id"]  # the same content from two platforms: two cases
    r1 = client.post("/v1/reports", headers=mine, json=report)
    r2 = client.post("/v1/reports", headers=theirs, json=report)
    assert r1.status_code == r2.status_code == 201, r1.text
    assert r1.json()["case_id"] != r2.json()["case_id"]
    with db.read_session() as session:
        owners = {case_id: owner for case_id, owner in session.execute(select(Case.id, Case.owner))}
    assert owners[first["case_id"]] == owners[r1.json()["case_id"]] != owners[second["case_id"]]

    appeal = client.post(f"/v1/cases/{first['case_id']}/appeals", headers=theirs, json={"reason": "x"})
    missing = client.post("/v1/cases/999999/appeals", headers=theirs, json={"reason": "x"})
    assert problem_of(appeal)["status"] == problem_of(missing)["status"] == 404
    assert problem_of(appeal)["type"] == problem_of(missing)["type"]
    assert _refused(db) == [("case", str(first["case_id"]))]
