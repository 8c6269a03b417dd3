"""Prioritisation: tiers, scores and the reasons shown; weights from configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from safeguard.intake.config import IntakeConfig, LinkConfig, PriorityConfig, load_config
from safeguard.intake.errors import InvalidConfig
from safeguard.intake.priority import Features, Tier, prioritise
from safeguard.intake.records import Referral, ReportedFile

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def features(*referrals: tuple[Referral, datetime]) -> Features:
    total = Features()
    for referral, when in referrals:
        total.add(Features.of(referral, when))
    return total


def referral(n: int = 1, **values: object) -> Referral:
    return Referral(source="nca", external_id=f"P{n}", **values)  # type: ignore[arg-type]


def test_contact_offending_is_immediate_with_reasons() -> None:
    f = features((referral(indicators=("contact_offending",)), NOW - timedelta(days=3)))
    priority = prioritise(f, PriorityConfig(), NOW)
    assert priority.tier is Tier.immediate
    factors = {r.factor: r for r in priority.reasons}
    assert (
        factors["contact_offending"].points == 60
        and factors["contact_offending"].text == "contact offending reported"
    )
    assert factors["recency"].text == "latest referral 3 days ago"
    assert priority.score == sum(r.points for r in priority.reasons)


def test_volume_and_severity_category_a_first() -> None:
    files = (*(ReportedFile(category="A") for _ in range(4)), ReportedFile(category="C"))
    severe = prioritise(features((referral(files=files), NOW - timedelta(days=100))), PriorityConfig(), NOW)
    mild = prioritise(
        features(
            (referral(files=tuple(ReportedFile(category="C") for _ in range(5))), NOW - timedelta(days=100))
        ),
        PriorityConfig(),
        NOW,
    )
    assert severe.score > mild.score
    reasons = {r.factor: r for r in severe.reasons}
    assert (
        reasons["volume"].points == 4 * 3.0 + 0.5
        and reasons["volume"].text == "5 files (A 4, B 0, C 1, ungraded 0)"
    )
    assert reasons["category_a"].text == "category A material"
    ncmec = prioritise(
        features((referral(files=(ReportedFile(classification="A1"),)), NOW)), PriorityConfig(), NOW
    )
    assert "A1" in {r.factor: r for r in ncmec.reasons}["category_a"].text
    many = tuple(ReportedFile(category="A") for _ in range(40))
    capped = {
        r.factor: r for r in prioritise(features((referral(files=many), NOW)), PriorityConfig(), NOW).reasons
    }
    assert capped["volume"].points == 30 and capped["volume"].text.endswith("(capped)")


def test_escalation_recency_previous_packages() -> None:
    recent = [(referral(n), NOW - timedelta(days=10 * n)) for n in range(1, 5)]
    older = [(referral(10), NOW - timedelta(days=250))]
    priority = prioritise(
        features(*recent, *older), PriorityConfig(), NOW, previous_packages=2, previously_charged=True
    )
    reasons = {r.factor: r for r in priority.reasons}
    assert reasons["escalation"].text == "escalating: 4 referrals in the last 6 months, 1 in the 6 before"
    assert reasons["previous_packages"].points == 20 and reasons["previous_charge"].points == 15
    stale = prioritise(features((referral(), NOW - timedelta(days=400))), PriorityConfig(), NOW)
    assert {r.factor: r for r in stale.reasons}["recency"].points == -10
    assert stale.tier is Tier.low


def test_tiers_follow_configured_weights() -> None:
    f = features((referral(indicators=("sextortion",)), NOW - timedelta(days=60)))
    assert prioritise(f, PriorityConfig(), NOW).tier is Tier.medium  # 40 + 2
    assert prioritise(f, PriorityConfig(sextortion=80), NOW).tier is Tier.high
    assert prioritise(f, PriorityConfig(immediate_factors=("sextortion",)), NOW).tier is Tier.immediate
    minor = features((referral(indicators=("sextortion", "minor_to_minor")), NOW - timedelta(days=60)))
    assert prioritise(minor, PriorityConfig(), NOW).score < prioritise(f, PriorityConfig(), NOW).score


def test_grooming_of_identified_child_counts_once() -> None:
    f = features((referral(indicators=("grooming", "grooming_identified_child")), NOW))
    factors = [r.factor for r in prioritise(f, PriorityConfig(), NOW).reasons]
    assert "grooming_identified_child" in factors and "grooming" not in factors


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "intake.toml"
    path.write_text(
        '[linking]\nip_window_hours = 24\nshared_networks = ["198.18.0.0/15"]\n[priority]\nsextortion = 70\n'
    )
    config = load_config(path)
    assert config.linking.ip_window_hours == 24 and config.linking.shared_networks == ("198.18.0.0/15",)
    assert config.priority.sextortion == 70 and config.priority.contact_offending == 60
    assert load_config(None) == IntakeConfig()
    path.write_text("[linking]\nweak_cap = 2.0\n")
    with pytest.raises(InvalidConfig, match="weak evidence must never merge"):
        load_config(path)
    path.write_text("[priority]\nsextortion = 'lots'\n")
    with pytest.raises(InvalidConfig, match=r"priority\.sextortion"):
        load_config(path)
    path.write_text("[linking\n")
    with pytest.raises(InvalidConfig, match="not valid TOML"):
        load_config(path)
    with pytest.raises(ValueError):
        LinkConfig(media_cap=1.5)
