"""What an index stores beside each hash: payloads, kept compact.

Every payload is held as an int64 *key*: a non-negative int payload below 2**62 is its own key (bank
content ids, the common case, cost 4 or 8 bytes and no Python object); any other payload (a string, a
tuple, a negative or huge int) is interned in a table of objects and keyed ``-1 - its index``. Payloads
must therefore be hashable. The interned objects are saved with pickle: open only index files that
your own service wrote.

A segment's payloads are a column with the first key of each distinct hash plus a small CSR side table
for hashes with several payloads (the same image in several banks).
"""

from __future__ import annotations

import pickle
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import numpy as np
import numpy.typing as npt

T = TypeVar("T", bound=Hashable)

I64Array = npt.NDArray[np.int64]
DIRECT_LIMIT = 1 << 62


def _direct_key(payload: object) -> int | None:
    """A payload that is its own key: a plain non-negative int below 2**62 (not bool)."""
    if type(payload) is int and 0 <= payload < DIRECT_LIMIT:
        return payload
    return None


class PayloadCodec(Generic[T]):
    """Payload <-> key. Append-only: a key, once given, keeps meaning the same payload."""

    def __init__(self, objects: Sequence[T] = ()) -> None:
        self._objects: list[T] = list(objects)
        self._ids: dict[T, int] = {obj: i for i, obj in enumerate(self._objects)}

    def encode(self, payload: T) -> int:
        """The key of ``payload``, interning it if needed."""
        direct = _direct_key(payload)
        if direct is not None:
            return direct
        index = self._ids.get(payload)
        if index is None:
            index = len(self._objects)
            self._objects.append(payload)
            self._ids[payload] = index
        return -1 - index

    def lookup(self, payload: T) -> int | None:
        """The key of ``payload`` if it has one (no interning)."""
        direct = _direct_key(payload)
        if direct is not None:
            return direct
        index = self._ids.get(payload)
        return None if index is None else -1 - index

    def decode(self, key: int) -> T:
        if key >= 0:
            return cast(T, key)
        return self._objects[-1 - key]

    @property
    def objects(self) -> list[T]:
        return self._objects

    def to_bytes(self) -> npt.NDArray[np.uint8]:
        return np.frombuffer(pickle.dumps(self._objects, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)

    @classmethod
    def from_bytes(cls, data: npt.NDArray[np.uint8]) -> PayloadCodec[T]:
        if len(data) == 0:
            return cls()
        return cls(pickle.loads(data.tobytes()))


def narrow(keys: I64Array) -> npt.NDArray[Any]:
    """``keys`` in uint32 when every key fits (halves the payload column), else int64."""
    if len(keys) == 0 or (int(keys.min()) >= 0 and int(keys.max()) < (1 << 32)):
        return keys.astype(np.uint32)
    return keys.astype(np.int64)


@dataclass(frozen=True)
class PayloadColumns:
    """Keys of the distinct hashes of a segment, by position."""

    first: npt.NDArray[Any]  # (n,) the first key of each position (uint32 or int64)
    extra_owner: I64Array  # sorted positions having more than one key
    extra_offsets: I64Array  # CSR offsets into extra_keys, len(extra_owner) + 1
    extra_keys: I64Array

    @classmethod
    def from_groups(cls, group: I64Array, keys: I64Array, n: int) -> PayloadColumns:
        """``group[j]`` is the position of the j-th key (non-decreasing); each position has >= 1 key."""
        if len(keys) == 0:
            return cls.empty()
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        first = keys[starts]
        counts = np.diff(np.r_[starts, len(keys)])
        multi = np.flatnonzero(counts > 1)
        extra_owner = group[starts[multi]].astype(np.int64)
        extra_counts = counts[multi] - 1
        extra_offsets = np.zeros(len(multi) + 1, dtype=np.int64)
        np.cumsum(extra_counts, out=extra_offsets[1:])
        later = np.ones(len(keys), dtype=bool)
        later[starts] = False
        extra_keys = keys[later].astype(np.int64)
        if len(first) != n:
            raise ValueError("every position needs a payload")
        return cls(narrow(first), extra_owner, extra_offsets, extra_keys)

    @classmethod
    def empty(cls) -> PayloadColumns:
        zero = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(0, dtype=np.uint32), zero, np.zeros(1, dtype=np.int64), zero)

    def keys_at(self, position: int) -> list[int]:
        keys = [int(self.first[position])]
        if len(self.extra_owner):
            i = int(np.searchsorted(self.extra_owner, position))
            if i < len(self.extra_owner) and int(self.extra_owner[i]) == position:
                lo, hi = int(self.extra_offsets[i]), int(self.extra_offsets[i + 1])
                keys.extend(int(k) for k in self.extra_keys[lo:hi])
        return keys

    @property
    def total(self) -> int:
        return len(self.first) + len(self.extra_keys)

    def flat(self) -> tuple[I64Array, I64Array]:
        """All (position, key) pairs, position-sorted."""
        n = len(self.first)
        positions = np.arange(n, dtype=np.int64)
        keys = self.first.astype(np.int64)
        if len(self.extra_keys):
            owners = np.repeat(self.extra_owner, np.diff(self.extra_offsets))
            positions = np.concatenate([positions, owners])
            keys = np.concatenate([keys, self.extra_keys])
            order = np.argsort(positions, kind="stable")
            positions, keys = positions[order], keys[order]
        return positions, keys

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "payload_first": self.first,
            "payload_extra_owner": self.extra_owner,
            "payload_extra_offsets": self.extra_offsets,
            "payload_extra_keys": self.extra_keys,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]]) -> PayloadColumns:
        return cls(
            arrays["payload_first"],
            arrays["payload_extra_owner"],
            arrays["payload_extra_offsets"],
            arrays["payload_extra_keys"],
        )
