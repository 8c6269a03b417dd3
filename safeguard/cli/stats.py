"""``safeguard stats ...``: figures per period, the intake funnel, charts and the transparency report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from rich.table import Table

from safeguard.cli.common import console, err_console, open_db
from safeguard.errors import InvalidInput, MalformedInput
from safeguard.stats import charts, service
from safeguard.stats.export import to_csv, to_json
from safeguard.stats.funnel import STAGES
from safeguard.stats.periods import Period, funnel_window
from safeguard.stats.transparency import EventKind, ModerationEvent, transparency_report

app = typer.Typer(
    help="Figures: counts per period, comparisons, the intake funnel, charts.", no_args_is_help=True
)


def _date(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--{name} must be a date like 2024-04-01, not {text!r}", field=name) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command("report")
def report(
    metric: Annotated[str, typer.Option(help=", ".join(service.METRICS))] = "referrals",
    period: Annotated[
        Period, typer.Option(help="month, quarter, year or financial_year")
    ] = Period.financial_year,
    label: Annotated[
        str | None, typer.Option(help="Period to compare, e.g. 2024/25 (default: latest)")
    ] = None,
    area: Annotated[str | None, typer.Option(help="Council or force area")] = None,
    format: Annotated[str, typer.Option(help="table, csv or json")] = "table",
    chart: Annotated[Path | None, typer.Option(help="Also draw a chart (.png or .svg)")] = None,
) -> None:
    """Counts per period, with the change on last year and on the five-year mean."""
    db = open_db()
    try:
        with db.read_session() as session:
            figures = service.figures(session, metric, period, label=label, area=area)
    finally:
        db.dispose()
    data = figures.to_json()
    if chart is not None:
        title = data["summary"] or f"{metric} per {period.value}"
        charts.series_chart(figures.counts, figures.comparison, f"{title} ({area or 'all areas'})", chart)
        err_console.print(f"chart written to {chart}")
    if format == "json":
        print(to_json(data), end="")
    elif format == "csv":
        print(to_csv(data["counts"]), end="")
    elif format == "table":
        table = Table(period.value.replace("_", " "), metric.replace("_", " "), title=area or "all areas")
        for row in data["counts"]:
            table.add_row(row["period"], f"{row['count']:,}")
        console.print(table)
        console.print(data["summary"] or "no data")
    else:
        raise InvalidInput(f"--format must be table, csv or json, not {format!r}", field="format")


@app.command("funnel")
def funnel(
    start: Annotated[
        str | None, typer.Option(help="First day (default: start of this financial year)")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Day after the last (default: a year after start)")] = None,
    format: Annotated[str, typer.Option(help="table, csv or json")] = "table",
    chart: Annotated[Path | None, typer.Option(help="Also draw a chart (.png or .svg)")] = None,
) -> None:
    """Referrals -> packages -> actioned -> apprehended -> children safeguarded, by area."""
    begin, finish = funnel_window(_date(start, "start"), _date(end, "end"))
    db = open_db()
    try:
        with db.read_session() as session:
            rows = service.funnel_for(session, begin, finish)
    finally:
        db.dispose()
    if chart is not None:
        charts.funnel_chart(rows, f"Intake funnel {begin:%Y-%m-%d} to {finish:%Y-%m-%d}", chart)
        err_console.print(f"chart written to {chart}")
    if format == "json":
        print(to_json({"start": begin, "end": finish, "rows": [r.to_json() for r in rows]}), end="")
    elif format == "csv":
        print(to_csv([r.to_json() for r in rows], ["area", *STAGES]), end="")
    elif format == "table":
        table = Table(
            "area", *(s.replace("_", " ") for s in STAGES), title=f"{begin:%Y-%m-%d} to {finish:%Y-%m-%d}"
        )
        for row in rows:
            table.add_row(row.area, *(f"{v:,}" for v in row.values().values()))
        console.print(table)
    else:
        raise InvalidInput(f"--format must be table, csv or json, not {format!r}", field="format")


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_id: str
    kind: EventKind
    at: AwareDatetime
    detection: str | None = None
    action: str | None = None
    destination: str | None = None
    category: str | None = None


@app.command("transparency")
def transparency(
    events_file: Annotated[Path, typer.Argument(help="JSON list of moderation events (docs/stats.md)")],
    start: Annotated[str, typer.Option(help="First day of the period")],
    end: Annotated[str, typer.Option(help="Day after the last")],
) -> None:
    """Reports made, content actioned and time from detection to action (JSON on stdout)."""
    try:
        raw: Any = json.loads(events_file.read_text(encoding="utf-8"))
        events = [ModerationEvent(**_Event.model_validate(item).model_dump()) for item in raw]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedInput(f"{events_file}: not JSON ({exc})") from None
    except (ValidationError, TypeError) as exc:
        raise InvalidInput(
            f"{events_file}: not a list of moderation events ({str(exc).splitlines()[0]})"
        ) from None
    begin, finish = _date(start, "start"), _date(end, "end")
    assert begin is not None and finish is not None
    print(to_json(transparency_report(events, begin, finish).to_json()), end="")
