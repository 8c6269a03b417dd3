"""Suspect prioritisation: a risk tier and a score, with every reason shown.

``score = sum of factor points`` (weights in ``PriorityConfig``, overridable from the TOML file named by
``SAFEGUARD_INTAKE_CONFIG``; docs/intake.md, "Prioritisation"). Factors:

- risk indicators in any referral: contact offending, grooming of an identified child, arranging to meet,
  sextortion, self-generated imagery of an identifiable child, access to children, grooming of an
  unidentified child, a platform's escalation; minor-to-minor interaction subtracts;
- volume and severity of material: points per file by UK category (A first), capped, plus a bonus when any
  category A (or NCMEC A1: prepubescent, sex act) file is present;
- escalation: more referrals in the last six months than in the six before (at least three, and half as
  many again);
- recency: the latest referral within ``recent_days`` adds, one older than ``stale_days`` subtracts;
- previous packages on this suspect, and a previous charge;
- the number of referrals, capped.

The tier is ``immediate`` when an immediate factor is present (by default contact offending, arranging to
meet, grooming of an identified child) or the score reaches ``immediate_score``; then ``high``, ``medium``
and ``low`` by score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from safeguard.intake.config import PriorityConfig
from safeguard.intake.priority.features import Features
from safeguard.intake.records import Indicator
from safeguard.text.wording import plural

__all__ = ["Features", "Priority", "Reason", "Tier", "prioritise"]


class Tier(StrEnum):
    immediate = "immediate"
    high = "high"
    medium = "medium"
    low = "low"


TIER_ORDER = {Tier.immediate: 0, Tier.high: 1, Tier.medium: 2, Tier.low: 3}

_INDICATOR_TEXT = {
    Indicator.contact_offending: "contact offending reported",
    Indicator.grooming_identified_child: "grooming of an identified child",
    Indicator.arranging_to_meet: "arranging to meet a child",
    Indicator.sextortion: "sextortion",
    Indicator.self_generated_identifiable_child: "self-generated imagery of an identifiable child",
    Indicator.access_to_children: "access to children",
    Indicator.grooming: "grooming (child not identified)",
    Indicator.platform_escalated: "platform escalated the report",
    Indicator.minor_to_minor: "minor-to-minor interaction",
}


@dataclass(frozen=True, slots=True)
class Reason:
    factor: str
    points: float
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"factor": self.factor, "points": round(self.points, 2), "reason": self.text}


@dataclass(frozen=True, slots=True)
class Priority:
    tier: Tier
    score: float
    reasons: list[Reason] = field(default_factory=list)

    def reasons_json(self) -> list[dict[str, Any]]:
        return [reason.to_json() for reason in self.reasons]


def prioritise(
    features: Features,
    config: PriorityConfig,
    now: datetime,
    *,
    previous_packages: int = 0,
    previously_charged: bool = False,
) -> Priority:
    reasons: list[Reason] = []
    for indicator in Indicator:
        count = features.indicators.get(indicator.value, 0)
        if indicator is Indicator.grooming and features.indicators.get(
            Indicator.grooming_identified_child.value
        ):
            continue  # counted once, as grooming of an identified child
        if count:
            points = float(getattr(config, indicator.value))
            times = f" ({count} referrals)" if count > 1 else ""
            reasons.append(Reason(indicator.value, points, f"{_INDICATOR_TEXT[indicator]}{times}"))

    graded = features.categories
    volume = (
        graded.get("A", 0) * config.category_a_file
        + graded.get("B", 0) * config.category_b_file
        + graded.get("C", 0) * config.category_c_file
        + (sum(features.classifications.values()) + features.unclassified) * config.unclassified_file
    )
    if volume:
        files = sum(graded.values()) + sum(features.classifications.values()) + features.unclassified
        ungraded = files - sum(graded.values())
        counts = ", ".join(f"{c} {graded.get(c, 0)}" for c in "ABC")
        text = f"{files} files ({counts}, ungraded {ungraded})"
        capped = " (capped)" if volume > config.volume_cap else ""
        reasons.append(Reason("volume", min(volume, config.volume_cap), text + capped))
    if graded.get("A", 0) or features.classifications.get("A1", 0):
        basis = (
            "category A material"
            if graded.get("A", 0)
            else "material the platform classed A1 (prepubescent, sex act)"
        )
        reasons.append(Reason("category_a", config.category_a_present, basis))

    recent_half, earlier_half = _halves(features, now)
    if recent_half >= 3 and recent_half >= 1.5 * max(earlier_half, 1):
        reasons.append(
            Reason(
                "escalation",
                config.escalation,
                f"escalating: {recent_half} referrals in the last 6 months, {earlier_half} in the 6 before",
            )
        )
    if features.last is not None:
        age = (now - features.last).days
        if age <= config.recent_days:
            reasons.append(Reason("recency", config.recent, f"latest referral {max(age, 0)} days ago"))
        elif age > config.stale_days:
            reasons.append(Reason("recency", config.stale, f"latest referral {age} days ago"))
    if previous_packages:
        reasons.append(
            Reason(
                "previous_packages",
                config.previous_package * previous_packages,
                f"{plural(previous_packages, 'previous package')} on this suspect",
            )
        )
    if previously_charged:
        reasons.append(Reason("previous_charge", config.previous_charge, "previously charged"))
    if features.referrals:
        points = min(features.referrals * config.referral, config.referral_cap)
        reasons.append(Reason("referrals", points, plural(features.referrals, "referral")))

    score = round(sum(r.points for r in reasons), 2)
    if any(r.factor in config.immediate_factors for r in reasons) or score >= config.immediate_score:
        tier = Tier.immediate
    elif score >= config.high_score:
        tier = Tier.high
    elif score >= config.medium_score:
        tier = Tier.medium
    else:
        tier = Tier.low
    reasons.sort(key=lambda r: -r.points)
    return Priority(tier, score, reasons)


def _halves(features: Features, now: datetime) -> tuple[int, int]:
    """Referrals in the last 6 months and in the 6 months before, from the monthly counts."""
    recent_start = (now - timedelta(days=182)).strftime("%Y-%m")
    earlier_start = (now - timedelta(days=365)).strftime("%Y-%m")
    current = now.strftime("%Y-%m")
    recent = sum(n for month, n in features.months.items() if recent_start < month <= current)
    earlier = sum(n for month, n in features.months.items() if earlier_start < month <= recent_start)
    return recent, earlier
