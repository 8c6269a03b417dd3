"""PDQ hashes as four big-endian uint64 words: parsing, formatting, distance.

A PDQ hash is 256 bits, written as 64 hex digits (lowercase in Safeguard) or held as 32 bytes. The index
works on ``(n, 4)`` arrays of ``uint64`` words, big-endian so that sorting words sorts the hex strings.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from safeguard.index.errors import InvalidHash

PDQ_HEX_LENGTH = 64
PDQ_BYTES = 32

U64Array = npt.NDArray[np.uint64]
PdqHash = str | bytes


def pdq_words(value: PdqHash, *, field: str = "hash") -> U64Array:
    """One PDQ hash (64 hex digits or 32 bytes) as a (4,) uint64 array."""
    if isinstance(value, str):
        if len(value) != PDQ_HEX_LENGTH:
            raise InvalidHash(f"a PDQ hash is {PDQ_HEX_LENGTH} hex digits, got {len(value)}", field=field)
        try:
            raw = binascii.unhexlify(value)
        except (binascii.Error, ValueError):
            raise InvalidHash("a PDQ hash is hex digits only", field=field) from None
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if len(raw) != PDQ_BYTES:
            raise InvalidHash(f"a PDQ hash is {PDQ_BYTES} bytes, got {len(raw)}", field=field)
    else:
        raise InvalidHash(f"a PDQ hash is a hex string or bytes, got {type(value).__name__}", field=field)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def pdq_words_many(values: Iterable[PdqHash], *, field: str = "hashes") -> U64Array:
    """Many PDQ hashes as an (n, 4) uint64 array."""
    rows = [pdq_words(v, field=field) for v in values]
    if not rows:
        return np.zeros((0, 4), dtype=np.uint64)
    return np.stack(rows)


def words_from_bytes(hashes: npt.NDArray[np.uint8]) -> U64Array:
    """An (n, 32) uint8 array of PDQ hashes (e.g. from ``pdqhash``, bit-packed) as (n, 4) words."""
    array = np.ascontiguousarray(hashes, dtype=np.uint8)
    if array.ndim != 2 or array.shape[1] != PDQ_BYTES:
        raise InvalidHash(
            f"expected an (n, {PDQ_BYTES}) uint8 array, got shape {array.shape}", field="hashes"
        )
    return array.view(">u8").astype(np.uint64)


def words_from_hex_array(hexes: Sequence[str]) -> U64Array:
    """Bulk parse of many 64-digit hex strings (several times faster than one by one)."""
    if not hexes:
        return np.zeros((0, 4), dtype=np.uint64)
    try:
        joined = "".join(hexes)
        raw = binascii.unhexlify(joined)
    except (binascii.Error, ValueError, TypeError):
        return pdq_words_many(hexes)  # find and name the bad one
    if len(joined) != PDQ_HEX_LENGTH * len(hexes) or any(len(h) != PDQ_HEX_LENGTH for h in hexes):
        return pdq_words_many(hexes)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, 4)


def pdq_hex(words: U64Array) -> str:
    """The lowercase hex form of one (4,) word array."""
    return np.asarray(words, dtype=np.uint64).astype(">u8").tobytes().hex()


def hamming_distance(a: U64Array, b: U64Array) -> int:
    return int(np.bitwise_count(np.asarray(a, dtype=np.uint64) ^ np.asarray(b, dtype=np.uint64)).sum())
