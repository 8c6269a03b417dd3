"""The typed shapes of media hashing: what content is, the signals it yields, and the knobs.

A piece of content yields a :class:`HashResult`: what the content turned out to be (:class:`MediaInfo`,
sniffed from its bytes, never from its name) and a tuple of :class:`Signal` s. A signal is one hash of one
signal type; ``variant`` is ``None`` for the plain hash (for PDQ exactly the reference ``pdqhash`` output
for the decoded, EXIF-oriented image) and names a derived hash otherwise (see :data:`VARIANTS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from safeguard.errors import InvalidInput


class ContentKind(StrEnum):
    """What a file is, by its bytes. Names follow python-threatexchange's content types."""

    photo = "photo"
    video = "video"
    file = "file"  # any other file: only exact digests apply


#: The derived-hash names a Signal's ``variant`` can take (``frame<N>`` and ``crop<NN>`` are families).
VARIANTS: dict[str, str] = {
    "rot90": "the image rotated 90 degrees (one of PDQ's 8 dihedral transforms)",
    "rot180": "the image rotated 180 degrees",
    "rot270": "the image rotated 270 degrees",
    "flipx": "the image mirrored left-right",
    "flipy": "the image mirrored top-bottom",
    "flip_plus1": "the image mirrored about its main diagonal (transpose)",
    "flip_minus1": "the image mirrored about its anti-diagonal (transverse)",
    "trimmed": "the image (or each video frame) with uniform and near-uniform borders/letterboxing removed",
    "unoriented": "the image as stored, before its EXIF orientation was applied",
    "reference": "the pixels python-threatexchange hashes where they differ (palette indices, raw CMYK...)",
    "crop<NN>": "the centre NN% of the image in each dimension (banked so that cropped copies match)",
    "frame<N>": "frame N of an animated image (frame 0 is the plain hash)",
}


@dataclass(frozen=True, slots=True)
class Signal:
    """One hash of one signal type for one piece of content.

    ``quality`` is PDQ's 0-100 quality (``None`` for exact digests and vPDQ, whose frames carry their own).
    ``matchable`` is False when the quality is under the configured floor: such hashes are reported but
    must not be matched (HMA does the same).
    """

    signal_type: str
    hash: str
    quality: int | None = None
    variant: str | None = None
    matchable: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal_type": self.signal_type,
            "hash": self.hash,
            "quality": self.quality,
            "variant": self.variant,
            "matchable": self.matchable,
        }


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What the content is. ``format`` is the sniffed format (``jpeg``, ``png``, ``mp4``...)."""

    kind: ContentKind
    format: str | None
    mime_type: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    frames: int | None = None  # frames in an animated image, frames hashed in a video
    duration_s: float | None = None
    trim_box: tuple[int, int, int, int] | None = None  # (left, top, right, bottom) kept when trimming

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "format": self.format,
            "mime_type": self.mime_type,
            "size_bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "duration_s": self.duration_s,
            "trim_box": list(self.trim_box) if self.trim_box else None,
        }


@dataclass(frozen=True, slots=True)
class HashResult:
    media: MediaInfo
    signals: tuple[Signal, ...]

    def plain(self, signal_type: str) -> Signal | None:
        """The plain (reference) hash of ``signal_type``, or None if the content has none."""
        return next((s for s in self.signals if s.signal_type == signal_type and s.variant is None), None)

    def of_type(self, signal_type: str) -> tuple[Signal, ...]:
        return tuple(s for s in self.signals if s.signal_type == signal_type)

    def matchable(self) -> tuple[Signal, ...]:
        return tuple(s for s in self.signals if s.matchable)

    def to_dict(self) -> dict[str, Any]:
        return {"media": self.media.to_dict(), "signals": [s.to_dict() for s in self.signals]}


@dataclass(frozen=True, slots=True)
class Progress:
    """Progress of one long item (video): frames decoded so far of an estimated total."""

    frames_done: int
    frames_total: int | None
    seconds_done: float
    duration_s: float | None


ProgressCallback = Callable[[Progress], None]

GIB = 1024**3


@dataclass(frozen=True, slots=True)
class MediaLimits:
    """Bounds on what one item may cost. Content beyond a bound gets a typed error, never a hang.

    Pillow's own bomb check (``Image.MAX_IMAGE_PIXELS``, about 89 Mpx, error at twice that) still applies
    on top: raise it as well to accept images over 178 Mpx.
    """

    max_file_bytes: int = 2 * GIB
    max_image_pixels: int = 64_000_000
    max_image_frames: int = 1000
    max_video_bytes: int = 2 * GIB
    max_video_seconds: float = 4 * 3600.0
    max_video_pixels: int = 8192 * 4320
    timeout_s: float = 60.0  # per image or other file
    video_timeout_s: float = 1800.0  # per video, at most: see video_timeout_for
    video_timeout_base_s: float = 60.0
    video_seconds_per_mib: float = 5.0
    memory_bytes: int | None = 4 * GIB  # address-space limit of a hashing worker process

    def video_timeout_for(self, size_bytes: int) -> float:
        """The time a video of ``size_bytes`` may take: ``video_timeout_base_s`` plus
        ``video_seconds_per_mib`` per MiB, never over ``video_timeout_s``. Decoding runs far faster than
        that for ordinary video; a small file that decodes into hours of frames is stopped early."""
        scaled = self.video_timeout_base_s + self.video_seconds_per_mib * size_bytes / 2**20
        return min(self.video_timeout_s, scaled)


@dataclass(frozen=True, slots=True)
class HashOptions:
    """What to compute for each item. Use :meth:`for_query` or :meth:`for_bank` rather than guessing.

    - ``signal_types``: names to compute (None: every registered type that applies to the content).
    - ``quality_floor``: PDQ hashes below it are reported with ``matchable=False`` (HMA: 50).
    - ``trim``: add the ``trimmed`` variant when a border/letterbox is found (banks and queries alike).
    - ``dihedral``: add the 7 rotated/mirrored PDQ variants.
    - ``crops``: kept fractions of centre crops to add (0.9 = drop 5% per side), as ``cropNN`` variants.
    - ``all_frames``: hash every frame of an animated image (``frameN`` variants), not only the first.
    - ``vpdq_seconds_per_hash``: vPDQ sampling interval (HMA: 1.0; 0 hashes every frame).
    """

    signal_types: frozenset[str] | None = None
    quality_floor: int = 50
    trim: bool = True
    dihedral: bool = False
    crops: tuple[float, ...] = ()
    all_frames: bool = False
    vpdq_seconds_per_hash: float = 1.0
    limits: MediaLimits = field(default_factory=MediaLimits)

    def __post_init__(self) -> None:
        if not 0 <= self.quality_floor <= 100:
            raise InvalidInput("quality_floor must be within 0..100", field="quality_floor")
        if any(not 0.3 <= c < 1.0 for c in self.crops):
            raise InvalidInput("crop fractions must be within [0.3, 1.0)", field="crops")
        if not 0 <= self.vpdq_seconds_per_hash <= 3600:
            raise InvalidInput("vpdq_seconds_per_hash must be within 0..3600", field="vpdq_seconds_per_hash")

    @classmethod
    def for_query(cls, **changes: Any) -> HashOptions:
        """Hashes to look up an uploaded item with: plain hashes plus ``trimmed`` (and ``unoriented`` and
        ``reference``, where they differ)."""
        return replace(cls(), **changes)

    @classmethod
    def for_bank(cls, **changes: Any) -> HashOptions:
        """Hashes to store for a known item: the query set plus dihedral variants and centre crops."""
        return replace(cls(dihedral=True, crops=BANKED_CROPS), **changes)


#: Centre crops banked by default (kept fraction per dimension), chosen with bench/robustness.py: PDQ
#: survives about 1% per side of crop, so each banked crop covers crops within ~1% per side of its own.
BANKED_CROPS: tuple[float, ...] = (0.95, 0.9, 0.85, 0.8)
#: A finer ladder (every 1.25% per side down to 10%): ~99% of 1-10% crops match, at 17 banked PDQ
#: hashes per image instead of 13 (see docs/media.md).
FINE_CROPS: tuple[float, ...] = (0.975, 0.95, 0.925, 0.9, 0.875, 0.85, 0.825, 0.8)
