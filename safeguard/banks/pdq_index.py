"""The banks' view of the matching engine's exact PDQ index (``safeguard.index.PdqIndex``).

The matcher numbers the signals it holds by position (0, 1, 2...) and keeps bank, content and liveness
per position; the PDQ index stores those positions as payloads. This module keeps that small
position-based interface (``add`` appends, ``search`` returns positions and distances) over the engine,
which does the exact multi-index-hashing search, merges new hashes in the background and never blocks
readers (see ``safeguard/index/pdq.py`` and docs/performance.md).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from safeguard.index import PdqIndex as EnginePdqIndex

PDQ_BYTES = 32
MAX_RADIUS = 31
# Bulk loads larger than this build a fresh engine index from arrays (its fast path) instead of adding.
BULK_BUILD_MIN = 50_000


def hex_to_codes(values: list[str]) -> npt.NDArray[np.uint8]:
    """PDQ hex strings as an (n, 32) uint8 array."""
    if not values:
        return np.zeros((0, PDQ_BYTES), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(values)), dtype=np.uint8).reshape(-1, PDQ_BYTES)


class PdqIndex:
    """PDQ hashes by position (0, 1, 2...). One writer (``add``), many readers (``search``)."""

    def __init__(self) -> None:
        self._engine: EnginePdqIndex[int] = EnginePdqIndex()
        self.size = 0

    def add(self, codes: npt.NDArray[np.uint8]) -> int:
        """Append hashes; returns the position of the first one."""
        first, n = self.size, len(codes)
        if n == 0:
            return first
        positions = np.arange(first, first + n, dtype=np.int64)
        if first == 0 and n >= BULK_BUILD_MIN:
            self._engine = EnginePdqIndex.from_arrays(np.ascontiguousarray(codes, dtype=np.uint8), positions)
        else:
            # Positions only grow, so every pair is new: skip the engine's duplicate lookups.
            self._engine.add_new(np.ascontiguousarray(codes, dtype=np.uint8), positions)
        self.size = first + n
        return first

    def settle(self) -> None:
        """Wait for background merges: a freshly loaded index then answers from its main segment alone."""
        self._engine.wait_for_merge()

    def search(
        self, code: npt.NDArray[np.uint8], radius: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
        """Positions and distances of every hash within ``radius`` bits (inclusive, radius <= 31)."""
        matches = self._engine.query(bytes(code), min(radius, MAX_RADIUS))
        positions = np.fromiter((m.payload for m in matches), dtype=np.int64, count=len(matches))
        distances = np.fromiter((m.distance for m in matches), dtype=np.int32, count=len(matches))
        return positions, distances
