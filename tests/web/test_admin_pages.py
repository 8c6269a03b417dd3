"""Bank and webhook admin pages over HTTP, against the banks and actions capabilities."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from safeguard.actions.models import WebhookDelivery, WebhookEndpoint
from safeguard.auth import Actor, Role
from safeguard.auth import service as keys
from safeguard.banks.models import Bank, BankContent
from safeguard.store.base import utcnow
from safeguard.store.db import Database

PDQ = ["ab" * 32, "cd" * 32]


def test_bank_create_import_disable_enable(
    client: TestClient, login: Callable[[Role], str], db: Database
) -> None:
    csrf = login(Role.admin)
    created = client.post("/ui/banks", data={"csrf_token": csrf, "name": "known", "description": "d"})
    assert created.status_code == 200 and "The bank was created." in created.text
    with db.read_session() as session:
        bank_id = session.scalars(select(Bank.id).where(Bank.name == "known")).one()
    body = "signal_type,hash,label\n" + "".join(f"pdq,{h},A1\n" for h in PDQ)
    imported = client.post(
        f"/ui/banks/{bank_id}/import",
        data={"csrf_token": csrf, "format": "csv", "source": "test"},
        files={"file": ("bank.csv", body.encode())},
    )
    assert imported.status_code == 200 and "2 new items" in imported.text
    again = client.post(
        f"/ui/banks/{bank_id}/import",
        data={"csrf_token": csrf, "format": "csv"},
        files={"file": ("bank.csv", body.encode())},
    )
    assert "0 new items" in again.text and "2 already in the bank" in again.text
    bad = client.post(
        f"/ui/banks/{bank_id}/import",
        data={"csrf_token": csrf, "format": "csv"},
        files={"file": ("bad.csv", b"pdq,not-a-hash\n")},
    )
    assert bad.status_code == 400 and "line 1" in bad.text
    with db.read_session() as session:
        item_id = session.scalars(select(BankContent.id).where(BankContent.bank_id == bank_id)).first()
    no_reason = client.post(f"/ui/banks/{bank_id}/content/{item_id}/disable", data={"csrf_token": csrf})
    assert no_reason.status_code == 422
    client.post(f"/ui/banks/{bank_id}/content/{item_id}/disable", data={"csrf_token": csrf, "reason": "fp"})
    with db.read_session() as session:
        assert session.get(BankContent, item_id).enabled is False  # type: ignore[union-attr]
    client.post(f"/ui/banks/{bank_id}/content/{item_id}/enable", data={"csrf_token": csrf})
    with db.read_session() as session:
        assert session.get(BankContent, item_id).enabled is True  # type: ignore[union-attr]


def test_analyst_reads_banks_but_cannot_change_them(
    client: TestClient, login: Callable[[Role], str], db: Database
) -> None:
    csrf = login(Role.analyst)
    assert client.get("/ui/banks").status_code == 200
    refused = client.post("/ui/banks", data={"csrf_token": csrf, "name": "mine"})
    assert refused.status_code == 403
    assert client.get("/ui/admin/webhooks").status_code == 403


def _dead_delivery(db: Database) -> tuple[int, int]:
    with db.session() as session:
        key = keys.create_key(session, Actor.system("tests"), name="platform", role=Role.integrator)
        endpoint = WebhookEndpoint(
            owner=f"api_key:{key.info.id}",
            url="https://hooks.platform.invalid/safeguard",
            events=["decision.made"],
            secret="whsec_test",
            description="",
            active=True,
            created_at=utcnow(),
            created_by="system:tests",
        )
        session.add(endpoint)
        session.flush()
        now = utcnow()
        delivery = WebhookDelivery(
            endpoint_id=endpoint.id,
            event_id="00000000-0000-0000-0000-000000000001",
            event_seq=1,
            event_type="decision.made",
            ordering_key="case:1",
            body=json.dumps({"type": "decision.made"}),
            status="dead",
            attempts=9,
            next_attempt_at=now,
            retry_started_at=now,
            created_at=now,
            last_status=500,
            last_error="server error",
        )
        session.add(delivery)
        session.flush()
        return endpoint.id, delivery.id


def test_webhook_page_lists_dead_letters_and_replays(
    client: TestClient, login: Callable[[Role], str], db: Database
) -> None:
    endpoint_id, delivery_id = _dead_delivery(db)
    csrf = login(Role.admin)
    page = client.get("/ui/admin/webhooks?status=dead")
    assert page.status_code == 200 and "dead letters 1" in page.text and "server error" in page.text
    replayed = client.post(f"/ui/admin/webhooks/deliveries/{delivery_id}/replay", data={"csrf_token": csrf})
    assert replayed.status_code == 200 and "The delivery was queued again." in replayed.text
    with db.read_session() as session:
        assert session.get(WebhookDelivery, delivery_id).status == "pending"  # type: ignore[union-attr]
    again = client.post(f"/ui/admin/webhooks/deliveries/{delivery_id}/replay", data={"csrf_token": csrf})
    assert again.status_code == 409
    client.post(f"/ui/admin/webhooks/{endpoint_id}/deactivate", data={"csrf_token": csrf})
    with db.read_session() as session:
        assert session.get(WebhookEndpoint, endpoint_id).active is False  # type: ignore[union-attr]


def test_webhook_create_refuses_unsafe_urls(
    client: TestClient, login: Callable[[Role], str], db: Database
) -> None:
    with db.session() as session:
        key = keys.create_key(session, Actor.system("tests"), name="platform", role=Role.integrator)
    csrf = login(Role.admin)
    refused = client.post(
        "/ui/admin/webhooks",
        data={
            "csrf_token": csrf,
            "url": "https://169.254.169.254/latest",
            "owner": f"api_key:{key.info.id}",
            "events": ["decision.made"],
        },
    )
    assert refused.status_code == 422
    with db.read_session() as session:
        assert session.scalars(select(WebhookEndpoint)).first() is None
