"""vPDQ equals vpdq/python-threatexchange on the shared videos; progress, variants and matching."""

from __future__ import annotations

import hashlib

import pytest
from threatexchange.extensions.vpdq.vpdq import VPDQSignal

from safeguard.media import HashOptions, HashResult, Progress, signals_to_bank, signals_to_query
from safeguard.media.vpdq import VpdqSignal, decode_hash
from tests.helpers import VIDEOS
from tests.media.helpers import CUTS, CUTS_VARIANT, PAN

VIDEO_NAMES = sorted(p.name for p in VIDEOS.glob("*.mp4"))


@pytest.mark.parametrize("name", VIDEO_NAMES)
def test_vpdq_equals_threatexchange(name: str) -> None:
    """Our own frame decoding gives the very string python-threatexchange (vpdq.computeHash) gives."""
    path = VIDEOS / name
    result = signals_to_query(path)
    plain = result.plain("vpdq")
    assert plain is not None
    assert plain.hash == VPDQSignal.hash_from_file(path)
    assert result.media.kind.value == "video" and result.media.format == "mp4"
    md5 = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    assert result.plain("video_md5") is not None and result.plain("video_md5").hash == md5  # type: ignore[union-attr]


def test_frame_rate_is_configurable_and_progress_is_reported() -> None:
    seen: list[Progress] = []
    result = signals_to_query(PAN, HashOptions.for_query(vpdq_seconds_per_hash=2.0), progress=seen.append)
    plain = result.plain("vpdq")
    assert plain is not None
    frames = decode_hash(plain.hash)
    assert len(frames) == 10 and [f.timestamp for f in frames[:3]] == [0.0, 2.0, 4.0]
    assert [p.frames_done for p in seen] == list(range(1, 11))
    assert seen[-1].frames_total == 10 and seen[-1].duration_s == 20.0
    assert result.media.frames == 10 and result.media.duration_s == 20.0


def test_degraded_copy_matches_the_banked_original_and_other_video_does_not() -> None:
    """dev_cuts_variant is dev_cuts cropped 4%, rescaled, brightened and recompressed.

    Its frames match only 54.5% (plain) / 77.8% (trimmed) of the query frames, under HMA's 80%; the banked
    ``crop95`` variant of the original brings it to a match (a finding recorded in docs/media.md).
    """
    banked = signals_to_bank(CUTS)
    copy = signals_to_query(CUTS_VARIANT)
    other = signals_to_query(PAN)

    def best(query: HashResult, bank: HashResult, variants: set[str | None] | None = None) -> float:
        return min(
            VpdqSignal.distance(q.hash, b.hash)
            for q in query.of_type("vpdq")
            for b in bank.of_type("vpdq")
            if variants is None or b.variant in variants
        )

    assert best(copy, banked, {None, "trimmed"}) > VpdqSignal.default_threshold
    assert best(copy, banked) <= VpdqSignal.default_threshold
    assert best(other, banked) > VpdqSignal.default_threshold


def test_letterboxed_video_gets_a_trimmed_variant() -> None:
    result = signals_to_query(CUTS)  # stills letterboxed into 640x360
    trimmed = [s for s in result.of_type("vpdq") if s.variant == "trimmed"]
    assert len(trimmed) == 1
    assert len(decode_hash(trimmed[0].hash)) == len(decode_hash(result.plain("vpdq").hash))  # type: ignore[union-attr]


def test_vpdq_hash_validation() -> None:
    one = '["' + "a" * 64 + ',100,0.0"]'
    assert VpdqSignal.validate_hash(one.upper().replace("0.0", "0.0")) == one
    from safeguard.media.errors import InvalidHash

    for bad in [
        "",
        "[]",
        "{}",
        '["x,1,0"]',
        '["' + "a" * 64 + ',101,0.0"]',
        '["' + "a" * 64 + ',50,-1"]',
        "[[[[",
    ]:
        with pytest.raises(InvalidHash):
            VpdqSignal.validate_hash(bad)
