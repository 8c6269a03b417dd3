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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Names resolve on first use (PEP 562), so importing one submodule, or this package for ``HashPool``,
# does not pull in numpy, Pillow and the decoders: the CLI and the hash workers start faster.
_EXPORTS: dict[str, str] = {
    "HashOutcome": "safeguard.media.pool",
    "HashPool": "safeguard.media.pool",
    "HashTask": "safeguard.media.pool",
    "ENTRY_POINT_GROUP": "safeguard.media.registry",
    "SignalTypeRegistry": "safeguard.media.registry",
    "default_registry": "safeguard.media.registry",
    "hash_content": "safeguard.media.service",
    "signals_to_bank": "safeguard.media.service",
    "signals_to_query": "safeguard.media.service",
    "BytesHasher": "safeguard.media.signal_type",
    "ContentHasher": "safeguard.media.signal_type",
    "FileHasher": "safeguard.media.signal_type",
    "IndexKind": "safeguard.media.signal_type",
    "SignalType": "safeguard.media.signal_type",
    "BANKED_CROPS": "safeguard.media.types",
    "FINE_CROPS": "safeguard.media.types",
    "VARIANTS": "safeguard.media.types",
    "ContentKind": "safeguard.media.types",
    "HashOptions": "safeguard.media.types",
    "HashResult": "safeguard.media.types",
    "MediaInfo": "safeguard.media.types",
    "MediaLimits": "safeguard.media.types",
    "Progress": "safeguard.media.types",
    "Signal": "safeguard.media.types",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
