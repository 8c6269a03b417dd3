"""The matcher's vPDQ index scores as python-threatexchange's reference vpdq matcher, and keeps its
serialisation."""

from __future__ import annotations

import json
import random

from threatexchange.extensions.vpdq.vpdq import VPDQSignal
from threatexchange.extensions.vpdq.vpdq_brute_matcher import match_VPDQ_in_another
from threatexchange.extensions.vpdq.vpdq_index import VPDQIndex
from threatexchange.extensions.vpdq.vpdq_util import (
    VpdqCompactFeature,
    json_to_vpdq,
    prepare_vpdq_feature,
    vpdq_to_json,
)

from safeguard.banks.signals import VPDQ_QUALITY_FLOOR, normalize_hash
from safeguard.banks.vpdq_index import VpdqTypeIndex
from tests.banks.helpers import flip_bits, random_pdq, vpdq_string


def _video(rng: random.Random, pool: list[str], frames: int) -> str:
    """Frames drawn from a shared pool (so videos overlap), some repeated, some dim, some perturbed."""
    out = []
    for second in range(frames):
        pdq = rng.choice(pool)
        if rng.random() < 0.4:
            pdq = flip_bits(pdq, rng.randrange(1, 40), rng)
        quality = rng.choice([100, 100, 90, 60, VPDQ_QUALITY_FLOOR, 49, 10])
        out.append((pdq, quality, float(second)))
    return vpdq_string(out)


def test_scores_equal_threatexchanges_vpdq_index() -> None:
    """At distance 31, the very index HMA matches with (``VPDQIndex``, all candidates: thresholds 0); at
    other bank thresholds, threatexchange's frame counting on the same prepared frames."""
    rng = random.Random(8)
    pool = [random_pdq(rng) for _ in range(40)]
    banked = [v for v in (_video(rng, pool, rng.randrange(3, 30)) for _ in range(30)) if _usable(v)]
    index = VpdqTypeIndex()
    index.add([(100 + i, 1000 + i, 1, v) for i, v in enumerate(banked)])
    reference = VPDQIndex.build(
        [(v, i) for i, v in enumerate(banked)], query_match_threshold_pct=0.0, index_match_threshold_pct=0.0
    )
    compared = 0
    for _ in range(15):
        query = _video(rng, pool, rng.randrange(3, 20))
        hits = {h.signal_id - 100: h for h in index.query(query, 31)}
        expected = {m.metadata: m.similarity_info for m in reference.query(query)}
        assert set(hits) == set(expected)
        for i, info in expected.items():
            score = hits[i].score(31)
            assert (score.query_match_percent, score.compared_match_percent) == (
                info.query_match_percent,
                info.compared_match_percent,
            )
            compared += 1
        for threshold in (20, 6):
            mine, theirs = _usable(query), None
            for i, value in enumerate(banked):
                theirs = _usable(value)
                q = match_VPDQ_in_another(mine, theirs, threshold) * 100 / len(mine)
                c = match_VPDQ_in_another(theirs, mine, threshold) * 100 / len(theirs)
                score = hits[i].score(threshold) if i in hits else None
                if score is None:
                    assert q == 0.0
                else:
                    assert (score.query_match_percent, score.compared_match_percent) == (q, c)
    assert compared > 30


def _usable(value: str) -> list[VpdqCompactFeature]:
    return prepare_vpdq_feature(value, VPDQ_QUALITY_FLOOR)


def test_dead_videos_are_skipped_and_come_back() -> None:
    rng = random.Random(9)
    value = vpdq_string([(random_pdq(rng), 100, float(s)) for s in range(5)])
    index = VpdqTypeIndex()
    index.add([(1, 10, 1, value)])
    index.add([(1, 10, 1, value)])  # replaying an add is harmless
    assert [h.content_id for h in index.query(value, 31)] == [10] and index.live_count() == 1
    index.set_dead(1)
    assert index.query(value, 31) == [] and index.live_count() == 0
    index.add([(1, 10, 1, value)])  # enable: revived, not added again
    assert [h.content_id for h in index.query(value, 31)] == [10] and index.live_count() == 1


def test_the_serialisation_is_threatexchanges() -> None:
    rng = random.Random(10)
    frames = [(random_pdq(rng).upper(), 100, s * 1.25) for s in range(3)]
    written = json.dumps([f"{h},{q},{t}" for h, q, t in frames])
    canonical = normalize_hash("vpdq", written)
    assert canonical == vpdq_to_json(json_to_vpdq(written.lower()))  # hex folded to lower case
    assert VPDQSignal.validate_signal_str(canonical) == canonical
    assert json_to_vpdq(canonical)[1].pdq_hex == frames[1][0].lower()
