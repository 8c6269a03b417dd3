"""A grooming case a person can judge (#21): reasons in words with correct plurals, excerpts without stray
punctuation, the child's own words labelled as theirs, and the priority in whole points - on the case page
and in the API."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from safeguard.auth import Role
from safeguard.review.models import Case
from safeguard.store.db import Database
from safeguard.text.vocabulary import PLAIN, Behaviour
from safeguard.text.wording import plural, quote
from tests.text.fixtures import GROOMING

# The names that are not also plain words ("secrecy", "meeting" are both).
CODES = re.compile(r"\b(?:" + "|".join(b.value for b in Behaviour if "_" in b.value) + r")\b")
QUOTED = re.compile(r"\u201c([^\u201d]*)\u201d")


def _visible(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def _section(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def _grooming_case(client: TestClient, db: Database, headers: dict[str, str]) -> int:
    for i, (author, text) in enumerate(GROOMING, start=1):
        response = client.post(
            "/v1/conversations/chat-7/messages",
            json={"id": f"m{i}", "author": author, "text": text},
            headers=headers,
        )
        assert response.status_code == 200, response.text
    with db.read_session() as session:
        return session.scalars(select(Case.id)).one()


def test_the_grooming_case_page_reads_as_words(
    client: TestClient,
    db: Database,
    login: Callable[[Role], str],
    auth_headers: Callable[[Role], dict[str, str]],
) -> None:
    case_id = _grooming_case(client, db, auth_headers(Role.integrator))
    login(Role.moderator)
    text = _visible(client.get(f"/ui/cases/{case_id}").text)
    alert = _section(text, "Grooming alert on conversation chat-7", "Why this case is where it is")
    assert not re.search(r"\b1 messages\b", alert) and "1 message)" in alert
    # One vocabulary, shown in words only (some words, "secrecy", are also a code: take the wording out).
    codes_left = alert
    for words in sorted(PLAIN.values(), key=len, reverse=True):
        codes_left = codes_left.replace(words, " ")
    assert not CODES.search(codes_left), CODES.findall(codes_left)
    quotes = QUOTED.findall(alert)
    assert quotes and all(q == q.strip(" ,.;:-") and q for q in quotes), quotes
    assert "'" not in "".join(q[0] + q[-1] for q in quotes)  # no Python repr quoting
    suspect = _section(alert, "What the suspected adult did", "What the child said")
    child = _section(alert, "What the child said (their words, not the suspect's)", "Evidence")
    assert "The child said they are under 18" in child and "under 18" not in suspect
    assert "Asking the child's age or where they live" in suspect
    evidence = alert.split("Evidence", 1)[1]
    assert (
        "The child said they are under 18 (their own words, not the suspect's; 1 message): \u201c13 f\u201d"
        in evidence
    )
    history = _section(text, "History", "Decide")
    assert "signal(s)" not in history and re.search(r"\b(1 signal|(?!1 )\d+ signals)\b", history)
    why = _section(text, "Why this case is where it is", "Whole points:")
    assert not re.search(r"\d\.\d", why), why  # whole points
    assert re.search(r"score \d+ ", why)
    assert "grooming detector risk" in why and " of 100" in why


def test_the_api_gives_the_priority_in_whole_points_and_words(
    client: TestClient, db: Database, auth_headers: Callable[[Role], dict[str, str]]
) -> None:
    case_id = _grooming_case(client, db, auth_headers(Role.integrator))
    case = client.get(f"/v1/cases/{case_id}", headers=auth_headers(Role.moderator)).json()
    priority = case["priority"]
    for part in ("severity", "confidence", "child_at_risk", "reach", "waiting", "score"):
        assert isinstance(priority[part], int), (part, priority[part])
    assert not any(CODES.search(r) for r in priority["reasons"]), priority["reasons"]
    reasons = next(s for s in case["signals"] if s["type"] == "grooming_alert")["reasons"]
    assert reasons and not any(re.search(r"\b1 messages\b", r) for r in reasons)


def test_plurals_and_excerpts() -> None:
    assert [plural(n, "message") for n in (0, 1, 2)] == ["0 messages", "1 message", "2 messages"]
    assert quote("kik,") == "\u201ckik\u201d"
    assert quote("  you're   so pretty ") == "\u201cyou're so pretty\u201d"
    assert quote("how old r u?") == "\u201chow old r u?\u201d"
    assert quote(" , ") == ""
