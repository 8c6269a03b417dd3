"""The figures page for police and hotline analysts: counts per period with the year-on-year change and the
five-year mean, a chart, the intake funnel by area for the financial year, and CSV downloads.

A thin view over ``safeguard.stats``, like the ``/v1/stats`` routes, for people signed in to the UI.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import PlainTextResponse, Response

from safeguard.auth import Role
from safeguard.stats import service
from safeguard.stats.export import to_csv, to_json
from safeguard.stats.funnel import STAGES
from safeguard.stats.periods import Period, financial_year_window, label_of
from safeguard.store.db import Database
from safeguard.web.access import Viewer, get_db, page
from safeguard.web.rendering import render

router = APIRouter()
analysts = page(Role.analyst)

Metric = Literal["referrals", "packages", "actioned", "apprehended", "charged", "children_safeguarded"]
Area = Annotated[str | None, Query(max_length=100)]
FinancialYear = Annotated[str | None, Query(max_length=7, description="e.g. 2024/25; default: the current")]


def _chart_data_uri(figures: service.Figures) -> str | None:
    """The series chart as an SVG data URI (the page's CSP allows data: images, not inline SVG scripts)."""
    if not figures.counts:
        return None
    from safeguard.stats import charts  # matplotlib: loaded on the first chart, not at start-up

    with tempfile.TemporaryDirectory(prefix="safeguard-chart-") as folder:
        path = charts.series_chart(
            figures.counts,
            figures.comparison,
            f"{figures.metric.replace('_', ' ')} per {figures.period.value.replace('_', ' ')}",
            Path(folder) / "chart.svg",
        )
        return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@router.get("/figures")
def figures_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(analysts)],
    db: Annotated[Database, Depends(get_db)],
    metric: Metric = "referrals",
    period: Period = Period.financial_year,
    area: Area = None,
) -> Response:
    with db.read_session() as session:
        figures = service.figures(session, metric, period, area=area or None)
        # The funnel follows the financial year being compared, else the current one.
        compared = figures.comparison.label if figures.comparison else None
        start, end = financial_year_window(compared if period is Period.financial_year else None)
        year = label_of(start, Period.financial_year)
        funnel = service.funnel_for(session, start, end)
    summary = figures.comparison.describe(metric.replace("_", " ")) if figures.comparison else None
    context = {
        "figures": figures,
        "summary": summary,
        "chart": _chart_data_uri(figures),
        "metrics": service.METRICS,
        "periods": [p.value for p in Period],
        "area": area or "",
        "funnel": funnel,
        "stages": STAGES,
        "funnel_year": year,
    }
    return render(request, "figures.html", context)


@router.get("/figures.csv")
def figures_csv(
    viewer: Annotated[Viewer, Depends(analysts)],
    db: Annotated[Database, Depends(get_db)],
    metric: Metric = "referrals",
    period: Period = Period.financial_year,
    area: Area = None,
) -> Response:
    with db.read_session() as session:
        figures = service.figures(session, metric, period, area=area or None)
    rows = [{"period": label, "count": count} for label, count in figures.counts.items()]
    return PlainTextResponse(
        to_csv(rows),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{metric}-{period.value}.csv"'},
    )


@router.get("/figures.json")
def figures_json(
    viewer: Annotated[Viewer, Depends(analysts)],
    db: Annotated[Database, Depends(get_db)],
    metric: Metric = "referrals",
    period: Period = Period.financial_year,
    area: Area = None,
) -> Response:
    with db.read_session() as session:
        figures = service.figures(session, metric, period, area=area or None)
    return Response(
        to_json(figures.to_json()),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{metric}-{period.value}.json"'},
    )


def _funnel_rows(db: Database, year: str | None) -> list[dict[str, object]]:
    start, end = financial_year_window(year)
    with db.read_session() as session:
        return [r.to_json() for r in service.funnel_for(session, start, end)]


@router.get("/funnel.json")
def funnel_json(
    viewer: Annotated[Viewer, Depends(analysts)],
    db: Annotated[Database, Depends(get_db)],
    year: FinancialYear = None,
) -> Response:
    return Response(
        to_json(_funnel_rows(db, year)),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="funnel.json"'},
    )


@router.get("/funnel.csv")
def funnel_csv(
    viewer: Annotated[Viewer, Depends(analysts)],
    db: Annotated[Database, Depends(get_db)],
    year: FinancialYear = None,
) -> Response:
    return PlainTextResponse(
        to_csv(_funnel_rows(db, year), ["area", *STAGES]),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="funnel.csv"'},
    )
