"""Counts per period, year-on-year change and comparison with the five-year mean.

The arithmetic (docs/stats.md has worked examples):

- **change on last year** = (this period - same period last year) / same period last year x 100;
- **five-year mean** = mean of the same period in each of the five years before this one;
- **above/below the five-year mean** = (this period - five-year mean) / five-year mean x 100.

Percentages are rounded half away from zero to one decimal place, as published statistics round. With
fewer than five earlier years the mean of those available is given and ``years_in_mean`` says how many;
with none (or a zero base) the percentage is not given rather than infinite.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from safeguard.stats.periods import Period, label_of, labels_between, shift

MEAN_YEARS = 5
_ONE_DP = Decimal("0.1")


def series(
    dates: Iterable[datetime], period: Period, *, weights: Iterable[int] | None = None
) -> dict[str, int]:
    """Counts per period label, every period between the first and the last present (zeros included)."""
    counts: Counter[str] = Counter()
    if weights is None:
        counts.update(label_of(d, period) for d in dates)
    else:
        for when, weight in zip(dates, weights, strict=True):
            counts[label_of(when, period)] += weight
    if not counts:
        return {}
    labels = labels_between(min(counts), max(counts), period)
    return {label: counts.get(label, 0) for label in labels}


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return (part / whole * 100).quantize(_ONE_DP, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Comparison:
    label: str
    value: int
    last_year: int | None
    change_pct: Decimal | None  # vs the same period last year
    five_year_mean: Decimal | None
    vs_mean_pct: Decimal | None  # vs the mean of the same period in the (up to) five years before
    years_in_mean: int

    def describe(self, noun: str = "referrals") -> str:
        """``1,036 crimes, 18.4% up on last year and 162.1% above the five-year mean``."""
        parts = [f"{self.value:,} {noun}"]
        if self.change_pct is not None:
            parts.append(_direction(self.change_pct, "up on", "down on", "the same as") + " last year")
        if self.vs_mean_pct is not None:
            mean = "five-year mean" if self.years_in_mean == MEAN_YEARS else f"{self.years_in_mean}-year mean"
            parts.append(_direction(self.vs_mean_pct, "above", "below", "equal to") + f" the {mean}")
        if len(parts) == 3:
            return f"{parts[0]}, {parts[1]} and {parts[2]}"
        return ", ".join(parts)

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "value": self.value,
            "last_year": self.last_year,
            "change_pct": float(self.change_pct) if self.change_pct is not None else None,
            "five_year_mean": float(self.five_year_mean) if self.five_year_mean is not None else None,
            "vs_mean_pct": float(self.vs_mean_pct) if self.vs_mean_pct is not None else None,
            "years_in_mean": self.years_in_mean,
        }


def _direction(pct: Decimal, up: str, down: str, same: str) -> str:
    if pct > 0:
        return f"{pct}% {up}"
    if pct < 0:
        return f"{-pct}% {down}"
    return same


def compare(counts: dict[str, int], label: str, period: Period) -> Comparison:
    """This period against last year and the five-year mean (earlier periods missing from ``counts``
    are taken as unknown, periods inside the series' span with no events as zero)."""
    value = counts.get(label, 0)
    first = min(counts) if counts else label
    previous = shift(label, period, -1)
    last_year = counts.get(previous, 0) if previous >= first else None
    change = percent(Decimal(value - last_year), Decimal(last_year)) if last_year is not None else None
    earlier = [shift(label, period, -k) for k in range(1, MEAN_YEARS + 1)]
    known = [counts.get(e, 0) for e in earlier if e >= first]
    mean = (Decimal(sum(known)) / len(known)).quantize(_ONE_DP, rounding=ROUND_HALF_UP) if known else None
    exact_mean = Decimal(sum(known)) / len(known) if known else None
    vs_mean = percent(Decimal(value) - exact_mean, exact_mean) if exact_mean is not None else None
    return Comparison(label, value, last_year, change, mean, vs_mean, len(known))
