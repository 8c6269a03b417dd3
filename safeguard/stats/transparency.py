"""The platform-side transparency report: reports made, content actioned, time from detection to action.

In the shape Ofcom's transparency notices under the Online Safety Act ask about for child sexual
exploitation and abuse: how much was detected and how (proactive technology or user reports), how much was
actioned and how, how many reports went to the NCA / NCMEC, and how fast content was actioned after it was
detected (median, 90th percentile, share within 24 hours).

The input is a plain list of ``ModerationEvent`` so any source can feed it. Safeguard's review and actions
capabilities will produce these events from their decisions and deliveries; until they are wired in, a
platform can pass its own events (``safeguard stats transparency EVENTS.json``).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    detected = "detected"  # content found (by hash match, classifier, user report, trusted flagger)
    actioned = "actioned"  # removed, restricted, account actioned
    reported = "reported"  # a report sent to an authority (NCA, NCMEC)


PROACTIVE = frozenset({"hash_match", "classifier", "keyword", "proactive"})


@dataclass(frozen=True, slots=True)
class ModerationEvent:
    content_id: str
    kind: EventKind
    at: datetime
    detection: str | None = None  # detected: hash_match, classifier, keyword, user_report, trusted_flagger
    action: str | None = None  # actioned: removed, restricted, account_suspended, ...
    destination: str | None = None  # reported: NCA, NCMEC, ...
    category: str | None = None  # csam, grooming, ...


@dataclass(frozen=True, slots=True)
class TransparencyReport:
    start: datetime
    end: datetime
    content_detected: int
    detected_by: dict[str, int]
    proactive_share: float | None
    content_actioned: int
    actions: dict[str, int]
    reports_made: int
    reports_by_destination: dict[str, int]
    median_hours_to_action: float | None
    p90_hours_to_action: float | None
    actioned_within_24h_share: float | None
    by_category: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "content_detected": self.content_detected,
            "detected_by": self.detected_by,
            "proactive_share": self.proactive_share,
            "content_actioned": self.content_actioned,
            "actions": self.actions,
            "reports_made": self.reports_made,
            "reports_by_destination": self.reports_by_destination,
            "median_hours_to_action": self.median_hours_to_action,
            "p90_hours_to_action": self.p90_hours_to_action,
            "actioned_within_24h_share": self.actioned_within_24h_share,
            "actioned_by_category": self.by_category,
        }


def transparency_report(
    events: Iterable[ModerationEvent], start: datetime, end: datetime
) -> TransparencyReport:
    """Figures for ``start <= t < end``: content counts by when it was detected / actioned / reported;
    the time to action is from a content item's first detection to its first action (items actioned in the
    period that were detected at any time, and never negative)."""
    first_detected: dict[str, ModerationEvent] = {}
    first_actioned: dict[str, ModerationEvent] = {}
    reports: list[ModerationEvent] = []
    for event in events:
        if event.kind is EventKind.detected:
            known = first_detected.get(event.content_id)
            if known is None or event.at < known.at:
                first_detected[event.content_id] = event
        elif event.kind is EventKind.actioned:
            known = first_actioned.get(event.content_id)
            if known is None or event.at < known.at:
                first_actioned[event.content_id] = event
        else:
            reports.append(event)

    def inside(when: datetime) -> bool:
        return start <= when < end

    detected = [e for e in first_detected.values() if inside(e.at)]
    detected_by = Counter(e.detection or "unknown" for e in detected)
    proactive = sum(n for method, n in detected_by.items() if method in PROACTIVE)
    actioned = [e for e in first_actioned.values() if inside(e.at)]
    hours = []
    for action in actioned:
        detection = first_detected.get(action.content_id)
        if detection is not None and action.at >= detection.at:
            hours.append((action.at - detection.at) / timedelta(hours=1))
    made = [e for e in reports if inside(e.at)]
    return TransparencyReport(
        start=start,
        end=end,
        content_detected=len(detected),
        detected_by=dict(detected_by),
        proactive_share=round(proactive / len(detected), 3) if detected else None,
        content_actioned=len(actioned),
        actions=dict(Counter(e.action or "unknown" for e in actioned)),
        reports_made=len(made),
        reports_by_destination=dict(Counter(e.destination or "unknown" for e in made)),
        median_hours_to_action=round(statistics.median(hours), 2) if hours else None,
        p90_hours_to_action=round(_percentile(hours, 0.9), 2) if hours else None,
        actioned_within_24h_share=round(sum(h <= 24 for h in hours) / len(hours), 3) if hours else None,
        by_category=dict(Counter(e.category or "unknown" for e in actioned)),
    )


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (the value at or below which ``q`` of the values lie)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))
    return ordered[int(rank) - 1]
