from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from safeguard.text.messages import Evidence
from safeguard.text.state import (
    EVIDENCE_FIRST,
    AuthorState,
    ConversationState,
    grouped_cummax,
    grouped_cumsum,
)


@given(st.lists(st.tuples(st.integers(0, 4), st.floats(-100, 100)), max_size=60))
def test_grouped_cumsum_and_cummax_match_a_loop(rows: list[tuple[int, float]]) -> None:
    groups = np.array([g for g, _ in rows], dtype=np.int64)
    values = np.array([v for _, v in rows], dtype=np.float64)
    totals: dict[int, float] = {}
    peaks: dict[int, float] = {}
    expected_sum, expected_max = [], []
    for g, v in rows:
        totals[g] = totals.get(g, 0.0) + v
        peaks[g] = max(peaks.get(g, -np.inf), v)
        expected_sum.append(totals[g])
        expected_max.append(peaks[g])
    assert np.allclose(grouped_cumsum(values, groups), expected_sum)
    assert np.allclose(grouped_cummax(values, groups), expected_max)


def test_evidence_keeps_the_first_two_and_the_latest() -> None:
    author = AuthorState()
    for i in range(1, 8):
        author.add_evidence(Evidence("meeting", f"m{i}", i, 0, 4, "meet"))
    kept = [e.message_id for e in author.evidence["meeting"]]
    assert kept == ["m1", "m2", "m7"]
    assert len(kept) == EVIDENCE_FIRST + 1


def test_state_round_trips_through_json() -> None:
    import json

    state = ConversationState(
        minor_disclosures=2, messages=9, first_alert_message="m5", recent_ids=["a", "b"]
    )
    author = state.authors.setdefault(
        "x", AuthorState(n=3, child_count=1, text_sum=-2.5, gate=True, peak=0.4)
    )
    author.counts[3] = 2
    author.add_evidence(Evidence("secrecy", "m2", 2, 3, 10, "dont tell"))
    restored = ConversationState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state


def test_recent_ids_are_bounded() -> None:
    state = ConversationState()
    for i in range(1000):
        state.remember(str(i))
    assert len(state.recent_ids) == 256 and state.recent_ids[-1] == "999"
