"""The per-process in-memory matcher: one index per signal type, kept current from the change log.

Which index a type gets is the type's own answer (``SignalType.index_kind()``, from the registry): a
hash table for exact types, the PDQ engine for ``pdq``, the vPDQ index for ``vpdq``, and for any other
type (a plug-in) :class:`_LinearIndex`, which compares the query with every live banked hash by the
type's ``distance``. A plug-in therefore matches with no line of Safeguard changed.

Each API worker builds it at start (from the database) and a background thread polls ``bank_changes``
every ``poll_interval`` seconds, applying adds, removes, disables and bank changes. So content added
through any worker (or the CLI) becomes matchable in every worker within about one poll interval.

Entries are never physically removed from the matcher's position table (positions are the index's
payloads); a removed or disabled signal is marked dead and skipped, and comes back to life if re-enabled.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from safeguard.banks import changes
from safeguard.banks.models import Bank, BankSignal
from safeguard.banks.pdq_index import PdqIndex, hex_to_codes
from safeguard.banks.signals import VPDQ, signal_type_of, signal_types
from safeguard.banks.vpdq_index import VpdqHit, VpdqTypeIndex
from safeguard.media import IndexKind, SignalType
from safeguard.store.db import Database

log = logging.getLogger("safeguard.banks.matcher")

LOAD_BATCH = 50_000
CHANGE_BATCH = 20_000
STALE_AFTER_S = 65.0


@dataclass(frozen=True, slots=True)
class BankInfo:
    id: int
    name: str
    is_allowlist: bool
    enabled: bool
    enabled_ratio: float
    pdq_threshold: int
    deleted: bool


@dataclass(frozen=True, slots=True)
class Hit:
    signal_id: int
    content_id: int
    bank_id: int
    distance: int


class _Entries:
    """Signal id, content id, bank id and liveness per position, in growable numpy arrays."""

    def __init__(self) -> None:
        self.size = 0
        self.signal_ids: npt.NDArray[np.int64] = np.zeros(1024, dtype=np.int64)
        self.content_ids: npt.NDArray[np.int64] = np.zeros(1024, dtype=np.int64)
        self.bank_ids: npt.NDArray[np.int32] = np.zeros(1024, dtype=np.int32)
        self.alive: npt.NDArray[np.bool_] = np.zeros(1024, dtype=np.bool_)
        # Signal ids arrive in increasing order (the change log hands them out in commit order); the
        # rare out-of-order one is remembered here instead of breaking the sorted prefix.
        self.sorted_size = 0
        self.out_of_order: dict[int, int] = {}

    def _grow(self, needed: int) -> None:
        capacity = len(self.signal_ids)
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        for name in ("signal_ids", "content_ids", "bank_ids", "alive"):
            old = getattr(self, name)
            new = np.zeros(capacity, dtype=old.dtype)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)

    def position(self, signal_id: int) -> int | None:
        if self.sorted_size:
            pos = int(np.searchsorted(self.signal_ids[: self.sorted_size], signal_id))
            if pos < self.sorted_size and int(self.signal_ids[pos]) == signal_id:
                return pos
        return self.out_of_order.get(signal_id)

    def append(self, signal_ids: list[int], content_ids: list[int], bank_ids: list[int]) -> int:
        first = self.size
        n = len(signal_ids)
        self._grow(self.size + n)
        end = first + n
        self.signal_ids[first:end] = signal_ids
        self.content_ids[first:end] = content_ids
        self.bank_ids[first:end] = bank_ids
        self.alive[first:end] = True
        ids = self.signal_ids[first:end]
        in_order = self.sorted_size == self.size and bool(np.all(ids[1:] > ids[:-1]))
        if in_order and (self.size == 0 or signal_ids[0] > int(self.signal_ids[self.size - 1])):
            self.sorted_size = end
        else:
            for offset, sid in enumerate(signal_ids):
                self.out_of_order[sid] = first + offset
        self.size = end
        return first


class _TypeIndex:
    """An exact type's hash table, or (``hamming``) the PDQ engine."""

    def __init__(self, signal_type: str, *, hamming: bool = False) -> None:
        self.signal_type = signal_type
        self.entries = _Entries()
        self.pdq: PdqIndex | None = PdqIndex() if hamming else None
        self.exact: dict[str, list[int]] = {}

    def add(self, rows: list[tuple[int, int, int, str]], *, all_new: bool = False) -> None:
        """Add (signal_id, content_id, bank_id, value) rows, reviving ones already present.
        ``all_new`` skips that check (the initial load reads each signal once)."""
        fresh = rows if all_new else self._revive_known(rows)
        if not fresh:
            return
        first = self.entries.append([r[0] for r in fresh], [r[1] for r in fresh], [r[2] for r in fresh])
        if self.pdq is not None:
            self.pdq.add(hex_to_codes([r[3] for r in fresh]))
        else:
            for offset, row in enumerate(fresh):
                self.exact.setdefault(row[3], []).append(first + offset)

    def _revive_known(self, rows: list[tuple[int, int, int, str]]) -> list[tuple[int, int, int, str]]:
        """Mark rows already present alive again; return the others (looked up in one vectorised pass)."""
        e = self.entries
        if not rows or e.size == 0:
            return rows
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        known = np.zeros(len(rows), dtype=np.bool_)
        if e.sorted_size:
            sorted_ids = e.signal_ids[: e.sorted_size]
            pos = np.minimum(np.searchsorted(sorted_ids, ids), e.sorted_size - 1)
            known = sorted_ids[pos] == ids
            e.alive[pos[known]] = True
        if not e.out_of_order:
            return [row for row, is_known in zip(rows, known.tolist(), strict=True) if not is_known]
        fresh = []
        for row, is_known in zip(rows, known.tolist(), strict=True):
            if is_known:
                continue
            extra = e.out_of_order.get(row[0])
            if extra is None:
                fresh.append(row)
            else:
                e.alive[extra] = True
        return fresh

    def set_dead(self, signal_id: int) -> None:
        pos = self.entries.position(signal_id)
        if pos is not None:
            self.entries.alive[pos] = False

    def query(self, value: str, radius: float) -> list[Hit]:
        e = self.entries
        if self.pdq is not None:
            positions, distances = self.pdq.search(hex_to_codes([value])[0], int(radius))
            pairs = [(int(p), int(d)) for p, d in zip(positions, distances, strict=True)]
        else:
            pairs = [(p, 0) for p in self.exact.get(value, [])]
        return [
            Hit(int(e.signal_ids[p]), int(e.content_ids[p]), int(e.bank_ids[p]), d)
            for p, d in pairs
            if e.alive[p]
        ]

    def live_count(self) -> int:
        return int(np.count_nonzero(self.entries.alive[: self.entries.size]))


class _LinearIndex:
    """python-threatexchange's trivial linear index: every live banked hash is compared with the query by
    the type's ``distance``. Slow for big banks, but any signal type matches before a fast index exists."""

    pdq = None

    def __init__(self, signal_type: type[SignalType]) -> None:
        self.signal_type = signal_type.name
        self._type = signal_type
        self._rows: dict[int, tuple[int, int, str]] = {}  # signal id -> content id, bank id, value
        self._dead: set[int] = set()

    def add(self, rows: list[tuple[int, int, int, str]], *, all_new: bool = False) -> None:
        for signal_id, content_id, bank_id, value in rows:
            self._rows[signal_id] = (content_id, bank_id, value)
            self._dead.discard(signal_id)

    def set_dead(self, signal_id: int) -> None:
        if signal_id in self._rows:
            self._dead.add(signal_id)

    def query(self, value: str, radius: float) -> list[Hit]:
        hits = []
        for signal_id, (content_id, bank_id, banked) in list(self._rows.items()):
            if signal_id in self._dead:
                continue
            distance = self._type.distance(value, banked)
            if distance <= radius:
                hits.append(Hit(signal_id, content_id, bank_id, int(distance)))
        return hits

    def live_count(self) -> int:
        return len(self._rows) - len(self._dead)


_AnyIndex = _TypeIndex | VpdqTypeIndex | _LinearIndex


def _index_for(name: str) -> _AnyIndex:
    signal_type = signal_type_of(name)
    kind = signal_type.index_kind()
    if kind is IndexKind.vpdq:
        return VpdqTypeIndex()
    if kind is IndexKind.linear:
        return _LinearIndex(signal_type)
    return _TypeIndex(name, hamming=kind is IndexKind.pdq)


class BankMatcher:
    def __init__(self, db: Database, *, poll_interval: float = 0.2) -> None:
        self.db = db
        self.poll_interval = poll_interval
        self.checkpoint = 0
        self.banks: dict[int, BankInfo] = {}
        self.ready = threading.Event()
        self.last_refresh = 0.0
        # Unix time the index last took in a change (or was loaded): HMA's index ``built_to``.
        self.built_at = 0.0
        # Refreshed longer ago than this, the index is stale (0 or less: never; HMA's
        # INDEX_CACHE_MAX_STALE_SEC).
        self.stale_after_s = STALE_AFTER_S
        self.error: str | None = None
        self._indexes: dict[str, _AnyIndex] = {st: _index_for(st) for st in signal_types()}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # Lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Load in a background thread, then keep polling the change log until ``stop``."""
        self._thread = threading.Thread(target=self._run, name="bank-matcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.ready.is_set():
                    self.load()
                self.refresh()
                self.error = None
            except Exception as exc:  # keep serving from the last good state; retry next tick
                self.error = f"{type(exc).__name__}: {exc}"
                log.exception("bank matcher refresh failed")
            self._stop.wait(self.poll_interval)

    @property
    def is_stale(self) -> bool:
        if not self.ready.is_set():
            return True
        return self.stale_after_s > 0 and time.monotonic() - self.last_refresh > self.stale_after_s

    # Loading and refreshing ----------------------------------------------------------------------------

    def load(self) -> None:
        """Build every index from the database (the checkpoint is read first: replaying is idempotent)."""
        with self.db.read_session() as session:
            checkpoint = changes.current_checkpoint(session)
            self._reload_banks_in(session)
            live_banks = [b.id for b in self.banks.values() if not b.deleted]
            query = (
                select(
                    BankSignal.id,
                    BankSignal.content_id,
                    BankSignal.bank_id,
                    BankSignal.signal_type,
                    BankSignal.value,
                )
                .where(BankSignal.active.is_(True), BankSignal.bank_id.in_(live_banks))
                .order_by(BankSignal.id)
                .execution_options(yield_per=LOAD_BATCH)
            )
            by_type: dict[str, list[tuple[int, int, int, str]]] = {st: [] for st in self._indexes}
            for sid, cid, bid, st, value in session.execute(query):
                rows = by_type.get(st)
                if rows is None:
                    continue
                rows.append((sid, cid, bid, value))
                if len(rows) >= LOAD_BATCH:
                    with self._lock:
                        self._indexes[st].add(rows, all_new=True)
                    by_type[st] = []
            with self._lock:
                for st, rows in by_type.items():
                    self._indexes[st].add(rows, all_new=True)
        for index in self._indexes.values():
            if index.pdq is not None:
                index.pdq.settle()
        self.checkpoint = checkpoint
        self.built_at = time.time()
        self.ready.set()
        self.last_refresh = time.monotonic()
        log.info("bank matcher loaded to checkpoint %d: %s", checkpoint, self.sizes())

    def refresh(self) -> int:
        """Apply changes after the checkpoint; returns how many were applied."""
        applied = 0
        while True:
            with self.db.read_session() as session:
                rows = changes.change_tuples_since(session, self.checkpoint, CHANGE_BATCH)
                if any(row[1] == "bank" for row in rows):
                    self._reload_banks_in(session)
            if not rows:
                break
            with self._lock:
                self._apply(rows)
            self.checkpoint = rows[-1][0]
            self.built_at = time.time()
            applied += len(rows)
            if len(rows) < CHANGE_BATCH:
                break
        self.last_refresh = time.monotonic()
        return applied

    def _apply(self, rows: list[changes.ChangeTuple]) -> None:
        """Apply change rows in order: runs of adds go to an index in one call, before the next removal."""
        adds: dict[str, list[tuple[int, int, int, str]]] = {}
        indexes = self._indexes
        for _seq, op, bank_id, content_id, signal_id, signal_type, value, _kind in rows:
            if signal_type is None or signal_id is None or content_id is None or value is None:
                continue  # a bank change
            index = indexes.get(signal_type)
            if index is None:
                continue  # a signal type this matcher does not index
            if op == "add" or op == "enable":
                adds.setdefault(signal_type, []).append((signal_id, content_id, bank_id, value))
            else:
                index.add(adds.pop(signal_type, []))
                index.set_dead(signal_id)
        for signal_type, pending in adds.items():
            indexes[signal_type].add(pending)

    def _reload_banks_in(self, session: object) -> None:
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        self.banks = {
            b.id: BankInfo(
                id=b.id,
                name=b.name,
                is_allowlist=b.is_allowlist,
                enabled=b.enabled,
                enabled_ratio=b.enabled_ratio,
                pdq_threshold=b.pdq_threshold,
                deleted=b.deleted_at is not None,
            )
            for b in session.scalars(select(Bank))
        }

    # Queries -------------------------------------------------------------------------------------------

    def query(self, signal_type: str, value: str, radius: float) -> list[Hit]:
        # No lock: a query must not wait while the refresh thread applies a large import (that wait was
        # the p99 during imports). Safe because writers fill an _Entries position before the PDQ engine
        # can return it, swap grown arrays in whole, and the engine publishes immutable snapshots.
        index = self._indexes[signal_type]
        assert not isinstance(index, VpdqTypeIndex), "vpdq is queried with query_vpdq"
        return index.query(value, radius)

    def query_vpdq(self, value: str, radius: int) -> list[VpdqHit]:
        """Banked videos with a usable frame within ``radius`` bits of one of ``value``'s (to be scored).
        No lock, as ``query``: the vPDQ index appends a video's bookkeeping before its frames reach the
        engine, which publishes immutable snapshots."""
        index = self._indexes[VPDQ]
        assert isinstance(index, VpdqTypeIndex)
        return index.query(value, radius)

    def sizes(self) -> dict[str, int]:
        with self._lock:
            return {st: index.live_count() for st, index in self._indexes.items()}
