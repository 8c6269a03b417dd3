"""Small helpers for bank tests: synthetic images, random hashes, waiting for the matcher."""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable
from typing import TypeVar

from PIL import Image, ImageDraw, ImageEnhance

T = TypeVar("T")


def synthetic_image(seed: int, size: int = 256) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(size), rng.randrange(size)
        x1, y1 = x0 + rng.randrange(20, size // 2), y0 + rng.randrange(20, size // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    return image


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def edited(image: Image.Image) -> bytes:
    """A lightly edited copy: resized, brightened, re-encoded at lower quality."""
    smaller = image.resize((image.width * 3 // 4, image.height * 3 // 4))
    return jpeg_bytes(ImageEnhance.Brightness(smaller).enhance(1.1), quality=70)


def random_pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def flip_bits(hex_hash: str, count: int, rng: random.Random) -> str:
    value = int(hex_hash, 16)
    for bit in rng.sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


def wait_for(check: Callable[[], T | None], timeout: float = 5.0) -> T:
    """Poll until ``check`` returns something truthy (the matcher refreshes every 0.2 s)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.05)


def vpdq_frames(rng: random.Random, count: int, quality: int = 100) -> list[tuple[str, int, float]]:
    """``count`` random, distinct frames (one a second) of a synthetic video."""
    return [(random_pdq(rng), quality, float(second)) for second in range(count)]


def vpdq_string(frames: list[tuple[str, int, float]]) -> str:
    """python-threatexchange's vpdq serialisation: a JSON list of "pdq,quality,timestamp" strings."""
    return json.dumps([f"{pdq},{quality},{timestamp:.3}" for pdq, quality, timestamp in frames])
