"""Hashing content into signals: the one entry point the rest of Safeguard calls.

Two explicit presets, because banks and queries want different hash sets:

- :func:`signals_to_query` — for an uploaded item to look up: the plain hash of every applicable type,
  plus ``trimmed`` (border removed), ``unoriented`` (EXIF) and ``reference`` (python-threatexchange's
  pixels) PDQ variants when they differ.
- :func:`signals_to_bank` — for a known item to store: the query set plus the 7 dihedral PDQ variants
  (rotated/mirrored re-uploads) and centre crops (``crop90``, ``crop80``: cropped re-uploads).

A query matches a banked item when ANY matchable query signal is within the type's threshold of ANY
banked signal of that item. Both run in the calling process with no time limit: for untrusted content
use :class:`safeguard.media.pool.HashPool`, which runs the same functions in worker processes with
per-item time and memory limits.
"""

from __future__ import annotations

from pathlib import Path

from safeguard.errors import SafeguardError
from safeguard.media.content import Content
from safeguard.media.errors import CorruptMedia, MemoryLimitExceeded
from safeguard.media.registry import SignalTypeRegistry, default_registry
from safeguard.media.types import HashOptions, HashResult, ProgressCallback, Signal

Source = Path | bytes


def hash_content(
    source: Source,
    options: HashOptions | None = None,
    *,
    registry: SignalTypeRegistry | None = None,
    progress: ProgressCallback | None = None,
) -> HashResult:
    """Every signal ``options`` ask for, for a file path or the bytes of a file.

    The content's kind and format come from its bytes (never its name). Raises the typed errors of
    ``safeguard.media.errors`` for content it cannot hash; nothing else escapes.
    """
    options = options or HashOptions.for_query()
    types = registry or default_registry()
    path, data = (source, None) if isinstance(source, Path) else (None, source)
    with Content(path=path, data=data, limits=options.limits, progress=progress) as content:
        signals: list[Signal] = []
        for hasher in types.hashers_for(content.kind, options.signal_types):
            try:
                signals.extend(hasher.hash_content(content, options))
            except SafeguardError:
                raise
            except MemoryError:
                raise MemoryLimitExceeded("hashing needed more memory than the limit allows") from None
            except Exception as exc:
                name = getattr(hasher, "name", hasher.__name__)
                raise CorruptMedia(f"{name} could not hash the content ({type(exc).__name__})") from None
        return HashResult(content.info(), tuple(signals))


def signals_to_query(
    source: Source, options: HashOptions | None = None, *, progress: ProgressCallback | None = None
) -> HashResult:
    """Signals to look an uploaded item up with (:meth:`HashOptions.for_query` unless ``options``)."""
    return hash_content(source, options or HashOptions.for_query(), progress=progress)


def signals_to_bank(
    source: Source, options: HashOptions | None = None, *, progress: ProgressCallback | None = None
) -> HashResult:
    """Signals to store for a known item (:meth:`HashOptions.for_bank` unless ``options``)."""
    return hash_content(source, options or HashOptions.for_bank(), progress=progress)
