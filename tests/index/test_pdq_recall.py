"""PdqIndex returns exactly what brute force returns: random and clustered data, every threshold."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.index import InvalidHash, InvalidThreshold, Match, PdqIndex
from safeguard.index.segment import MIN_INDEXED, Segment, chunk_bits_for, plan_radii
from tests.index.helpers import brute, clustered_codes, flip, random_codes, to_hex

N = 3 * MIN_INDEXED  # large enough to use the multi-index tables, not the scan

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module", params=["random", "clustered"])
def dataset(request: pytest.FixtureRequest) -> tuple[np.ndarray[Any, Any], PdqIndex[int]]:
    rng = np.random.default_rng(2024)
    codes = random_codes(rng, N) if request.param == "random" else clustered_codes(rng, N)
    index: PdqIndex[int] = PdqIndex.from_arrays(codes, np.arange(N))
    return codes, index


def expected(
    codes: np.ndarray[Any, Any], query: np.ndarray[Any, Any], threshold: int
) -> list[tuple[int, int]]:
    return sorted(brute(codes, query, threshold).items())


def got(matches: list[Match[int]]) -> list[tuple[int, int]]:
    return sorted((m.payload, m.distance) for m in matches)


def test_the_large_fixture_uses_multi_index_tables(
    dataset: tuple[np.ndarray[Any, Any], PdqIndex[int]],
) -> None:
    _, index = dataset
    segment = index._state.main
    assert segment.indexed
    assert segment.radii_for(31) is not None


@SETTINGS
@given(
    row=st.integers(0, N - 1),
    bits=st.lists(st.integers(0, 255), unique=True, max_size=48),
    threshold=st.integers(0, 64),
)
def test_near_duplicates_are_found_exactly(
    dataset: tuple[np.ndarray[Any, Any], PdqIndex[int]], row: int, bits: list[int], threshold: int
) -> None:
    codes, index = dataset
    query = flip(codes[row], bits)
    assert got(index.query(to_hex(query), threshold)) == expected(codes, query, threshold)


@SETTINGS
@given(raw=st.binary(min_size=32, max_size=32), threshold=st.integers(0, 256))
def test_arbitrary_queries_match_brute_force(
    dataset: tuple[np.ndarray[Any, Any], PdqIndex[int]], raw: bytes, threshold: int
) -> None:
    codes, index = dataset
    query = np.frombuffer(raw, dtype=np.uint8)
    assert got(index.query(raw, threshold)) == expected(codes, query, threshold)


@SETTINGS
@given(row=st.integers(0, N - 1), threshold=st.integers(0, 60), data=st.data())
def test_edge_distances_threshold_and_one_more(
    dataset: tuple[np.ndarray[Any, Any], PdqIndex[int]], row: int, threshold: int, data: st.DataObject
) -> None:
    codes, index = dataset
    at = data.draw(st.lists(st.integers(0, 255), unique=True, min_size=threshold, max_size=threshold))
    rest = [b for b in range(256) if b not in at]
    beyond = [*at, data.draw(st.sampled_from(rest))]
    inside = index.query(to_hex(flip(codes[row], at)), threshold)
    outside = index.query(to_hex(flip(codes[row], beyond)), threshold)
    assert (row, threshold) in got(inside)
    assert row not in {m.payload for m in outside}


@SETTINGS
@given(
    rows=st.lists(st.integers(0, N - 1), min_size=1, max_size=40),
    thresholds=st.lists(st.integers(0, 48), min_size=40, max_size=40),
    flips=st.integers(0, 40),
)
def test_query_many_with_a_threshold_per_query(
    dataset: tuple[np.ndarray[Any, Any], PdqIndex[int]], rows: list[int], thresholds: list[int], flips: int
) -> None:
    codes, index = dataset
    rng = np.random.default_rng(sum(rows) + flips)
    queries = [flip(codes[r], list(rng.choice(256, flips, replace=False))) for r in rows]
    per_query = thresholds[: len(rows)]
    results = index.query_many([to_hex(q) for q in queries], per_query)
    for query, threshold, matches in zip(queries, per_query, results, strict=True):
        assert got(matches) == expected(codes, query, threshold)
    as_array = index.query_many(np.stack(queries), per_query)
    assert [got(m) for m in as_array] == [got(m) for m in results]


@settings(max_examples=40, deadline=None)
@given(
    raw_codes=st.lists(st.binary(min_size=32, max_size=32), min_size=0, max_size=60),
    query=st.binary(min_size=32, max_size=32),
    threshold=st.integers(0, 256),
)
def test_small_indexes_scan_exactly(raw_codes: list[bytes], query: bytes, threshold: int) -> None:
    index: PdqIndex[int] = PdqIndex.build((c.hex(), i) for i, c in enumerate(raw_codes))
    codes = np.frombuffer(b"".join(raw_codes), dtype=np.uint8).reshape(-1, 32)
    want = expected(codes, np.frombuffer(query, dtype=np.uint8), threshold) if raw_codes else []
    assert got(index.query(query.hex(), threshold)) == want


def test_results_come_nearest_first_with_distances() -> None:
    rng = np.random.default_rng(1)
    base = random_codes(rng, 1)[0]
    codes = np.stack([flip(base, list(range(d))) for d in (9, 0, 30, 3)])
    index: PdqIndex[str] = PdqIndex.from_arrays(codes, ["nine", "zero", "thirty", "three"])
    assert index.query(to_hex(base)) == [
        Match("zero", 0),
        Match("three", 3),
        Match("nine", 9),
        Match("thirty", 30),
    ]
    assert [m.payload for m in index.query(to_hex(base), threshold=5)] == ["zero", "three"]


def test_chunk_plans_are_exact_for_every_threshold() -> None:
    for n in (MIN_INDEXED, 100_000, 1_000_000, 10_000_000, 100_000_000):
        bits = chunk_bits_for(n)
        assert sum(bits) == 256
        for threshold in range(0, 45):
            plan = plan_radii(bits, n, threshold)
            if plan is not None:
                assert sum(r + 1 for r in plan[0]) > threshold


def test_segment_of_duplicate_heavy_codes_uses_wide_blocks() -> None:
    # 400 distinct hashes differing only in their last bits share every leading chunk's bucket: more
    # entries in one block than a byte of in-block offset can count.
    rng = np.random.default_rng(3)
    base = random_codes(rng, 1)[0]
    pairs = [[255 - a, 255 - b] for a in range(30) for b in range(a)][:400]
    near = np.stack([flip(base, pair) for pair in pairs])
    codes = np.concatenate([random_codes(rng, MIN_INDEXED), near])
    index: PdqIndex[int] = PdqIndex.from_arrays(codes, np.arange(len(codes)))
    assert len(index._state.main.wide) > 0
    assert got(index.query(to_hex(base), 2)) == expected(codes, base, 2)


def test_invalid_hashes_and_thresholds_are_refused() -> None:
    index: PdqIndex[int] = PdqIndex.build([("ab" * 32, 1)])
    for bad in ("ab" * 31, "zz" * 32, b"\0" * 31):
        with pytest.raises(InvalidHash):
            index.query(bad)
    with pytest.raises(InvalidHash):
        index.add("12345", 2)
    for threshold in (-1, 257):
        with pytest.raises(InvalidThreshold):
            index.query("ab" * 32, threshold)
    assert index.query("AB" * 32) == [Match(1, 0)]


def test_empty_index_answers_nothing() -> None:
    index: PdqIndex[int] = PdqIndex()
    assert index.query("00" * 32, 256) == []
    assert index.query_many(["00" * 32, "ff" * 32]) == [[], []]
    assert len(index) == 0
    assert len(Segment.empty()) == 0
