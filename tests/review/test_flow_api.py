"""End to end through the HTTP API, on SQLite and PostgreSQL: content -> match or alert -> case -> claim ->
decision -> signed webhook delivered (retried, exactly once) and audited; re-uploads decided automatically."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from safeguard.actions.worker import DeliveryWorker
from safeguard.auth import Role
from safeguard.store.db import Database
from safeguard.text.vocabulary import Behaviour
from tests.actions.receiver import Receiver, running
from tests.helpers import problem_of
from tests.review.helpers import REVIEW, WEBHOOKS, alert, match


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_match_and_alert_to_decision_to_webhook(
    client: TestClient,
    db: Database,
    auth_headers: Callable[[Role], dict[str, str]],
    admin_headers: dict[str, str],
) -> None:
    client.app.state.webhook_settings = WEBHOOKS  # type: ignore[attr-defined]
    client.app.state.review_settings = REVIEW  # type: ignore[attr-defined]
    platform, mod_a, mod_b = (
        auth_headers(Role.integrator),
        auth_headers(Role.moderator),
        auth_headers(Role.moderator),
    )
    client.post("/v1/banks", json={"name": "confirmed"}, headers=admin_headers)
    with running(Receiver(fail_first=1)) as receiver:
        r = client.post(
            "/v1/webhooks",
            headers=platform,
            json={"url": receiver.url, "events": ["case.opened", "decision.made"]},
        )
        assert r.status_code == 201, r.text
        receiver.secret = r.json()["secret"]
        assert "secret" not in client.get("/v1/webhooks", headers=platform).json()[0]

        # The platform's scan found a known image; its conversation monitor found a meeting being arranged.
        content = client.post(
            "/v1/cases/signals", headers=platform, json=match("upload-1").model_dump(mode="json")
        )
        assert content.status_code == 201, content.text
        assert content.json()["created"] and not content.json()["live_risk"]
        chat = alert("conv-9", behaviours=[Behaviour.meeting, Behaviour.secrecy])
        conversation = client.post("/v1/cases/signals", headers=platform, json=chat.model_dump(mode="json"))
        assert conversation.json()["live_risk"] is True
        # A child reports the same adult: an account case, linked to the conversation by the account.
        report = client.post(
            "/v1/reports",
            headers=platform,
            json={
                "subject_kind": "account",
                "subject_id": "adult-1",
                "account_id": "adult-1",
                "reporter_kind": "child",
                "category": "grooming",
                "text": "he keeps asking me to keep secrets",
            },
        )
        assert report.status_code == 201, report.text

        # Live risk first, whatever the A1 match scores.
        claimed = client.post("/v1/cases/claim", headers=mod_a, json={}).json()["case"]
        assert claimed["live_risk"] and claimed["priority"]["child_at_risk"] == 50
        assert {link["reason"] for link in claimed["links"]} == {"same_account"}
        # Nobody else can decide a case moderator A holds.
        other = client.post(
            f"/v1/cases/{claimed['id']}/decisions", headers=mod_b, json={"label": "online_enticement"}
        )
        assert other.status_code == 409
        decided = client.post(
            f"/v1/cases/{claimed['id']}/decisions",
            headers=mod_a,
            json={
                "label": "online_enticement",
                "actions": ["suspend_account", "preserve_evidence"],
                "notes": "meeting set",
            },
        )
        assert decided.status_code == 201 and decided.json()["status"] == "final", decided.text

        second = client.post("/v1/cases/claim", headers=mod_a, json={"kinds": ["content"]}).json()["case"]
        assert second["id"] == content.json()["case_id"]
        assert second["priority"]["severity"] == 40 and second["labels"] == ["A1"]
        r = client.post(
            f"/v1/cases/{second['id']}/decisions",
            headers=mod_a,
            json={"label": "A1", "actions": ["remove_content", "add_to_bank"], "bank": "confirmed"},
        )
        assert r.status_code == 201, r.text

        # A re-upload of the same image: decided at once by the earlier decision, never queued.
        again = client.post(
            "/v1/cases/signals",
            headers=platform,
            json=match("upload-2", account="u2").model_dump(mode="json"),
        )
        assert again.json()["status"] == "decided" and again.json()["auto_decision_id"] is not None
        detail = client.get(f"/v1/cases/{again.json()['case_id']}", headers=mod_b).json()
        assert detail["decisions"][0]["kind"] == "auto" and detail["decisions"][0]["label"] == "A1"
        assert {"case_id": second["id"], "reason": "same_content"} in detail["links"]

        worker = DeliveryWorker(db, WEBHOOKS, poll_seconds=0.02).start()
        try:
            # case.opened x3, decision.made x3 (conversation, content, automatic re-upload)
            wait_for(lambda: len(receiver.applied) == 6)
        finally:
            worker.stop()
        assert receiver.bad_signatures == 0
        assert len(receiver.attempts) == 12  # every event failed once, then was accepted once
        # Order is kept per case (not across cases): sort by decision to compare.
        made = sorted(
            (e["data"] for e in receiver.applied if e["type"] == "decision.made"),
            key=lambda d: d["decision_id"],
        )
        assert [(d["label"], d["automatic"]) for d in made] == [
            ("online_enticement", False),
            ("A1", False),
            ("A1", True),
        ]
        # Each violation names the category the authorities report it under.
        assert made[0]["report_category"] == "Online Enticement of Children for Sexual Acts"
        assert made[1]["report_category"].startswith("Child Pornography")
        assert made[1]["actions"] == ["remove_content", "add_to_bank"]
        assert (
            made[2]["actions"] == ["remove_content"]
            and made[2]["source_decision_id"] == made[1]["decision_id"]
        )
        deliveries = client.get("/v1/webhooks/deliveries", headers=platform).json()
        assert {d["status"] for d in deliveries} == {"delivered"} and len(deliveries) == 6

    audit = client.get("/v1/audit", headers=admin_headers, params={"limit": 1000}).json()["records"]
    actions = [rec["action"] for rec in audit]
    for expected in ("webhook.create", "case.open", "case.claim", "decision.final"):
        assert expected in actions
    assert actions.count("decision.final") == 3
    assert client.get("/v1/audit/verify", headers=admin_headers).json()["ok"] is True
    stats = client.get("/v1/cases/stats", headers=mod_b).json()
    assert stats["by_status"] == {"decided": 3, "open": 1} and stats["automatic_decisions"] == 1


@pytest.mark.parametrize("bad", ["adult\x001", "adult\n1", "\x1b[31m"])
def test_control_characters_in_report_ids_are_a_422_naming_the_field(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]], bad: str
) -> None:
    platform = auth_headers(Role.integrator)
    for field in ("subject_id", "account_id"):
        body = {"subject_kind": "account", "subject_id": "adult-1", field: bad}
        response = client.post("/v1/reports", headers=platform, json=body)
        assert response.status_code == 422, response.text
        assert field in str(problem_of(response))
