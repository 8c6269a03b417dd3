"""Exact MD5 / SHA-256 lookup."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from safeguard.index import InvalidHash, Match, Md5Index, Sha256Index


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_exact_lookup_with_duplicates_adds_and_removes(tmp_path: Path) -> None:
    index: Sha256Index[int] = Sha256Index.build([(sha("a"), 1), (sha("a"), 2), (sha("b"), 3), (sha("a"), 1)])
    assert len(index) == 3
    assert sorted(m.payload for m in index.query(sha("a"))) == [1, 2]
    assert index.query(sha("a").upper()) == index.query(sha("a"))
    assert index.query(sha("c")) == []
    assert index.add(sha("c"), 4) and not index.add(sha("c"), 4)
    assert index.remove(sha("a"), 1) and not index.remove(sha("a"), 1)
    assert index.query(sha("c")) == [Match(4, 0)]
    assert [m.payload for m in index.query(sha("a"))] == [2]
    index.save(tmp_path / "sha.idx", checkpoint=9)
    opened: Sha256Index[int] = Sha256Index.open(tmp_path / "sha.idx")
    assert opened.checkpoint == 9 and len(opened) == 3
    assert [m.payload for m in opened.query(hashlib.sha256(b"a").digest())] == [2]
    assert opened.query_many([sha("b"), sha("c")]) == [[Match(3, 0)], [Match(4, 0)]]


def test_md5_sizes_are_checked() -> None:
    index: Md5Index[str] = Md5Index.build([(hashlib.md5(b"x").hexdigest(), "x")])
    assert index.query(hashlib.md5(b"x").digest()) == [Match("x", 0)]
    for bad in (sha("x"), "zz" * 16, b"short"):
        with pytest.raises(InvalidHash):
            index.query(bad)
