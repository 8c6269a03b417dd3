"""Decoding video frames for vPDQ with Debian's ffmpeg, bounded and with progress.

vpdq's Python API (0.2.5) offers only ``computeHash(path, seconds_per_hash, ...)``: no progress callback,
no limits, and no way to see the frames (which the ``trimmed`` variant needs). So frames are decoded here
the same way vpdq does it: libav decodes every frame of the first video stream, frame ``n`` is kept when
``n % int(seconds_per_hash * avg_frame_rate) == 0``, converted to RGB24 by libswscale with ``SWS_AREA``
at the stream's own size, and hashed with PDQ. Measured on the five developer videos: all 98 sampled
frames give hashes and qualities identical to ``vpdq.computeHash`` (tests/media/test_video.py checks it).

One decoding thread per video: parallelism comes from hashing several items at once (``HashPool``), and
single-threaded decoding costs about 20% less CPU than ffmpeg's frame threads (measured on the developer
videos).

Safety: ffmpeg runs as a child process with the demuxer forced to the sniffed format and only the
``file`` protocol allowed, so a file cannot make ffmpeg read playlists, URLs or other files. The stream is
probed first (``ffprobe``, same package) for size and duration limits, and the limits are enforced again
on the decoded frames, because headers can lie. The worker process time limit (``pool.py``) bounds the
rest; killing a worker kills its ffmpeg too (same process group).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from safeguard.media.errors import CorruptMedia, VideoTooLarge, VideoToolMissing
from safeguard.media.processes import die_with_parent
from safeguard.media.types import MediaLimits, Progress, ProgressCallback

RGB = npt.NDArray[np.uint8]
_PROBE_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class VideoProbe:
    width: int
    height: int
    frame_rate: float  # avg_frame_rate (r_frame_rate when that is 0), as vpdq reads it
    duration_s: float | None
    codec: str | None


@dataclass(frozen=True, slots=True)
class VideoFrame:
    number: int  # index among all decoded frames
    timestamp: float  # number / frame_rate in 32-bit float, as vpdq computes it
    rgb: RGB


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise VideoToolMissing(f"{name} is not installed (Debian package ffmpeg); it is needed to hash video")
    return found


def probe(path: Path, demuxer: str, limits: MediaLimits) -> VideoProbe:
    size = path.stat().st_size
    if size > limits.max_video_bytes:
        raise VideoTooLarge(f"the video has {size:,} bytes; the limit is {limits.max_video_bytes:,}")
    command = [
        tool("ffprobe"), "-v", "error", "-protocol_whitelist", "file", "-f", demuxer,
        "-select_streams", "v:0", "-show_entries",
        "stream=width,height,avg_frame_rate,r_frame_rate,duration,codec_name:format=duration",
        "-of", "json", "file:" + str(path),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, timeout=_PROBE_TIMEOUT_S, check=False, preexec_fn=_decoder_child
        )
    except subprocess.TimeoutExpired:
        raise CorruptMedia("probing the video took too long") from None
    if done.returncode != 0:
        raise CorruptMedia(f"the video cannot be read: {_tail(done.stderr, path)}")
    try:
        report = json.loads(done.stdout)
        streams = report.get("streams") or []
        if not streams:
            raise CorruptMedia("the file has no video stream")
        stream = streams[0]
        width, height = int(stream["width"]), int(stream["height"])
        rate = _rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate"))
        duration = _number(stream.get("duration")) or _number((report.get("format") or {}).get("duration"))
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptMedia(f"the video's stream information is unusable ({exc})") from None
    if width < 1 or height < 1 or not rate:
        raise CorruptMedia(
            f"the video stream has no usable size or frame rate ({width}x{height}, {rate} fps)"
        )
    if width * height > limits.max_video_pixels:
        raise VideoTooLarge(
            f"the video frames are {width}x{height}; the limit is {limits.max_video_pixels:,} pixels a frame"
        )
    if duration is not None and duration > limits.max_video_seconds:
        raise VideoTooLarge(
            f"the video lasts {duration:,.0f} s; the limit is {limits.max_video_seconds:,.0f} s"
        )
    return VideoProbe(width, height, rate, duration, stream.get("codec_name"))


def frame_step(seconds_per_hash: float, frame_rate: float) -> int:
    """vpdq's sampling: every ``int(seconds_per_hash * frame_rate)``-th frame (at least every frame)."""
    return max(1, int(seconds_per_hash * frame_rate))


def decode_frames(
    path: Path,
    demuxer: str,
    info: VideoProbe,
    seconds_per_hash: float,
    limits: MediaLimits,
    progress: ProgressCallback | None = None,
) -> Iterator[VideoFrame]:
    """The sampled frames, in order, as RGB arrays; progress is reported after each one."""
    step = frame_step(seconds_per_hash, info.frame_rate)
    total = math.ceil(info.duration_s * info.frame_rate / step) if info.duration_s else None
    command = [
        tool("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1",
        "-protocol_whitelist", "file", "-f", demuxer, "-i", "file:" + str(path), "-filter_threads", "1",
        "-map", "0:v:0", "-an", "-sn", "-dn",
        "-vf", f"select='not(mod(n\\,{step}))'", "-fps_mode", "passthrough",
        "-sws_flags", "area", "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip
    frame_bytes = info.width * info.height * 3
    rate32 = np.float32(info.frame_rate)
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            preexec_fn=_decoder_child,
        )
        assert process.stdout is not None
        count = 0
        try:
            while True:
                buffer = _read_exactly(process.stdout, frame_bytes)
                if buffer is None:
                    break
                number = count * step
                timestamp = float(np.float32(number) / rate32)
                if timestamp > limits.max_video_seconds:
                    raise VideoTooLarge(
                        f"the video runs past the limit of {limits.max_video_seconds:,.0f} s "
                        f"(its header said {info.duration_s or 'nothing'})"
                    )
                rgb = np.frombuffer(buffer, dtype=np.uint8).reshape(info.height, info.width, 3)
                yield VideoFrame(number, timestamp, rgb)
                count += 1
                if progress is not None:
                    progress(
                        Progress(count, max(total or 0, count) if total else None, timestamp, info.duration_s)
                    )
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
        if process.returncode != 0 and count == 0:
            errors.seek(0)
            raise CorruptMedia(f"the video cannot be decoded: {_tail(errors.read(), path)}")
        if count == 0:
            raise CorruptMedia("the video has no decodable frames")


def _read_exactly(reader: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = reader.read(remaining)
        if not chunk:
            return None  # end of stream (a partial last frame is dropped, as a decoder would)
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _rate(text: object) -> float | None:
    if not isinstance(text, str) or "/" not in text:
        return None
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return float(value) if value > 0 else None


def _number(text: object) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


FFMPEG_EXTRA_NICE = 9  # on top of the worker's: small items' hashing gets the cores before a video's decode


def _decoder_child() -> None:
    """In ffprobe/ffmpeg before exec: die with the worker, and run below it in CPU priority."""
    die_with_parent()
    with contextlib.suppress(OSError):
        os.nice(FFMPEG_EXTRA_NICE)


def _tail(stderr: bytes, path: Path) -> str:
    """ffmpeg's last error line, without the (temporary) path it was reading."""
    text = stderr.decode("utf-8", "replace").replace("file:" + str(path), "input").replace(str(path), "input")
    lines = text.strip().splitlines()
    return (lines[-1] if lines else "unknown error")[:200]
