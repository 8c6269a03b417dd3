"""VpdqIndex: video matching on vPDQ frame hashes, scored the way vpdq's own matcher scores.

Every distinct frame hash of every indexed video goes into one :class:`PdqIndex` (payload: the frame's
row), so a query video costs one batched range search of its frames. Scoring follows
python-threatexchange's ``match_VPDQ_hash_brute`` (vpdq's reference matcher in Python):

- both videos are reduced to frames of quality >= ``rule.quality`` and deduplicated by hash;
- *query match %* = share of the query's frames within ``rule.distance`` of some frame of the video;
- *compared match %* = share of the video's frames within ``rule.distance`` of some query frame;
- a video matches when both shares reach the rule's percentages (default 80% and 80%, distance <= 31,
  quality >= 50).

Frames are stored whatever their quality (deduplicated per video, keeping the best quality of a
repeated hash), so the quality cut can change per query.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, Self, TypeVar

import numpy as np
import numpy.typing as npt

from safeguard.index.base import SignalIndex
from safeguard.index.errors import InvalidHash, InvalidThreshold
from safeguard.index.hashes import pdq_hex, pdq_words
from safeguard.index.payloads import PayloadCodec
from safeguard.index.pdq import PdqIndex
from safeguard.index.storage import read_arrays, write_arrays

T = TypeVar("T", bound=Hashable)
FILE_KIND = "vpdq"


class VpdqFrame(NamedTuple):
    """One vPDQ feature: the frame's PDQ hash (64 hex digits), its quality (0..100), its time (s)."""

    pdq_hex: str
    quality: int
    timestamp: float = 0.0


@dataclass(frozen=True)
class VpdqMatchRule:
    """When a video counts as a match (vpdq's defaults)."""

    distance: int = 31  # frame hashes within this Hamming distance match
    quality: int = 50  # frames below this quality are ignored on both sides
    query_match_percent: float = 80.0  # share of query frames that must match
    compared_match_percent: float = 80.0  # share of the indexed video's frames that must match

    def __post_init__(self) -> None:
        if not 0 <= self.distance <= 256:
            raise InvalidThreshold("frame distance must be 0..256", field="distance")
        if not 0 <= self.quality <= 100:
            raise InvalidThreshold("frame quality must be 0..100", field="quality")
        for name in ("query_match_percent", "compared_match_percent"):
            if not 0.0 <= getattr(self, name) <= 100.0:
                raise InvalidThreshold(f"{name} must be 0..100", field=name)


class VideoMatch(NamedTuple, Generic[T]):
    payload: T
    query_match_percent: float
    compared_match_percent: float


VpdqHash = Sequence[VpdqFrame] | Sequence[tuple[str, int, float]] | Sequence[tuple[str, int]]


def _frames(value: Iterable[Any]) -> list[tuple[np.ndarray[Any, Any], int]]:
    """(words, quality) per frame, deduplicated by hash keeping the best quality, order kept."""
    best: dict[bytes, tuple[np.ndarray[Any, Any], int]] = {}
    for frame in value:
        try:
            hex_value, quality = frame[0], int(frame[1])
        except (TypeError, IndexError, ValueError):
            raise InvalidHash("a vPDQ frame is (pdq hex, quality[, timestamp])", field="frames") from None
        if not 0 <= quality <= 100:
            raise InvalidHash(f"frame quality must be 0..100, got {quality}", field="frames")
        words = pdq_words(hex_value, field="frames")
        raw = words.tobytes()
        seen = best.get(raw)
        if seen is None or quality > seen[1]:
            best[raw] = (words, quality)
    return list(best.values())


class VpdqIndex(SignalIndex[VpdqHash, T], Generic[T]):
    """Indexed videos (each a list of vPDQ frames with a payload); ``query`` returns matching videos."""

    kind = FILE_KIND

    def __init__(self, *, rule: VpdqMatchRule | None = None) -> None:
        self.rule = rule or VpdqMatchRule()
        self._frames: PdqIndex[int] = PdqIndex()
        self._codec: PayloadCodec[T] = PayloadCodec()
        self._frame_video: list[int] = []  # frame row -> video slot
        self._frame_quality: list[int] = []
        self._frame_hex: list[str] = []
        self._video_key: list[int] = []  # video slot -> payload key
        self._video_rows: list[list[int]] = []  # video slot -> its frame rows
        self._video_live: list[bool] = []
        self._slots: dict[tuple[int, bytes], int] = {}  # (payload key, frames digest) -> slot
        self._write_lock = threading.Lock()
        self.checkpoint: int | str | None = None

    @staticmethod
    def _identity(frames: list[tuple[np.ndarray[Any, Any], int]]) -> bytes:
        digest = hashlib.sha256()
        for words, quality in sorted((w.tobytes(), q) for w, q in frames):
            digest.update(words)
            digest.update(bytes([quality]))
        return digest.digest()

    def add_many(self, entries: Iterable[tuple[VpdqHash, T]]) -> int:
        parsed = [(_frames(video), payload) for video, payload in entries]
        with self._write_lock:
            return self._add_parsed(parsed)

    def _add_parsed(self, parsed: list[tuple[list[tuple[np.ndarray[Any, Any], int]], T]]) -> int:
        added = 0
        new_frames: list[tuple[str, int]] = []
        for frames, payload in parsed:
            key = self._codec.encode(payload)
            identity = (key, self._identity(frames))
            slot = self._slots.get(identity)
            if slot is not None and self._video_live[slot]:
                continue
            slot = len(self._video_key)
            self._slots[identity] = slot
            self._video_key.append(key)
            rows = []
            for words, quality in frames:
                row = len(self._frame_video)
                self._frame_video.append(slot)
                self._frame_quality.append(quality)
                hex_value = pdq_hex(words)
                self._frame_hex.append(hex_value)
                rows.append(row)
                new_frames.append((hex_value, row))
            self._video_rows.append(rows)
            self._video_live.append(True)
            added += 1
        # Frames last: a concurrent query sees either none of a video's frames or all of its bookkeeping.
        if len(self._frames) == 0 and len(new_frames) > 4096:
            self._frames = PdqIndex.build(new_frames)  # bulk load: one segment build, no delta
        else:
            self._frames.add_many(new_frames)
        return added

    def remove_many(self, entries: Iterable[tuple[VpdqHash, T]]) -> int:
        parsed = [(_frames(video), payload) for video, payload in entries]
        with self._write_lock:
            return self._remove_parsed(parsed)

    def _remove_parsed(self, parsed: list[tuple[list[tuple[np.ndarray[Any, Any], int]], T]]) -> int:
        removed = 0
        for frames, payload in parsed:
            key = self._codec.lookup(payload)
            if key is None:
                continue
            slot = self._slots.get((key, self._identity(frames)))
            if slot is None or not self._video_live[slot]:
                continue
            self._frames.remove_many((self._frame_hex[row], row) for row in self._video_rows[slot])
            self._video_live[slot] = False
            removed += 1
        return removed

    def __len__(self) -> int:
        return sum(self._video_live)

    def query(self, video: VpdqHash, rule: VpdqMatchRule | None = None) -> list[VideoMatch[T]]:
        """Indexed videos matching ``video`` under ``rule`` (default: the index's), best first."""
        rule = rule or self.rule
        frames = [words for words, quality in _frames(video) if quality >= rule.quality]
        if not frames:
            return []
        hits = self._frames.query_many(np.stack(frames), rule.distance)
        query_matched: dict[int, set[int]] = {}
        compared_matched: dict[int, set[int]] = {}
        frame_video, frame_quality = self._frame_video, self._frame_quality
        for i, matches in enumerate(hits):
            for match in matches:
                row = match.payload
                if frame_quality[row] < rule.quality:
                    continue
                slot = frame_video[row]
                query_matched.setdefault(slot, set()).add(i)
                compared_matched.setdefault(slot, set()).add(row)
        results: list[VideoMatch[T]] = []
        for slot, matched in query_matched.items():
            indexed = sum(1 for row in self._video_rows[slot] if frame_quality[row] >= rule.quality)
            query_percent = len(matched) * 100.0 / len(frames)
            compared_percent = len(compared_matched[slot]) * 100.0 / indexed
            if query_percent >= rule.query_match_percent and compared_percent >= rule.compared_match_percent:
                results.append(
                    VideoMatch(self._codec.decode(self._video_key[slot]), query_percent, compared_percent)
                )
        results.sort(key=lambda m: (-m.query_match_percent, -m.compared_match_percent))
        return results

    def save(self, path: str | os.PathLike[str], *, checkpoint: int | str | None = None) -> None:
        frames_meta, frame_arrays = self._frames.export()
        arrays: dict[str, npt.NDArray[Any]] = {f"frames.{name}": a for name, a in frame_arrays.items()}
        arrays["frame_video"] = np.asarray(self._frame_video, dtype=np.int64)
        arrays["frame_quality"] = np.asarray(self._frame_quality, dtype=np.uint8)
        arrays["frame_words"] = (
            np.stack([pdq_words(h) for h in self._frame_hex])
            if self._frame_hex
            else np.zeros((0, 4), np.uint64)
        )
        arrays["video_key"] = np.asarray(self._video_key, dtype=np.int64)
        arrays["video_live"] = np.asarray(self._video_live, dtype=bool)
        arrays["payload_objects"] = self._codec.to_bytes()
        meta = {"frames": frames_meta, "checkpoint": checkpoint, "rule": self.rule.__dict__}
        write_arrays(path, FILE_KIND, meta, arrays)

    @classmethod
    def open(cls, path: str | os.PathLike[str], **options: Any) -> Self:
        meta, arrays = read_arrays(path, FILE_KIND, mmap_file=True)
        index = cls(rule=options.get("rule") or VpdqMatchRule(**meta["rule"]))
        frame_arrays = {name[7:]: a for name, a in arrays.items() if name.startswith("frames.")}
        index._frames = PdqIndex.from_export(meta["frames"], frame_arrays)
        index._codec = PayloadCodec.from_bytes(arrays["payload_objects"])
        index._frame_video = arrays["frame_video"].tolist()
        index._frame_quality = arrays["frame_quality"].tolist()
        index._frame_hex = [pdq_hex(w) for w in arrays["frame_words"]]
        index._video_key = arrays["video_key"].tolist()
        index._video_live = arrays["video_live"].tolist()
        index._video_rows = [[] for _ in index._video_key]
        for row, slot in enumerate(index._frame_video):
            index._video_rows[slot].append(row)
        for slot, key in enumerate(index._video_key):
            frames = [
                (pdq_words(index._frame_hex[r]), index._frame_quality[r]) for r in index._video_rows[slot]
            ]
            index._slots[(key, cls._identity(frames))] = slot
        index.checkpoint = meta.get("checkpoint")
        return index
