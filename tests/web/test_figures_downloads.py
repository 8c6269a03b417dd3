"""The figures page's JSON downloads, and the funnel downloads following the financial year shown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from safeguard.auth import Role

SAMPLE = Path(__file__).parents[1] / "intake" / "samples" / "cybertip.xml"


def test_figures_and_funnel_download_as_json_for_the_year_shown(
    client: TestClient, login: Callable[[Role], str], auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    imported = client.post(
        "/v1/intake/imports",
        headers=auth_headers(Role.analyst),
        files={"file": ("a.xml", SAMPLE.read_bytes())},
    )
    assert imported.status_code in (200, 201), imported.text
    api = client.get(
        "/v1/stats/figures",
        headers=auth_headers(Role.analyst),
        params={"metric": "referrals", "period": "year"},
    )
    login(Role.analyst)
    page = client.get("/ui/figures", params={"metric": "referrals", "period": "year"})
    assert 'href="/ui/figures.json?metric=referrals&amp;period=year"' in page.text

    figures = client.get("/ui/figures.json", params={"metric": "referrals", "period": "year"})
    assert figures.headers["content-type"].startswith("application/json")
    body = figures.json()
    assert body["metric"] == "referrals" and body["period"] == "year"
    assert sum(row["count"] for row in body["counts"]) == 2
    assert body["summary"].startswith("2 referrals")
    if api.status_code == 200:  # the same figures as the API gives integrators
        assert api.json()["counts"] == body["counts"]

    text = client.get("/ui/figures").text
    shown = text.split("Funnel, financial year ", 1)[1].split("<", 1)[0]
    assert f'href="/ui/funnel.json?year={shown}"' in text
    funnel = client.get("/ui/funnel.json", params={"year": shown}).json()
    total = next(row for row in funnel if row["area"] == "all areas")
    csv = client.get("/ui/funnel.csv", params={"year": shown}).text.splitlines()
    assert f"all areas,{total['referrals']}," in "\n".join(csv)
    assert client.get("/ui/funnel.json", params={"year": "2024-25"}).status_code == 422
    long_ago = client.get("/ui/funnel.json", params={"year": "1990/91"}).json()
    assert [row["area"] for row in long_ago] == ["all areas"] and long_ago[0]["referrals"] == 0


def test_moderators_cannot_download_figures(client: TestClient, login: Callable[[Role], str]) -> None:
    login(Role.moderator)
    for path in ("/ui/figures.json", "/ui/funnel.json", "/ui/funnel.csv"):
        assert client.get(path).status_code == 403
