"""The index interface shared by every signal type (close to python-threatexchange's SignalTypeIndex)."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterable
from typing import Any, Generic, NamedTuple, Self, TypeVar

T = TypeVar("T", bound=Hashable)
H = TypeVar("H")


class Match(NamedTuple, Generic[T]):
    """One stored payload whose hash matched, and the distance (0 for exact digests)."""

    payload: T
    distance: int


class SignalIndex(ABC, Generic[H, T]):
    """Hashes of one signal type (``H``) to payloads (``T``): build, add, remove, save, open.

    A hash may carry several payloads (the same image in several banks); a (hash, payload) pair is
    stored once: adding it again is a no-op. ``len()`` counts stored pairs. Implementations are safe
    for one writer and any number of concurrent readers: readers never wait for writers and always see
    a complete state.
    """

    @classmethod
    def build(cls, entries: Iterable[tuple[H, T]], **options: Any) -> Self:
        index = cls(**options)
        index.add_many(entries)
        return index

    @abstractmethod
    def add_many(self, entries: Iterable[tuple[H, T]]) -> int:
        """Add (hash, payload) pairs; returns how many were new."""

    def add(self, hash_value: H, payload: T) -> bool:
        """Add one pair; True if it was new."""
        return self.add_many([(hash_value, payload)]) == 1

    @abstractmethod
    def remove_many(self, entries: Iterable[tuple[H, T]]) -> int:
        """Remove (hash, payload) pairs; returns how many were present."""

    def remove(self, hash_value: H, payload: T) -> bool:
        """Remove one pair; True if it was present."""
        return self.remove_many([(hash_value, payload)]) == 1

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def save(self, path: str | os.PathLike[str], *, checkpoint: int | str | None = None) -> None:
        """Write the index to one file atomically (temp file, fsync, rename, fsync directory).

        ``checkpoint`` is stored with it and comes back as ``opened.checkpoint``: the position in your
        own change log the file reflects, so a process that opens it replays only later changes.
        """

    @classmethod
    @abstractmethod
    def open(cls, path: str | os.PathLike[str], **options: Any) -> Self:
        """An index read from ``path`` (memory-mapped where the format allows)."""
