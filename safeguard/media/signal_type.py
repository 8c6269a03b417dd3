"""The signal type extension point, in the spirit of python-threatexchange's ``SignalType``.

A signal type is a class (never instantiated) that says what it is called, which content it applies to,
how to validate and compare its hash strings, and what distance counts as a match. Hashing is a separate
capability: a type that can hash content also subclasses :class:`FileHasher` (it reads a path) or
:class:`BytesHasher` (it hashes the bytes; a path is read for it). Types that cannot hash (a hash list
received from elsewhere) only validate and compare.

A type also says which kind of index matches it (:meth:`SignalType.index_kind`, as python-threatexchange's
``get_index_cls``): ``exact`` (a hash table of canonical strings), ``linear`` (every banked hash compared
with :meth:`SignalType.distance`: the trivial index that lets a new type match before a fast one exists),
or the built-in fast indexes ``pdq`` (multi-index hashing over 256-bit hashes) and ``vpdq`` (videos scored
frame by frame). Banks, imports, exports, matching and the HMA routes read the registry, so a third party
adds a type by exposing a subclass under the entry point group ``safeguard.signal_types`` (see
``registry.py``); nothing in Safeguard needs editing.
"""

from __future__ import annotations

import abc
import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from safeguard.media.errors import InvalidHash
from safeguard.media.types import ContentKind, HashOptions, Signal

if TYPE_CHECKING:
    from safeguard.media.content import Content


class IndexKind(StrEnum):
    """How the bank matcher indexes a signal type (see the module docstring)."""

    exact = "exact"
    linear = "linear"
    pdq = "pdq"
    vpdq = "vpdq"


class SignalType(abc.ABC):
    """A kind of hash. Subclasses set the class attributes and implement :meth:`validate_hash`.

    - ``name``: lower_snake name, shared with python-threatexchange where the hash is the same.
    - ``content_types``: the content kinds it applies to.
    - ``default_threshold``: the largest :meth:`distance` that is a match (0 for exact digests).
    - ``exact``: True when only equal hashes match (an index can use a hash table).
    """

    name: ClassVar[str]
    content_types: ClassVar[frozenset[ContentKind]]
    default_threshold: ClassVar[float] = 0
    exact: ClassVar[bool] = True
    description: ClassVar[str] = ""

    @classmethod
    @abc.abstractmethod
    def validate_hash(cls, value: str) -> str:
        """The canonical form of ``value`` (lowercase hex for hex types); InvalidHash names the fault."""

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        """How far apart two canonical hashes are; exact types answer 0 (equal) or 1."""
        return 0 if cls.validate_hash(a) == cls.validate_hash(b) else 1

    @classmethod
    def index_kind(cls) -> IndexKind:
        """The index that matches this type: a hash table for exact types, else a linear scan of
        :meth:`distance` (built-in fast types override this)."""
        return IndexKind.exact if cls.exact else IndexKind.linear

    @classmethod
    def matches(cls, a: str, b: str, threshold: float | None = None) -> bool:
        limit = cls.default_threshold if threshold is None else threshold
        return cls.distance(a, b) <= limit


class ContentHasher(abc.ABC):
    """Capability: turn content into signals. Built-in types implement this directly so that several types
    share one decode (``content.image()``); third parties usually subclass FileHasher or BytesHasher."""

    @classmethod
    @abc.abstractmethod
    def hash_content(cls, content: Content, options: HashOptions) -> list[Signal]:
        """Signals for the content (may be empty); raise a media error for content it cannot hash."""


class FileHasher(ContentHasher):
    """Capability: turn a file into signals. Called only for content whose kind is in ``content_types``."""

    @classmethod
    @abc.abstractmethod
    def hash_file(cls, path: Path, options: HashOptions) -> list[Signal]:
        """Signals for the file at ``path`` (may be empty)."""

    @classmethod
    def hash_content(cls, content: Content, options: HashOptions) -> list[Signal]:
        return cls.hash_file(content.path(), options)


class BytesHasher(FileHasher):
    """Capability: turn bytes into signals (a file is read whole, within ``limits.max_file_bytes``)."""

    @classmethod
    @abc.abstractmethod
    def hash_bytes(cls, data: bytes, options: HashOptions) -> list[Signal]:
        """Signals for the bytes (may be empty)."""

    @classmethod
    def hash_file(cls, path: Path, options: HashOptions) -> list[Signal]:
        return cls.hash_bytes(path.read_bytes(), options)

    @classmethod
    def hash_content(cls, content: Content, options: HashOptions) -> list[Signal]:
        return cls.hash_bytes(content.data(), options)


class HexSignalType(SignalType):
    """A signal type whose hash is a fixed number of hex digits (``hex_digits``)."""

    hex_digits: ClassVar[int]

    @classmethod
    def validate_hash(cls, value: str) -> str:
        text = value.strip().lower()
        if len(text) != cls.hex_digits or not _HEX.fullmatch(text):
            shown = value[:80]
            raise InvalidHash(
                f"{shown!r} is not a {cls.name} hash ({cls.hex_digits} hex digits)", field="hash"
            )
        return text


_HEX = re.compile(r"[0-9a-f]+")


def hamming_hex(a: str, b: str) -> int:
    """Bits that differ between two equally long hex strings."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
