"""vPDQ for video: PDQ of one frame per ``seconds_per_hash`` (default 1 s, as HMA), plus ``video_md5``.

The hash string is python-threatexchange's ``VPDQSignal`` encoding, so hashes move between the systems
unchanged: a JSON list of ``"<pdq hex>,<quality>,<timestamp>"`` strings, timestamp written with Python's
``.3`` format (three significant digits, as ``VpdqCompactFeature.__str__``).

Distance is ``100 - query match percent``: the share of the query's frames (quality >= 50, duplicates
dropped) that have a frame of the other video within PDQ distance 31. The default threshold 20 is HMA's
"80% of the query's frames match"; note the measure is asymmetric (``a`` is the query).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from safeguard.media.content import Content
from safeguard.media.errors import InvalidHash, NotMedia
from safeguard.media.pdq import PDQ_THRESHOLD, QUALITY_FLOOR, centre_crop, crop_variant_name, pdq_from_rgb
from safeguard.media.signal_type import ContentHasher, IndexKind, SignalType
from safeguard.media.trim import trim
from safeguard.media.types import ContentKind, HashOptions, Signal
from safeguard.media.video import decode_frames, probe

QUERY_MATCH_PERCENT = 80.0
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class VpdqFrame:
    pdq: str
    quality: int
    timestamp: float

    def encode(self) -> str:
        return f"{self.pdq},{self.quality},{self.timestamp:.3}"


def encode_frames(frames: list[VpdqFrame]) -> str:
    return json.dumps([frame.encode() for frame in frames])


def decode_hash(value: str) -> list[VpdqFrame]:
    """Parse a vPDQ hash string; raises InvalidHash naming the bad part."""
    try:
        items = json.loads(value)
    except (ValueError, RecursionError):
        raise InvalidHash(
            "a vpdq hash must be a JSON list of 'pdq,quality,timestamp' strings", field="hash"
        ) from None
    if not isinstance(items, list) or not items:
        raise InvalidHash("a vpdq hash must be a non-empty JSON list of frame strings", field="hash")
    frames = []
    for position, item in enumerate(items):
        parts = item.split(",") if isinstance(item, str) else []
        try:
            pdq, quality_text, time_text = parts
            pdq = pdq.strip().lower()
            quality, timestamp = int(quality_text), float(time_text)
            bytes.fromhex(pdq)
        except ValueError:
            raise InvalidHash(f"vpdq frame {position} is not 'pdq,quality,timestamp': {str(item)[:80]!r}",
                              field="hash") from None  # fmt: skip
        if len(pdq) != 64 or not 0 <= quality <= 100 or not timestamp >= 0:
            raise InvalidHash(f"vpdq frame {position} is out of range: {item[:80]!r}", field="hash")
        frames.append(VpdqFrame(pdq, quality, timestamp))
    return frames


def query_match_percent(query: list[VpdqFrame], compared: list[VpdqFrame]) -> float:
    """Share (0-100) of the query's usable frames with a frame of ``compared`` within PDQ distance 31."""
    left, right = _usable(query), _usable(compared)
    if len(left) == 0 or len(right) == 0:
        return 0.0
    distances = _POPCOUNT[left[:, None, :] ^ right[None, :, :]].sum(axis=2, dtype=np.int32)
    return float((distances <= PDQ_THRESHOLD).any(axis=1).mean() * 100)


def _usable(frames: list[VpdqFrame]) -> npt.NDArray[np.uint8]:
    unique = dict.fromkeys(f.pdq for f in frames if f.quality >= QUALITY_FLOOR)
    if not unique:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(b"".join(bytes.fromhex(h) for h in unique), dtype=np.uint8).reshape(-1, 32)


class VpdqSignal(SignalType, ContentHasher):
    name: ClassVar[str] = "vpdq"
    content_types: ClassVar[frozenset[ContentKind]] = frozenset({ContentKind.video})
    default_threshold: ClassVar[float] = 100 - QUERY_MATCH_PERCENT
    exact: ClassVar[bool] = False

    description: ClassVar[str] = (
        "vPDQ: PDQ of sampled video frames; distance = 100 - % of query frames matched"
    )

    @classmethod
    def index_kind(cls) -> IndexKind:
        return IndexKind.vpdq

    @classmethod
    def validate_hash(cls, value: str) -> str:
        return encode_frames(decode_hash(value))

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        return 100.0 - query_match_percent(decode_hash(a), decode_hash(b))

    @classmethod
    def hash_content(cls, content: Content, options: HashOptions) -> list[Signal]:
        return vpdq_signals(content, options)


def vpdq_signals(content: Content, options: HashOptions) -> list[Signal]:
    """The plain vPDQ hash, then ``trimmed`` (when any frame has a border/letterbox) and one ``cropNN``
    per ``options.crops`` (centre crops of every frame, for banking: cropped re-encodes then match)."""
    demuxer = content.sniffed.demuxer
    if content.kind is not ContentKind.video or demuxer is None:
        raise NotMedia("the content is not a video")
    path = content.path()
    info = probe(path, demuxer, content.limits)
    plain: list[VpdqFrame] = []
    trimmed: list[VpdqFrame] = []
    crops: dict[float, list[VpdqFrame]] = {kept: [] for kept in options.crops}
    any_trimmed = False
    step = options.vpdq_seconds_per_hash
    for frame in decode_frames(path, demuxer, info, step, content.limits, content.progress):
        value, quality = pdq_from_rgb(frame.rgb)
        plain.append(VpdqFrame(value, quality, frame.timestamp))
        if options.trim:
            cut = trim(frame.rgb)
            if cut is not None:
                any_trimmed = True
                value, quality = pdq_from_rgb(cut[0])
            trimmed.append(VpdqFrame(value, quality, frame.timestamp))
        for kept, frames in crops.items():
            frames.append(VpdqFrame(*pdq_from_rgb(centre_crop(frame.rgb, kept)), frame.timestamp))
    content.notes.update(width=info.width, height=info.height, frames=len(plain), duration_s=info.duration_s)
    variants: list[tuple[str | None, list[VpdqFrame]]] = [(None, plain)]
    if any_trimmed:
        variants.append(("trimmed", trimmed))
    variants += [(crop_variant_name(kept), frames) for kept, frames in crops.items()]
    floor = options.quality_floor
    return [
        Signal(VpdqSignal.name, encode_frames(frames), None, variant, any(f.quality >= floor for f in frames))
        for variant, frames in variants
    ]
