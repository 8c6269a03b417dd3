"""The analysts' figures page: counts with comparisons, a chart, the funnel, CSV downloads, access."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from safeguard.auth import Role

SAMPLE = Path(__file__).parents[1] / "intake" / "samples" / "cybertip.xml"


def test_figures_page_shows_counts_comparison_chart_and_funnel(
    client: TestClient, login: Callable[[Role], str], auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    imported = client.post(
        "/v1/intake/imports",
        headers=auth_headers(Role.analyst),
        files={"file": ("a.xml", SAMPLE.read_bytes())},
    )
    assert imported.status_code in (200, 201), imported.text
    login(Role.analyst)
    page = client.get("/ui/figures", params={"metric": "referrals", "period": "year"})
    assert page.status_code == 200
    assert 'href="/ui/figures"' in page.text  # in the navigation for analysts
    assert "2 referrals" in page.text  # the comparison sentence
    assert "<td>2</td>" in page.text  # the count of the compared year
    chart = page.text.split('src="data:image/svg+xml;base64,', 1)[1].split('"', 1)[0]
    assert base64.b64decode(chart).lstrip().startswith(b"<?xml")
    assert "all areas" in page.text  # the funnel's total row

    csv = client.get("/ui/figures.csv", params={"metric": "referrals", "period": "year"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("period,count\n") and ",2" in csv.text
    funnel = client.get("/ui/funnel.csv")
    assert funnel.text.startswith("area,referrals,packages,actioned,apprehended,children_safeguarded")

    empty = client.get("/ui/figures", params={"metric": "charged"})
    assert empty.status_code == 200 and "Nothing counted yet." in empty.text
    assert client.get("/ui/figures", params={"period": "fortnight"}).status_code in (400, 422)


def test_moderators_do_not_see_the_figures(client: TestClient, login: Callable[[Role], str]) -> None:
    login(Role.moderator)
    assert client.get("/ui/figures").status_code == 403
    assert client.get("/ui/figures.csv").status_code == 403
    assert 'href="/ui/figures"' not in client.get("/ui/queue").text
