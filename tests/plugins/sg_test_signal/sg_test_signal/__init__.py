"""``sg_test_sum``: a toy third-party signal type, registered only through its entry point.

The hash is the sum of a file's bytes modulo 2**32, as 8 lowercase hex digits; two hashes are as far apart
as their numbers, and within ``default_threshold`` (16) they match. It is not exact, so Safeguard gives it
the linear index. It hashes only "other" files (not images or videos) that start with ``MAGIC``, so having
it installed changes no other test's hashes.
"""

from __future__ import annotations

import re
from typing import ClassVar

from safeguard.media import ContentKind, HashOptions, Signal
from safeguard.media.errors import InvalidHash
from safeguard.media.signal_type import BytesHasher, SignalType

MAGIC = b"SGTEST-SUM\n"
_HEX8 = re.compile(r"[0-9a-f]{8}")


def sum_hash(data: bytes) -> str:
    return f"{sum(data) % 2**32:08x}"


class SumSignal(SignalType, BytesHasher):
    name: ClassVar[str] = "sg_test_sum"
    content_types: ClassVar[frozenset[ContentKind]] = frozenset({ContentKind.file})
    default_threshold: ClassVar[float] = 16
    exact: ClassVar[bool] = False
    description: ClassVar[str] = "test plug-in: byte sum (distance = difference of the sums)"

    @classmethod
    def validate_hash(cls, value: str) -> str:
        text = value.strip().lower()
        if not _HEX8.fullmatch(text):
            raise InvalidHash(f"{value[:40]!r} is not an sg_test_sum hash (8 hex digits)", field="hash")
        return text

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        return abs(int(cls.validate_hash(a), 16) - int(cls.validate_hash(b), 16))

    @classmethod
    def hash_bytes(cls, data: bytes, options: HashOptions) -> list[Signal]:
        return [Signal(cls.name, sum_hash(data))] if data.startswith(MAGIC) else []
