"""The case routes as moderators and seniors use them: who sees escalated cases, banking on decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from safeguard.auth import Role

Headers = Callable[[Role], dict[str, str]]


def _signal(content_id: str) -> dict[str, Any]:
    return {
        "type": "media_match",
        "content_id": content_id,
        "bank": "known",
        "bank_content_id": content_id,
        "distance": 3,
        "labels": ["A2"],
    }


def test_moderators_do_not_list_escalated_cases(client: TestClient, auth_headers: Headers) -> None:
    platform, moderator = auth_headers(Role.integrator), auth_headers(Role.moderator)
    senior = auth_headers(Role.admin)
    ids = [
        client.post("/v1/cases/signals", json=_signal(c), headers=platform).json()["case_id"] for c in "ab"
    ]
    held = client.post("/v1/cases/claim", headers=moderator, json={}).json()["case"]["id"]
    r = client.post(f"/v1/cases/{held}/escalate", headers=moderator, json={"reason": "unsure of the age"})
    assert r.status_code == 200, r.text

    def listed(headers: dict[str, str], **params: str) -> list[int]:
        response = client.get("/v1/cases", headers=headers, params=params)
        assert response.status_code == 200, response.text
        return sorted(c["id"] for c in response.json()["cases"])

    assert listed(moderator) == [i for i in ids if i != held]
    assert listed(moderator, order="id", status="open") == [i for i in ids if i != held]
    assert listed(senior) == sorted(ids)
    assert listed(senior, escalated="true") == [held]
    refused = client.get("/v1/cases", headers=moderator, params={"escalated": "true"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
