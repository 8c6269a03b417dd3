"""Reporting periods: calendar months, quarters and years, and financial years (1 April - 31 March).

Labels are what the figures print: ``2024-05`` (month), ``2024-Q2`` (calendar quarter), ``2024`` (calendar
year), ``2024/25`` (financial year 1 April 2024 - 31 March 2025, as police recorded-crime statistics use).
``shift(label, -1)`` is the same period a year earlier, which is what "up on last year" compares with.
:func:`funnel_window` is the one place the funnel's default window (the current financial year) is worked
out, for the API, the CLI and the web pages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum

from safeguard.errors import InvalidInput

FY_START_MONTH = 4


class Period(StrEnum):
    month = "month"
    quarter = "quarter"
    year = "year"
    financial_year = "financial_year"


def label_of(when: datetime, period: Period) -> str:
    if period is Period.month:
        return f"{when.year:04d}-{when.month:02d}"
    if period is Period.quarter:
        return f"{when.year:04d}-Q{(when.month - 1) // 3 + 1}"
    if period is Period.year:
        return f"{when.year:04d}"
    start = when.year if when.month >= FY_START_MONTH else when.year - 1
    return f"{start:04d}/{(start + 1) % 100:02d}"


_PATTERNS = {
    Period.month: re.compile(r"^(\d{4})-(\d{2})$"),
    Period.quarter: re.compile(r"^(\d{4})-Q([1-4])$"),
    Period.year: re.compile(r"^(\d{4})$"),
    Period.financial_year: re.compile(r"^(\d{4})/(\d{2})$"),
}


MIN_YEAR = 1900
MAX_YEAR = 9000


def _parse(label: str, period: Period) -> tuple[int, int]:
    match = _PATTERNS[period].match(label)
    if match is None:
        raise InvalidInput(f"{label!r} is not a {period.value} label (e.g. {example(period)})", field="label")
    first = int(match.group(1))
    second = int(match.group(2)) if match.lastindex and match.lastindex > 1 else 0
    # Figures compare with up to five years before and step one period past the last, so labels stay well
    # inside what datetime can hold (years 1 to 9999); year 0 used to reach datetime() and answer 500.
    if not MIN_YEAR <= first <= MAX_YEAR:
        raise InvalidInput(f"{label!r}: the year must lie between {MIN_YEAR} and {MAX_YEAR}", field="label")
    if period is Period.month and not 1 <= second <= 12:
        raise InvalidInput(f"{label!r}: month must be 01-12", field="label")
    if period is Period.financial_year and (first + 1) % 100 != second:
        raise InvalidInput(f"{label!r}: a financial year runs from one year into the next (e.g. 2024/25)")
    return first, second


def example(period: Period) -> str:
    return {Period.month: "2024-05", Period.quarter: "2024-Q2", Period.year: "2024"}.get(period, "2024/25")


def start_of(label: str, period: Period) -> datetime:
    first, second = _parse(label, period)
    if period is Period.month:
        return datetime(first, second, 1, tzinfo=UTC)
    if period is Period.quarter:
        return datetime(first, 3 * (second - 1) + 1, 1, tzinfo=UTC)
    if period is Period.year:
        return datetime(first, 1, 1, tzinfo=UTC)
    return datetime(first, FY_START_MONTH, 1, tzinfo=UTC)


def shift(label: str, period: Period, years: int = -1) -> str:
    """The same period ``years`` years away (-1: a year earlier)."""
    first, second = _parse(label, period)
    year = first + years
    if period is Period.month:
        return f"{year:04d}-{second:02d}"
    if period is Period.quarter:
        return f"{year:04d}-Q{second}"
    if period is Period.year:
        return f"{year:04d}"
    return f"{year:04d}/{(year + 1) % 100:02d}"


def step(label: str, period: Period) -> str:
    """The next period."""
    first, second = _parse(label, period)
    if period is Period.month:
        return f"{first + second // 12:04d}-{second % 12 + 1:02d}"
    if period is Period.quarter:
        return f"{first + second // 4:04d}-Q{second % 4 + 1}"
    return shift(label, period, 1)


def labels_between(first: str, last: str, period: Period) -> list[str]:
    """Every label from ``first`` to ``last`` inclusive (labels sort in time order)."""
    out = [first]
    while out[-1] < last:
        out.append(step(out[-1], period))
    return out


def financial_year_window(
    label: str | None = None, *, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """``[start, end)`` of the financial year ``label`` (``2024/25``), or of the one ``now`` falls in."""
    label = label or label_of(now or datetime.now(UTC), Period.financial_year)
    start = start_of(label, Period.financial_year)
    return start, start.replace(year=start.year + 1)


def funnel_window(
    start: datetime | None = None, end: datetime | None = None, *, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """``[start, end)`` for the funnel: ``start`` defaults to the start of the current financial year,
    ``end`` (exclusive) to a year after ``start``. Dates outside the years figures handle are a 422 naming
    the field (a default end past year 9999 used to overflow datetime)."""
    begin = start or financial_year_window(now=now)[0]
    if not MIN_YEAR <= begin.year <= MAX_YEAR:
        raise InvalidInput(f"dates must lie between {MIN_YEAR} and {MAX_YEAR}", field="start")
    finish = end or begin.replace(year=begin.year + 1)
    if not MIN_YEAR <= finish.year <= MAX_YEAR:
        raise InvalidInput(f"dates must lie between {MIN_YEAR} and {MAX_YEAR}", field="end")
    return begin, finish
