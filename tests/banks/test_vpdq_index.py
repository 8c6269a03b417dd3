"""The matcher's vPDQ index scores as python-threatexchange's reference vpdq matcher, and keeps its
serialisation."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from threatexchange.extensions.vpdq.vpdq import VPDQSignal
from threatexchange.extensions.vpdq.vpdq_brute_matcher import match_VPDQ_in_another
from threatexchange.extensions.vpdq.vpdq_index import VPDQIndex
from threatexchange.extensions.vpdq.vpdq_util import (
    VpdqCompactFeature,
    json_to_vpdq,
    prepare_vpdq_feature,
    vpdq_to_json,
)

from safeguard.auth import Actor
from safeguard.banks import service
from safeguard.banks.matcher import BankMatcher
from safeguard.banks.matching import match_signal
from safeguard.banks.signals import VPDQ_QUALITY_FLOOR, normalize_hash
from safeguard.banks.vpdq_index import VpdqTypeIndex
from safeguard.media import HashOptions, hash_content
from safeguard.store.db import Database
from tests.banks.helpers import flip_bits, random_pdq, vpdq_string
from tests.helpers import VIDEOS

ACTOR = Actor.system("tests")
META = service.ContentMeta()


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


# The product path (bank -> matcher -> match_signal) against threatexchange on real and synthetic clips.


def _hash_video(path: Path) -> str:
    result = hash_content(path, HashOptions.for_query())
    plain = result.plain("vpdq")
    assert plain is not None, path
    return plain.hash


def _frames(value: str) -> list[tuple[str, int, float]]:
    return [(f.pdq_hex, f.quality, f.timestamp) for f in json_to_vpdq(value)]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The shared videos, an ffmpeg-made trimmed low-quality copy, and clips built from frame lists."""
    out = {p.stem: _hash_video(p) for p in sorted(VIDEOS.glob("*.mp4"))}
    small = tmp_path_factory.mktemp("clips") / "kenburns_trim_low.mp4"
    source = str(VIDEOS / "dev_kenburns.mp4")
    command = ["ffmpeg", "-loglevel", "error", "-y", "-ss", "4", "-t", "9", "-i", source, "-vf"]
    command += ["scale=160:90,boxblur=2", "-c:v", "libx264", "-crf", "45", "-an", str(small)]
    subprocess.run(command, check=True, timeout=120)
    out["ffmpeg_trim_low"] = _hash_video(small)
    rng = random.Random(15)
    pan, cuts, test = _frames(out["dev_pan"]), _frames(out["dev_cuts"]), _frames(out["dev_testsrc"])
    kenburns = _frames(out["dev_kenburns"])
    out["splice"] = vpdq_string(pan[: len(pan) // 2] + cuts[len(cuts) // 2 :])
    out["trim"] = vpdq_string(test[5:12])
    out["dim"] = vpdq_string([(h, 30 if i % 3 else q, t) for i, (h, q, t) in enumerate(cuts)])
    out["noisy"] = vpdq_string([(flip_bits(h, rng.randrange(5, 45), rng), q, t) for h, q, t in kenburns])
    out["repeats"] = vpdq_string([f for f in pan for _ in range(3)])
    out["mixed"] = vpdq_string(test[:4] + kenburns[3:9] + pan[-3:])
    return out


BANKED = ("dev_pan", "dev_cuts", "dev_kenburns", "dev_testsrc", "splice", "noisy", "mixed")


def _mixed_quality_repeats(value: str) -> bool:
    """Whether one frame hash occurs both under and at/over the quality floor: there threatexchange's
    brute matcher (dedupe, then drop dim frames: a dim first copy hides the hash) and its VPDQIndex (drop
    dim frames, then dedupe) disagree. Safeguard does as VPDQIndex, the index HMA matches with."""
    usable: dict[str, set[bool]] = {}
    for f in json_to_vpdq(value):
        usable.setdefault(f.pdq_hex, set()).add(f.quality >= VPDQ_QUALITY_FLOOR)
    return any(len(kinds) == 2 for kinds in usable.values())


def _brute(query: str, banked: str) -> tuple[float, float] | None:
    """threatexchange's brute matcher (``VPDQSignal.compare_hash``), or for clips with mixed-quality
    repeats its frame counting on VPDQIndex's prepared frames; None when it is no match (80% / 0%)."""
    if _mixed_quality_repeats(query) or _mixed_quality_repeats(banked):
        mine, theirs = _usable(query), _usable(banked)
        if not mine or not theirs:
            return None
        q = match_VPDQ_in_another(mine, theirs, 31) * 100 / len(mine)
        c = match_VPDQ_in_another(theirs, mine, 31) * 100 / len(theirs)
        return (q, c) if q >= 80.0 else None
    compared = VPDQSignal.compare_hash(query, banked)
    info = compared.distance
    return (info.query_match_percent, info.compared_match_percent) if compared.match else None


def test_the_product_path_agrees_with_threatexchange(db: Database, clips: dict[str, str]) -> None:
    """Every clip queried against every banked clip: the same matches, with the same percentages, as
    threatexchange's ``VPDQIndex`` and its brute matcher (see _mixed_quality_repeats for the one case
    where those two differ)."""
    content_of: dict[int, str] = {}
    with db.session() as session:
        bank = service.create_bank(session, ACTOR, name="videos")
        for name in BANKED:
            added = service.add_content(session, ACTOR, bank, [service.SignalIn("vpdq", clips[name])], META)
            content_of[added.content.id] = name
    matcher = BankMatcher(db)
    matcher.load()
    reference = VPDQIndex.build([(clips[name], name) for name in BANKED])
    matched_pairs = 0
    for query_name, query in clips.items():
        ours = {
            content_of[m.content_id]: (m.query_match_percent, m.compared_match_percent)
            for m in match_signal(None, matcher, "vpdq", query).matches
        }
        indexed = {
            m.metadata: (m.similarity_info.query_match_percent, m.similarity_info.compared_match_percent)
            for m in reference.query(query)
        }
        brute = {name: r for name in BANKED if (r := _brute(query, clips[name])) is not None}
        assert ours == indexed == brute, query_name
        matched_pairs += len(ours)
    # The cases are not trivial: originals, edits and unrelated clips all occur.
    assert _mixed_quality_repeats(clips["dim"])
    assert matched_pairs >= len(BANKED) + 4
    for edit, source in (("trim", "dev_testsrc"), ("dim", "dev_cuts"), ("repeats", "dev_pan")):
        found = match_signal(None, matcher, "vpdq", clips[edit]).matches
        assert source in {content_of[m.content_id] for m in found}, edit
