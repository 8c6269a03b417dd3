"""The intake HTTP API (role analyst)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from safeguard.auth import Role
from safeguard.store.db import Database
from tests.helpers import problem_of

SAMPLES = Path(__file__).parent / "samples"


def upload(
    client: TestClient, headers: dict[str, str], data: bytes, name: str = "f.xml", fmt: str = "auto"
) -> object:
    return client.post(
        "/v1/intake/imports", headers=headers, files={"file": (name, data)}, data={"format": fmt}
    )


def test_import_package_and_workflow(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]], db: Database
) -> None:
    analyst = auth_headers(Role.analyst)
    response = upload(client, analyst, (SAMPLES / "cybertip.xml").read_bytes())
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    report = response.json()  # type: ignore[attr-defined]
    assert report["imported"] == 2 and len(report["suspects"]) == 1
    sid = report["suspects"][0]
    again = upload(client, analyst, (SAMPLES / "cybertip.xml").read_bytes()).json()  # type: ignore[attr-defined]
    assert again["batch_id"] is None and again["duplicates"] == 2

    package = client.get(f"/v1/intake/suspects/{sid}", headers=analyst).json()
    assert package["tier"] == "immediate" and package["reasons"][0]["factor"] == "grooming_identified_child"
    assert len(package["referrals"]) == 2 and package["assigned"] is False
    assert any(link["explanation"] == "same phone number +447700900123" for link in package["links"])
    assert {m["md5"] for m in package["media"]} >= {"9e107d9d372bb6826bd81d3542a419d6"}
    assert package["locations"][0]["council"] == "Glasgow City"
    assert "raw" not in json.dumps(package["media"])  # hashes and labels only

    found = client.get("/v1/intake/search", params={"value": "+44 7700 900123"}, headers=analyst).json()
    assert {h["external_id"] for h in found["hits"]} == {"CT-1001", "CT-1002"}
    listed = client.get("/v1/intake/suspects", params={"tier": "immediate"}, headers=analyst).json()
    assert listed["total"] == 1 and listed["suspects"][0]["id"] == sid

    assigned = client.post(
        f"/v1/intake/suspects/{sid}/assign",
        json={"officer": "DC Smith", "force": "Police Scotland"},
        headers=analyst,
    )
    assert assigned.json()["assigned_to"] == "DC Smith"
    extra = {
        "format": "safeguard.referrals/v1",
        "referrals": [{"source": "nca", "id": "X9", "person": {"phones": ["07700900123"]}}],
    }
    upload(client, analyst, json.dumps(extra).encode(), "x.json")
    alerts = client.get("/v1/intake/alerts", params={"owner": "DC Smith"}, headers=analyst).json()
    assert [a["kind"] for a in alerts] == ["referral_attached"]
    assert client.post(f"/v1/intake/alerts/{alerts[0]['id']}/ack", headers=analyst).json()["acknowledged_by"]

    early = client.post(f"/v1/intake/suspects/{sid}/outcome", json={"apprehended": True}, headers=analyst)
    assert early.status_code == 409 and "actioned or closed" in problem_of(early)["detail"]  # type: ignore[operator]
    assert (
        client.post(
            f"/v1/intake/suspects/{sid}/state", json={"state": "actioned"}, headers=analyst
        ).status_code
        == 200
    )
    outcome = client.post(
        f"/v1/intake/suspects/{sid}/outcome",
        json={"apprehended": True, "children_safeguarded": 1},
        headers=analyst,
    ).json()
    assert outcome["apprehended"] and outcome["children_safeguarded"] == 1

    referral_ids = [
        r["id"] for r in client.get(f"/v1/intake/suspects/{sid}", headers=analyst).json()["referrals"]
    ]
    split = client.post(
        f"/v1/intake/suspects/{sid}/split",
        json={"referral_ids": referral_ids[-1:], "reason": "sibling"},
        headers=analyst,
    ).json()
    assert split["kept"] == sid and split["new"] != sid
    merged = client.post(
        "/v1/intake/merges", json={"suspect_ids": [sid, split["new"]], "reason": "confirmed"}, headers=analyst
    ).json()
    assert merged["kept"] == sid
    referral = client.get(f"/v1/intake/referrals/{referral_ids[0]}", headers=analyst).json()
    assert referral["referral"]["external_id"] == "CT-1001" and referral["document"]["incident_type"]


def test_bad_file_is_a_problem_naming_the_place(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    analyst = auth_headers(Role.analyst)
    bad = b"source,id,ips\nnca,A,1.2.3.4@2024-01-01T10:00:00\n"
    response = upload(client, analyst, bad, "bad.csv")
    assert response.status_code == 400  # type: ignore[attr-defined]
    problem = problem_of(response)
    assert problem["where"] == "line 2, column ips" and "time zone" in str(problem["reason"])
    assert client.get("/v1/intake/suspects", headers=analyst).json()["total"] == 0
    assert client.get("/v1/intake/suspects/12345", headers=analyst).status_code == 404
    unknown = client.get("/v1/intake/search", params={"value": "x", "kind": "shoe"}, headers=analyst)
    assert unknown.status_code == 422
    moderator = auth_headers(Role.moderator)
    assert client.get("/v1/intake/suspects", headers=moderator).status_code == 403
