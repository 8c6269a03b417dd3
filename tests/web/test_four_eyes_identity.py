"""Four eyes across credentials (issue 24.6): an API key tied to a UI user is that person, so one person
holding a key and a login cannot propose a decision with one and confirm it with the other, nor take back
a case they decided, in either direction, over HTTP and in the UI."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from safeguard.auth import Actor, Role
from safeguard.review import decisions, flows
from safeguard.review.models import Case
from safeguard.review.signals import MediaMatchSignal
from safeguard.store.base import utcnow
from safeguard.store.db import Database
from tests.helpers import problem_of
from tests.web.conftest import MakeUser, sign_in

PLATFORM = Actor(kind="api_key", id="99", role=Role.integrator)
FOUR_EYES = {"label": "A1", "actions": ["report_to_authorities"]}


def _case(db: Database, content_id: str) -> int:
    signal = MediaMatchSignal(
        content_id=content_id,
        account_id="uploader",
        bank="demo",
        bank_content_id=f"e-{content_id}",
        distance=4,
        labels=["A1"],  # type: ignore[list-item]
    )
    with db.session() as session:
        return flows.open_case(session, PLATFORM, signal).case.id


def _key_for(client: TestClient, admin: dict[str, str], user: str | None) -> tuple[dict[str, str], str]:
    """A moderator key (held by ``user``) created over the API; its headers and stored identity."""
    body = {"name": f"key of {user}", "role": "moderator", **({"user": user} if user else {})}
    created = client.post("/v1/keys", headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["user"] == user
    return {"Authorization": f"Bearer {created.json()['key']}"}, f"api_key:{created.json()['id']}"


def _force_lease(db: Database, case_id: int, holder: str) -> None:
    """Give ``holder`` the case's lease directly, as if the queue had handed it over."""
    with db.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.lease_holder = holder
        case.lease_expires_at = utcnow() + timedelta(minutes=5)


def _pending(db: Database, case_id: int) -> int:
    with db.read_session() as session:
        pending = session.scalar(select(Case.pending_decision_id).where(Case.id == case_id))
    assert pending is not None
    return pending


def test_key_proposes_and_the_same_persons_ui_login_cannot_confirm(
    client: TestClient, db: Database, make_user: MakeUser, admin_headers: dict[str, str]
) -> None:
    alice = make_user(Role.moderator, "alice")
    key, _ = _key_for(client, admin_headers, alice)
    case_id = _case(db, "c-1")
    assert client.post("/v1/cases/claim", headers=key).json()["case"]["id"] == case_id
    proposed = client.post(f"/v1/cases/{case_id}/decisions", headers=key, json=FOUR_EYES)
    assert proposed.json()["status"] == "pending_confirmation", proposed.text

    ui = TestClient(client.app)
    csrf = sign_in(ui, alice)
    claimed = ui.post("/ui/queue/claim", data={"csrf_token": csrf}, follow_redirects=False)
    assert claimed.headers["location"] == "/ui/queue?notice=queue-empty"  # not offered to the proposer
    _force_lease(db, case_id, "user:alice")
    confirm = ui.post(
        f"/ui/cases/{case_id}/decisions/{_pending(db, case_id)}/confirm",
        data={"csrf_token": csrf, "approve": "true"},
        follow_redirects=False,
    )
    assert confirm.status_code == 403 and "A second moderator must confirm" in confirm.text

    bob = TestClient(client.app)
    _force_lease(db, case_id, "user:bob")
    csrf_bob = sign_in(bob, make_user(Role.moderator, "bob"))
    done = bob.post(
        f"/ui/cases/{case_id}/decisions/{_pending(db, case_id)}/confirm",
        data={"csrf_token": csrf_bob, "approve": "true"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/ui/queue?notice=confirmed"


def test_ui_login_proposes_and_the_same_persons_key_cannot_confirm(
    client: TestClient, db: Database, make_user: MakeUser, admin_headers: dict[str, str]
) -> None:
    alice = make_user(Role.moderator, "alice")
    key, identity = _key_for(client, admin_headers, alice)
    untied, untied_identity = _key_for(client, admin_headers, None)
    case_id = _case(db, "c-2")
    csrf = sign_in(client, alice)
    client.post("/ui/queue/claim", data={"csrf_token": csrf}, follow_redirects=False)
    proposed = client.post(
        f"/ui/cases/{case_id}/decide",
        data={"csrf_token": csrf, **FOUR_EYES},
        follow_redirects=False,
    )
    assert proposed.headers["location"] == "/ui/queue?notice=proposed"

    assert client.post("/v1/cases/claim", headers=key).json() == {"case": None}
    _force_lease(db, case_id, identity)
    pending = _pending(db, case_id)
    refused = client.post(
        f"/v1/cases/{case_id}/decisions/{pending}/confirm", headers=key, json={"approve": True}
    )
    assert problem_of(refused)["type"] == "/problems/four-eyes"

    # A key held by nobody (another system) is another pair of eyes.
    _force_lease(db, case_id, untied_identity)
    confirmed = client.post(
        f"/v1/cases/{case_id}/decisions/{pending}/confirm", headers=untied, json={"approve": True}
    )
    assert confirmed.json()["status"] == "final", confirmed.text


def test_the_decider_cannot_review_the_appeal_with_their_other_credential(
    client: TestClient, db: Database, make_user: MakeUser, admin_headers: dict[str, str]
) -> None:
    alice = make_user(Role.moderator, "alice")
    key, _ = _key_for(client, admin_headers, alice)
    case_id = _case(db, "c-3")
    client.post("/v1/cases/claim", headers=key)
    decided = client.post(f"/v1/cases/{case_id}/decisions", headers=key, json={"label": "B2"})
    assert decided.json()["status"] == "final", decided.text
    with db.session() as session:  # the platform appeals (as PLATFORM, the case's owner)
        decisions.appeal(session, PLATFORM, case_id, reason="not abuse")

    csrf = sign_in(client, alice)
    claimed = client.post("/ui/queue/claim", data={"csrf_token": csrf}, follow_redirects=False)
    assert claimed.headers["location"] == "/ui/queue?notice=queue-empty"
    _force_lease(db, case_id, "user:alice")
    again = client.post(f"/ui/cases/{case_id}/decide", data={"csrf_token": csrf, "label": "B2"})
    assert again.status_code == 403 and "another moderator reviews the appeal" in again.text


def test_key_creation_names_an_existing_user(
    client: TestClient, make_user: MakeUser, admin_headers: dict[str, str]
) -> None:
    unknown = client.post(
        "/v1/keys", headers=admin_headers, json={"name": "k", "role": "moderator", "user": "nobody"}
    )
    assert problem_of(unknown)["status"] == 422 and problem_of(unknown)["field"] == "user"
    alice = make_user(Role.moderator, "alice")
    _key_for(client, admin_headers, alice)
    listed = client.get("/v1/keys", headers=admin_headers).json()
    assert [k["user"] for k in listed if k["name"] == "key of alice"] == ["alice"]
