"""Exact digest indexes (MD5, SHA-256): a hash matches only itself.

The main part is a sorted array of digests (the first 8 bytes as a uint64 column for a C binary search,
the full digests beside it) with payload columns, memory-mapped when opened; recent additions live in a
dict and removals as tombstones, published as immutable states like :class:`PdqIndex`. About 40 bytes
per SHA-256 digest in memory against ~200 for a Python dict of bytes.
"""

from __future__ import annotations

import binascii
import os
import threading
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Generic, Self, TypeVar

import numpy as np
import numpy.typing as npt

from safeguard.index.base import Match, SignalIndex
from safeguard.index.errors import InvalidHash
from safeguard.index.payloads import PayloadCodec, PayloadColumns
from safeguard.index.storage import read_arrays, write_arrays

T = TypeVar("T", bound=Hashable)
DigestHash = str | bytes


@dataclass(frozen=True)
class _DigestState:
    prefixes: npt.NDArray[np.uint64]  # sorted first 8 bytes, big-endian
    digests: npt.NDArray[np.uint8]  # (n, size), sorted
    payloads: PayloadColumns
    removed: dict[int, frozenset[int]]
    added: dict[bytes, frozenset[int]]  # digest -> keys added since the arrays were built
    size: int


class DigestIndex(SignalIndex[DigestHash, T], Generic[T]):
    """Exact lookup of fixed-size digests given as hex (any case) or raw bytes."""

    digest_size: ClassVar[int] = 32
    kind: ClassVar[str] = "digest"

    def __init__(self) -> None:
        self._state = self._empty()
        self._codec: PayloadCodec[T] = PayloadCodec()
        self._write_lock = threading.Lock()
        self.checkpoint: int | str | None = None

    @classmethod
    def build(cls, entries: Iterable[tuple[DigestHash, T]], **options: Any) -> Self:
        index = cls(**options)
        index.add_many(entries)
        index.compact()
        return index

    def _empty(self) -> _DigestState:
        return _DigestState(
            prefixes=np.zeros(0, dtype=np.uint64),
            digests=np.zeros((0, self.digest_size), dtype=np.uint8),
            payloads=PayloadColumns.empty(),
            removed={},
            added={},
            size=0,
        )

    def _raw(self, value: DigestHash) -> bytes:
        size = self.digest_size
        if isinstance(value, str):
            if len(value) != 2 * size:
                raise InvalidHash(
                    f"a {self.kind} digest is {2 * size} hex digits, got {len(value)}", field="hash"
                )
            try:
                return binascii.unhexlify(value)
            except (binascii.Error, ValueError):
                raise InvalidHash(f"a {self.kind} digest is hex digits only", field="hash") from None
        if isinstance(value, bytes | bytearray) and len(value) == size:
            return bytes(value)
        raise InvalidHash(f"a {self.kind} digest is {2 * size} hex digits or {size} bytes", field="hash")

    def _position(self, state: _DigestState, raw: bytes) -> int:
        prefix = np.uint64(int.from_bytes(raw[:8], "big"))
        lo = int(np.searchsorted(state.prefixes, prefix, side="left"))
        hi = int(np.searchsorted(state.prefixes, prefix, side="right"))
        for position in range(lo, hi):
            if state.digests[position].tobytes() == raw:
                return position
        return -1

    def _stored_keys(self, state: _DigestState, raw: bytes) -> tuple[int, list[int], frozenset[int]]:
        position = self._position(state, raw)
        keys = state.payloads.keys_at(position) if position >= 0 else []
        return position, keys, state.removed.get(position, frozenset())

    def add_many(self, entries: Iterable[tuple[DigestHash, T]]) -> int:
        parsed = [(self._raw(h), p) for h, p in entries]
        with self._write_lock:
            state = self._state
            removed, added, size, count = dict(state.removed), dict(state.added), state.size, 0
            for raw, payload in parsed:
                key = self._codec.encode(payload)
                position, keys, _ = self._stored_keys(state, raw)
                gone = removed.get(position, frozenset())
                if key in keys:
                    if key in gone:
                        removed[position] = gone - {key}
                        count += 1
                    continue
                extra = added.get(raw, frozenset())
                if key not in extra:
                    added[raw] = extra | {key}
                    count += 1
            self._state = replace(state, removed=removed, added=added, size=size + count)
        return count

    def remove_many(self, entries: Iterable[tuple[DigestHash, T]]) -> int:
        parsed = [(self._raw(h), p) for h, p in entries]
        with self._write_lock:
            state = self._state
            removed, added, count = dict(state.removed), dict(state.added), 0
            for raw, payload in parsed:
                key = self._codec.lookup(payload)
                if key is None:
                    continue
                position, keys, _ = self._stored_keys(state, raw)
                gone = removed.get(position, frozenset())
                if key in keys and key not in gone:
                    removed[position] = gone | {key}
                    count += 1
                elif key in added.get(raw, frozenset()):
                    added[raw] = added[raw] - {key}
                    count += 1
            self._state = replace(state, removed=removed, added=added, size=state.size - count)
        return count

    def __len__(self) -> int:
        return self._state.size

    def query(self, hash_value: DigestHash) -> list[Match[T]]:
        """The payloads stored under exactly this digest (distance 0)."""
        raw = self._raw(hash_value)
        state = self._state
        _, keys, gone = self._stored_keys(state, raw)
        found = [k for k in keys if k not in gone]
        found.extend(sorted(state.added.get(raw, ())))
        return [Match(self._codec.decode(key), 0) for key in found]

    def query_many(self, hashes: Iterable[DigestHash]) -> list[list[Match[T]]]:
        return [self.query(h) for h in hashes]

    def _arrays(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        """Every live (digest, key) pair."""
        state = self._state
        positions, keys = state.payloads.flat()
        live = np.ones(len(keys), dtype=bool)
        for position, gone in state.removed.items():
            live[(positions == position) & np.isin(keys, np.fromiter(gone, np.int64))] = False
        digests = [state.digests[positions[live]]]
        all_keys = [keys[live].astype(np.int64)]
        for raw, extra in state.added.items():
            for key in sorted(extra):
                digests.append(np.frombuffer(raw, dtype=np.uint8)[None, :])
                all_keys.append(np.array([key], dtype=np.int64))
        return np.concatenate(digests), np.concatenate(all_keys)

    def _rebuild(self, digests: npt.NDArray[np.uint8], keys: npt.NDArray[np.int64]) -> _DigestState:
        order = np.lexsort([keys] + [digests[:, i] for i in range(self.digest_size - 1, -1, -1)])
        digests, keys = digests[order], keys[order]
        same_digest = np.zeros(len(keys), dtype=bool)
        if len(keys) > 1:
            same_digest[1:] = (digests[1:] == digests[:-1]).all(axis=1)
        keep = ~same_digest.copy()
        keep[1:] |= keys[1:] != keys[:-1]
        digests, keys, same_digest = digests[keep], keys[keep], same_digest[keep]
        group = np.cumsum(~same_digest) - 1
        unique = digests[~same_digest]
        payloads = PayloadColumns.from_groups(group.astype(np.int64), keys, len(unique))
        prefixes = unique[:, :8].copy().view(">u8").astype(np.uint64).reshape(-1)
        return _DigestState(prefixes, unique, payloads, {}, {}, payloads.total)

    def compact(self) -> None:
        """Fold recent additions and removals into the sorted arrays."""
        with self._write_lock:
            self._state = self._rebuild(*self._arrays())

    def save(self, path: str | os.PathLike[str], *, checkpoint: int | str | None = None) -> None:
        state = self._rebuild(*self._arrays())
        arrays: dict[str, npt.NDArray[Any]] = {
            "prefixes": state.prefixes,
            "digests": state.digests,
            "payload_objects": self._codec.to_bytes(),
            **state.payloads.arrays(),
        }
        write_arrays(path, self.kind, {"size": state.size, "checkpoint": checkpoint}, arrays)

    @classmethod
    def open(cls, path: str | os.PathLike[str], **options: Any) -> Self:
        meta, arrays = read_arrays(path, cls.kind, mmap_file=True)
        index = cls(**options)
        index._codec = PayloadCodec.from_bytes(arrays["payload_objects"])
        index._state = _DigestState(
            arrays["prefixes"],
            arrays["digests"],
            PayloadColumns.from_arrays(arrays),
            {},
            {},
            int(meta["size"]),
        )
        index.checkpoint = meta.get("checkpoint")
        return index


class Md5Index(DigestIndex[T]):
    digest_size = 16
    kind = "md5"


class Sha256Index(DigestIndex[T]):
    digest_size = 32
    kind = "sha256"
