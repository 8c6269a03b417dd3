"""Signal types banks hold, and validation of their hash strings.

This is the banks' thin adapter over the signal types of ``safeguard.media``: ``pdq``, ``md5``,
``video_md5`` and ``sha256`` are lowercase hex; ``vpdq`` is python-threatexchange's ``VPDQSignal`` string,
a JSON list of ``"<pdq hex>,<quality>,<timestamp>"`` frame strings (``safeguard.media.vpdq`` parses and
writes it), held in banks in that canonical form.

vPDQ matching follows threatexchange's vpdq signal type: frames of quality under ``VPDQ_QUALITY_FLOOR``
are ignored on both sides and repeated frame hashes counted once; a frame matches when a frame of the
other video is within the bank's ``pdq_threshold`` (default 31, threatexchange's
``VPDQ_DISTANCE_THRESHOLD``); a banked video matches when at least ``VPDQ_QUERY_MATCH_PERCENT`` of the
query's frames match and at least ``VPDQ_COMPARED_MATCH_PERCENT`` of the banked video's frames do
(threatexchange's ``VPDQ_QUERY_MATCH_THRESHOLD_PERCENT`` and ``VPDQ_INDEX_MATCH_THRESHOLD_PERCENT``).
"""

from __future__ import annotations

import hashlib
import math
import re

from safeguard.banks.errors import InvalidSignal
from safeguard.errors import SafeguardError
from safeguard.media.vpdq import VpdqFrame, decode_hash, encode_frames

HEX_LENGTHS: dict[str, int] = {"pdq": 64, "md5": 32, "video_md5": 32, "sha256": 64}
VPDQ = "vpdq"
SIGNAL_TYPES = (*HEX_LENGTHS, VPDQ)
DISTANCE_TYPES = frozenset({"pdq"})  # matched by Hamming distance; md5, sha256, video_md5 match exactly
PDQ_MAX_THRESHOLD = 31  # the index answers every hash within 31 bits exactly (see pdq_index.py)

VPDQ_QUALITY_FLOOR = 50
VPDQ_QUERY_MATCH_PERCENT = 80.0
VPDQ_COMPARED_MATCH_PERCENT = 0.0
# A 4-hour video (the media limit) hashed at one frame a second is 14,400 frames, about 1.2 MB.
VPDQ_MAX_FRAMES = 20_000
VPDQ_MAX_CHARS = 2_000_000
# Keys longer than this (vPDQ strings) are stored as a digest: the uniqueness index stays small.
MAX_KEY_CHARS = 128

_HEX = re.compile(r"[0-9a-f]+")


def normalize_signal_type(signal_type: str, *, field: str = "signal_type") -> str:
    name = signal_type.strip().lower()
    if name not in SIGNAL_TYPES:
        known = ", ".join(SIGNAL_TYPES)
        raise InvalidSignal(f"unknown signal type {signal_type[:40]!r}; known types: {known}", field=field)
    return name


def normalize_hash(signal_type: str, value: str, *, field: str = "hash") -> str:
    """The canonical form of ``value`` (lowercase hex; vPDQ re-encoded); raises InvalidSignal naming what
    is wrong."""
    name = normalize_signal_type(signal_type)
    if name == VPDQ:
        return encode_frames(parse_vpdq(value, field=field))
    text = value.strip().lower()
    expected = HEX_LENGTHS[name]
    if len(text) != expected or not _HEX.fullmatch(text):
        shown = value[:80]
        raise InvalidSignal(f"{shown!r} is not a {name} hash ({expected} hex digits)", field=field)
    return text


def parse_vpdq(value: str, *, field: str = "hash") -> list[VpdqFrame]:
    """The frames of a vPDQ string; raises InvalidSignal for a malformed, oversized or unmatchable one."""
    if len(value) > VPDQ_MAX_CHARS:
        raise InvalidSignal(f"a vpdq hash is at most {VPDQ_MAX_CHARS} characters", field=field)
    try:
        frames = decode_hash(value.strip())
    except SafeguardError as exc:
        raise InvalidSignal(exc.detail, field=field) from None
    if len(frames) > VPDQ_MAX_FRAMES:
        raise InvalidSignal(f"a vpdq hash has at most {VPDQ_MAX_FRAMES} frames", field=field)
    for position, frame in enumerate(frames):
        if not math.isfinite(frame.timestamp):
            raise InvalidSignal(f"vpdq frame {position} has no finite timestamp", field=field)
    return frames


def usable_frames(frames: list[VpdqFrame]) -> list[str]:
    """The PDQ hashes of the frames that take part in matching: quality >= the floor, each hash once."""
    return list(dict.fromkeys(f.pdq for f in frames if f.quality >= VPDQ_QUALITY_FLOOR))


def signal_key(value: str) -> str:
    """What the bank's uniqueness index holds for a (canonical) hash: the hash itself, or for one longer
    than ``MAX_KEY_CHARS`` (a vPDQ string) ``sha256:`` and its SHA-256."""
    if len(value) <= MAX_KEY_CHARS:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
