"""The single-message path gives the array path's numbers exactly: hashing, language score, state update,
state features, tree walk, and the whole scorer over a synthetic conversation of several authors (risk,
state, crossings and reasons)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from safeguard.text.features import N_BEHAVIOURS, hash_messages, hash_one, language_score_one
from safeguard.text.messages import Message
from safeguard.text.scorer import BatchResult, StreamingScorer
from safeguard.text.state import (
    ConversationState,
    author_features,
    author_features_one,
    has_own_evidence,
    has_own_evidence_one,
)
from tests.text.fixtures import ADVERSARIAL, GROOMING

TEXTS = [
    "",
    "   ",
    "hi",
    "hi hi hi hi",  # repeated words: counts above 1 before the norm
    "Hey!!! How R U??? :) :)",
    "are you home alone right now",
    "dont tell your mom we talk ok, she wouldnt understand",
    "add me on kik, its more private. and delete this chat after",
    "visit www.example.com or mail me@example.org, @friend 10-19-20sUser7",
    "ｆｕｌｌ ｗｉｄｔｈ letters and “quotes” — dashes",
    "çà et là, naïve café, 東京, emoji 😀😀",
    "13 f ohio u? im 13. 555-201-3344",
    "the same words the same words the same words and more words " * 20,
]


@pytest.fixture(scope="module")
def scorer() -> StreamingScorer:
    return StreamingScorer()


def test_one_message_hashes_as_the_vectoriser_does(scorer: StreamingScorer) -> None:
    model = scorer.model
    matrix = hash_messages(TEXTS, model.hashing)
    language = model.language_scores(matrix)
    for row, text in enumerate(TEXTS):
        indices, values = hash_one(text, model.hashing)
        assert indices.tolist() == matrix[row].indices.tolist(), text
        assert values.dtype == np.float32
        assert values.tobytes() == matrix[row].data.tobytes(), text
        assert language_score_one(indices, values, model.text_coef, model.text_intercept) == language[row]


def test_one_row_of_state_features_is_the_array_row() -> None:
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = int(rng.integers(1, 500))
        counts = rng.integers(0, 4, size=N_BEHAVIOURS) * rng.integers(0, 2, size=N_BEHAVIOURS)
        child = int(rng.integers(0, 3))
        text = float(rng.normal(scale=30.0)) if rng.random() > 0.1 else 0.0
        partner = int(rng.integers(0, 3))
        expected = author_features(
            np.array([n]),
            counts[None, :].astype(np.float64),
            np.array([float(child)]),
            np.array([text]),
            np.array([float(partner)]),
        )[0]
        got = np.array(author_features_one(n, counts.tolist(), child, text, partner))
        assert got.tobytes() == expected.tobytes(), (n, counts, child, text, partner)
        own = has_own_evidence(counts[None, :].astype(np.float64), np.array([float(child)]))[0]
        assert has_own_evidence_one(counts.tolist(), child) == bool(own)


def test_one_row_tree_walk_is_the_numpy_walk(scorer: StreamingScorer) -> None:
    ensemble = scorer.model.ensemble
    rng = np.random.default_rng(2)
    rows = np.abs(rng.normal(scale=2.0, size=(400, int(ensemble.feature.max()) + 1)))
    rows[::7] = 0.0
    rows[3::11, 0] = np.nan  # missing values follow each node's learned side
    expected = ensemble.decision_function_numpy(rows)
    for row, value in zip(rows, expected.tolist(), strict=True):
        assert ensemble.decision_one(row) == value


def _conversation() -> list[Message]:
    """Five authors in one conversation: the grooming chat, an adult chat woven into it, a third party
    joining late, messages without ids, and one id repeated (a retry is the service's business, not the
    scorer's: both paths see it the same way)."""
    grooming = [(a, t) for a, t in GROOMING]
    flirting = ADVERSARIAL["adult_flirting"]
    woven: list[tuple[str, str]] = []
    for i in range(max(len(grooming), len(flirting))):
        if i < len(grooming):
            woven.append(grooming[i])
        if i < len(flirting):
            woven.append(flirting[i])
        if i == 9:
            woven.append(("late", "hi all, im 15 lol, what did i miss"))
    out = []
    for i, (author, text) in enumerate(woven, start=1):
        message_id = None if i % 5 == 0 else f"m{i}"
        out.append(Message("conv", author, text, None, message_id))
    out.append(Message("conv", "adult", "you there? answer me", None, "m3"))
    return out


def _same(a: BatchResult, b: BatchResult) -> None:
    assert a.message_ids == b.message_ids
    assert a.risk.tobytes() == b.risk.tobytes()
    assert a.current.tobytes() == b.current.tobytes()
    assert a.author_index.tolist() == b.author_index.tolist()
    assert a.crossings == b.crossings


def test_single_message_path_equals_array_path_message_by_message(scorer: StreamingScorer) -> None:
    fast: dict[str, ConversationState] = {}
    arrays: dict[str, ConversationState] = {}
    for message in _conversation():
        before = copy.deepcopy(fast)
        _same(scorer.score_messages(fast, [message]), scorer._score_arrays(arrays, [message]))
        assert fast["conv"].to_dict() == arrays["conv"].to_dict()
        assert before != fast
    assert fast["conv"].first_alert_message is not None  # the conversation did cross the threshold
    assert len(fast["conv"].authors) == 5


def test_one_at_a_time_equals_one_batch_risks_state_and_reasons(scorer: StreamingScorer) -> None:
    conversation = _conversation()
    batch_states: dict[str, ConversationState] = {}
    batch = scorer.score_messages(batch_states, conversation)
    single_states: dict[str, ConversationState] = {}
    singles = [scorer.score_messages(single_states, [m]) for m in conversation]
    # Running sums over a batch are added in another order than one by one: equal to the last bits.
    assert [float(r.risk[0]) for r in singles] == pytest.approx(batch.risk.tolist(), abs=1e-9)
    crossings = [c for r in singles for c in r.crossings]
    assert [(c.author_id, c.message_id, c.author_message_index) for c in crossings] == [
        (c.author_id, c.message_id, c.author_message_index) for c in batch.crossings
    ]
    assert [c.risk for c in crossings] == pytest.approx([c.risk for c in batch.crossings], abs=1e-9)
    single, batched = single_states["conv"].to_dict(), batch_states["conv"].to_dict()
    for name in ("minor", "messages", "first_alert_message", "recent_ids"):
        assert single[name] == batched[name]
    for author, fields in single["authors"].items():
        for name, value in fields.items():
            expected = batched["authors"][author][name]
            assert value == (pytest.approx(expected, abs=1e-9) if isinstance(value, float) else expected)
    for author in single_states["conv"].authors:
        one = scorer.author_risk("conv", single_states["conv"], author)
        other = scorer.author_risk("conv", batch_states["conv"], author)
        assert one.reasons == other.reasons
        assert (one.flagged, one.first_flag_message, one.messages) == (
            other.flagged,
            other.first_flag_message,
            other.messages,
        )
