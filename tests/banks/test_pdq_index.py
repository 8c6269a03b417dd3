"""The banks' position-based view of the PDQ engine finds exactly what brute force finds, up to 31 bits."""

from __future__ import annotations

import numpy as np
import pytest

from safeguard.banks import pdq_index
from safeguard.banks.pdq_index import PdqIndex


def _brute(codes: np.ndarray, query: np.ndarray, radius: int) -> dict[int, int]:
    distances = np.unpackbits(codes ^ query, axis=1).sum(axis=1)
    return {int(i): int(distances[i]) for i in np.flatnonzero(distances <= radius)}


@pytest.mark.parametrize("bulk_build_min", [10**9, 500])
def test_matches_brute_force_after_bulk_builds_and_adds(
    monkeypatch: pytest.MonkeyPatch, bulk_build_min: int
) -> None:
    monkeypatch.setattr(pdq_index, "BULK_BUILD_MIN", bulk_build_min)
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 256, size=(6000, 32), dtype=np.uint8)
    index = PdqIndex()
    for start in range(0, len(codes), 1000):  # a bulk first load (or not), then incremental adds
        assert index.add(codes[start : start + 1000]) == start
    assert index.add(rng.integers(0, 256, size=(0, 32), dtype=np.uint8)) == len(codes)
    for target in rng.choice(len(codes), 40, replace=False):
        bits = np.unpackbits(codes[target])
        flips = rng.choice(256, int(rng.integers(0, 32)), replace=False)
        bits[flips] ^= 1
        query = np.packbits(bits)
        for radius in (31, 10, 0):
            positions, distances = index.search(query, radius)
            found = dict(zip(positions.tolist(), distances.tolist(), strict=True))
            assert found == _brute(codes, query, radius)
        assert int(target) in index.search(query, 31)[0].tolist()
    assert index.search(np.zeros(32, dtype=np.uint8), 31)[0].size == len(
        _brute(codes, np.zeros(32, np.uint8), 31)
    )
