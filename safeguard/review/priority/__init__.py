"""Case priority: a score a moderator can read, with its parts shown.

``score = severity + confidence + child_at_risk + reach + waiting`` (points; see ``parts`` for each).
Live-risk cases (a child at risk now) always come first whatever their score: the queue orders by
``live_risk`` before the score.

Waiting time grows linearly (``WAIT_POINTS_PER_HOUR``), so ordering by ``base + rate * (now - queued)`` is
the same as ordering by ``base - rate * queued`` - a value fixed when the case is queued (``rank``). The
queue therefore needs no re-scoring as time passes, and one index serves the claim query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from safeguard.review.priority.parts import (
    WAIT_POINTS_PER_HOUR,
    child_at_risk_points,
    confidence_points,
    reach_points,
    severity_points,
    waiting_points,
)
from safeguard.review.signals import GroomingAlertSignal, MediaMatchSignal, UserReportSignal

AnySignal = MediaMatchSignal | GroomingAlertSignal | UserReportSignal

__all__ = ["WAIT_POINTS_PER_HOUR", "Priority", "rank_of", "score", "with_waiting"]


@dataclass(frozen=True, slots=True)
class Priority:
    severity: float
    confidence: float
    child_at_risk: float
    reach: float
    live_risk: bool
    reasons: list[str]

    @property
    def base(self) -> float:
        return self.severity + self.confidence + self.child_at_risk + self.reach

    def parts(self) -> dict[str, object]:
        return {
            "severity": round(self.severity, 2),
            "confidence": round(self.confidence, 2),
            "child_at_risk": round(self.child_at_risk, 2),
            "reach": round(self.reach, 2),
            "live_risk": self.live_risk,
            "reasons": self.reasons,
        }


def score(signals: Sequence[AnySignal]) -> Priority:
    """The static parts of a case's priority from all its signals (the strongest of each part)."""
    severity, severity_why = severity_points(signals)
    confidence, confidence_why = confidence_points(signals)
    child, child_why = child_at_risk_points(signals)
    reach, reach_why = reach_points(signals)
    reasons = [r for r in (child_why, severity_why, confidence_why, reach_why) if r]
    return Priority(severity, confidence, child, reach, live_risk=child > 0, reasons=reasons)


def rank_of(base: float, queued_at: datetime) -> float:
    """The stored sort key: higher first (see the module docstring)."""
    return base - WAIT_POINTS_PER_HOUR * queued_at.timestamp() / 3600.0


def with_waiting(
    parts: dict[str, object], base: float, queued_at: datetime, now: datetime
) -> dict[str, object]:
    """The parts as a moderator sees them now, in whole points: waiting time added, and the total (the
    total of the exact parts, so it can differ by one from the sum of the rounded ones)."""
    waiting = waiting_points(queued_at, now)
    whole = {k: round(v) if isinstance(v, float) else v for k, v in parts.items()}
    return {**whole, "waiting": round(waiting), "score": round(base + waiting)}
