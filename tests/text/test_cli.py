"""``safeguard text score``: one JSON line per (conversation, author), and one stderr line for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import assert_one_line_error, run_cli
from tests.text.fixtures import ADVERSARIAL, GROOMING


def test_score_writes_one_line_per_author(tmp_path: Path) -> None:
    chats = [("g", GROOMING), ("p", ADVERSARIAL["parents_on_ages"])]
    lines = [
        json.dumps({"conversation": cid, "author": author, "text": text})
        for cid, chat in chats
        for author, text in chat
    ]
    source = tmp_path / "chats.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "scores.jsonl"
    result = run_cli("text", "score", str(source), "--out", str(out), home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["conversation"], r["author"]) for r in rows] == [
        ("g", "adult"),
        ("g", "kid"),
        ("p", "maria"),
        ("p", "joe"),
    ]
    assert set(rows[0]) == {"conversation", "author", "score", "flagged", "first_flag_message", "reasons"}
    assert rows[0]["flagged"] and 1 <= rows[0]["first_flag_message"] <= 12
    assert not any(r["flagged"] for r in rows[1:])


def test_score_refuses_a_malformed_line(tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"conversation": "c", "author": "a", "text": "hi"}\n{"conversation": "c"\n')
    result = run_cli("text", "score", str(source), home=tmp_path / "home")
    assert_one_line_error(result, "bad.jsonl", "line 2", "invalid JSON")
