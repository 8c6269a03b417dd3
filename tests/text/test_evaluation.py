from __future__ import annotations

import math

import numpy as np
import pytest

from safeguard.text.evaluation import AuthorResults, espd_speed, first_flags, recall_at_fpr, summarise


def _results() -> AuthorResults:
    # 4 groomers (flagged at their 2nd, 5th, 30th message; one missed), 6 others (one flagged).
    return AuthorResults(
        label=np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool),
        role=np.array(["off", "off", "off", "off", "dec", "dec", "dec", "nps", "nps", "nps"], dtype=object),
        conversation=np.array([0, 1, 2, 3, 0, 1, 2, 4, 4, 4]),
        peak=np.array([0.99, 0.98, 0.97, 0.2, 0.96, 0.1, 0.1, 0.3, 0.2, 0.1]),
        first_flag=np.array([2, 5, 30, 0, 7, 0, 0, 0, 0, 0]),
        messages=np.array([100, 100, 100, 100, 80, 80, 80, 5, 5, 5]),
    )


def test_author_and_conversation_figures() -> None:
    fig = summarise(_results(), half_penalty_messages=10)
    a = fig["authors"]
    assert (a["tp"], a["fp"], a["fn"], a["tn"]) == (3, 1, 1, 5)
    assert a["precision"] == pytest.approx(0.75) and a["recall"] == pytest.approx(0.75)
    assert a["f0_5"] == pytest.approx(0.75)
    assert a["false_alerts_per_1000_benign"] == pytest.approx(1000 / 6)
    c = fig["conversations"]
    assert (c["tp"], c["fp"], c["fn"]) == (3, 0, 1)  # conversation 0 is positive and flagged either way
    e = fig["early_detection"]
    assert e["median_messages_to_alert"] == 5 and e["within_15_messages"] == pytest.approx(0.5)
    assert fig["per_source"]["dec"]["flagged"] == 1 and fig["per_source"]["off"]["recall"] == pytest.approx(
        0.75
    )


def test_espd_speed_follows_the_penalty_formula() -> None:
    speed, p = espd_speed(np.array([1, 10, 10]), half_penalty_messages=10)
    assert p == pytest.approx(math.log(3) / 9)
    assert speed == pytest.approx(0.5)  # median latency 10 -> penalty 0.5
    assert espd_speed(np.array([1]), 10)[0] == pytest.approx(1.0)


def test_recall_at_fpr() -> None:
    label = np.array([1, 1, 1, 0, 0, 0, 0], dtype=bool)
    score = np.array([0.9, 0.8, 0.3, 0.85, 0.2, 0.1, 0.05])
    assert recall_at_fpr(label, score, 0.0) == pytest.approx(1 / 3)  # must beat the best negative (0.85)
    assert recall_at_fpr(label, score, 0.25) == pytest.approx(1.0)  # one negative may pass


def test_first_flags() -> None:
    k = np.array([0, 0, 0, 1, 1])
    position = np.array([1, 2, 3, 1, 2])
    risk = np.array([0.1, 0.9, 0.95, 0.2, 0.3])
    assert first_flags(k, position, risk, 0.5, 3).tolist() == [2, 0, 0]
