"""VpdqIndex scores videos exactly as python-threatexchange's vPDQ brute-force matcher does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threatexchange.extensions.vpdq.vpdq_brute_matcher import match_VPDQ_hash_brute
from threatexchange.extensions.vpdq.vpdq_util import VpdqCompactFeature

from safeguard.index import InvalidHash, VpdqFrame, VpdqIndex, VpdqMatchRule
from tests.index.helpers import flip, random_codes, to_hex

ROOTS = random_codes(np.random.default_rng(31), 6)


def video_strategy() -> st.SearchStrategy[list[VpdqFrame]]:
    frame = st.builds(
        lambda root, bits, quality: VpdqFrame(to_hex(flip(ROOTS[root], bits)), quality, 0.0),
        st.integers(0, len(ROOTS) - 1),
        st.lists(st.integers(0, 255), unique=True, max_size=40),
        st.sampled_from([10, 49, 50, 80, 100]),
    )
    return st.lists(frame, min_size=1, max_size=12)


def reference(
    query: list[VpdqFrame], video: list[VpdqFrame], rule: VpdqMatchRule
) -> tuple[float, float] | None:
    """threatexchange's scores (it quality-filters after deduplicating; we pass quality-sorted frames so
    the best copy of a repeated hash is the one kept, as VpdqIndex keeps it)."""
    q = [
        VpdqCompactFeature(f.pdq_hex, f.quality, f.timestamp) for f in sorted(query, key=lambda f: -f.quality)
    ]
    v = [
        VpdqCompactFeature(f.pdq_hex, f.quality, f.timestamp) for f in sorted(video, key=lambda f: -f.quality)
    ]
    if not [f for f in q if f.quality >= rule.quality] or not [f for f in v if f.quality >= rule.quality]:
        return None
    result = match_VPDQ_hash_brute(q, v, rule.quality, rule.distance)
    return result.query_match_percent, result.compared_match_percent


@settings(max_examples=60, deadline=None)
@given(videos=st.lists(video_strategy(), min_size=1, max_size=5), query=video_strategy())
def test_scores_equal_the_reference_matcher(videos: list[list[VpdqFrame]], query: list[VpdqFrame]) -> None:
    index: VpdqIndex[int] = VpdqIndex.build((v, i) for i, v in enumerate(videos))
    everything = VpdqMatchRule(query_match_percent=0.0, compared_match_percent=0.0)
    scores = {
        m.payload: (m.query_match_percent, m.compared_match_percent) for m in index.query(query, everything)
    }
    for i, video in enumerate(videos):
        want = reference(query, video, everything)
        if want is None or want[0] == 0.0:
            assert i not in scores
        else:
            assert scores[i] == pytest.approx(want)
    default = {m.payload for m in index.query(query)}
    assert default == {i for i, s in scores.items() if s[0] >= 80.0 and s[1] >= 80.0}


def test_a_reencoded_copy_matches_and_others_do_not(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    videos = [
        [VpdqFrame(to_hex(c), 90, float(t)) for t, c in enumerate(random_codes(rng, 30))] for _ in range(50)
    ]
    index: VpdqIndex[str] = VpdqIndex.build((v, f"video-{i}") for i, v in enumerate(videos))
    copy = [
        VpdqFrame(
            to_hex(flip(np.frombuffer(bytes.fromhex(f.pdq_hex), np.uint8), [1, 7, 99])), 90, f.timestamp
        )
        for f in videos[17]
    ]
    [match] = index.query(copy)
    assert match.payload == "video-17" and match.query_match_percent == 100.0
    half = copy[:12]  # 12 of 30 frames: the query matches fully, the indexed video only 40%
    assert index.query(half) == []
    assert index.query(half, VpdqMatchRule(compared_match_percent=40.0))[0].payload == "video-17"
    low_quality = [f._replace(quality=20) for f in copy]
    assert index.query(low_quality) == []
    index.save(tmp_path / "v.idx", checkpoint=3)
    opened: VpdqIndex[str] = VpdqIndex.open(tmp_path / "v.idx")
    assert [m.payload for m in opened.query(copy)] == ["video-17"] and len(opened) == 50
    assert opened.remove(videos[17], "video-17") and opened.query(copy) == []
    assert len(opened) == 49


def test_bad_frames_are_refused() -> None:
    index: VpdqIndex[int] = VpdqIndex()
    with pytest.raises(InvalidHash):
        index.add([("00" * 32, 101)], 1)
    with pytest.raises(InvalidHash):
        index.query([("nothex", 50)])
