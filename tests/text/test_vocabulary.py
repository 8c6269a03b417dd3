"""One behaviour vocabulary: the docs' table, the detector, review's signals and the case page agree."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from safeguard.auth import Role
from safeguard.review.signals import LIVE_RISK_BEHAVIOURS, GroomingAlertSignal
from safeguard.text.behaviours import BEHAVIOURS
from safeguard.text.vocabulary import CONTEXT, DESCRIPTIONS, PLAIN, Behaviour

DOC = Path(__file__).resolve().parents[2] / "docs" / "grooming.md"
ROW = re.compile(r"^\| `([a-z_]+)` \| (.+) \|$")


def _doc_table() -> dict[str, str]:
    section = DOC.read_text().split("## What it looks for", 1)[1].split("\n## ", 1)[0]
    return {m[1]: m[2] for line in section.splitlines() if (m := ROW.match(line))}


def test_the_doc_table_lists_every_behaviour_with_its_description() -> None:
    assert _doc_table() == {b.value: DESCRIPTIONS[b] for b in Behaviour}
    assert "other_participant_minor" in _doc_table()


def test_every_behaviour_has_words_for_a_moderator_and_the_detector_finds_all_but_one() -> None:
    assert set(PLAIN) == set(Behaviour)
    assert set(Behaviour) - set(BEHAVIOURS) == {Behaviour.other_participant_minor}
    assert {Behaviour.minor_self_disclosure, Behaviour.other_participant_minor} == CONTEXT
    assert {b.value for b in LIVE_RISK_BEHAVIOURS} == {"meeting", "images_webcam", "threats_sextortion"}


def test_review_takes_the_detector_names_and_refuses_the_old_review_names(
    client: TestClient, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    assert GroomingAlertSignal(conversation_id="c", risk=0.5, behaviours=["age_location_probing"]).behaviours
    platform = auth_headers(Role.integrator)
    body = {"type": "grooming_alert", "conversation_id": "c1", "risk": 0.8, "behaviours": ["age_probing"]}
    refused = client.post("/v1/cases/signals", headers=platform, json=body)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    body["behaviours"] = ["age_location_probing", "other_participant_minor"]
    assert client.post("/v1/cases/signals", headers=platform, json=body).status_code == 201
