"""Queue and case pages over HTTP against the review capability: order and reasons, claim, blurred media
served without caching, decisions, four eyes, escalation, release, the wellness counter and break prompt."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safeguard.auth import Actor, Role
from safeguard.banks import service as banks
from safeguard.config import Settings
from safeguard.review import flows
from safeguard.review.models import Case, Decision, ReviewEvent
from safeguard.review.signals import GroomingAlertSignal, MediaMatchSignal
from safeguard.store.db import Database
from tests.helpers import IMAGES
from tests.web.conftest import MakeUser, csrf_of, sign_in
from tests.web.routes import ui_app

PLATFORM = Actor(kind="api_key", id="99", role=Role.integrator)


def _keep_image(settings: Settings) -> str:
    """Copy a benign sample image into the media directory as kept evidence; return its SHA-256."""
    image = sorted(IMAGES.glob("*.jpg"))[0]
    sha = hashlib.sha256(image.read_bytes()).hexdigest()
    settings.resolved_media_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(image, settings.resolved_media_dir / f"{sha}.jpg")
    return sha


def _media_case(
    db: Database, content_id: str, label: str, sha: str | None = None, query_hash: str | None = None
) -> int:
    signal = MediaMatchSignal(
        content_id=content_id,
        account_id="uploader",
        bank="demo",
        bank_content_id=f"e-{content_id}",
        distance=4,
        labels=[label],  # type: ignore[list-item]
        content_sha256=sha,
        query_hash=query_hash,
    )
    with db.session() as session:
        return flows.open_case(session, PLATFORM, signal).case.id


def _grooming_case(db: Database, conversation: str, *, live: bool) -> int:
    behaviours = ["meeting", "secrecy"] if live else ["age_location_probing"]
    signal = GroomingAlertSignal(
        conversation_id=conversation,
        risk=0.9,
        behaviours=behaviours,  # type: ignore[arg-type]
        reasons=["asked to keep it secret"],
    )
    with db.session() as session:
        return flows.open_case(session, PLATFORM, signal).case.id


def _claim(client: TestClient, csrf: str, **filters: str) -> str:
    response = client.post("/ui/queue/claim", data={"csrf_token": csrf, **filters}, follow_redirects=False)
    assert response.status_code == 303
    location: str = response.headers["location"]
    return location


def test_queue_shows_claim_order_and_why(
    client: TestClient, login: Callable[[Role], str], db: Database
) -> None:
    low = _media_case(db, "c-low", "B2")
    high = _media_case(db, "c-high", "A1")
    live = _grooming_case(db, "chat-live", live=True)
    login(Role.moderator)
    page = client.get("/ui/queue")
    assert page.status_code == 200
    order = [int(n) for n in re.findall(r'href="/ui/cases/(\d+)"', page.text)]
    assert order == [live, high, low]
    assert "child at risk now" in page.text and "labelled A1" in page.text
    filtered = client.get("/ui/queue?kind=content&label=B2")
    assert [int(n) for n in re.findall(r'href="/ui/cases/(\d+)"', filtered.text)] == [low]


def test_claim_decide_and_the_event_for_the_platform(
    client: TestClient, login: Callable[[Role], str], db: Database, settings: Settings
) -> None:
    sha = _keep_image(settings)
    case_id = _media_case(db, "c-1", "A2", sha, query_hash="ab" * 32)
    with db.session() as session:
        bank = banks.create_bank(session, Actor.system("tests"), name="our-confirmed").id
    csrf = login(Role.moderator)
    assert _claim(client, csrf) == f"/ui/cases/{case_id}"
    page = client.get(f"/ui/cases/{case_id}")
    assert "you hold this case" in page.text and 'id="decide-form"' in page.text
    assert '<option value="our-confirmed">our-confirmed</option>' in page.text
    assert f'src="/ui/cases/{case_id}/media/{sha}"' in page.text
    assert 'Viewed this session: <strong id="viewed-count">1</strong>' in page.text
    media = client.get(f"/ui/cases/{case_id}/media/{sha}")
    assert media.status_code == 200 and media.headers["cache-control"] == "no-store"
    assert media.headers["content-type"] == "image/jpeg"
    assert client.get(f"/ui/cases/{case_id}/media/{'0' * 64}").status_code == 404

    response = client.post(
        f"/ui/cases/{case_id}/decide",
        data={
            "csrf_token": csrf,
            "label": "A2",
            "actions": ["remove_content", "add_to_bank"],
            "bank": "our-confirmed",
            "notes": "clear",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/ui/queue?notice=decided"
    with db.read_session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.status == "decided"
        decision = session.get(Decision, case.decision_id)
        assert decision is not None and decision.moderator == "user:moderator-user"
        assert sorted(decision.actions) == ["add_to_bank", "remove_content"]
        types = list(session.scalars(select(ReviewEvent.type).where(ReviewEvent.case_id == case_id)))
        [banked] = banks.list_content(session, banks.get_bank(session, bank))
        assert banked.external_ids["safeguard_case"] == str(case_id) and banked.labels == ["A2"]
        assert banks.signals_of(session, [banked.id])[banked.id][0].value == "ab" * 32
    assert "decision.made" in types


def test_bad_decisions_are_refused_with_a_message(
    client: TestClient, login: Callable[[Role], str], db: Database
) -> None:
    case_id = _grooming_case(db, "chat-1", live=False)
    csrf = login(Role.moderator)
    _claim(client, csrf)
    page = client.get(f"/ui/cases/{case_id}").text
    # A conversation is offered its own labels and no content actions.
    assert 'value="online_enticement"' in page and 'value="A1"' not in page
    assert 'value="remove_content"' not in page and 'value="add_to_bank"' not in page
    media_label = client.post(f"/ui/cases/{case_id}/decide", data={"csrf_token": csrf, "label": "A1"})
    assert (
        media_label.status_code == 422 and "a conversation case takes one of the labels" in media_label.text
    )
    wrong = client.post(
        f"/ui/cases/{case_id}/decide",
        data={"csrf_token": csrf, "label": "sextortion", "actions": ["remove_content"]},
    )
    assert wrong.status_code == 422 and "only apply to content cases" in wrong.text
    unknown = client.post(f"/ui/cases/{case_id}/decide", data={"csrf_token": csrf, "label": "Z9"})
    assert unknown.status_code == 422


def test_four_eyes_needs_a_second_moderator(
    client: TestClient, login: Callable[[Role], str], make_user: MakeUser, db: Database
) -> None:
    case_id = _media_case(db, "c-2", "A1")
    csrf = login(Role.moderator)
    _claim(client, csrf)
    proposed = client.post(
        f"/ui/cases/{case_id}/decide",
        data={"csrf_token": csrf, "label": "A1", "actions": ["report_to_authorities"]},
        follow_redirects=False,
    )
    assert proposed.headers["location"] == "/ui/queue?notice=proposed"
    assert _claim(client, csrf) == "/ui/queue?notice=queue-empty"  # the proposer may not confirm
    second = TestClient(client.app)
    csrf2 = sign_in(second, make_user(Role.moderator, "second-mod"))
    assert _claim(second, csrf2) == f"/ui/cases/{case_id}"
    page = second.get(f"/ui/cases/{case_id}")
    assert 'id="confirm-form"' in page.text and "moderator-user" in page.text
    with db.read_session() as session:
        pending = session.get(Case, case_id).pending_decision_id  # type: ignore[union-attr]
    confirmed = second.post(
        f"/ui/cases/{case_id}/decisions/{pending}/confirm",
        data={"csrf_token": csrf2, "approve": "true"},
        follow_redirects=False,
    )
    assert confirmed.headers["location"] == "/ui/queue?notice=confirmed"
    with db.read_session() as session:
        assert session.get(Case, case_id).status == "decided"  # type: ignore[union-attr]


def test_escalate_and_release(client: TestClient, login: Callable[[Role], str], db: Database) -> None:
    first = _media_case(db, "c-3", "A1")
    second = _media_case(db, "c-4", "B2")
    csrf = login(Role.moderator)
    assert _claim(client, csrf) == f"/ui/cases/{first}"
    released = client.post(f"/ui/cases/{first}/release", data={"csrf_token": csrf}, follow_redirects=False)
    assert released.headers["location"] == "/ui/queue?notice=released"
    assert _claim(client, csrf) == f"/ui/cases/{first}"
    escalated = client.post(
        f"/ui/cases/{first}/escalate",
        data={"csrf_token": csrf, "reason": "unsure of age"},
        follow_redirects=False,
    )
    assert escalated.headers["location"] == "/ui/queue?notice=escalated"
    assert _claim(client, csrf) == f"/ui/cases/{second}"  # escalated cases go to senior reviewers
    not_held = client.post(f"/ui/cases/{first}/decide", data={"csrf_token": csrf, "label": "A1"})
    assert not_held.status_code in (403, 409)


def test_break_prompt_after_the_configured_count(
    client: TestClient, make_user: MakeUser, db: Database
) -> None:
    ui = ui_app(client.app)  # type: ignore[arg-type]
    ui.state.web_settings = ui.state.web_settings.model_copy(update={"break_after_items": 2})
    for n in range(2):
        _media_case(db, f"c-b{n}", "B2")
    csrf = sign_in(client, make_user(Role.moderator))
    _claim(client, csrf)
    assert "Time for a break" not in client.get("/ui/queue").text
    _claim(client, csrf)
    page = client.get("/ui/queue")
    assert "Time for a break" in page.text
    client.post("/ui/break", data={"csrf_token": csrf_of(page.text)})
    assert "Time for a break" not in client.get("/ui/queue").text


def test_blur_strength_is_a_personal_setting(client: TestClient, login: Callable[[Role], str]) -> None:
    csrf = login(Role.moderator)
    assert 'data-blur="24"' in client.get("/ui/account").text
    client.post("/ui/account/blur", data={"csrf_token": csrf, "blur_px": "40"})
    assert 'data-blur="40"' in client.get("/ui/account").text
    too_weak = client.post("/ui/account/blur", data={"csrf_token": csrf, "blur_px": "1"})
    assert too_weak.status_code == 422


def test_media_outside_the_case_is_not_served(
    client: TestClient, login: Callable[[Role], str], db: Database, settings: Settings, tmp_path: Path
) -> None:
    sha = _keep_image(settings)
    other = _media_case(db, "c-5", "B2", sha)
    unrelated = _media_case(db, "c-6", "B2")
    login(Role.moderator)
    assert client.get(f"/ui/cases/{other}/media/{sha}").status_code == 200
    assert client.get(f"/ui/cases/{unrelated}/media/{sha}").status_code == 404
    assert client.get(f"/ui/cases/{unrelated}/media/..%2F..%2Fetc%2Fpasswd").status_code in (404, 422)


def test_kept_video_is_shown_as_a_contact_sheet_not_played(
    client: TestClient, login: Callable[[Role], str], db: Database, settings: Settings
) -> None:
    import io

    from PIL import Image

    from tests.helpers import VIDEOS

    video = VIDEOS / "dev_cuts.mp4"
    sha = hashlib.sha256(video.read_bytes()).hexdigest()
    settings.resolved_media_dir.mkdir(parents=True, exist_ok=True)
    (settings.resolved_media_dir / sha[:2]).mkdir()
    shutil.copy(video, settings.resolved_media_dir / sha[:2] / f"{sha}.mp4")
    case_id = _media_case(db, "v-1", "B1", sha)
    login(Role.moderator)
    page = client.get(f"/ui/cases/{case_id}")
    assert "(video: 9 frames, not played)" in page.text and "<video" not in page.text
    sheet = client.get(f"/ui/cases/{case_id}/media/{sha}")
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/jpeg"
    assert sheet.headers["cache-control"] == "no-store"
    image = Image.open(io.BytesIO(sheet.content))
    assert image.width == 3 * 320 and image.height > image.width / 3


def test_a_decided_case_shows_its_outcome_and_can_be_reopened_on_appeal(
    client: TestClient, login: Callable[[Role], str], db: Database
) -> None:
    case_id = _media_case(db, "c-done", "B1")
    csrf = login(Role.moderator)
    _claim(client, csrf)
    client.post(
        f"/ui/cases/{case_id}/decide",
        data={"csrf_token": csrf, "label": "B1", "actions": ["remove_content"], "notes": "seen"},
    )
    page = client.get(f"/ui/cases/{case_id}").text
    assert 'id="final-decision"' in page and "<strong>B1</strong>: remove content" in page
    assert "· decided " in page and "· due " not in page and "overdue" not in page
    assert 'class="shortcuts"' not in page and "<kbd>" not in page  # no key hints on a decided case
    assert 'id="appeal-form"' in page
    reopened = client.post(
        f"/ui/cases/{case_id}/appeal", data={"csrf_token": csrf, "reason": "the uploader disputes it"}
    )
    assert reopened.status_code == 200 and "reopened on appeal" in reopened.text
    with db.read_session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.status == "open" and case.appeal_id is not None
    assert (
        'id="final-decision"' not in reopened.text
        and "appeal (open) the uploader disputes it" in reopened.text
    )
    again = client.post(f"/ui/cases/{case_id}/appeal", data={"csrf_token": csrf, "reason": "twice"})
    assert again.status_code == 409 and "no final decision to appeal" in again.text


def test_a_busy_database_is_a_503_page_not_a_500(
    client: TestClient, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from safeguard.users import service as users

    csrf = sign_in(client, make_user(Role.moderator))

    def locked(*_args: object) -> None:
        raise OperationalError("UPDATE user_sessions ...", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(users, "take_break", locked)
    response = client.post("/ui/break", data={"csrf_token": csrf})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert "busy" in response.text and "Traceback" not in response.text


def test_repeated_signals_show_once(client: TestClient, login: Callable[[Role], str], db: Database) -> None:
    """A re-scan repeats its matches and a followed conversation repeats its alert: the page shows the
    match once and the author's latest assessment only."""
    content = _media_case(db, "c-rescan", "B1")
    assert _media_case(db, "c-rescan", "B1") == content
    first = GroomingAlertSignal(conversation_id="chat-9", account_id="adult-9", risk=0.8, reasons=["asl"])
    later = first.model_copy(update={"risk": 0.9, "reasons": ["asl", "asked for a picture"]})
    with db.session() as session:
        chat = flows.open_case(session, PLATFORM, first).case.id
        assert flows.open_case(session, PLATFORM, later).case.id == chat
    login(Role.moderator)
    page = client.get(f"/ui/cases/{content}").text
    assert page.count("<td>e-c-rescan</td>") == 1
    page = client.get(f"/ui/cases/{chat}").text
    assert page.count("<li>asl</li>") == 1 and "<li>asked for a picture</li>" in page
