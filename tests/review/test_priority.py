"""The priority parts, each readable on its own."""

from __future__ import annotations

from datetime import timedelta

from safeguard.review.priority import rank_of, score, with_waiting
from safeguard.review.signals import ReportCategory, ReporterKind, UserReportSignal
from safeguard.store.base import utcnow
from safeguard.text.vocabulary import Behaviour
from tests.review.helpers import alert, match


def test_parts_and_reasons() -> None:
    p = score([match("c", labels=["A1", "B2"], distance=0, views=999)])
    assert (p.severity, p.confidence, p.child_at_risk, p.live_risk) == (40, 20, 0, False)
    assert 4.9 < p.reach < 5.1
    assert "matched known-csam entry labelled A1" in p.reasons
    weaker = score([match("c", labels=["B2"], distance=31)])
    assert weaker.severity == 16 and weaker.confidence == 20 * (1 - 31 / 32)


def test_child_at_risk_now() -> None:
    assert score([alert("c", behaviours=[Behaviour.images_webcam])]).live_risk
    assert not score([alert("c", behaviours=[Behaviour.images_webcam], live=False)]).live_risk
    assert not score([alert("c", behaviours=[Behaviour.secrecy, Behaviour.gifts_money])]).live_risk
    child = UserReportSignal(
        subject_kind="account",
        subject_id="x",
        reporter_kind=ReporterKind.child,
        category=ReportCategory.grooming,
    )
    assert score([child]).live_risk and score([child]).reasons[0].startswith("child at risk now")
    adult = child.model_copy(update={"reporter_kind": ReporterKind.user})
    assert not score([adult]).live_risk


def test_waiting_time_is_added_and_the_rank_orders_like_the_score() -> None:
    now = utcnow()
    p = score([match("c", labels=["B2"])])
    shown = with_waiting(p.parts(), p.base, now - timedelta(hours=10), now)
    assert shown["waiting"] == 15 and shown["score"] == round(p.base + 15)
    assert all(
        isinstance(shown[k], int) for k in ("severity", "confidence", "child_at_risk", "reach", "score")
    )
    old = rank_of(10.0, now - timedelta(hours=10))
    fresh = rank_of(20.0, now)
    assert old > fresh  # 10 + 15 waiting beats 20 fresh
