"""Figures routes: counts per period with year-on-year and five-year-mean comparisons, the intake funnel by
area (role analyst), and the platform-side transparency report (roles integrator, moderator)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.orm import Session

from safeguard.api.deps import read_session, require_roles
from safeguard.auth import Actor, Role
from safeguard.errors import InvalidInput
from safeguard.stats import service
from safeguard.stats.export import to_csv
from safeguard.stats.funnel import STAGES
from safeguard.stats.periods import Period, funnel_window
from safeguard.stats.transparency import EventKind, ModerationEvent, transparency_report

router = APIRouter(tags=["stats"])
analysts = require_roles(Role.analyst)
platform = require_roles(Role.integrator, Role.moderator)

Metric = Literal["referrals", "packages", "actioned", "apprehended", "charged", "children_safeguarded"]


class CountOut(BaseModel):
    period: str
    count: int


class ComparisonOut(BaseModel):
    label: str
    value: int
    last_year: int | None
    change_pct: float | None = Field(description="% change on the same period last year")
    five_year_mean: float | None
    vs_mean_pct: float | None = Field(description="% above (+) or below (-) the mean of the earlier years")
    years_in_mean: int


class FiguresOut(BaseModel):
    metric: str
    period: str
    area: str | None
    counts: list[CountOut]
    comparison: ComparisonOut | None
    summary: str | None


class FunnelRowOut(BaseModel):
    area: str
    referrals: int
    packages: int
    actioned: int
    apprehended: int
    children_safeguarded: int
    rates: dict[str, float | None]


class FunnelOut(BaseModel):
    start: datetime
    end: datetime
    rows: list[FunnelRowOut]


class EventIn(BaseModel):
    content_id: str = Field(min_length=1, max_length=200)
    kind: EventKind
    at: AwareDatetime
    detection: str | None = Field(default=None, max_length=100)
    action: str | None = Field(default=None, max_length=100)
    destination: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=100)


class TransparencyIn(BaseModel):
    start: AwareDatetime
    end: AwareDatetime
    events: list[EventIn] = Field(max_length=1_000_000)


@router.get("/v1/stats/figures", response_model=FiguresOut, summary="Counts per period, with comparisons")
def figures(
    _: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(read_session)],
    metric: Metric = "referrals",
    period: Period = Period.financial_year,
    label: Annotated[str | None, Query(max_length=20, description="e.g. 2024/25; default the latest")] = None,
    area: Annotated[str | None, Query(max_length=100)] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    result = service.figures(session, metric, period, label=label, area=area).to_json()
    if format == "csv":
        rows = [{"period": c["period"], "count": c["count"]} for c in result["counts"]]
        return PlainTextResponse(to_csv(rows), media_type="text/csv")
    return result


@router.get(
    "/v1/stats/funnel", response_model=FunnelOut, summary="Referrals to children safeguarded, by area"
)
def funnel(
    _: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(read_session)],
    start: Annotated[date | None, Query(description="default: start of the current financial year")] = None,
    end: Annotated[date | None, Query(description="exclusive; default: a year after start")] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    begin, finish = funnel_window(_day(start) if start else None, _day(end) if end else None)
    rows = service.funnel_for(session, begin, finish)
    if format == "csv":
        return PlainTextResponse(
            to_csv([r.to_json() for r in rows], ["area", *STAGES]), media_type="text/csv"
        )
    return FunnelOut(start=begin, end=finish, rows=[FunnelRowOut(**r.to_json()) for r in rows])


def _day(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


@router.post("/v1/stats/transparency", summary="Platform transparency report from moderation events")
def transparency(body: TransparencyIn, _: Annotated[Actor, Depends(platform)]) -> dict[str, Any]:
    """Reports made, content actioned and time from detection to action, for the events given (until the
    review capability feeds them directly)."""
    if body.end <= body.start:
        raise InvalidInput("the period must end after it starts", field="end")
    events = [ModerationEvent(**e.model_dump()) for e in body.events]
    return transparency_report(events, body.start, body.end).to_json()
