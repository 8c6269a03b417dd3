"""Which signal types exist: the built-ins plus those installed under the ``safeguard.signal_types``
entry point group.

A third-party package adds a type without touching Safeguard::

    # its pyproject.toml
    [project.entry-points."safeguard.signal_types"]
    my_hash = "my_package.signals:MyHashSignal"

The entry point must load a :class:`~safeguard.media.signal_type.SignalType` subclass whose ``name``
equals the entry point name and does not clash with another type; a broken plugin raises
:class:`BadSignalTypePlugin` naming it (fail loudly rather than silently not hashing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points

from safeguard.media.digests import Md5Signal, Sha256Signal, VideoMd5Signal
from safeguard.media.errors import BadSignalTypePlugin, UnknownSignalType
from safeguard.media.pdq import PdqSignal
from safeguard.media.signal_type import ContentHasher, SignalType
from safeguard.media.types import ContentKind
from safeguard.media.vpdq import VpdqSignal

ENTRY_POINT_GROUP = "safeguard.signal_types"
BUILTIN_TYPES: tuple[type[SignalType], ...] = (PdqSignal, VpdqSignal, VideoMd5Signal, Md5Signal, Sha256Signal)
MAX_NAME_CHARS = 40  # the HTTP routes accept signal type names up to this long
_NAME = re.compile(rf"[a-z][a-z0-9_]{{0,{MAX_NAME_CHARS - 1}}}")


class SignalTypeRegistry:
    """An ordered set of signal types by name."""

    def __init__(self, types: Iterable[type[SignalType]] = ()) -> None:
        self._types: dict[str, type[SignalType]] = {}
        for signal_type in types:
            self.add(signal_type)

    def add(self, signal_type: type[SignalType], *, source: str = "built-in") -> None:
        if not (isinstance(signal_type, type) and issubclass(signal_type, SignalType)):
            raise BadSignalTypePlugin(f"{source}: {signal_type!r} is not a SignalType subclass")
        name = getattr(signal_type, "name", None)
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise BadSignalTypePlugin(f"{source}: signal type name {name!r} is not lower_snake_case")
        kinds = getattr(signal_type, "content_types", None)
        if (
            not isinstance(kinds, frozenset)
            or not kinds
            or not all(isinstance(k, ContentKind) for k in kinds)
        ):
            raise BadSignalTypePlugin(
                f"{source}: {name} must declare content_types as a frozenset of ContentKind"
            )
        if name in self._types and self._types[name] is not signal_type:
            raise BadSignalTypePlugin(f"{source}: signal type {name!r} is already registered")
        self._types[name] = signal_type

    def get(self, name: str) -> type[SignalType]:
        key = name.strip().lower()
        try:
            return self._types[key]
        except KeyError:
            known = ", ".join(self._types)
            raise UnknownSignalType(
                f"unknown signal type {name[:40]!r}; known: {known}", field="signal_type"
            ) from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._types)

    def __iter__(self) -> Iterator[type[SignalType]]:
        return iter(self._types.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._types

    def hashers_for(
        self, kind: ContentKind, names: frozenset[str] | None = None
    ) -> list[type[ContentHasher]]:
        """Types that can hash content of ``kind`` (restricted to ``names`` when given), in registry order."""
        if names is not None:
            for name in names:
                self.get(name)  # unknown names are an error, not silently nothing
        return [
            t
            for t in self._types.values()
            if issubclass(t, ContentHasher) and kind in t.content_types and (names is None or t.name in names)
        ]

    def validate_hash(self, signal_type: str, value: str) -> str:
        """Canonical form of ``value`` for ``signal_type`` (raises UnknownSignalType or InvalidHash)."""
        return self.get(signal_type).validate_hash(value)


def load_entry_points(registry: SignalTypeRegistry, points: Iterable[EntryPoint]) -> None:
    """Add the signal types the given entry points name (exposed for tests of third-party registration)."""
    for point in points:
        source = f"entry point {point.name!r} ({point.value})"
        try:
            loaded = point.load()
        except Exception as exc:
            raise BadSignalTypePlugin(f"{source} failed to load: {exc}") from exc
        if getattr(loaded, "name", None) != point.name:
            raise BadSignalTypePlugin(f"{source}: the class's name must equal the entry point name")
        registry.add(loaded, source=source)


@lru_cache(maxsize=1)
def default_registry() -> SignalTypeRegistry:
    """Built-ins plus every installed ``safeguard.signal_types`` entry point (loaded once per process)."""
    registry = SignalTypeRegistry(BUILTIN_TYPES)
    load_entry_points(registry, entry_points(group=ENTRY_POINT_GROUP))
    return registry
