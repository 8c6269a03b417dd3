"""Every supported format and Pillow mode decodes to the right pixels; content decides, never the name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from safeguard.media import ContentKind, HashOptions, hash_content, signals_to_query
from tests.media.helpers import FIRST_IMAGE, distance, encode, reference_pdq


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.open(FIRST_IMAGE).convert("RGB")


@pytest.fixture(scope="module")
def photo_hash(photo: Image.Image) -> str:
    return reference_pdq(np.asarray(photo))


LOSSLESS = {
    "png": ("PNG", {}),
    "bmp": ("BMP", {}),
    "tiff": ("TIFF", {}),
    "webp": ("WEBP", {"lossless": True}),
}
LOSSY = {
    "jpeg": ("JPEG", {"quality": 90}),
    "webp": ("WEBP", {"quality": 90}),
    "heif": ("HEIF", {"quality": 90}),
    "avif": ("AVIF", {"quality": 90}),
}


@pytest.mark.parametrize("name", sorted(LOSSLESS))
def test_lossless_formats_hash_exactly_the_pixels(name: str, photo: Image.Image, photo_hash: str) -> None:
    fmt, params = LOSSLESS[name]
    result = signals_to_query(encode(photo, fmt, **params))
    assert result.media.kind is ContentKind.photo and result.media.format == name
    plain = result.plain("pdq")
    assert plain is not None and plain.hash == photo_hash


@pytest.mark.parametrize("name", sorted(LOSSY))
def test_lossy_formats_hash_close_to_the_pixels(name: str, photo: Image.Image, photo_hash: str) -> None:
    if name == "heif":
        import pillow_heif

        pillow_heif.register_heif_opener()
    fmt, params = LOSSY[name]
    result = signals_to_query(encode(photo, fmt, **params))
    assert result.media.format == name
    plain = result.plain("pdq")
    assert plain is not None and distance(plain.hash, photo_hash) <= 16
    assert {s.signal_type for s in result.signals} == {"pdq", "md5", "sha256"}


@pytest.mark.parametrize("mode", ["L", "P", "PA", "LA", "RGBA", "CMYK", "1", "I", "F", "YCbCr", "LAB"])
def test_every_mode_is_converted(mode: str, photo: Image.Image, photo_hash: str) -> None:
    converted = photo.convert(mode)
    fmt = {"CMYK": "JPEG", "YCbCr": "JPEG", "LAB": "TIFF", "F": "TIFF", "I": "TIFF"}.get(mode, "PNG")
    if mode == "PA":
        fmt = "WEBP"
    data = encode(converted, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    plain = signals_to_query(data).plain("pdq")
    assert plain is not None
    limit = {"1": 60, "P": 24, "PA": 24, "CMYK": 24}.get(mode, 16)  # dithering/palette lose detail
    assert distance(plain.hash, photo_hash) <= limit, mode


@pytest.mark.parametrize("mode", ["HSV", "RGBX", "RGBa", "I;16", "I;16B"])
def test_modes_no_file_format_stores_are_converted_too(
    mode: str, photo: Image.Image, photo_hash: str
) -> None:
    from safeguard.media.images import to_rgb

    if mode.startswith("I;16"):
        wide = np.asarray(photo.convert("L"), dtype=np.uint16) * 257
        raw = wide.astype(">u2" if mode == "I;16B" else "<u2").tobytes()
        image = Image.frombuffer(mode, photo.size, raw, "raw", mode, 0, 1)
    else:
        image = photo.convert(mode)
    rgb = to_rgb(image)
    assert rgb.shape == (photo.height, photo.width, 3) and rgb.dtype == np.uint8
    assert distance(reference_pdq(rgb), photo_hash) <= 16, mode


def test_sixteen_bit_png(photo: Image.Image, photo_hash: str) -> None:
    grey = np.asarray(photo.convert("L"), dtype=np.uint16) * 257  # full 16-bit range
    data = encode(Image.fromarray(grey), "PNG")
    plain = signals_to_query(data).plain("pdq")
    assert plain is not None
    assert plain.hash == reference_pdq(np.repeat(np.asarray(photo.convert("L"))[:, :, None], 3, axis=2))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(orientation: int, photo: Image.Image, photo_hash: str) -> None:
    """A camera JPEG stored sideways with an orientation tag hashes as it is shown."""
    undo = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
    stored = photo.transpose(undo[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    result = signals_to_query(encode(stored, "PNG", exif=exif))  # lossless: exact pixels
    plain = result.plain("pdq")
    assert plain is not None and plain.hash == photo_hash
    unoriented = [s for s in result.signals if s.variant == "unoriented"]
    assert [s.hash for s in unoriented] == [reference_pdq(np.asarray(stored))]
    assert (result.media.width, result.media.height) == photo.size


def test_lying_extensions(tmp_path: Path, photo: Image.Image, photo_hash: str) -> None:
    png_named_jpg = tmp_path / "holiday.jpg"
    png_named_jpg.write_bytes(encode(photo, "PNG"))
    result = hash_content(png_named_jpg)
    assert result.media.format == "png" and result.media.mime_type == "image/png"
    assert result.plain("pdq") is not None and result.plain("pdq").hash == photo_hash  # type: ignore[union-attr]

    text_named_jpg = tmp_path / "notes.jpg"
    text_named_jpg.write_bytes(b"Good morning, this is plain text and not an image at all.\n" * 20)
    result = hash_content(text_named_jpg)
    assert result.media.kind is ContentKind.file
    assert [s.signal_type for s in result.signals] == ["md5", "sha256"]

    video_named_png = tmp_path / "still.png"
    video_named_png.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    assert hash_content(video_named_png, HashOptions(signal_types=frozenset({"md5"}))).media.kind is (
        ContentKind.video
    )


def test_gif_first_frame_and_all_frames(photo: Image.Image) -> None:
    frames = [photo, photo.transpose(Image.Transpose.FLIP_TOP_BOTTOM), photo.convert("L").convert("RGB")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    first_only = signals_to_query(data)
    assert first_only.media.format == "gif" and first_only.media.frames == 3
    # a GIF is a palette image: python-threatexchange's hash of its palette indices comes too
    assert [s.variant for s in first_only.of_type("pdq")] == [None, "reference"]
    every = signals_to_query(data, HashOptions.for_query(all_frames=True))
    variants = [s.variant for s in every.of_type("pdq")]
    assert variants[0] is None and "frame1" in variants
    first_hash = every.plain("pdq")
    assert first_hash is not None
    frame1 = next(s for s in every.signals if s.variant == "frame1")
    assert distance(frame1.hash, first_hash.hash) > 31  # a different picture


def test_tiny_and_flat_images_are_reported_not_matched() -> None:
    flat = Image.new("RGB", (64, 64), (120, 130, 140))
    plain = signals_to_query(encode(flat, "PNG")).plain("pdq")
    assert plain is not None and plain.quality == 0 and not plain.matchable
    one_pixel = signals_to_query(encode(Image.new("RGB", (1, 1), "red"), "PNG")).plain("pdq")
    assert one_pixel is not None and not one_pixel.matchable


def test_quality_floor_is_configurable(photo: Image.Image) -> None:
    data = encode(photo, "PNG")
    plain = signals_to_query(data, HashOptions.for_query(quality_floor=100)).plain("pdq")
    assert plain is not None and plain.quality is not None
    assert plain.matchable is (plain.quality >= 100)


def test_bank_set_contains_dihedral_and_crops(photo: Image.Image, photo_hash: str) -> None:
    from safeguard.media import signals_to_bank

    data = encode(photo, "PNG")
    banked = signals_to_bank(data)
    variants = [s.variant for s in banked.of_type("pdq")]
    assert variants[:8] == [None, "rot90", "rot180", "rot270", "flipx", "flipy", "flip_plus1", "flip_minus1"]
    assert "crop90" in variants and "crop80" in variants
    rotated = signals_to_query(encode(photo.transpose(Image.Transpose.ROTATE_90), "PNG")).plain("pdq")
    assert rotated is not None
    assert min(distance(rotated.hash, s.hash) for s in banked.of_type("pdq")) <= 31
    assert banked.plain("pdq") is not None and banked.plain("pdq").hash == photo_hash  # type: ignore[union-attr]
