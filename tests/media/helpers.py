"""Small shared helpers for the media tests (images are made from the shared benign set)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image

from tests.helpers import IMAGES, VIDEOS

REFERENCE = Path(__file__).resolve().parent / "reference"
FIRST_IMAGE = IMAGES / "img_0001.jpg"
CUTS = VIDEOS / "dev_cuts.mp4"
CUTS_VARIANT = VIDEOS / "dev_cuts_variant.mp4"
PAN = VIDEOS / "dev_pan.mp4"


def shared_images(count: int | None = None) -> list[Path]:
    files = sorted(IMAGES.glob("*.jpg"))
    return files[:count] if count else files


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def reference_pdq(rgb: np.ndarray) -> str:  # type: ignore[type-arg]
    bits, _quality = pdqhash.compute(np.ascontiguousarray(rgb, dtype=np.uint8))
    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8))).hex()


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
