"""Contact sheets for kept videos: nine evenly spaced frames tiled into one JPEG, made with ffmpeg.

A moderator sees the sheet (blurred and greyscale like any case media) instead of playing the video, and
decides from it in most cases. The sheet is built on request and never stored or cached.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from safeguard.errors import ServiceUnavailable, UnsupportedMedia

TILES = 3  # 3 x 3 frames
FRAME_WIDTH = 320
TIMEOUT_SECONDS = 60


def _duration(path: Path, ffprobe: str) -> float:
    done = subprocess.run(
        [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    try:
        return max(0.1, float(done.stdout.strip()))
    except ValueError:
        raise UnsupportedMedia("the kept video cannot be read") from None


def contact_sheet(path: Path) -> bytes:
    """A JPEG of ``TILES`` x ``TILES`` frames spread over the whole video."""
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    if ffmpeg is None or ffprobe is None:
        raise ServiceUnavailable("ffmpeg is not installed, so video contact sheets cannot be made")
    frames = TILES * TILES
    rate = frames / _duration(path, ffprobe)
    video_filter = f"fps={rate:.6f},scale={FRAME_WIDTH}:-2,tile={TILES}x{TILES}"
    command = [ffmpeg, "-v", "error", "-i", str(path), "-vf", video_filter, "-frames:v", "1"]
    done = subprocess.run(
        [*command, "-f", "image2pipe", "-vcodec", "mjpeg", "-"],
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0 or not done.stdout:
        raise UnsupportedMedia("the kept video cannot be read")
    return done.stdout
