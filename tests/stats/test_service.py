"""Figures read from the intake tables (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from safeguard.auth import Actor
from safeguard.errors import InvalidInput
from safeguard.intake import packages, service
from safeguard.stats import service as stats
from safeguard.stats.periods import Period
from safeguard.store.db import Database

ACTOR = Actor.system("tests")


def _referrals(year_counts: dict[int, int]) -> bytes:
    items = []
    for year, count in year_counts.items():
        for n in range(count):
            items.append(
                {
                    "source": "nca",
                    "id": f"Y{year}-{n}",
                    "received_at": datetime(year, 6, 1 + n % 28, tzinfo=UTC).isoformat(),
                    "person": {"emails": [f"p{year}-{n % 3}@example.org"], "locations": [{"city": "Dundee"}]},
                }
            )
    return json.dumps({"format": "safeguard.referrals/v1", "referrals": items}).encode()


def test_counts_comparison_and_funnel(db: Database) -> None:
    with db.session() as session:
        service.import_file(
            session, ACTOR, _referrals({2019: 4, 2020: 5, 2021: 6, 2022: 5, 2023: 10, 2024: 12})
        )
    with db.read_session() as session:
        figures = stats.figures(session, "referrals", Period.financial_year)
        assert figures.counts == {
            "2019/20": 4,
            "2020/21": 5,
            "2021/22": 6,
            "2022/23": 5,
            "2023/24": 10,
            "2024/25": 12,
        }
        comparison = figures.comparison
        assert comparison is not None and comparison.label == "2024/25"
        assert comparison.change_pct == Decimal("20.0") and comparison.five_year_mean == Decimal("6.0")
        assert comparison.vs_mean_pct == Decimal("100.0")
        assert (
            figures.to_json()["summary"]
            == "12 referrals, 20.0% up on last year and 100.0% above the five-year mean"
        )
        older = stats.figures(session, "referrals", Period.financial_year, label="2021/22")
        assert older.comparison is not None and older.comparison.years_in_mean == 2
        assert stats.figures(session, "referrals", Period.year, area="Dundee City").counts["2024"] == 12
        assert stats.figures(session, "referrals", Period.year, area="Fife").counts == {}
        packages_fig = stats.figures(session, "packages", Period.month)
        assert sum(packages_fig.counts.values()) == 18  # 3 email groups a year, one package each
        with pytest.raises(InvalidInput, match="unknown metric"):
            stats.figures(session, "crimes", Period.year)
        with pytest.raises(InvalidInput):
            stats.figures(session, "referrals", Period.year, label="last year")
        suspect = packages.search(session, "p2024-0@example.org").hits[0].suspect_id
    assert suspect is not None
    with db.session() as session:
        packages.set_state(session, ACTOR, suspect, "actioned")
        packages.record_outcome(session, ACTOR, suspect, apprehended=True, children_safeguarded=3)
    now = datetime.now(UTC)
    with db.read_session() as session:
        rows = stats.funnel_for(session, datetime(2000, 1, 1, tzinfo=UTC), now.replace(year=now.year + 1))
        (dundee, total) = rows
        assert dundee.area == "Dundee City"
        assert total.values() == {
            "referrals": 42,
            "packages": 18,
            "actioned": 1,
            "apprehended": 1,
            "children_safeguarded": 3,
        }
        safeguarded = stats.figures(session, "children_safeguarded", Period.year)
        assert list(safeguarded.counts.values()) == [3]
        with pytest.raises(InvalidInput):
            stats.funnel_for(session, now, now)
