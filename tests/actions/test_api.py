"""Webhook endpoints, dead letters and replay through the HTTP API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import update

from safeguard.actions.config import WebhookSettings
from safeguard.actions.models import WebhookDelivery
from safeguard.actions.worker import DeliveryWorker
from safeguard.auth import Role
from safeguard.store.db import Database
from tests.actions.receiver import Receiver, running
from tests.helpers import problem_of
from tests.review.helpers import WEBHOOKS, match


def test_private_addresses_are_refused_by_default(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    client.app.state.webhook_settings = WebhookSettings()  # type: ignore[attr-defined]
    platform = auth_headers(Role.integrator)
    for url in [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest",
        "https://10.0.0.7/",
        "http://example.org/",
    ]:
        response = client.post(
            "/v1/webhooks", headers=platform, json={"url": url, "events": ["decision.made"]}
        )
        assert response.status_code == 422, url
        assert problem_of(response)["type"] == "/problems/unsafe-webhook-url"


def test_integrators_see_only_their_endpoints(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    client.app.state.webhook_settings = WEBHOOKS  # type: ignore[attr-defined]
    mine, theirs = auth_headers(Role.integrator), auth_headers(Role.integrator)
    created = client.post(
        "/v1/webhooks", headers=mine, json={"url": "http://127.0.0.1:9/x", "events": ["decision.made"]}
    ).json()
    assert created["secret"].startswith("whsec_")
    assert client.get(f"/v1/webhooks/{created['id']}", headers=theirs).status_code == 404
    assert client.get("/v1/webhooks", headers=theirs).json() == []
    rotated = client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=mine).json()
    assert rotated["secret"] != created["secret"]
    bad = client.post("/v1/webhooks", headers=mine, json={"url": "http://127.0.0.1:9/x", "events": ["nope"]})
    assert bad.status_code == 422
    assert client.delete(f"/v1/webhooks/{created['id']}", headers=mine).json()["active"] is False
    assert client.post(f"/v1/webhooks/{created['id']}/reactivate", headers=mine).json()["active"] is True


def test_dead_letters_listed_and_replayed(
    client: TestClient, db: Database, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    settings = WEBHOOKS.model_copy(update={"retry_window_seconds": 0})
    client.app.state.webhook_settings = settings  # type: ignore[attr-defined]
    platform = auth_headers(Role.integrator)
    with running(Receiver(always_fail=True)) as receiver:
        created = client.post(
            "/v1/webhooks", headers=platform, json={"url": receiver.url, "events": ["case.opened"]}
        )
        receiver.secret = created.json()["secret"]
        for i in range(2):
            client.post(
                "/v1/cases/signals",
                headers=platform,
                json=match(f"u{i}", entry=f"e{i}").model_dump(mode="json"),
            )
        worker = DeliveryWorker(db, settings)
        worker.drain(timeout=10)
        dead = client.get("/v1/webhooks/deliveries", headers=platform, params={"status": "dead"}).json()
        assert len(dead) == 2 and dead[0]["last_status"] == 503 and dead[0]["attempts"] == 1
        other = auth_headers(Role.integrator)
        assert (
            client.post(f"/v1/webhooks/deliveries/{dead[0]['id']}/replay", headers=other).status_code == 404
        )
        receiver.always_fail = False
        assert (
            client.post(f"/v1/webhooks/deliveries/{dead[0]['id']}/replay", headers=platform).json()["status"]
            == "pending"
        )
        again = client.post(f"/v1/webhooks/deliveries/{dead[0]['id']}/replay", headers=platform)
        assert again.status_code == 409
        assert client.post("/v1/webhooks/dead-letters/replay", headers=platform, json={}).json() == {
            "replayed": 1
        }
        worker.drain(timeout=10)
        worker.stop()
    assert len(receiver.applied) == 2
    statuses = {d["status"] for d in client.get("/v1/webhooks/deliveries", headers=platform).json()}
    assert statuses == {"delivered"}
    with db.session() as session:  # an unknown id stays a 404, not a 500
        session.execute(update(WebhookDelivery).values(status="delivered"))
    assert client.get("/v1/webhooks/deliveries/999999", headers=platform).status_code == 404


def test_review_routes_answer_problems(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    moderator, platform = auth_headers(Role.moderator), auth_headers(Role.integrator)
    assert client.post("/v1/cases/claim", headers=moderator).json() == {"case": None}
    assert problem_of(client.get("/v1/cases/12345", headers=moderator))["status"] == 404
    case_id = client.post(
        "/v1/cases/signals", headers=platform, json=match("u1").model_dump(mode="json")
    ).json()["case_id"]
    refused = client.post(f"/v1/cases/{case_id}/decisions", headers=moderator, json={"label": "A1"})
    assert problem_of(refused)["type"] == "/problems/lease-not-held"
    appeal = client.post(f"/v1/cases/{case_id}/appeals", headers=platform, json={"reason": "x"})
    assert problem_of(appeal)["type"] == "/problems/case-not-open"
    stranger = auth_headers(Role.integrator)
    assert (
        client.post(f"/v1/cases/{case_id}/appeals", headers=stranger, json={"reason": "x"}).status_code == 404
    )
    bad = client.post("/v1/cases/signals", headers=platform, json={"type": "media_match", "content_id": "x"})
    assert bad.status_code == 422
