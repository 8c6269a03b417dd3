"""Signal types banks hold, and validation of their hash strings.

This is the banks' thin adapter over the signal type registry of ``safeguard.media``
(``default_registry()``): banks hold every registered type, built-in or installed through the
``safeguard.signal_types`` entry point group, and each type validates its own hash strings. Of the
built-ins, ``pdq``, ``md5``, ``video_md5`` and ``sha256`` are lowercase hex; ``vpdq`` is
python-threatexchange's ``VPDQSignal`` string,
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

from safeguard.banks.errors import InvalidSignal
from safeguard.errors import SafeguardError
from safeguard.media import IndexKind, SignalType, default_registry
from safeguard.media.vpdq import VpdqFrame, decode_hash, encode_frames

VPDQ = "vpdq"
DISTANCE_TYPES = frozenset({"pdq"})  # matched within the bank's pdq_threshold (Hamming distance)
PDQ_MAX_THRESHOLD = 31  # the index answers every hash within 31 bits exactly (see pdq_index.py)

VPDQ_QUALITY_FLOOR = 50
VPDQ_QUERY_MATCH_PERCENT = 80.0
VPDQ_COMPARED_MATCH_PERCENT = 0.0
# A 4-hour video (the media limit) hashed at one frame a second is 14,400 frames, about 1.2 MB.
VPDQ_MAX_FRAMES = 20_000
VPDQ_MAX_CHARS = 2_000_000
# Keys longer than this (vPDQ strings) are stored as a digest: the uniqueness index stays small.
MAX_KEY_CHARS = 128

# A plug-in type's hash string longer than this is refused before the type sees it (bounded input).
MAX_HASH_CHARS = 4_096


def signal_types() -> tuple[str, ...]:
    """The names of every signal type banks hold (the registry's, in its order)."""
    return default_registry().names()


def signal_type_of(name: str) -> type[SignalType]:
    """The registered type called ``name`` (canonical lowercase name; see normalize_signal_type)."""
    return default_registry().get(name)


def normalize_signal_type(signal_type: str, *, field: str = "signal_type") -> str:
    registry = default_registry()
    name = signal_type.strip().lower()
    if name not in registry:
        known = ", ".join(registry.names())
        raise InvalidSignal(f"unknown signal type {signal_type[:40]!r}; known types: {known}", field=field)
    return name


def normalize_hash(signal_type: str, value: str, *, field: str = "hash") -> str:
    """The canonical form of ``value`` as its signal type writes it (lowercase hex; vPDQ re-encoded);
    raises InvalidSignal naming what is wrong."""
    name = normalize_signal_type(signal_type)
    kind = signal_type_of(name)
    if kind.index_kind() is IndexKind.vpdq:
        return encode_frames(parse_vpdq(value, field=field))
    if len(value) > MAX_HASH_CHARS:
        raise InvalidSignal(f"a {name} hash is at most {MAX_HASH_CHARS} characters", field=field)
    try:
        return kind.validate_hash(value)
    except SafeguardError as exc:
        raise InvalidSignal(exc.detail, field=field) from None
    except ValueError:  # a plug-in's own check, not one of our typed errors
        raise InvalidSignal(f"{value[:80]!r} is not a {name} hash", field=field) from None


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
