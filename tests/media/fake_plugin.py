"""A third-party signal type, as another package would ship it (loaded through an EntryPoint in tests)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from safeguard.media import ContentHasher, ContentKind, HashOptions, Signal
from safeguard.media.content import Content
from safeguard.media.signal_type import HexSignalType


class MeanLumaSignal(HexSignalType, ContentHasher):
    """Mean grey level of the image as two hex digits: a toy, but a complete signal type."""

    name: ClassVar[str] = "mean_luma"
    content_types: ClassVar[frozenset[ContentKind]] = frozenset({ContentKind.photo})
    hex_digits: ClassVar[int] = 2
    exact: ClassVar[bool] = False
    default_threshold: ClassVar[float] = 4

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        return abs(int(cls.validate_hash(a), 16) - int(cls.validate_hash(b), 16))

    @classmethod
    def hash_content(cls, content: Content, options: HashOptions) -> list[Signal]:
        mean = int(np.asarray(content.image().first).mean())
        return [Signal(cls.name, f"{mean:02x}")]


class ClashingPdqSignal(MeanLumaSignal):
    name: ClassVar[str] = "pdq"


class NotASignalType:
    name = "not_a_type"
