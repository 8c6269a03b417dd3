"""Save/open roundtrips, atomic saves and crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.index import IndexFileError, Match, Md5Index, PdqIndex, storage
from safeguard.index.segment import MIN_INDEXED
from tests.helpers import REPO
from tests.index.helpers import brute, random_codes, to_hex

CODES = random_codes(np.random.default_rng(21), MIN_INDEXED + 500)


def sample_index() -> PdqIndex[Any]:
    index: PdqIndex[Any] = PdqIndex.from_arrays(CODES, np.arange(len(CODES)))
    index.add(to_hex(CODES[3]), ("bank", "x"))
    index.remove(to_hex(CODES[4]), 4)
    index.add("ab" * 32, -5)
    return index


@pytest.mark.parametrize("mmap", [True, False])
def test_roundtrip_keeps_every_pair_and_the_checkpoint(tmp_path: Path, mmap: bool) -> None:
    index = sample_index()
    path = tmp_path / "pdq.idx"
    index.save(path, checkpoint=1234)
    opened: PdqIndex[Any] = PdqIndex.open(path, mmap=mmap)
    assert opened.checkpoint == 1234
    assert len(opened) == len(index)
    for row in (0, 3, 4, 77, len(CODES) - 1):
        h = to_hex(CODES[row])
        assert sorted(map(repr, opened.query(h))) == sorted(map(repr, index.query(h)))
    assert opened.query("ab" * 32, 0) == [Match(-5, 0)]
    # The opened index takes writes like any other (the read-only map is never written).
    assert opened.add(to_hex(CODES[4]), 4)
    assert opened.query(to_hex(CODES[4]), 0) == [Match(4, 0)]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=32, max_size=32), st.integers(0, 5)), max_size=30))
def test_roundtrip_small_indexes(
    tmp_path_factory: pytest.TempPathFactory, entries: list[tuple[bytes, int]]
) -> None:
    path = tmp_path_factory.mktemp("rt") / "small.idx"
    index: PdqIndex[int] = PdqIndex.build((h.hex(), p) for h, p in entries)
    index.save(path)
    opened: PdqIndex[int] = PdqIndex.open(path)
    assert len(opened) == len(set(entries))
    for h, _ in entries:
        assert sorted(opened.query(h, 8)) == sorted(index.query(h, 8))


def test_a_failing_save_leaves_the_previous_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pdq.idx"
    sample_index().save(path, checkpoint=1)
    before = path.read_bytes()
    calls = 0
    real = storage._write_array

    def dying(f: Any, a: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("disk on fire")
        real(f, a)

    monkeypatch.setattr(storage, "_write_array", dying)
    bigger: PdqIndex[int] = PdqIndex.from_arrays(
        random_codes(np.random.default_rng(1), 9000), np.arange(9000)
    )
    with pytest.raises(OSError, match="disk on fire"):
        bigger.save(path, checkpoint=2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["pdq.idx"]  # no temporary file left behind
    assert PdqIndex.open(path).checkpoint == 1


def test_a_killed_process_mid_save_leaves_the_previous_file_loadable(tmp_path: Path) -> None:
    path = tmp_path / "pdq.idx"
    sample_index().save(path, checkpoint="old")
    script = textwrap.dedent(
        f"""
        import time, numpy as np
        from safeguard.index import storage, PdqIndex
        real = storage._write_array
        def slow(f, a):
            real(f, a)
            f.flush()
            print("writing", flush=True)
            time.sleep(0.5)
        storage._write_array = slow
        rng = np.random.default_rng(0)
        index = PdqIndex.from_arrays(rng.integers(0, 256, (20000, 32), dtype=np.uint8), np.arange(20000))
        index.save({str(path)!r}, checkpoint="new")
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "writing"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # the half-written temp file
    opened: PdqIndex[Any] = PdqIndex.open(path)
    assert opened.checkpoint == "old"
    assert opened.query(to_hex(CODES[10]), 0) == [Match(10, 0)]


def test_truncated_foreign_and_missing_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "pdq.idx"
    sample_index().save(path)
    data = path.read_bytes()
    (tmp_path / "cut.idx").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexFileError, match="truncated"):
        PdqIndex.open(tmp_path / "cut.idx")
    (tmp_path / "junk.idx").write_bytes(b"not an index at all")
    with pytest.raises(IndexFileError):
        PdqIndex.open(tmp_path / "junk.idx")
    with pytest.raises(IndexFileError, match="no index file"):
        PdqIndex.open(tmp_path / "absent.idx")
    with pytest.raises(IndexFileError, match="pdq index, not md5"):
        Md5Index.open(path)


def test_opening_is_lazy_and_query_results_match(tmp_path: Path) -> None:
    path = tmp_path / "pdq.idx"
    index: PdqIndex[int] = PdqIndex.from_arrays(CODES, np.arange(len(CODES)))
    index.save(path)
    start = time.perf_counter()
    opened: PdqIndex[int] = PdqIndex.open(path)
    assert time.perf_counter() - start < 5  # memory-mapped: nothing is read up front
    query = CODES[100] ^ np.uint8(1)
    assert sorted((m.payload, m.distance) for m in opened.query(query.tobytes(), 31)) == sorted(
        brute(CODES, query, 31).items()
    )
