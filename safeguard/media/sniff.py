"""What a file is, from its first bytes. File names and declared MIME types are never trusted.

Only formats we decode are recognised as photo/video; everything else is ``file`` (exact digests only).
For video the sniffed format also names the ffmpeg demuxer to force, so that ffmpeg never guesses a
format from content (a file that sniffs as MP4 is never parsed as an HLS playlist that could make it read
other files).
"""

from __future__ import annotations

from dataclasses import dataclass

from safeguard.media.types import ContentKind

SNIFF_BYTES = 512


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: ContentKind
    format: str | None
    mime_type: str
    demuxer: str | None = None  # ffmpeg's -f for video


_OTHER = Sniffed(ContentKind.file, None, "application/octet-stream")

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_AVIF_BRANDS = {b"avif", b"avis"}
_MIF_BRANDS = {b"mif1", b"msf1"}
_QT_BRANDS = {b"qt  "}


def sniff(head: bytes) -> Sniffed:
    """Classify content by its first bytes (pass at least :data:`SNIFF_BYTES`)."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed(ContentKind.photo, "jpeg", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(ContentKind.photo, "png", "image/png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed(ContentKind.photo, "gif", "image/gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed(ContentKind.photo, "webp", "image/webp")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Sniffed(ContentKind.video, "avi", "video/x-msvideo", "avi")
    if head.startswith(b"BM") and len(head) >= 18 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return Sniffed(ContentKind.photo, "bmp", "image/bmp")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Sniffed(ContentKind.photo, "tiff", "image/tiff")
    if head[4:8] == b"ftyp":
        return _sniff_iso_bmff(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        is_webm = b"webm" in head[:64]
        return Sniffed(
            ContentKind.video,
            "webm" if is_webm else "mkv",
            "video/webm" if is_webm else "video/x-matroska",
            "matroska",
        )
    if head.startswith(b"FLV\x01"):
        return Sniffed(ContentKind.video, "flv", "video/x-flv", "flv")
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return Sniffed(ContentKind.video, "asf", "video/x-ms-asf", "asf")
    if head.startswith(b"\x00\x00\x01\xba"):
        return Sniffed(ContentKind.video, "mpeg", "video/mpeg", "mpeg")
    if len(head) >= 1 and head[0] == 0x47 and _looks_like_ts(head):
        return Sniffed(ContentKind.video, "mpegts", "video/mp2t", "mpegts")
    return _OTHER


def _sniff_iso_bmff(head: bytes) -> Sniffed:
    """ISO base media (MP4/MOV/3GP) or HEIF/AVIF, told apart by the ftyp brands."""
    size = int.from_bytes(head[:4], "big")
    end = min(max(size, 16), len(head))
    major = head[8:12]
    brands = {major} | {head[i : i + 4] for i in range(16, end - 3, 4)}
    if major in _AVIF_BRANDS or (major in _MIF_BRANDS and brands & _AVIF_BRANDS):
        return Sniffed(ContentKind.photo, "avif", "image/avif")
    if major in _HEIF_BRANDS or major in _MIF_BRANDS:
        return Sniffed(ContentKind.photo, "heif", "image/heif")
    if major in _QT_BRANDS:
        return Sniffed(ContentKind.video, "mov", "video/quicktime", "mov")
    if major.startswith(b"3g"):
        return Sniffed(ContentKind.video, "3gp", "video/3gpp", "mov")
    return Sniffed(ContentKind.video, "mp4", "video/mp4", "mov")


def _looks_like_ts(head: bytes) -> bool:
    # One sync byte proves nothing (any text starting with "G"): require three packets in a row.
    return len(head) > 376 and head[188] == 0x47 and head[376] == 0x47
