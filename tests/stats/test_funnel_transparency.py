"""The funnel by area, the transparency report, exports and charts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeguard.errors import InvalidInput
from safeguard.stats.charts import funnel_chart, series_chart
from safeguard.stats.export import to_csv, to_json
from safeguard.stats.figures import compare
from safeguard.stats.funnel import PackageFacts, funnel
from safeguard.stats.periods import Period, financial_year_window, funnel_window
from safeguard.stats.transparency import EventKind, ModerationEvent, transparency_report

APRIL = datetime(2024, 4, 1, tzinfo=UTC)
NEXT_APRIL = datetime(2025, 4, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return APRIL + timedelta(days=n)


def test_funnel_counts_each_stage_in_the_period_by_area() -> None:
    facts = [
        PackageFacts("Glasgow City", day(1), (day(0), day(1), day(2)), day(10), day(20), 2, day(20)),
        PackageFacts("Glasgow City", day(5), (day(5),)),
        PackageFacts("Fife", day(3), (day(2), day(3)), day(40)),
        PackageFacts("Fife", day(-30), (day(-31),), day(2), day(3), 1, day(3)),  # created last year
        PackageFacts("unknown", day(400), (day(400),)),  # next year: not counted
    ]
    rows = funnel(facts, APRIL, NEXT_APRIL)
    assert [r.area for r in rows] == ["Glasgow City", "Fife", "all areas"]
    glasgow, fife, total = rows
    assert glasgow.values() == {
        "referrals": 4,
        "packages": 2,
        "actioned": 1,
        "apprehended": 1,
        "children_safeguarded": 2,
    }
    assert fife.values() == {
        "referrals": 2,
        "packages": 1,
        "actioned": 2,
        "apprehended": 1,
        "children_safeguarded": 1,
    }
    assert total.values() == {
        "referrals": 6,
        "packages": 3,
        "actioned": 3,
        "apprehended": 2,
        "children_safeguarded": 3,
    }
    assert total.rates == {
        "packages_per_referrals": 0.5,
        "actioned_per_packages": 1.0,
        "apprehended_per_actioned": 0.667,
    }


def test_police_scotland_shape() -> None:
    # The figures the issue cites: 2,498 packages, 1,226 actioned, 586 apprehended, 1,081 children.
    facts = [
        PackageFacts(
            "Police Scotland",
            day(1),
            (day(1),) * 3,
            day(2) if n < 1226 else None,
            day(3) if n < 586 else None,
            1081 if n == 0 else 0,
            day(3) if n == 0 else None,
        )
        for n in range(2498)
    ]
    total = funnel(facts, APRIL, NEXT_APRIL)[-1]
    assert (total.packages, total.actioned, total.apprehended, total.children_safeguarded) == (
        2498,
        1226,
        586,
        1081,
    )
    assert total.rates["actioned_per_packages"] == 0.491


def test_transparency_report() -> None:
    events = [
        ModerationEvent("c1", EventKind.detected, day(1), detection="hash_match", category="csam"),
        ModerationEvent(
            "c1", EventKind.actioned, day(1) + timedelta(hours=2), action="removed", category="csam"
        ),
        ModerationEvent("c1", EventKind.reported, day(2), destination="NCA"),
        ModerationEvent("c2", EventKind.detected, day(3), detection="user_report"),
        ModerationEvent("c2", EventKind.detected, day(2), detection="classifier"),  # earlier detection wins
        ModerationEvent("c2", EventKind.actioned, day(4), action="removed"),
        ModerationEvent("c3", EventKind.detected, day(5), detection="user_report", category="grooming"),
        ModerationEvent(
            "c3",
            EventKind.actioned,
            day(5) + timedelta(hours=50),
            action="account_suspended",
            category="grooming",
        ),
        ModerationEvent("c3", EventKind.reported, day(6), destination="NCA"),
        ModerationEvent("c4", EventKind.detected, day(7), detection="user_report"),  # not actioned
        ModerationEvent("c5", EventKind.actioned, day(500), action="removed"),  # outside the period
    ]
    report = transparency_report(events, APRIL, NEXT_APRIL)
    assert report.content_detected == 4 and report.detected_by == {
        "hash_match": 1,
        "classifier": 1,
        "user_report": 2,
    }
    assert report.proactive_share == 0.5
    assert report.content_actioned == 3 and report.actions == {"removed": 2, "account_suspended": 1}
    assert report.reports_made == 2 and report.reports_by_destination == {"NCA": 2}
    assert report.median_hours_to_action == 48.0  # 2 h, 48 h, 50 h
    assert report.p90_hours_to_action == 50.0
    assert report.actioned_within_24h_share == 0.333
    assert json.loads(to_json(report.to_json()))["reports_made"] == 2


def test_exports() -> None:
    rows = [{"area": "Fife", "referrals": 2, "rates": {"x": 0.5, "y": None}}]
    assert to_csv(rows) == "area,referrals,rates.x,rates.y\nFife,2,0.5,\n"
    assert json.loads(to_json(rows))[0]["rates"]["x"] == 0.5


def test_charts(tmp_path: Path) -> None:
    counts = {"2022/23": 875, "2023/24": 1036}
    png = series_chart(
        counts, compare(counts, "2023/24", Period.financial_year), "Referrals", tmp_path / "s.png"
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = funnel([PackageFacts("Fife", day(1), (day(1),), day(2))], APRIL, NEXT_APRIL)
    svg = funnel_chart(rows, "Funnel", tmp_path / "f.svg")
    assert b"<svg" in svg.read_bytes()[:500]
    with pytest.raises(InvalidInput, match=r"png or \.svg"):
        series_chart(counts, None, "x", tmp_path / "s.pdf")


def test_the_funnel_window_defaults_to_the_financial_year_of_now() -> None:
    march = datetime(2025, 3, 31, 23, 59, tzinfo=UTC)
    april = datetime(2025, 4, 1, tzinfo=UTC)
    assert funnel_window(now=march) == (datetime(2024, 4, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    assert funnel_window(now=april) == (datetime(2025, 4, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert financial_year_window("2023/24") == (
        datetime(2023, 4, 1, tzinfo=UTC),
        datetime(2024, 4, 1, tzinfo=UTC),
    )
    assert funnel_window(april, april + timedelta(days=7))[1] == datetime(2025, 4, 8, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused:
        funnel_window(datetime(2024, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC))
    assert refused.value.field == "end"
