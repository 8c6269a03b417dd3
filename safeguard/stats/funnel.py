"""The intake funnel by area: referrals -> packages -> actioned -> apprehended -> children safeguarded.

Each stage counts what happened in the period: referrals received, packages created, packages actioned,
suspects apprehended, and children safeguarded (the counts recorded on packages, dated when recorded). A
package's area is where most of its referrals were located: the Scottish council, else the police force
area, else ``unknown``. The stages of one period are not one cohort: a package actioned in April may hold
referrals received in March.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

STAGES = ("referrals", "packages", "actioned", "apprehended", "children_safeguarded")


@dataclass(frozen=True, slots=True)
class PackageFacts:
    """What the funnel needs to know about one package (the stats service reads these from intake)."""

    area: str
    created_at: datetime
    referrals_received: tuple[datetime, ...] = ()
    actioned_at: datetime | None = None
    apprehended_at: datetime | None = None
    children_safeguarded: int = 0
    safeguarded_at: datetime | None = None


@dataclass(slots=True)
class FunnelRow:
    area: str
    referrals: int = 0
    packages: int = 0
    actioned: int = 0
    apprehended: int = 0
    children_safeguarded: int = 0
    rates: dict[str, float | None] = field(default_factory=dict)

    def values(self) -> dict[str, int]:
        return {stage: int(getattr(self, stage)) for stage in STAGES}

    def to_json(self) -> dict[str, object]:
        return {"area": self.area, **self.values(), "rates": self.rates}


def funnel(facts: Iterable[PackageFacts], start: datetime, end: datetime) -> list[FunnelRow]:
    """Rows per area (largest first) and a last ``all areas`` row, for ``start <= date < end``."""
    rows: dict[str, FunnelRow] = {}
    total = FunnelRow("all areas")

    def inside(when: datetime | None) -> bool:
        return when is not None and start <= when < end

    for fact in facts:
        row = rows.setdefault(fact.area, FunnelRow(fact.area))
        counts = {
            "referrals": sum(1 for d in fact.referrals_received if inside(d)),
            "packages": int(inside(fact.created_at)),
            "actioned": int(inside(fact.actioned_at)),
            "apprehended": int(inside(fact.apprehended_at)),
            "children_safeguarded": fact.children_safeguarded if inside(fact.safeguarded_at) else 0,
        }
        for stage, value in counts.items():
            setattr(row, stage, getattr(row, stage) + value)
            setattr(total, stage, getattr(total, stage) + value)
    out = sorted((r for r in rows.values() if any(r.values().values())), key=lambda r: (-r.referrals, r.area))
    out.append(total)
    for row in out:
        row.rates = _rates(row)
    return out


def _rates(row: FunnelRow) -> dict[str, float | None]:
    """Each stage as a share of the one before (packages per referral, actioned per package, ...)."""
    values = row.values()
    rates: dict[str, float | None] = {}
    for before, after in itertools.pairwise(STAGES[:-1]):
        rates[f"{after}_per_{before}"] = round(values[after] / values[before], 3) if values[before] else None
    return rates
