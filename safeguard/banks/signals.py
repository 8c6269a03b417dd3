"""Signal types banks hold, and validation of their hash strings (lowercase hex).

This is the banks' thin adapter over the signal types of ``safeguard.media``: the set of names and their
hex lengths are those of issue 4 (``pdq``, ``video_md5``, ``md5``, ``sha256``). ``vpdq`` (a list of frame
hashes) is not held in banks yet.
"""

from __future__ import annotations

import re

from safeguard.banks.errors import InvalidSignal

HEX_LENGTHS: dict[str, int] = {"pdq": 64, "md5": 32, "video_md5": 32, "sha256": 64}
SIGNAL_TYPES = tuple(HEX_LENGTHS)
DISTANCE_TYPES = frozenset({"pdq"})  # matched by Hamming distance; the others match exactly
PDQ_MAX_THRESHOLD = 31  # the index answers every hash within 31 bits exactly (see pdq_index.py)

_HEX = re.compile(r"[0-9a-f]+")


def normalize_signal_type(signal_type: str, *, field: str = "signal_type") -> str:
    name = signal_type.strip().lower()
    if name not in HEX_LENGTHS:
        known = ", ".join(SIGNAL_TYPES)
        raise InvalidSignal(f"unknown signal type {signal_type[:40]!r}; known types: {known}", field=field)
    return name


def normalize_hash(signal_type: str, value: str, *, field: str = "hash") -> str:
    """The canonical (lowercase hex) form of ``value``; raises InvalidSignal naming what is wrong."""
    name = normalize_signal_type(signal_type)
    text = value.strip().lower()
    expected = HEX_LENGTHS[name]
    if len(text) != expected or not _HEX.fullmatch(text):
        shown = value[:80]
        raise InvalidSignal(f"{shown!r} is not a {name} hash ({expected} hex digits)", field=field)
    return text
