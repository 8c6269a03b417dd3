"""Periods, year-on-year change and the five-year mean: the worked examples of docs/stats.md."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from safeguard.errors import InvalidInput
from safeguard.stats.figures import compare, series
from safeguard.stats.periods import Period, label_of, labels_between, shift, start_of, step

# docs/stats.md, worked example 1 (financial years)
RECORDED = {"2018/19": 201, "2019/20": 245, "2020/21": 296, "2021/22": 359, "2022/23": 875, "2023/24": 1036}


def test_labels() -> None:
    assert label_of(datetime(2024, 3, 31, 23, 59, tzinfo=UTC), Period.financial_year) == "2023/24"
    assert label_of(datetime(2024, 4, 1, tzinfo=UTC), Period.financial_year) == "2024/25"
    assert label_of(datetime(1999, 12, 1, tzinfo=UTC), Period.financial_year) == "1999/00"
    assert label_of(datetime(2024, 8, 5, tzinfo=UTC), Period.quarter) == "2024-Q3"
    assert label_of(datetime(2024, 8, 5, tzinfo=UTC), Period.month) == "2024-08"
    assert shift("2024/25", Period.financial_year) == "2023/24"
    assert shift("2024-Q1", Period.quarter, -5) == "2019-Q1"
    assert step("2024-12", Period.month) == "2025-01" and step("2024-Q4", Period.quarter) == "2025-Q1"
    assert labels_between("2023-11", "2024-02", Period.month) == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert start_of("2023/24", Period.financial_year) == datetime(2023, 4, 1, tzinfo=UTC)
    for bad, period in (("2024-13", Period.month), ("2023/25", Period.financial_year), ("24", Period.year)):
        with pytest.raises(InvalidInput):
            start_of(bad, period)


def test_worked_example_financial_year() -> None:
    result = compare(RECORDED, "2023/24", Period.financial_year)
    assert result.last_year == 875
    assert result.change_pct == Decimal("18.4")  # (1036 - 875) / 875 = 18.40%
    assert result.five_year_mean == Decimal("395.2")  # (201 + 245 + 296 + 359 + 875) / 5 = 1976 / 5
    assert result.vs_mean_pct == Decimal("162.1")  # (1036 - 395.2) / 395.2 = 162.15%
    assert (
        result.describe("crimes") == "1,036 crimes, 18.4% up on last year and 162.1% above the five-year mean"
    )


def test_worked_example_down_and_below() -> None:
    # docs/stats.md, worked example 2: a fall, and fewer than five earlier years
    counts = {"2022-Q2": 120, "2023-Q2": 150, "2024-Q2": 99}
    for label in ("2022-Q3", "2022-Q4", "2023-Q1", "2023-Q3", "2023-Q4", "2024-Q1"):
        counts[label] = 0
    result = compare(counts, "2024-Q2", Period.quarter)
    assert result.change_pct == Decimal("-34.0")  # (99 - 150) / 150
    assert result.years_in_mean == 2 and result.five_year_mean == Decimal("135.0")
    assert result.vs_mean_pct == Decimal("-26.7")  # (99 - 135) / 135 = -26.67%
    assert result.describe() == "99 referrals, 34.0% down on last year and 26.7% below the 2-year mean"


def test_no_base_no_percentage() -> None:
    result = compare({"2024": 5}, "2024", Period.year)
    assert (result.last_year, result.change_pct, result.vs_mean_pct) == (None, None, None)
    assert result.describe("packages") == "5 packages"
    zero = compare({"2023": 0, "2024": 4}, "2024", Period.year)
    assert zero.last_year == 0 and zero.change_pct is None  # growth from zero is not a percentage


def test_rounding_is_half_up() -> None:
    assert compare({"2023": 8, "2024": 9}, "2024", Period.year).change_pct == Decimal("12.5")
    assert compare({"2023": 16, "2024": 17}, "2024", Period.year).change_pct == Decimal("6.3")  # 6.25


def test_series_fills_gaps_and_weights() -> None:
    dates = [
        datetime(2024, 1, 5, tzinfo=UTC),
        datetime(2024, 3, 9, tzinfo=UTC),
        datetime(2024, 3, 20, tzinfo=UTC),
    ]
    assert series(dates, Period.month) == {"2024-01": 1, "2024-02": 0, "2024-03": 2}
    assert series(dates, Period.quarter, weights=[2, 3, 4]) == {"2024-Q1": 9}
    assert series([], Period.year) == {}
