"""Data makers and a brute-force oracle for the index tests."""

from __future__ import annotations

from typing import Any

import numpy as np


def random_codes(rng: np.random.Generator, n: int) -> np.ndarray[Any, Any]:
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


def clustered_codes(rng: np.random.Generator, n: int, per_cluster: int = 8) -> np.ndarray[Any, Any]:
    """Near-duplicates: centres with members a few bits away, and some exact duplicates."""
    centres = random_codes(rng, max(1, n // per_cluster))
    owners = rng.integers(0, len(centres), n)
    masks = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    for _ in range(3):
        masks &= rng.integers(0, 256, size=(n, 32), dtype=np.uint8)  # ~16 bits set
    masks[rng.random(n) < 0.05] = 0  # some exact copies of the centre
    return centres[owners] ^ masks


def flip(code: np.ndarray[Any, Any], bits: list[int]) -> np.ndarray[Any, Any]:
    unpacked = np.unpackbits(code)
    unpacked[bits] ^= 1
    return np.packbits(unpacked)


def to_hex(code: np.ndarray[Any, Any]) -> str:
    return bytes(code).hex()


def brute(codes: np.ndarray[Any, Any], query: np.ndarray[Any, Any], threshold: int) -> dict[int, int]:
    """Row -> distance for every row within ``threshold`` of ``query``."""
    distances = np.unpackbits(codes ^ query, axis=1).sum(axis=1)
    return {int(i): int(distances[i]) for i in np.flatnonzero(distances <= threshold)}
