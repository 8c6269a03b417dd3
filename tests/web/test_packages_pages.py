"""The analysts' package pages: the list most urgent first with the reasons, one package, access."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from markupsafe import escape

from safeguard.auth import Role

SAMPLES = Path(__file__).parents[1] / "intake" / "samples"


def _esc(text: str) -> str:
    return str(escape(text))  # as Jinja writes it


def _import(client: TestClient, headers: dict[str, str], name: str) -> None:
    imported = client.post(
        "/v1/intake/imports", headers=headers, files={"file": (name, (SAMPLES / name).read_bytes())}
    )
    assert imported.status_code in (200, 201), imported.text


def test_package_list_and_detail_show_tier_reasons_and_evidence(
    client: TestClient, login: Callable[[Role], str], auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    headers = auth_headers(Role.analyst)
    _import(client, headers, "cybertip.xml")
    _import(client, headers, "referrals.json")
    listed = client.get("/v1/intake/suspects", headers=headers, params={"limit": 500}).json()
    assert listed["total"] >= 1
    first = listed["suspects"][0]
    package = client.get(f"/v1/intake/suspects/{first['id']}", headers=headers).json()

    login(Role.analyst)
    page = client.get("/ui/packages")
    assert page.status_code == 200
    assert 'href="/ui/packages"' in page.text  # in the navigation for analysts
    assert f"{listed['total']} package" in page.text
    # Most urgent first, as the API orders them: the first row links to the API's first suspect.
    rows = page.text.split("<tbody>", 1)[1]
    assert rows.index(f'href="/ui/packages/{first["id"]}"') == rows.index('href="/ui/packages/')
    if package["reasons"]:
        assert _esc(package["reasons"][0]["reason"]) in page.text

    detail = client.get(f"/ui/packages/{first['id']}")
    assert detail.status_code == 200
    text = detail.text
    assert f"Package #{first['id']}: {package['tier']}" in text
    for reason in package["reasons"]:
        assert _esc(reason["reason"]) in text
    for referral in package["referrals"]:
        assert _esc(referral["external_id"]) in text
    for link in package["links"]:
        assert _esc(link["explanation"]) in text
    for identifier in package["identifiers"]:
        assert _esc(identifier["value"]) in text

    tier = first["tier"]
    filtered = client.get("/ui/packages", params={"tier": tier})
    same_tier = sum(1 for s in listed["suspects"] if s["tier"] == tier)
    assert f"{same_tier} package" in filtered.text
    assert "No packages match." in client.get("/ui/packages", params={"area": "Nowhere-on-sea"}).text
    assert client.get("/ui/packages", params={"tier": "urgent"}).status_code in (400, 422)
    assert client.get("/ui/packages/999999").status_code == 404


def test_moderators_do_not_see_packages(client: TestClient, login: Callable[[Role], str]) -> None:
    login(Role.moderator)
    assert client.get("/ui/packages").status_code == 403
    assert client.get("/ui/packages/1").status_code == 403
    assert 'href="/ui/packages"' not in client.get("/ui/queue").text
