"""Hostile and broken input gives a clear typed error, never a hang, a crash or unbounded memory."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from safeguard.media import HashOptions, MediaLimits, hash_content, signals_to_query
from safeguard.media.errors import (
    CorruptMedia,
    EmptyFile,
    FileTooLarge,
    ImageTooLarge,
    NotMedia,
    TooManyFrames,
    UnreadableFile,
    VideoTooLarge,
)
from safeguard.media.video import VideoProbe, decode_frames
from tests.media.helpers import FIRST_IMAGE, PAN, encode


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(EmptyFile):
        hash_content(empty)
    with pytest.raises(EmptyFile):
        hash_content(b"")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile):
        hash_content(tmp_path / "nope.png")
    with pytest.raises(UnreadableFile):
        hash_content(tmp_path)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_images(keep: float) -> None:
    photo = Image.open(FIRST_IMAGE).convert("RGB")
    for fmt in ("JPEG", "PNG", "WEBP", "GIF", "TIFF"):
        data = encode(photo, fmt)
        with pytest.raises(CorruptMedia):
            signals_to_query(data[: int(len(data) * keep)])


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge, match="pixels"):
        signals_to_query(png_claiming(20_000, 20_000))  # 400 Mpx: over our limit and Pillow's
    with pytest.raises(ImageTooLarge, match="limit is 1,000,000"):
        signals_to_query(
            png_claiming(2_000, 2_000), HashOptions(limits=MediaLimits(max_image_pixels=1_000_000))
        )


def test_header_lies_about_size_then_data_is_missing() -> None:
    with pytest.raises(CorruptMedia):
        signals_to_query(png_claiming(3000, 3000))


def test_animated_image_with_too_many_frames() -> None:
    frames = [Image.new("RGB", (32, 32), (i * 8 % 256, 0, 0)) for i in range(40)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(TooManyFrames, match="40 frames"):
        signals_to_query(data, HashOptions(limits=MediaLimits(max_image_frames=30)))
    assert signals_to_query(data).media.frames == 40


def test_file_size_limit() -> None:
    data = FIRST_IMAGE.read_bytes()
    with pytest.raises(FileTooLarge):
        signals_to_query(data, HashOptions(limits=MediaLimits(max_file_bytes=len(data) - 1)))


def test_pdq_on_non_image_is_not_media() -> None:
    with pytest.raises(NotMedia):
        from safeguard.media.content import Content

        with Content(data=b"just some text, not an image") as content:
            content.image()


def test_video_limits_from_the_probe() -> None:
    with pytest.raises(VideoTooLarge, match="lasts 20 s"):
        signals_to_query(PAN, HashOptions(limits=MediaLimits(max_video_seconds=5)))
    with pytest.raises(VideoTooLarge, match="640x360"):
        signals_to_query(PAN, HashOptions(limits=MediaLimits(max_video_pixels=100_000)))
    with pytest.raises(VideoTooLarge, match="bytes"):
        signals_to_query(PAN, HashOptions(limits=MediaLimits(max_video_bytes=1000)))


def test_video_duration_limit_is_enforced_while_decoding_when_the_header_lies() -> None:
    lying = VideoProbe(width=640, height=360, frame_rate=25.0, duration_s=1.0, codec="h264")
    frames = decode_frames(PAN, "mov", lying, 1.0, MediaLimits(max_video_seconds=5))
    with pytest.raises(VideoTooLarge, match="runs past"):
        for _frame in frames:
            pass


def test_corrupt_and_truncated_video() -> None:
    data = PAN.read_bytes()
    with pytest.raises(CorruptMedia):
        signals_to_query(data[:2000])
    with pytest.raises(CorruptMedia):
        signals_to_query(data[:32] + bytes(len(data) - 32))
