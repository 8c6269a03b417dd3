"""Figures from the intake tables: counts per period, comparisons, the funnel by area.

Metrics and the date each is counted on:

| metric | counted | dated by |
|---|---|---|
| ``referrals`` | referrals received | ``received_at`` |
| ``packages`` | suspect investigation packages created (merged ones excluded) | ``created_at`` |
| ``actioned`` | packages actioned | ``actioned_at`` |
| ``apprehended`` | suspects apprehended | ``apprehended_at`` |
| ``charged`` | suspects charged | ``charged_at`` |
| ``children_safeguarded`` | children safeguarded (the recorded count) | ``safeguarded_at`` |

``area`` narrows to packages located in a Scottish council or police force area (a referral counts in its
package's area).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from safeguard.errors import InvalidInput
from safeguard.intake.models import IntakeReferral, IntakeSuspect
from safeguard.intake.states import SuspectState
from safeguard.stats.figures import Comparison, compare, series
from safeguard.stats.funnel import FunnelRow, PackageFacts, funnel
from safeguard.stats.periods import Period, start_of

METRICS = ("referrals", "packages", "actioned", "apprehended", "charged", "children_safeguarded")
_DATE_COLUMN = {
    "packages": IntakeSuspect.created_at,
    "actioned": IntakeSuspect.actioned_at,
    "apprehended": IntakeSuspect.apprehended_at,
    "charged": IntakeSuspect.charged_at,
    "children_safeguarded": IntakeSuspect.safeguarded_at,
}


@dataclass(frozen=True, slots=True)
class Figures:
    metric: str
    period: Period
    area: str | None
    counts: dict[str, int]
    comparison: Comparison | None

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "period": self.period.value,
            "area": self.area,
            "counts": [{"period": label, "count": n} for label, n in self.counts.items()],
            "comparison": self.comparison.to_json() if self.comparison else None,
            "summary": self.comparison.describe(self.metric.replace("_", " ")) if self.comparison else None,
        }


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise InvalidInput(f"unknown metric {metric!r} (one of: {', '.join(METRICS)})", field="metric")


def _area_filter(area: str | None) -> list[ColumnElement[bool]]:
    if area is None:
        return []
    if area == "unknown":
        return [IntakeSuspect.council.is_(None), IntakeSuspect.force_area.is_(None)]
    return [or_(IntakeSuspect.council == area, IntakeSuspect.force_area == area)]


def events(
    session: Session, metric: str, *, area: str | None = None
) -> tuple[list[datetime], list[int] | None]:
    """The dates a metric counts (and weights: children per record for ``children_safeguarded``)."""
    _check_metric(metric)
    where = _area_filter(area)
    if metric == "referrals":
        rows = session.execute(
            select(IntakeReferral.received_at)
            .join(IntakeSuspect, IntakeSuspect.id == IntakeReferral.suspect_id)
            .where(*where)
        )
        return [when for (when,) in rows], None
    column = _DATE_COLUMN[metric]
    where += [IntakeSuspect.state != SuspectState.merged, column.is_not(None)]
    if metric == "children_safeguarded":
        counted = session.execute(select(column, IntakeSuspect.children_safeguarded).where(*where))
        pairs = [(when, n) for when, n in counted if when is not None and n]
        return [when for when, _ in pairs], [n for _, n in pairs]
    return [when for (when,) in session.execute(select(column).where(*where)) if when is not None], None


def figures(
    session: Session, metric: str, period: Period, *, label: str | None = None, area: str | None = None
) -> Figures:
    """Counts per period and the comparison for ``label`` (default: the latest period with data)."""
    dates, weights = events(session, metric, area=area)
    counts = series(dates, period, weights=weights)
    if label is not None:
        start_of(label, period)  # refuses a malformed label
        comparison = compare(counts, label, period) if counts else None
    else:
        comparison = compare(counts, max(counts), period) if counts else None
    return Figures(metric, period, area, counts, comparison)


def package_facts(session: Session) -> list[PackageFacts]:
    received: dict[int, list[datetime]] = {}
    referrals = session.execute(
        select(IntakeReferral.suspect_id, IntakeReferral.received_at).where(
            IntakeReferral.suspect_id.is_not(None)
        )
    )
    for suspect_id, when in referrals:
        if suspect_id is not None:
            received.setdefault(suspect_id, []).append(when)
    suspects = session.execute(
        select(
            IntakeSuspect.id,
            IntakeSuspect.council,
            IntakeSuspect.force_area,
            IntakeSuspect.created_at,
            IntakeSuspect.actioned_at,
            IntakeSuspect.apprehended_at,
            IntakeSuspect.children_safeguarded,
            IntakeSuspect.safeguarded_at,
        ).where(IntakeSuspect.state != SuspectState.merged)
    )
    return [
        PackageFacts(
            area=council or force or "unknown",
            created_at=created,
            referrals_received=tuple(received.get(sid, ())),
            actioned_at=actioned,
            apprehended_at=apprehended,
            children_safeguarded=children,
            safeguarded_at=safeguarded,
        )
        for sid, council, force, created, actioned, apprehended, children, safeguarded in suspects
    ]


def funnel_for(session: Session, start: datetime, end: datetime) -> list[FunnelRow]:
    if end <= start:
        raise InvalidInput("the period must end after it starts", field="end")
    return funnel(package_facts(session), start, end)
