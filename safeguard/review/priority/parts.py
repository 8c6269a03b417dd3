"""The parts of a case's priority, each a small readable rule returning (points, reason in words).

Scale: severity up to 40, confidence up to 20, child at risk now 50, reach up to 10 (so 0 to 120 before
waiting; moderators see whole points, docs/review.md "Priority"); waiting adds
``WAIT_POINTS_PER_HOUR`` per hour in the queue (so a B2 match waiting a day overtakes a fresh A1 match,
and nothing starves), but a live-risk case still outranks every other case (the queue sorts by it first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from safeguard.review.signals import (
    LIVE_RISK_BEHAVIOURS,
    GroomingAlertSignal,
    MediaMatchSignal,
    ReportCategory,
    ReporterKind,
    UserReportSignal,
)
from safeguard.text.vocabulary import PLAIN

AnySignal = MediaMatchSignal | GroomingAlertSignal | UserReportSignal
REPORTERS = {
    ReporterKind.user: "a user",
    ReporterKind.child: "a child",
    ReporterKind.parent: "a parent",
    ReporterKind.trusted_flagger: "a trusted flagger",
    ReporterKind.staff: "staff",
}
CATEGORIES = {
    ReportCategory.csam: "child sexual abuse material",
    ReportCategory.grooming: "grooming",
    ReportCategory.sextortion: "sextortion",
    ReportCategory.meeting: "a planned meeting",
    ReportCategory.nudity: "nudity",
    ReportCategory.other: "something else",
}

WAIT_POINTS_PER_HOUR = 1.5
LABEL_SEVERITY = {"A1": 40.0, "A2": 32.0, "B1": 24.0, "B2": 16.0}
CATEGORY_SEVERITY = {
    ReportCategory.csam: 30.0,
    ReportCategory.sextortion: 30.0,
    ReportCategory.grooming: 25.0,
    ReportCategory.meeting: 25.0,
    ReportCategory.nudity: 10.0,
    ReportCategory.other: 5.0,
}
GROOMING_SEVERITY = 25.0
CHILD_AT_RISK_POINTS = 50.0


def severity_points(signals: Sequence[AnySignal]) -> tuple[float, str]:
    """The most severe label or report category among the signals."""
    best, why = 0.0, ""
    for signal in signals:
        if isinstance(signal, MediaMatchSignal):
            for label in signal.labels:
                if LABEL_SEVERITY[label] > best:
                    best, why = LABEL_SEVERITY[label], f"matched {signal.bank} entry labelled {label}"
        elif isinstance(signal, GroomingAlertSignal):
            if best < GROOMING_SEVERITY:
                best, why = GROOMING_SEVERITY, "the grooming detector raised an alert"
        elif CATEGORY_SEVERITY[signal.category] > best:
            best, why = CATEGORY_SEVERITY[signal.category], f"reported as {_words(signal.category)}"
    return best, why


def confidence_points(signals: Sequence[AnySignal]) -> tuple[float, str]:
    """How sure the evidence is: hash distance against the threshold, the detector's risk score, or who
    reported (a child's own report counts more than an anonymous one)."""
    best, why = 0.0, ""
    for signal in signals:
        if isinstance(signal, MediaMatchSignal):
            closeness = 1.0 - signal.distance / (signal.threshold + 1)
            value = 20.0 * max(0.0, closeness)
            reason = (
                f"{signal.signal_type.upper()} hash distance {signal.distance} "
                f"({signal.threshold} or less counts as a match; 0 is identical)"
            )
        elif isinstance(signal, GroomingAlertSignal):
            value, reason = 20.0 * signal.risk, f"grooming detector risk {round(100 * signal.risk)} of 100"
        else:
            value = (
                12.0 if signal.reporter_kind in {ReporterKind.child, ReporterKind.trusted_flagger} else 6.0
            )
            reason = f"reported by {_a(signal.reporter_kind)}"
        if value > best:
            best, why = value, reason
    return best, why


def child_at_risk_points(signals: Sequence[AnySignal]) -> tuple[float, str]:
    """A child at risk now: a live conversation with a meeting being arranged, an image request or a
    sextortion threat; or a child, parent or user reporting grooming, a meeting or sextortion."""
    for signal in signals:
        if isinstance(signal, GroomingAlertSignal) and signal.live:
            live = [PLAIN[b].lower() for b in sorted(set(signal.behaviours) & LIVE_RISK_BEHAVIOURS)]
            if live:
                return CHILD_AT_RISK_POINTS, "child at risk now: " + ", ".join(live)
        if isinstance(signal, UserReportSignal):
            urgent = signal.category in {ReportCategory.sextortion, ReportCategory.meeting}
            child_grooming = signal.category is ReportCategory.grooming and signal.reporter_kind in {
                ReporterKind.child,
                ReporterKind.parent,
            }
            if urgent or child_grooming:
                return (
                    CHILD_AT_RISK_POINTS,
                    f"child at risk now: {_a(signal.reporter_kind)} reported {_words(signal.category)}",
                )
    return 0.0, ""


def reach_points(signals: Sequence[AnySignal]) -> tuple[float, str]:
    """Up to 10 points on a log scale: 10 views ~ 1.7 points, 1,000 ~ 5, 1,000,000 ~ 10."""
    people = max(
        (s.reach.views + 5 * s.reach.shares + s.reach.recipients for s in signals),
        default=0,
    )
    if people <= 0:
        return 0.0, ""
    return min(10.0, 10.0 * math.log10(1 + people) / 6.0), f"reached about {people:,} people"


def _a(kind: ReporterKind) -> str:
    return REPORTERS[kind]


def _words(category: ReportCategory) -> str:
    return CATEGORIES[category]


def waiting_points(queued_at: datetime, now: datetime) -> float:
    return WAIT_POINTS_PER_HOUR * max(0.0, (now - queued_at).total_seconds()) / 3600.0
