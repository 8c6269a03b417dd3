"""What prioritisation reads about a suspect, kept as a small summary that adds up across referrals.

A suspect's features are the sum of its referrals' features, so an import folds each new referral in and a
merge adds two summaries, without re-reading every referral. Stored as JSON on the suspect.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from safeguard.intake.records import Referral


@dataclass(slots=True)
class Features:
    referrals: int = 0
    indicators: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)  # UK category A/B/C of graded files
    classifications: Counter[str] = field(default_factory=Counter)  # NCMEC A1..B2 of ungraded files
    unclassified: int = 0
    months: Counter[str] = field(default_factory=Counter)  # referrals per month (YYYY-MM)
    areas: Counter[str] = field(default_factory=Counter)  # "force|council" of referrals with a location
    first: datetime | None = None
    last: datetime | None = None

    @classmethod
    def of(cls, referral: Referral, when: datetime, area: str | None = None) -> Features:
        features = cls(referrals=1, first=when, last=when)
        if area:
            features.areas[area] += 1
        features.indicators.update(set(referral.indicators))
        for file in referral.files:
            if file.category:
                features.categories[file.category] += 1
            elif file.classification:
                features.classifications[file.classification] += 1
            else:
                features.unclassified += 1
        features.months[when.strftime("%Y-%m")] += 1
        return features

    def add(self, other: Features) -> Features:
        self.referrals += other.referrals
        self.indicators.update(other.indicators)
        self.categories.update(other.categories)
        self.classifications.update(other.classifications)
        self.unclassified += other.unclassified
        self.months.update(other.months)
        self.areas.update(other.areas)
        firsts = [d for d in (self.first, other.first) if d is not None]
        lasts = [d for d in (self.last, other.last) if d is not None]
        self.first = min(firsts) if firsts else None
        self.last = max(lasts) if lasts else None
        return self

    def main_area(self) -> tuple[str | None, str | None]:
        """(force, council) most referrals were located in, or (None, None)."""
        if not self.areas:
            return None, None
        force, _, council = max(self.areas.items(), key=lambda kv: (kv[1], kv[0]))[0].partition("|")
        return force or None, council or None

    def to_json(self) -> dict[str, Any]:
        return {
            "referrals": self.referrals,
            "indicators": dict(self.indicators),
            "categories": dict(self.categories),
            "classifications": dict(self.classifications),
            "unclassified": self.unclassified,
            "months": dict(self.months),
            "areas": dict(self.areas),
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Features:
        if not data:
            return cls()
        return cls(
            referrals=int(data.get("referrals", 0)),
            indicators=Counter(data.get("indicators", {})),
            categories=Counter(data.get("categories", {})),
            classifications=Counter(data.get("classifications", {})),
            unclassified=int(data.get("unclassified", 0)),
            months=Counter(data.get("months", {})),
            areas=Counter(data.get("areas", {})),
            first=datetime.fromisoformat(data["first"]) if data.get("first") else None,
            last=datetime.fromisoformat(data["last"]) if data.get("last") else None,
        )
