"""PdqIndex: exact PDQ range search over millions of hashes, incremental, concurrent, persistent.

Structure: an immutable main :class:`~safeguard.index.segment.Segment` (multi-index hashing, possibly
memory-mapped from a saved file) plus a small append-only *delta* of recent additions (scanned) and
*tombstones* for removed (hash, payload) pairs. Every write publishes a new immutable :class:`_State`
with one reference assignment, so a reader takes ``self._state`` once and works on a complete, unchanging
snapshot: readers never lock, never block on writers and never see half a write. Writes are visible to
the very next query. When the delta reaches ``merge_threshold`` rows, a background thread folds delta
and tombstones into a new main segment and swaps it in, replaying the writes that arrived meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Hashable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Generic, Self, TypeVar

import numpy as np
import numpy.typing as npt

from safeguard.index import _kernels as k
from safeguard.index.base import Match, SignalIndex
from safeguard.index.errors import InvalidThreshold
from safeguard.index.hashes import PdqHash, U64Array, pdq_words, words_from_bytes, words_from_hex_array
from safeguard.index.payloads import DIRECT_LIMIT, PayloadCodec, PayloadColumns
from safeguard.index.segment import Segment, sort_unique
from safeguard.index.storage import read_arrays, write_arrays

T = TypeVar("T", bound=Hashable)
I64Array = npt.NDArray[np.int64]

DEFAULT_THRESHOLD = 31  # PDQ's usual match distance
MAX_THRESHOLD = 256
DEFAULT_MERGE_THRESHOLD = 16384  # delta rows scanned per query before a merge (~10-20 us of scan)
FILE_KIND = "pdq"
MERGE_NICENESS = 10


@dataclass(frozen=True)
class _State:
    main: Segment
    payloads: PayloadColumns
    removed: dict[int, frozenset[int]]  # main position -> removed keys (never mutated once published)
    delta_codes: U64Array  # buffer; rows [0, delta_count) belong to this state
    delta_keys: I64Array
    delta_count: int
    delta_removed: frozenset[int]
    size: int


_MergeOp = tuple[str, U64Array, "int | I64Array"]


def _direct_keys(payloads: Sequence[Any] | npt.NDArray[Any]) -> bool:
    """Whether ``payloads`` is an integer array whose values are their own keys (see payloads.py)."""
    if not isinstance(payloads, np.ndarray) or payloads.dtype.kind not in "iu":
        return False
    return len(payloads) == 0 or (int(payloads.min()) >= 0 and int(payloads.max()) < DIRECT_LIMIT)


def _empty_state() -> _State:
    return _State(
        main=Segment.empty(),
        payloads=PayloadColumns.empty(),
        removed={},
        delta_codes=np.zeros((0, 4), dtype=np.uint64),
        delta_keys=np.zeros(0, dtype=np.int64),
        delta_count=0,
        delta_removed=frozenset(),
        size=0,
    )


class _DeltaRows:
    """Delta row numbers by hash, for the exact lookups of ``add`` and ``remove``.

    Filled lazily: a bulk append (``add_new``: a bank import of 100k hashes) does not index its rows
    here, and the first lookup that needs them catches up. Indexing 100k rows one by one was a quarter
    of applying such an import in every API worker, and most imports are never followed by a lookup.
    """

    def __init__(self) -> None:
        self.rows: dict[bytes, list[int]] = {}
        self.indexed = 0

    def lookup(self, raw: bytes, codes: U64Array, count: int) -> list[int]:
        """Rows whose hash is ``raw`` among rows ``[0, count)`` of ``codes``."""
        if self.indexed < count:
            start = self.indexed
            data = np.ascontiguousarray(codes[start:count]).tobytes()
            for i in range(count - start):
                self.rows.setdefault(data[32 * i : 32 * i + 32], []).append(start + i)
            self.indexed = count
        return self.rows.get(raw, [])

    def append(self, raw: bytes, row: int) -> None:
        """Index ``row`` (the next row, right after a lookup caught up)."""
        self.rows.setdefault(raw, []).append(row)
        self.indexed = row + 1


class _Draft:
    """A writer's working copy of a state: the maps are copied on first change, the delta buffer is
    appended past the published row count (invisible to readers until the new state is published)."""

    def __init__(self, state: _State, delta_rows: _DeltaRows) -> None:
        self.state = state
        self.removed = state.removed
        self.removed_copied = False
        self.delta_removed = set(state.delta_removed)
        self.codes = state.delta_codes
        self.keys = state.delta_keys
        self.count = state.delta_count
        self.size = state.size
        self.delta_rows = delta_rows

    def _main_keys(self, q: U64Array) -> tuple[int, list[int]]:
        position = self.state.main.find(q)
        if position < 0:
            return -1, []
        return position, self.state.payloads.keys_at(position)

    def _own_removed(self) -> dict[int, frozenset[int]]:
        if not self.removed_copied:
            self.removed = dict(self.removed)
            self.removed_copied = True
        return self.removed

    def add(self, q: U64Array, key: int) -> bool:
        position, keys = self._main_keys(q)
        if key in keys:
            gone = self.removed.get(position, frozenset())
            if key not in gone:
                return False
            rest = gone - {key}
            removed = self._own_removed()
            if rest:
                removed[position] = rest
            else:
                del removed[position]
            self.size += 1
            return True
        raw = q.tobytes()
        for row in self.delta_rows.lookup(raw, self.codes, self.count):
            if int(self.keys[row]) == key:
                if row not in self.delta_removed:
                    return False
                self.delta_removed.discard(row)
                self.size += 1
                return True
        if self.count == len(self.codes):
            capacity = max(1024, 2 * len(self.codes))
            codes = np.zeros((capacity, 4), dtype=np.uint64)
            keys_buffer = np.zeros(capacity, dtype=np.int64)
            codes[: self.count] = self.codes[: self.count]
            keys_buffer[: self.count] = self.keys[: self.count]
            self.codes, self.keys = codes, keys_buffer
        self.codes[self.count] = q
        self.keys[self.count] = key
        self.delta_rows.append(raw, self.count)
        self.count += 1
        self.size += 1
        return True

    def append_new(self, codes: U64Array, keys: I64Array) -> None:
        """Append pairs the caller knows are not stored: no lookup per pair, unlike :meth:`add`."""
        n, start = len(codes), self.count
        if start + n > len(self.codes):
            capacity = max(1024, 2 * len(self.codes), start + n)
            grown = np.zeros((capacity, 4), dtype=np.uint64)
            keys_buffer = np.zeros(capacity, dtype=np.int64)
            grown[:start] = self.codes[:start]
            keys_buffer[:start] = self.keys[:start]
            self.codes, self.keys = grown, keys_buffer
        self.codes[start : start + n] = codes
        self.keys[start : start + n] = keys
        self.count += n
        self.size += n

    def remove(self, q: U64Array, key: int) -> bool:
        position, keys = self._main_keys(q)
        if key in keys:
            gone = self.removed.get(position, frozenset())
            if key in gone:
                return False
            self._own_removed()[position] = gone | {key}
            self.size -= 1
            return True
        for row in self.delta_rows.lookup(q.tobytes(), self.codes, self.count):
            if int(self.keys[row]) == key and row not in self.delta_removed:
                self.delta_removed.add(row)
                self.size -= 1
                return True
        return False

    def publish(self) -> _State:
        return replace(
            self.state,
            removed=self.removed,
            delta_codes=self.codes,
            delta_keys=self.keys,
            delta_count=self.count,
            delta_removed=frozenset(self.delta_removed),
            size=self.size,
        )


def _live_pairs(state: _State) -> tuple[U64Array, I64Array]:
    """Every stored (code, key) pair of a state, tombstones applied."""
    positions, keys = state.payloads.flat()
    if state.removed:
        dead = np.zeros(len(keys), dtype=bool)
        for position, gone in state.removed.items():
            lo, hi = np.searchsorted(positions, [position, position + 1])
            for j in range(int(lo), int(hi)):
                dead[j] = int(keys[j]) in gone
        positions, keys = positions[~dead], keys[~dead]
    codes = state.main.codes[positions]
    rows = np.arange(state.delta_count, dtype=np.int64)
    if state.delta_removed:
        rows = rows[~np.isin(rows, np.fromiter(state.delta_removed, dtype=np.int64))]
    codes = np.concatenate([codes, state.delta_codes[rows]])
    keys = np.concatenate([keys.astype(np.int64), state.delta_keys[rows]])
    return codes, keys


def _segment_from_pairs(codes: U64Array, keys: I64Array) -> tuple[Segment, PayloadColumns]:
    """A main segment and its payload columns from (code, key) pairs (duplicate pairs dropped)."""
    order, group = sort_unique(codes)
    sorted_keys = keys[order]
    # Within a hash, keys ascending and each once.
    by_key = np.lexsort((sorted_keys, group))
    group, sorted_keys, order = group[by_key], sorted_keys[by_key], order[by_key]
    keep = np.ones(len(group), dtype=bool)
    keep[1:] = (group[1:] != group[:-1]) | (sorted_keys[1:] != sorted_keys[:-1])
    group, sorted_keys, order = group[keep], sorted_keys[keep], order[keep]
    firsts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else np.zeros(0, np.int64)
    unique_codes = codes[order[firsts]]
    segment = Segment.build(unique_codes)
    return segment, PayloadColumns.from_groups(group, sorted_keys, len(unique_codes))


class PdqIndex(SignalIndex[PdqHash, T], Generic[T]):
    """Exact PDQ matching: every stored hash within the threshold, with all its payloads.

    ``query(h, threshold)`` returns ``Match(payload, distance)`` for every stored (hash, payload) pair
    with Hamming distance <= threshold, nearest first: 100% recall, no approximation.
    """

    kind = FILE_KIND

    def __init__(
        self,
        *,
        merge_threshold: int = DEFAULT_MERGE_THRESHOLD,
        background_merge: bool = True,
        workers: int | None = None,
    ) -> None:
        self._state = _empty_state()
        self._codec: PayloadCodec[T] = PayloadCodec()
        self._write_lock = threading.Lock()
        self._delta_rows = _DeltaRows()
        # Writes made while a merge runs, replayed onto the merged state: ("add" | "remove", one code,
        # its key) or ("append", codes, keys) for a bulk append of pairs known to be new.
        self._ops_during_merge: list[_MergeOp] | None = None
        self._merge_thread: threading.Thread | None = None
        self._merge_threshold = merge_threshold
        self._background_merge = background_merge
        self._workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.checkpoint: int | str | None = None

    # -- building -----------------------------------------------------------------------------------

    @classmethod
    def build(cls, entries: Iterable[tuple[PdqHash, T]], **options: Any) -> Self:
        """An index of ``entries`` ((hash, payload) pairs), built in one pass (no delta)."""
        pairs = list(entries)
        index = cls(**options)
        hexes = [h for h, _ in pairs]
        if all(isinstance(h, str) for h in hexes):
            codes = words_from_hex_array([h.lower() for h in hexes if isinstance(h, str)])
        else:
            codes = np.stack([pdq_words(h) for h in hexes]) if hexes else np.zeros((0, 4), np.uint64)
        keys = np.fromiter((index._codec.encode(p) for _, p in pairs), dtype=np.int64, count=len(pairs))
        index._load_pairs(codes, keys)
        return index

    @classmethod
    def from_arrays(
        cls, hashes: npt.NDArray[Any], payloads: Sequence[T] | npt.NDArray[Any], **options: Any
    ) -> Self:
        """Bulk build from an ``(n, 32)`` uint8 array (or ``(n, 4)`` big-endian uint64 words) of hashes
        and their payloads (a sequence, or an integer array of non-negative ids: the fast path)."""
        index = cls(**options)
        array = np.asarray(hashes)
        codes = words_from_bytes(array) if array.dtype == np.uint8 else np.ascontiguousarray(array, np.uint64)
        if isinstance(payloads, np.ndarray) and payloads.dtype.kind in "iu":
            keys = payloads.astype(np.int64)
            if len(keys) and (int(keys.min()) < 0 or int(keys.max()) >= 1 << 62):
                keys = np.fromiter((index._codec.encode(int(p)) for p in keys), np.int64, len(keys))  # type: ignore[arg-type]
        else:
            keys = np.fromiter(
                (index._codec.encode(p) for p in payloads), dtype=np.int64, count=len(payloads)
            )
        if len(keys) != len(codes):
            raise ValueError(f"{len(codes)} hashes but {len(keys)} payloads")
        index._load_pairs(codes, keys)
        return index

    def _load_pairs(self, codes: U64Array, keys: I64Array) -> None:
        segment, payloads = _segment_from_pairs(codes, keys)
        self._state = replace(_empty_state(), main=segment, payloads=payloads, size=payloads.total)

    # -- writing --------------------------------------------------------------------------------------

    def add_many(self, entries: Iterable[tuple[PdqHash, T]]) -> int:
        parsed = [(pdq_words(h), p) for h, p in entries]  # validate everything before changing anything
        with self._write_lock:
            draft = _Draft(self._state, self._delta_rows)
            added = 0
            for q, payload in parsed:
                key = self._codec.encode(payload)
                if draft.add(q, key):
                    added += 1
                    if self._ops_during_merge is not None:
                        self._ops_during_merge.append(("add", q, key))
            self._state = draft.publish()
        self._maybe_merge()
        return added

    def add_new(self, hashes: npt.NDArray[np.uint8], payloads: Sequence[T] | npt.NDArray[np.int64]) -> int:
        """Add ``(n, 32)`` uint8 hashes whose (hash, payload) pairs the caller knows are not in the index.

        Why: :meth:`add_many` looks every pair up first so that adding twice is harmless, which costs a
        search per hash (100k adds to a 200k index: 1.2 s of a 3.4 s bank refresh). A caller that
        appends fresh ids (the banks give every stored signal a new position) can skip it.
        """
        array = np.asarray(hashes)
        if array.ndim != 2 or array.shape[1] != 32 or array.dtype != np.uint8:
            raise ValueError(f"expected an (n, 32) uint8 array, got {array.shape} {array.dtype}")
        if len(payloads) != len(array):
            raise ValueError(f"{len(array)} hashes but {len(payloads)} payloads")
        codes = words_from_bytes(array)
        if _direct_keys(payloads):
            keys = np.asarray(payloads, dtype=np.int64)  # ids that are their own keys: no per-item encode
        else:
            keys = np.fromiter((self._codec.encode(p) for p in payloads), np.int64, count=len(payloads))
        with self._write_lock:
            draft = _Draft(self._state, self._delta_rows)
            draft.append_new(codes, keys)
            if self._ops_during_merge is not None:
                # Replayed as one bulk append, not one looked-up add per pair (100k pairs: ~1 s saved).
                self._ops_during_merge.append(("append", codes, keys))
            self._state = draft.publish()
        self._maybe_merge()
        return len(keys)

    def remove_many(self, entries: Iterable[tuple[PdqHash, T]]) -> int:
        parsed = [(pdq_words(h), p) for h, p in entries]
        with self._write_lock:
            draft = _Draft(self._state, self._delta_rows)
            removed = 0
            for q, payload in parsed:
                key = self._codec.lookup(payload)
                if key is not None and draft.remove(q, key):
                    removed += 1
                    if self._ops_during_merge is not None:
                        self._ops_during_merge.append(("remove", q, key))
            self._state = draft.publish()
        return removed

    def _maybe_merge(self) -> None:
        state = self._state
        if state.delta_count < self._merge_threshold or not self._background_merge:
            return
        with self._write_lock:
            if self._merge_thread is not None:
                return
            thread = threading.Thread(target=self._compact_in_background, name="pdq-index-merge", daemon=True)
            self._merge_thread = thread
        thread.start()

    def _compact_in_background(self) -> None:
        # A merge is seconds of CPU that nothing waits for, while queries are waited for: on Linux a
        # thread can have its own nice value, so the merge yields the cores to the threads serving queries.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), MERGE_NICENESS)
        try:
            self.compact()
        finally:
            with self._write_lock:  # compact returns early while a direct compact() runs: not ours then
                if self._merge_thread is threading.current_thread():
                    self._merge_thread = None

    def compact(self) -> None:
        """Fold the delta and tombstones into a new main segment now (queries go on meanwhile)."""
        with self._write_lock:
            base = self._state
            if self._ops_during_merge is not None:
                return  # another merge is running; it will fold these writes too
            self._ops_during_merge = []
        try:
            if base.delta_count or base.removed or base.delta_removed:
                segment, payloads = _segment_from_pairs(*_live_pairs(base))
            else:
                segment, payloads = base.main, base.payloads
        except BaseException:
            with self._write_lock:
                self._ops_during_merge = None
                self._merge_thread = None
            raise
        with self._write_lock:
            ops = self._ops_during_merge or []
            self._ops_during_merge = None
            fresh = replace(_empty_state(), main=segment, payloads=payloads, size=payloads.total)
            rows = _DeltaRows()
            draft = _Draft(fresh, rows)
            for op, q, key in ops:
                if op == "append":
                    assert isinstance(key, np.ndarray)
                    draft.append_new(q, key)
                elif op == "add":
                    draft.add(q, int(key))
                else:
                    draft.remove(q, int(key))
            self._delta_rows = rows
            self._state = draft.publish()
            if self._merge_thread is threading.current_thread():
                self._merge_thread = None
        # Writes that arrived during a long merge (a bulk load) can leave a delta past the threshold; no
        # later write may come to trigger the next merge, and every query would scan it (a 1M-hash bank
        # load left 200k rows there: 0.6 ms a query instead of 0.05 ms).
        self._maybe_merge()

    def wait_for_merge(self, timeout: float | None = None) -> None:
        """Block until background merging has finished, including a merge that a merge starts."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (thread := self._merge_thread) is not None and thread is not threading.current_thread():
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if self._merge_thread is thread:
                return  # it ended without handing over (an error): nothing more is coming
            if deadline is not None and time.monotonic() >= deadline:
                return

    # -- reading --------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._state.size

    def query(self, hash_value: PdqHash, threshold: int = DEFAULT_THRESHOLD) -> list[Match[T]]:
        """Every stored payload whose hash is within ``threshold`` bits of ``hash_value``, nearest first."""
        _check_threshold(threshold)
        q = pdq_words(hash_value)
        state = self._state
        positions, distances = state.main.search(q, threshold)
        matches = self._main_matches(state, positions, distances)
        if state.delta_count:
            matches.extend(self._delta_matches(state, q, threshold))
        if len(matches) > 1:
            matches.sort(key=_distance_of)
        return matches

    def query_many(
        self, hashes: Sequence[PdqHash] | npt.NDArray[Any], threshold: int | Sequence[int] = DEFAULT_THRESHOLD
    ) -> list[list[Match[T]]]:
        """``query`` for many hashes at once (one kernel call per worker thread); ``threshold`` may be
        one value or one per hash. Accepts hex strings, bytes, or an (n, 32) uint8 / (n, 4) uint64 array."""
        queries = _query_words(hashes)
        n = len(queries)
        if isinstance(threshold, int):
            _check_threshold(threshold)
            thresholds = np.full(n, threshold, dtype=np.int64)
        else:
            thresholds = np.asarray(list(threshold), dtype=np.int64)
            if len(thresholds) != n:
                raise InvalidThreshold(f"{n} hashes but {len(thresholds)} thresholds", field="threshold")
            for t in thresholds:
                _check_threshold(int(t))
        state = self._state
        parts = max(1, min(self._workers, n // 256))
        bounds = np.linspace(0, n, parts + 1).astype(np.int64)
        if parts == 1:
            csr = [state.main.search_many(queries, thresholds)]
        else:
            with ThreadPoolExecutor(parts) as pool:
                csr = list(
                    pool.map(
                        lambda i: state.main.search_many(
                            queries[bounds[i] : bounds[i + 1]], thresholds[bounds[i] : bounds[i + 1]]
                        ),
                        range(parts),
                    )
                )
        results: list[list[Match[T]]] = []
        for offsets, positions, distances in csr:
            for i in range(len(offsets) - 1):
                lo, hi = int(offsets[i]), int(offsets[i + 1])
                results.append(self._main_matches(state, positions[lo:hi], distances[lo:hi]))
        if state.delta_count:
            for i in range(n):
                results[i].extend(self._delta_matches(state, queries[i], int(thresholds[i])))
        for matches in results:
            if len(matches) > 1:
                matches.sort(key=_distance_of)
        return results

    def _main_matches(self, state: _State, positions: I64Array, distances: I64Array) -> list[Match[T]]:
        decode = self._codec.decode
        removed = state.removed
        payloads = state.payloads
        matches: list[Match[T]] = []
        multi = len(payloads.extra_owner) > 0
        for position, distance in zip(positions.tolist(), distances.tolist(), strict=True):
            keys = payloads.keys_at(position) if multi else [int(payloads.first[position])]
            gone = removed.get(position) if removed else None
            for key in keys:
                if gone is None or key not in gone:
                    matches.append(Match(decode(key), distance))
        return matches

    def _delta_matches(self, state: _State, q: U64Array, threshold: int) -> list[Match[T]]:
        capacity = 64
        while True:
            rows = np.empty(capacity, dtype=np.int64)
            dists = np.empty(capacity, dtype=np.int64)
            found = k.brute_search(state.delta_codes, state.delta_count, q, threshold, rows, dists)
            if found >= 0:
                break
            capacity = -found
        decode = self._codec.decode
        return [
            Match(decode(int(state.delta_keys[row])), distance)
            for row, distance in zip(rows[:found].tolist(), dists[:found].tolist(), strict=True)
            if row not in state.delta_removed
        ]

    # -- persistence ----------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], *, checkpoint: int | str | None = None) -> None:
        meta, arrays = self.export()
        write_arrays(path, FILE_KIND, {**meta, "checkpoint": checkpoint}, arrays)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, mmap: bool = True, **options: Any) -> Self:
        """Open a saved index. With ``mmap`` (default) nothing is read up front and processes that
        open the same file share its memory; pass ``mmap=False`` to read it into private memory."""
        meta, arrays = read_arrays(path, FILE_KIND, mmap_file=mmap)
        index = cls.from_export(meta, arrays, **options)
        index.checkpoint = meta.get("checkpoint")
        return index

    def export(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """The current contents as metadata and flat arrays (what ``save`` writes)."""
        state = self._state
        if state.delta_count or state.removed or state.delta_removed:
            segment, payloads = _segment_from_pairs(*_live_pairs(state))
        else:
            segment, payloads = state.main, state.payloads
        arrays: dict[str, npt.NDArray[Any]] = {**segment.arrays(), **payloads.arrays()}
        arrays["payload_objects"] = self._codec.to_bytes()
        return {"size": payloads.total}, arrays

    @classmethod
    def from_export(cls, meta: dict[str, Any], arrays: dict[str, npt.NDArray[Any]], **options: Any) -> Self:
        index = cls(**options)
        index._codec = PayloadCodec.from_bytes(arrays["payload_objects"])
        payloads = PayloadColumns.from_arrays(arrays)
        index._state = replace(
            _empty_state(), main=Segment.from_arrays(arrays), payloads=payloads, size=int(meta["size"])
        )
        return index


def _distance_of(match: Match[Any]) -> int:
    return match.distance


def _check_threshold(threshold: int) -> None:
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise InvalidThreshold(f"a PDQ threshold is 0..{MAX_THRESHOLD}, got {threshold}", field="threshold")


def _query_words(hashes: Sequence[PdqHash] | npt.NDArray[Any]) -> U64Array:
    if isinstance(hashes, np.ndarray):
        if hashes.dtype == np.uint8:
            return words_from_bytes(hashes)
        return np.ascontiguousarray(hashes, dtype=np.uint64).reshape(-1, 4)
    items = list(hashes)
    if items and all(isinstance(h, str) for h in items):
        return words_from_hex_array([h.lower() for h in items if isinstance(h, str)])
    return np.stack([pdq_words(h) for h in items]) if items else np.zeros((0, 4), dtype=np.uint64)
