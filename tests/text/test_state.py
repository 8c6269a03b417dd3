from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from safeguard.text.features import MINOR, N_BEHAVIOURS
from safeguard.text.messages import Evidence
from safeguard.text.state import (
    EVIDENCE_FIRST,
    FEATURE_NAMES,
    MONOTONIC,
    AuthorState,
    ConversationState,
    advance,
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


def _advance(authors: list[int], minor: list[bool], max_participants: int = 4) -> np.ndarray:
    """``partner`` after each message of one conversation (author keys in ``authors``)."""
    k = np.array(authors, dtype=np.int64)
    behaviours = np.zeros((len(k), N_BEHAVIOURS))
    behaviours[:, MINOR] = minor
    _, first = np.unique(k, return_index=True)
    new_author = np.zeros(len(k), dtype=bool)
    new_author[first] = True
    n_keys = int(k.max()) + 1
    step = advance(
        k,
        np.zeros(len(k), dtype=np.int64),
        behaviours,
        np.zeros(len(k), dtype=bool),
        np.zeros(len(k)),
        new_author,
        n0=np.zeros(n_keys),
        counts0=np.zeros((n_keys, N_BEHAVIOURS)),
        child0=np.zeros(n_keys),
        text0=np.zeros(n_keys),
        gate0=np.zeros(n_keys, dtype=bool),
        participants0=np.zeros(1),
        minor0=np.zeros(1),
        max_gate_participants=max_participants,
    )
    names = list(FEATURE_NAMES)
    assert MONOTONIC[names.index("log_partner_minor")] == 1  # being told "i'm 13" can only raise risk
    features = step.features()[:, names.index("log_partner_minor")]
    assert np.array_equal(features, np.log1p(step.partner))
    assert step.gate[step.partner > 0].all()  # the same disclosures open the child-directed gate
    partner: np.ndarray = step.partner
    return partner


def test_partner_minor_counts_the_others_disclosures_not_ones_own() -> None:
    # author 0 talks with author 1, who says twice that they are a minor; author 0's own "i'm 15" (the
    # sixth message) is not a partner's disclosure for author 0, but is one for author 1.
    partner = _advance([0, 1, 0, 1, 1, 0, 1], [False, True, False, False, True, True, False])
    assert partner.tolist() == [0, 0, 1, 0, 0, 2, 1]


def test_partner_minor_is_only_counted_in_a_small_conversation() -> None:
    # In a chat room a disclosure is not addressed to anyone: with more than 2 participants allowed here
    # nothing counts once a third author joins.
    partner = _advance([0, 1, 0, 2, 0], [False, True, False, False, False], max_participants=2)
    assert partner.tolist() == [0, 0, 1, 0, 0]
