"""The matcher's vPDQ index: banked videos as frame hashes in one exact PDQ index, kept by signal id.

It has the interface of the matcher's other per-type indexes (``add`` rows of the change log, ``set_dead``,
``query``, ``live_count``), so ``BankMatcher`` loads and refreshes it like them. Each banked video keeps
only its usable frames (quality >= the floor, each hash once), as threatexchange's vpdq index does; they
all go into one ``safeguard.index.PdqIndex`` whose payload is the frame's row. A query video costs one
batched range search of its usable frames.

A hit carries, for the radius searched, each query frame's smallest distance to the banked video and each
banked frame's smallest distance to the query, so the caller can score it at any bank's threshold up to
that radius (``VpdqHit.score``) without searching again. Removed or disabled videos are marked dead and
skipped (the PDQ index is append-only here, like the matcher's others), and come back when re-enabled.
"""

from __future__ import annotations

import statistics
from array import array
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safeguard.banks.signals import parse_vpdq, usable_frames
from safeguard.index import PdqIndex

NO_MATCH = 999  # distance recorded for a frame with no frame of the other video within the radius
BULK_BUILD_MIN = 50_000  # frames: a first load this large builds the engine index from arrays at once


@dataclass(frozen=True, slots=True)
class VpdqScore:
    query_match_percent: float
    compared_match_percent: float
    distance: int  # the median distance of the query's matched frames (0 when none matched)


@dataclass(frozen=True, slots=True, eq=False)
class VpdqHit:
    signal_id: int
    content_id: int
    bank_id: int
    query_distances: npt.NDArray[np.int32]  # per usable query frame: nearest banked frame, or NO_MATCH
    compared_distances: npt.NDArray[np.int32]  # per usable banked frame: nearest query frame, or NO_MATCH

    def score(self, threshold: int) -> VpdqScore:
        """Match percentages with frames matching within ``threshold`` bits (<= the radius searched)."""
        query_hits = self.query_distances[self.query_distances <= threshold]
        compared_hits = int(np.count_nonzero(self.compared_distances <= threshold))
        return VpdqScore(
            query_match_percent=len(query_hits) * 100.0 / len(self.query_distances),
            compared_match_percent=compared_hits * 100.0 / len(self.compared_distances),
            distance=int(statistics.median_low(query_hits.tolist())) if len(query_hits) else 0,
        )


def frame_codes(value: str) -> npt.NDArray[np.uint8]:
    """The usable frame hashes of a vPDQ string as an (n, 32) uint8 array."""
    hashes = usable_frames(parse_vpdq(value))
    if not hashes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8).reshape(-1, 32)


class VpdqTypeIndex:
    """Banked vPDQ hashes by signal id. One writer (the matcher, under its lock), many readers."""

    signal_type = "vpdq"
    pdq = None  # no separate rebuild step: the engine merges its delta in the background

    def __init__(self) -> None:
        self._frames: PdqIndex[int] = PdqIndex()
        self._frame_video = array("q")  # frame row -> video slot
        self._frame_first = array("q")  # video slot -> its first frame row (its rows are contiguous)
        self._frame_count = array("q")  # video slot -> its number of usable frames
        self._signal_ids = array("q")
        self._content_ids = array("q")
        self._bank_ids = array("q")
        self._alive: list[bool] = []
        self._slot_of: dict[int, int] = {}  # signal id -> video slot

    def add(self, rows: list[tuple[int, int, int, str]], *, all_new: bool = False) -> None:
        """Add (signal_id, content_id, bank_id, vpdq string) rows, reviving ones already present."""
        codes: list[npt.NDArray[np.uint8]] = []
        rows_of_frames: list[int] = []
        next_row = len(self._frame_video)
        for signal_id, content_id, bank_id, value in rows:
            known = None if all_new else self._slot_of.get(signal_id)
            if known is not None:
                self._alive[known] = True
                continue
            video = frame_codes(value)
            if len(video) == 0:
                continue  # never banked (the service refuses it); nothing could match it
            slot = len(self._signal_ids)
            self._slot_of[signal_id] = slot
            self._signal_ids.append(signal_id)
            self._content_ids.append(content_id)
            self._bank_ids.append(bank_id)
            self._frame_first.append(next_row)
            self._frame_count.append(len(video))
            self._alive.append(True)
            self._frame_video.extend([slot] * len(video))
            rows_of_frames.extend(range(next_row, next_row + len(video)))
            next_row += len(video)
            codes.append(video)
        if not codes:
            return
        stacked = np.ascontiguousarray(np.concatenate(codes), dtype=np.uint8)
        # Frames last: a concurrent query sees either none of a video's frames or all of its bookkeeping.
        if len(self._frames) == 0 and len(stacked) >= BULK_BUILD_MIN:
            self._frames = PdqIndex.from_arrays(stacked, np.asarray(rows_of_frames, dtype=np.int64))
        else:
            self._frames.add_new(stacked, rows_of_frames)

    def set_dead(self, signal_id: int) -> None:
        slot = self._slot_of.get(signal_id)
        if slot is not None:
            self._alive[slot] = False

    def query(self, value: str, radius: int) -> list[VpdqHit]:
        """Every live banked video with a usable frame within ``radius`` bits of a usable query frame."""
        query = frame_codes(value)
        if len(query) == 0 or len(self._frames) == 0:
            return []
        per_frame = self._frames.query_many(query, radius)
        query_best: dict[int, npt.NDArray[np.int32]] = {}
        compared_best: dict[int, npt.NDArray[np.int32]] = {}
        for i, matches in enumerate(per_frame):
            for match in matches:
                row = match.payload
                slot = self._frame_video[row]
                if not self._alive[slot]:
                    continue
                mine = query_best.get(slot)
                if mine is None:
                    mine = query_best[slot] = np.full(len(query), NO_MATCH, dtype=np.int32)
                    compared_best[slot] = np.full(self._frame_count[slot], NO_MATCH, dtype=np.int32)
                theirs = compared_best[slot]
                local = row - self._frame_first[slot]
                mine[i] = min(int(mine[i]), match.distance)
                theirs[local] = min(int(theirs[local]), match.distance)
        return [
            VpdqHit(
                self._signal_ids[slot],
                self._content_ids[slot],
                self._bank_ids[slot],
                query_best[slot],
                compared_best[slot],
            )
            for slot in query_best
        ]

    def live_count(self) -> int:
        return sum(self._alive)
