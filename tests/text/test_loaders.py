from __future__ import annotations

import json
from pathlib import Path

import pytest

from safeguard.text.errors import DatasetError, NoTrainingData
from safeguard.text.loaders import (
    load_directory,
    load_jsonl,
    load_nps_session,
    load_pan12,
    load_perverted_justice,
    read_author_ids,
)
from tests.helpers import GROOMING

NPS = """<Session><Posts>
<Post class="Greet" user="s1User1">hi all<terminals/></Post>
<Post class="System" user="s1User2">JOIN<terminals/></Post>
<Post class="Statement" user="s1User2">hey s1User1, how was work<terminals/></Post>
<Post class="Statement" user="s1User1">long day<terminals/></Post>
</Posts></Session>"""


def _pj(root: Path) -> Path:
    (root / "predator").mkdir(parents=True)
    (root / "decoy").mkdir()
    (root / "predator" / "alpha.txt").write_text("hi\nasl?\nwhere u live\nlol\n")
    (root / "decoy" / "alpha.txt").write_text("hey\n13 f\n")
    (root / "predator" / "beta.txt").write_text("hello\n\nhow r u\n")
    (root / "decoy" / "beta_1.txt").write_text("good\n")
    (root / "decoy" / "beta_2.txt").write_text("fine u\n")
    return root


def test_perverted_justice_sides_are_merged_in_order(tmp_path: Path) -> None:
    conversations = {c.id: c for c in load_perverted_justice(_pj(tmp_path / "pj"))}
    alpha = conversations["pj:alpha"]
    offender = [m.text for m in alpha.messages if m.author_id.endswith(":offender")]
    assert offender == ["hi", "asl?", "where u live", "lol"]
    assert [m.text for m in alpha.messages if m.author_id.endswith("decoy1")] == ["hey", "13 f"]
    assert alpha.groomers == {"pj:alpha:offender"}
    assert alpha.roles["pj:alpha:decoy1"] == "decoy"
    assert [m.message_id for m in alpha.messages] == [str(i) for i in range(1, 7)]
    beta = conversations["pj:beta"]
    assert sorted(beta.roles.values()) == ["decoy", "decoy", "offender"]
    assert "" not in [m.text for m in beta.messages]


def test_perverted_justice_orphan_decoy_is_an_error(tmp_path: Path) -> None:
    root = _pj(tmp_path / "pj")
    (root / "decoy" / "gamma.txt").write_text("hi\n")
    with pytest.raises(DatasetError, match=r"gamma\.txt.*no matching predator"):
        list(load_perverted_justice(root))


def test_perverted_justice_bad_encoding_names_the_line(tmp_path: Path) -> None:
    root = _pj(tmp_path / "pj")
    (root / "predator" / "alpha.txt").write_bytes(b"hi\nok\n\xff\xfe bad\n")
    with pytest.raises(DatasetError, match=r"alpha.txt:line 3: not UTF-8"):
        list(load_perverted_justice(root))


def test_nps_drops_system_posts(tmp_path: Path) -> None:
    path = tmp_path / "s1.xml"
    path.write_text(NPS)
    conv = load_nps_session(path)
    assert [m.text for m in conv.messages] == ["hi all", "hey s1User1, how was work", "long day"]
    assert len(conv.roles) == 2 and not conv.groomers


def test_nps_broken_xml_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text("<Session><Posts>\n<Post user='a'>hi</Posts>")
    with pytest.raises(DatasetError, match=r"bad.xml:line 2 column \d+: not well-formed XML"):
        load_nps_session(path)


def test_jsonl_messages_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "chats.jsonl"
    lines = [
        {"conversation": "c1", "author": "a", "text": "hi", "time": "2024-05-01T10:00:00Z"},
        {"conversation": "c1", "author": "b", "text": "hello", "groomer": True, "id": "m2"},
        {"conversation": "c2", "author": 7, "text": "yo", "time": 1714557600},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    conversations = {c.id: c for c in load_jsonl(path)}
    assert conversations["c1"].groomers == {"b"}
    assert [m.message_id for m in conversations["c1"].messages] == ["1", "m2"]
    assert conversations["c2"].messages[0].author_id == "7"
    assert conversations["c1"].messages[0].time is not None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "invalid JSON"),
        ('["a list"]', "must be a JSON object"),
        ('{"conversation": "c", "text": "hi"}', '"author" is required'),
        ('{"conversation": "c", "author": "a", "text": "hi", "time": "yesterday"}', '"time" must be'),
        ('{"conversation": "c", "author": "a", "text": "hi", "groomer": "yes"}', '"groomer" must be'),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"conversation": "c", "author": "a", "text": "ok"}\n' + line + "\n")
    with pytest.raises(DatasetError, match=rf"bad.jsonl:line 2: .*{reason}"):
        list(load_jsonl(path))


def test_directory_with_nothing_readable(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(NoTrainingData):
        load_directory(tmp_path)


def test_directory_groups_conversations_sharing_an_author(tmp_path: Path) -> None:
    path = tmp_path / "chats.jsonl"
    rows = [("c1", "a"), ("c1", "b"), ("c2", "b"), ("c2", "c"), ("c3", "d")]
    path.write_text("\n".join(json.dumps({"conversation": c, "author": a, "text": "hi"}) for c, a in rows))
    groups = {c.id: c.group for c in load_directory(tmp_path)}
    assert groups["c1"] == groups["c2"] != groups["c3"]


PAN12 = GROOMING / "pan12_toy"


def test_pan12_toy_fixtures() -> None:
    assert PAN12.exists(), f"the shared PAN 2012 toy fixtures are missing: {PAN12}"
    train = PAN12 / "train"
    ids = read_author_ids(
        train / "pan12-sexual-predator-identification-training-corpus-predators-2012-05-01.txt"
    )
    conversations = list(
        load_pan12(train / "pan12-sexual-predator-identification-training-corpus-2012-05-01.xml", ids)
    )
    assert len(conversations) == 17
    labelled = {a for c in conversations for a in c.groomers}
    assert labelled and labelled <= ids
    assert all(m.text for c in conversations for m in c.messages)
    test_dir = load_directory(PAN12 / "test")
    assert len(test_dir) == 9 and any(c.groomers for c in test_dir)


def test_pan12_not_conversations(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_text("<other/>")
    with pytest.raises(DatasetError, match="root must be <conversations>"):
        list(load_pan12(path))
