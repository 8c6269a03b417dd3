"""Figures over HTTP and from the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safeguard.auth import Role
from safeguard.cli import main
from safeguard.config import get_settings
from safeguard.store.db import Database
from tests.cli.helpers import assert_one_line_error, run_cli

SAMPLE = Path(__file__).parents[1] / "intake" / "samples" / "cybertip.xml"
EVENTS = [
    {"content_id": "a", "kind": "detected", "at": "2024-05-01T10:00:00Z", "detection": "hash_match"},
    {"content_id": "a", "kind": "actioned", "at": "2024-05-01T13:00:00Z", "action": "removed"},
    {"content_id": "a", "kind": "reported", "at": "2024-05-02T09:00:00Z", "destination": "NCA"},
]


def test_figures_funnel_and_transparency_api(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    analyst = auth_headers(Role.analyst)
    client.post("/v1/intake/imports", headers=analyst, files={"file": ("a.xml", SAMPLE.read_bytes())})
    figures = client.get(
        "/v1/stats/figures", params={"metric": "referrals", "period": "year"}, headers=analyst
    ).json()
    assert figures["counts"] and figures["summary"].startswith("2 referrals")
    csv = client.get("/v1/stats/figures", params={"period": "month", "format": "csv"}, headers=analyst)
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("period,count\n")
    funnel = client.get(
        "/v1/stats/funnel", params={"start": "2000-01-01", "end": "2100-01-01"}, headers=analyst
    ).json()
    assert funnel["rows"][-1]["area"] == "all areas" and funnel["rows"][-1]["packages"] == 1
    bad = client.get("/v1/stats/figures", params={"label": "soon"}, headers=analyst)
    assert bad.status_code == 422
    body = {"start": "2024-04-01T00:00:00Z", "end": "2025-04-01T00:00:00Z", "events": EVENTS}
    report = client.post("/v1/stats/transparency", json=body, headers=auth_headers(Role.integrator)).json()
    assert report["reports_made"] == 1 and report["median_hours_to_action"] == 3.0
    assert client.post("/v1/stats/transparency", json=body, headers=analyst).status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/stats/figures", {"label": "0000/01"}, "label"),
        ("/v1/stats/figures", {"label": "0000-01", "period": "month"}, "label"),
        ("/v1/stats/figures", {"label": "9999", "period": "year"}, "label"),
        ("/v1/stats/funnel", {"start": "9999-12-31"}, "start"),
        ("/v1/stats/funnel", {"start": "0001-01-01"}, "start"),
        ("/v1/stats/funnel", {"start": "2024-01-01", "end": "9999-12-31"}, "end"),
    ],
)
def test_out_of_range_dates_are_a_problem_not_a_500(
    client: TestClient,
    auth_headers: Callable[[Role], dict[str, str]],
    path: str,
    params: dict[str, str],
    field: str,
) -> None:
    response = client.get(path, params=params, headers=auth_headers(Role.analyst))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text and "between 1900 and 9000" in response.text


@pytest.fixture
def cli(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """The ``safeguard`` Typer app in-process (the subprocess tests below cover the real entry point)."""
    monkeypatch.setenv("SAFEGUARD_DATABASE_URL", db.url)
    monkeypatch.setenv("SAFEGUARD_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main.app, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    yield run
    get_settings.cache_clear()


def test_cli_workflow_report_and_charts(cli: Callable[..., str], tmp_path: Path) -> None:
    assert "imported 2 referrals" in cli("intake", "import", str(SAMPLE))
    assert json.loads(cli("intake", "import", str(SAMPLE), "--json"))["duplicates"] == 2
    hits = json.loads(cli("intake", "search", "sample@gmail.com", "--json"))["hits"]
    assert [h["external_id"] for h in hits] == ["CT-1001"]
    suspect = str(hits[0]["suspect_id"])
    assert json.loads(cli("intake", "show", suspect, "--json"))["tier"] == "immediate"
    listed = json.loads(cli("intake", "list", "--json"))
    assert listed["total"] == 1 and "grooming of an identified child" in listed["suspects"][0]["why"]
    cli("intake", "assign", suspect, "--officer", "DC Smith")
    cli("intake", "state", suspect, "actioned")
    cli("intake", "outcome", suspect, "--apprehended", "--children", "2")
    report = json.loads(
        cli("stats", "report", "--period", "year", "--format", "json", "--chart", str(tmp_path / "r.svg"))
    )
    assert report["counts"][0]["count"] == 2 and (tmp_path / "r.svg").exists()
    funnel = cli(
        "stats",
        "funnel",
        "--start",
        "2000-01-01",
        "--end",
        "2100-01-01",
        "--format",
        "csv",
        "--chart",
        str(tmp_path / "f.png"),
    )
    assert funnel.splitlines()[0] == "area,referrals,packages,actioned,apprehended,children_safeguarded"
    assert funnel.splitlines()[-1] == "all areas,2,1,1,1,2"
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    events = tmp_path / "events.json"
    events.write_text(json.dumps(EVENTS))
    out = cli("stats", "transparency", str(events), "--start", "2024-04-01", "--end", "2025-04-01")
    assert json.loads(out)["content_actioned"] == 1
    synthetic = tmp_path / "synthetic.json"
    cli("intake", "synthetic", str(synthetic), "--suspects", "20")
    assert "imported" in cli("intake", "import", str(synthetic))


def test_cli_subprocess_success_and_one_line_errors(tmp_path: Path, db: Database) -> None:
    home = tmp_path / "home"
    imported = run_cli("intake", "import", str(SAMPLE), home=home, database_url=db.url)
    assert imported.returncode == 0 and "imported 2 referrals" in imported.stdout, imported.stderr
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<reports><report><reportId>1</reportId></report></reports>")
    result = run_cli("intake", "import", str(bad), home=home, database_url=db.url)
    assert_one_line_error(result, "<incidentSummary> is required", "line 1")
    assert_one_line_error(
        run_cli("stats", "report", "--chart", str(tmp_path / "x.gif"), home=home, database_url=db.url),
        ".png or .svg",
    )


def test_cli_funnel_near_the_last_year_is_a_one_line_error(tmp_path: Path, db: Database) -> None:
    """The CLI shares the API's funnel window: a start whose default end would pass year 9999 is refused in
    one line naming the field, not a traceback."""
    result = run_cli("stats", "funnel", "--start", "9999-06-01", home=tmp_path / "home", database_url=db.url)
    assert_one_line_error(result, "dates must lie between")
