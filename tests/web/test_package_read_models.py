"""Typed read models: the package is built once (``safeguard.intake.views``) and the API, the CLI and the
web page show the same thing from it."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safeguard.auth import Role
from safeguard.cli import main
from safeguard.config import get_settings
from safeguard.intake import packages
from safeguard.intake.states import SuspectState
from safeguard.intake.views import IdentifierView, LinkView, MediaView, PackageView, ReasonView, TimelineEvent
from safeguard.store.db import Database
from tests.web.conftest import MakeUser, sign_in

SAMPLE = Path(__file__).parents[1] / "intake" / "samples" / "cybertip.xml"


def _imported(client: TestClient, headers: dict[str, str]) -> int:
    response = client.post(
        "/v1/intake/imports", headers=headers, files={"file": ("a.xml", SAMPLE.read_bytes())}
    )
    assert response.status_code == 201, response.text
    suspect: int = response.json()["suspects"][0]
    return suspect


def _ident(i: dict[str, Any]) -> tuple[Any, ...]:
    return (i["kind"], i["value"], i["platforms"], i["referrals"])


def test_the_package_is_typed_and_every_surface_shows_the_same(
    client: TestClient,
    db: Database,
    auth_headers: Callable[[Role], dict[str, str]],
    make_user: MakeUser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sid = _imported(client, auth_headers(Role.analyst))
    with db.read_session() as session:
        view = packages.package(session, sid)
        assert isinstance(view, PackageView) and view.suspect.state is SuspectState.new
        assert all(isinstance(r, ReasonView) for r in view.reasons) and view.reasons
        assert all(isinstance(i, IdentifierView) for i in view.identifiers) and view.identifiers
        assert all(isinstance(link, LinkView) for link in view.links) and view.links
        assert all(isinstance(m, MediaView) for m in view.media) and view.media
        assert all(isinstance(e, TimelineEvent) for e in view.timeline)
        identifiers = [(i.kind, i.value, i.platforms, i.referrals) for i in view.identifiers]
        reasons = [(r.factor, r.points, r.reason) for r in view.reasons]

    api = client.get(f"/v1/intake/suspects/{sid}", headers=auth_headers(Role.analyst)).json()
    assert [
        (i["kind"], i["value"], i["platforms"], i["referrals"]) for i in api["identifiers"]
    ] == identifiers
    assert [(r["factor"], r["points"], r["reason"]) for r in api["reasons"]] == reasons
    assert api["assigned"] is False and api["outcome"]["notes"] is None
    assert api["suspect"]["state"] == "new"

    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", db.url)
    monkeypatch.setenv("SAFEGUARD_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main.app, ["intake", "show", str(sid), "--json"], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    assert [
        (i["kind"], i["value"], i["platforms"], i["referrals"]) for i in cli["identifiers"]
    ] == identifiers
    assert [(r["factor"], r["points"], r["reason"]) for r in cli["reasons"]] == reasons
    assert [link["explanation"] for link in cli["links"]] == [link["explanation"] for link in api["links"]]

    sign_in(client, make_user(Role.analyst, "web-analyst"))
    page = html.unescape(re.sub(r"<[^>]+>", " ", client.get(f"/ui/packages/{sid}").text))
    assert all(reason in page for _, _, reason in reasons)
    assert all(value in page for _, value, _, _ in identifiers)


def test_a_referral_reads_through_the_same_models(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    headers = auth_headers(Role.analyst)
    sid = _imported(client, headers)
    referral_id = client.get(f"/v1/intake/suspects/{sid}", headers=headers).json()["referrals"][0]["id"]
    body = client.get(f"/v1/intake/referrals/{referral_id}", headers=headers).json()
    assert body["referral"]["id"] == referral_id and body["identifiers"]
    assert all(i["referrals"] == [referral_id] for i in body["identifiers"])
    assert all(m["bank_matches"] == [] for m in body["media"])


def test_a_new_package_shows_its_outcome_as_not_yet_known(
    client: TestClient, db: Database, auth_headers: Callable[[Role], dict[str, str]], make_user: MakeUser
) -> None:
    from safeguard.auth import Actor

    sid = _imported(client, auth_headers(Role.analyst))
    sign_in(client, make_user(Role.analyst))
    page = client.get(f"/ui/packages/{sid}").text
    assert '<dd id="outcome">not yet known</dd>' in page and "0 children" not in page
    officer = Actor.system("tests")
    with db.session() as session:
        packages.set_state(session, officer, sid, "actioned")
        packages.record_outcome(session, officer, sid, apprehended=True, children_safeguarded=1)
    page = client.get(f"/ui/packages/{sid}").text
    assert '<dd id="outcome">apprehended; 1 child safeguarded</dd>' in page
