"""The banks' adapter over media hashing: which hashes to bank for a file, which to query with.

``safeguard.media`` (issue 4) is the planned home of hashing; until its API lands this adapter hashes
directly with the same libraries: images get PDQ (pdqhash) plus MD5 and SHA-256 of the bytes; other
files get MD5 and SHA-256 (and ``video_md5`` when the caller says it is a video). Banking adds the seven
other dihedral PDQ hashes (rotations and mirrors) as variants, so a rotated or flipped upload still
matches while a query needs only its one PDQ hash.
"""

from __future__ import annotations

import hashlib
import io
import warnings

import numpy as np
import pdqhash
from PIL import Image, UnidentifiedImageError

from safeguard.banks.service import SignalIn
from safeguard.errors import UnsupportedMedia

MAX_PIXELS = 64_000_000


def _bits_to_hex(bits: object) -> str:
    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8))).hex()


def _open_image(data: bytes) -> Image.Image | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise UnsupportedMedia(f"the image is larger than {MAX_PIXELS} pixels")
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        return None
    except (OSError, ValueError, SyntaxError):
        raise UnsupportedMedia("the image file is damaged and cannot be decoded") from None
    return image.convert("RGB")


def _digests(data: bytes, is_video: bool) -> list[SignalIn]:
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    signals = [SignalIn("md5", md5), SignalIn("sha256", hashlib.sha256(data).hexdigest())]
    if is_video:
        signals.append(SignalIn("video_md5", md5))
    return signals


def hashes_to_query(data: bytes, *, is_video: bool = False) -> list[SignalIn]:
    if not data:
        raise UnsupportedMedia("the file is empty")
    image = None if is_video else _open_image(data)
    signals: list[SignalIn] = []
    if image is not None:
        bits, _quality = pdqhash.compute(np.asarray(image))
        signals.append(SignalIn("pdq", _bits_to_hex(bits)))
    return signals + _digests(data, is_video)


def hashes_to_bank(data: bytes, *, is_video: bool = False) -> list[SignalIn]:
    if not data:
        raise UnsupportedMedia("the file is empty")
    image = None if is_video else _open_image(data)
    signals: list[SignalIn] = []
    if image is not None:
        dihedral, _quality = pdqhash.compute_dihedral(np.asarray(image))
        hexes = list(dict.fromkeys(_bits_to_hex(bits) for bits in dihedral))
        signals.append(SignalIn("pdq", hexes[0]))
        signals.extend(SignalIn("pdq", h, "variant") for h in hexes[1:])
    return signals + _digests(data, is_video)
