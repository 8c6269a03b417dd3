"""Adds, removes, duplicates, merges and concurrent readers of PdqIndex, checked against a model."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguard.index import Match, PdqIndex
from safeguard.index.segment import MIN_INDEXED
from tests.index.helpers import clustered_codes, flip, random_codes, to_hex

POOL = clustered_codes(np.random.default_rng(7), 64)
BASE = random_codes(np.random.default_rng(8), MIN_INDEXED)


def model_query(
    model: set[tuple[int, int]], query: np.ndarray[Any, Any], threshold: int
) -> list[tuple[int, int]]:
    out = []
    for code_index, payload in model:
        distance = int(np.unpackbits(POOL[code_index] ^ query).sum())
        if distance <= threshold:
            out.append((payload, distance))
    return sorted(out)


ops = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "compact"]), st.integers(0, 63), st.integers(0, 3)),
    max_size=60,
)


@settings(max_examples=40, deadline=None)
@given(ops=ops, probes=st.lists(st.integers(0, 63), min_size=1, max_size=5), big=st.booleans())
def test_adds_and_removes_match_a_model(
    ops: list[tuple[str, int, int]], probes: list[int], big: bool
) -> None:
    # Payloads 1000+ for the base rows keep them apart from the pool's payloads 0..3.
    index: PdqIndex[int] = (
        PdqIndex.from_arrays(
            BASE, np.arange(1000, 1000 + len(BASE)), merge_threshold=8, background_merge=False
        )
        if big
        else PdqIndex(merge_threshold=8)
    )
    model: set[tuple[int, int]] = set()
    for op, code_index, payload in ops:
        pair = (code_index, payload)
        if op == "add":
            assert index.add(to_hex(POOL[code_index]), payload) == (pair not in model)
            model.add(pair)
        elif op == "remove":
            assert index.remove(to_hex(POOL[code_index]), payload) == (pair in model)
            model.discard(pair)
        else:
            index.compact()
    index.wait_for_merge()
    assert len(index) == len(model) + (len(BASE) if big else 0)
    for probe in probes:
        query = POOL[probe]
        found = [(m.payload, m.distance) for m in index.query(to_hex(query), 40) if m.payload < 1000]
        assert sorted(found) == model_query(model, query, 40)


def test_duplicate_hashes_keep_every_payload_once() -> None:
    h = "5a" * 32
    index: PdqIndex[Any] = PdqIndex.build([(h, "bank-a"), (h, "bank-b"), (h, "bank-a"), (h, 7)])
    assert len(index) == 3
    assert sorted(map(str, (m.payload for m in index.query(h)))) == ["7", "bank-a", "bank-b"]
    assert index.add(h, "bank-b") is False
    assert index.add(h, "bank-c") is True
    assert index.remove(h, "bank-a") is True
    assert index.remove(h, "bank-a") is False
    assert index.remove(h, "never-added") is False
    assert sorted(map(str, (m.payload for m in index.query(h)))) == ["7", "bank-b", "bank-c"]
    index.compact()
    assert sorted(map(str, (m.payload for m in index.query(h)))) == ["7", "bank-b", "bank-c"]
    assert len(index) == 3


def test_removed_then_readded_in_main_segment() -> None:
    index: PdqIndex[int] = PdqIndex.from_arrays(BASE, np.arange(len(BASE)))
    h = to_hex(BASE[5])
    assert index.remove(h, 5)
    assert index.query(h, 0) == []
    assert index.add(h, 5)
    assert index.query(h, 0) == [Match(5, 0)]
    assert len(index) == len(BASE)


def test_background_merge_folds_the_delta_and_keeps_later_writes() -> None:
    index: PdqIndex[int] = PdqIndex.from_arrays(BASE, np.arange(len(BASE)), merge_threshold=100)
    extra = random_codes(np.random.default_rng(9), 300)
    for i, code in enumerate(extra):
        index.add(to_hex(code), 10_000 + i)
    index.remove(to_hex(BASE[0]), 0)
    index.wait_for_merge(timeout=60)
    index.compact()
    state = index._state
    assert state.delta_count == 0 and not state.removed
    assert len(index) == len(BASE) - 1 + 300
    assert index.query(to_hex(BASE[0]), 0) == []
    assert all(index.query(to_hex(c), 0) == [Match(10_000 + i, 0)] for i, c in enumerate(extra))


def test_readers_run_during_writes_and_see_complete_states() -> None:
    index: PdqIndex[int] = PdqIndex.from_arrays(BASE, np.arange(len(BASE)), merge_threshold=64)
    fresh = random_codes(np.random.default_rng(10), 400)
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                for i in range(0, len(fresh), 37):
                    matches = index.query(to_hex(flip(fresh[i], [0, 1])), 2)
                    # Each (hash, payload) pair appears at most once, whatever the writer is doing.
                    assert len(matches) == len({m.payload for m in matches})
                    assert all(m.payload == 20_000 + i for m in matches)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    for i, code in enumerate(fresh):
        index.add(to_hex(code), 20_000 + i)
        assert index.query(to_hex(code), 0) == [Match(20_000 + i, 0)]  # visible to the next query
    for i, code in enumerate(fresh[::2]):
        index.remove(to_hex(code), 20_000 + 2 * i)
        assert index.query(to_hex(code), 0) == []
    stop.set()
    for t in readers:
        t.join()
    index.wait_for_merge(timeout=60)
    assert not errors, errors
    assert len(index) == len(BASE) + 200


@settings(max_examples=25, deadline=None)
@given(
    batches=st.lists(st.lists(st.integers(0, 63), min_size=1, max_size=20), min_size=1, max_size=4),
    removed=st.lists(st.integers(0, 200), max_size=10),
    big=st.booleans(),
)
def test_add_new_answers_as_add_many_does(batches: list[list[int]], removed: list[int], big: bool) -> None:
    """The no-lookup append (fresh payloads only) leaves the index answering exactly as add_many."""
    plain: PdqIndex[int] = PdqIndex.from_arrays(BASE, np.arange(len(BASE)) + 10_000) if big else PdqIndex()
    fast: PdqIndex[int] = PdqIndex.from_arrays(BASE, np.arange(len(BASE)) + 10_000) if big else PdqIndex()
    payload = 0
    added: list[tuple[int, int]] = []
    for batch in batches:
        pairs = [(i, payload + n) for n, i in enumerate(batch)]
        payload += len(batch)
        plain.add_many((POOL[i].tobytes(), p) for i, p in pairs)
        ids = [p for _, p in pairs]
        # Both payload forms: a list (encoded one by one) and an id array (their own keys).
        fast.add_new(np.stack([POOL[i] for i, _ in pairs]), np.array(ids) if len(ids) % 2 else ids)
        added += pairs
    gone = [added[r % len(added)] for r in removed]
    for index in (plain, fast):
        index.remove_many((POOL[i].tobytes(), p) for i, p in gone)
    if big:
        plain.compact()
        fast.compact()
    assert len(fast) == len(plain)
    for i in {i for batch in batches for i in batch} | {0, 1}:
        want = sorted((m.payload, m.distance) for m in plain.query(to_hex(POOL[i]), 31))
        assert sorted((m.payload, m.distance) for m in fast.query(to_hex(POOL[i]), 31)) == want


def test_bulk_append_during_a_merge_is_kept_and_still_deduplicated(monkeypatch: Any) -> None:
    """Pairs appended while a merge runs are replayed onto the merged segment in bulk, and stay exact:
    they match, a re-add of one is a duplicate, and a removal finds it."""
    import safeguard.index.pdq as pdq_module

    index: PdqIndex[int] = PdqIndex.from_arrays(BASE, np.arange(len(BASE)) + 10_000)
    index.add_many((POOL[i].tobytes(), i) for i in range(8))
    started, release = threading.Event(), threading.Event()
    real = pdq_module._segment_from_pairs

    def slow_segment(*args: Any) -> Any:
        started.set()
        assert release.wait(10)
        return real(*args)

    monkeypatch.setattr(pdq_module, "_segment_from_pairs", slow_segment)
    merge = threading.Thread(target=index.compact)
    merge.start()
    assert started.wait(10)
    index.add_new(np.stack([POOL[i] for i in range(8, 40)]), np.arange(8, 40))
    index.remove_many([(POOL[9].tobytes(), 9)])
    release.set()
    merge.join(10)
    assert not merge.is_alive()
    assert len(index) == len(BASE) + 39
    assert index.add_many([(POOL[20].tobytes(), 20)]) == 0
    assert index.remove_many([(POOL[30].tobytes(), 30)]) == 1
    for i in (8, 20, 39):
        assert i in {m.payload for m in index.query(to_hex(POOL[i]), 0)}
    for i in (9, 30):
        assert i not in {m.payload for m in index.query(to_hex(POOL[i]), 0)}
