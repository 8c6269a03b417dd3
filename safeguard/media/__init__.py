"""Media signals: PDQ, vPDQ, MD5/SHA-256 hashing of images, video and any file, with an extension point.

The API other capabilities use (banks, index, matching)::

    from safeguard.media import signals_to_bank, signals_to_query, HashPool, HashTask, HashOptions

    result = signals_to_query(Path("upload.jpg"))       # HashResult: .media, .signals
    for signal in result.matchable():                    # Signal(signal_type, hash, quality, variant, ...)
        ...
    banked = signals_to_bank(data_bytes)                 # + dihedral variants and centre crops

    with HashPool() as pool:                             # untrusted content: time/memory limits
        result = pool.hash_one(HashTask(data, HashOptions.for_query()))

    registry = default_registry()                        # signal types, incl. entry-point plugins
    registry.get("pdq").distance(a, b); registry.validate_hash("md5", text)

See docs/media.md.
"""

from safeguard.media.pool import HashOutcome, HashPool, HashTask
from safeguard.media.registry import ENTRY_POINT_GROUP, SignalTypeRegistry, default_registry
from safeguard.media.service import hash_content, signals_to_bank, signals_to_query
from safeguard.media.signal_type import BytesHasher, ContentHasher, FileHasher, IndexKind, SignalType
from safeguard.media.types import (
    BANKED_CROPS,
    FINE_CROPS,
    VARIANTS,
    ContentKind,
    HashOptions,
    HashResult,
    MediaInfo,
    MediaLimits,
    Progress,
    Signal,
)

__all__ = [
    "BANKED_CROPS",
    "ENTRY_POINT_GROUP",
    "FINE_CROPS",
    "VARIANTS",
    "BytesHasher",
    "ContentHasher",
    "ContentKind",
    "FileHasher",
    "HashOptions",
    "HashOutcome",
    "HashPool",
    "HashResult",
    "HashTask",
    "IndexKind",
    "MediaInfo",
    "MediaLimits",
    "Progress",
    "Signal",
    "SignalType",
    "SignalTypeRegistry",
    "default_registry",
    "hash_content",
    "signals_to_bank",
    "signals_to_query",
]
