"""Fuzzing the decoders: mutated benign images give a result or one of our typed errors, nothing else."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from safeguard.media import HashOptions, MediaLimits, hash_content
from safeguard.media.errors import MEDIA_ERRORS
from tests.media.helpers import shared_images

# Small limits keep every example fast; the content is what is under test, not the limits.
OPTIONS = HashOptions.for_bank(
    all_frames=True, limits=MediaLimits(max_image_pixels=4_000_000, max_image_frames=50)
)


def _seeds() -> list[bytes]:
    seeds = []
    for index, path in enumerate(shared_images(5)):
        image = Image.open(path).convert("RGB")
        image.thumbnail((160, 160))
        for fmt, params in [("JPEG", {"quality": 80}), ("PNG", {}), ("GIF", {}), ("WEBP", {}), ("TIFF", {}),
                            ("BMP", {})]:  # fmt: skip
            if index % 2 and fmt in ("BMP", "TIFF"):
                continue
            out = io.BytesIO()
            image.save(out, fmt, **params)
            seeds.append(out.getvalue())
        seeds.append(path.read_bytes())  # the original file as shipped
    return seeds


SEEDS = _seeds()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        action = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "duplicate"]))
        where = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            data[where] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80]))
        elif action == "truncate":
            del data[where:]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del data[where : where + draw(st.integers(1, 64))]
        else:
            data[where:where] = data[where : where + draw(st.integers(1, 256))]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_images_raise_only_typed_errors(data: bytes) -> None:
    try:
        result = hash_content(data, OPTIONS)
    except MEDIA_ERRORS:
        return
    assert result.media.size_bytes == len(data)
    assert result.plain("sha256") is not None


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_seeds_hash(seed: int) -> None:
    assert hash_content(SEEDS[seed]).plain("md5") is not None
