"""Linking evidence: what the rules find between two referrals, how much it weighs, and why.

Rules (docs/intake.md, "Linking"): strong evidence merges suspects on its own; medium evidence needs a
second piece (another medium, or weak evidence); weak evidence only adds to other evidence (all weak evidence
between two suspects together stays below the threshold). Evidence about the same identifier counts once
between two suspects however many referrals repeat it (``key``).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

from safeguard.intake.config import LinkConfig
from safeguard.intake.identifiers import IdKind


class Strength(StrEnum):
    strong = "strong"
    medium = "medium"
    weak = "weak"
    analyst = "analyst"


class Rule(StrEnum):
    same_account = "same_account"
    same_email = "same_email"
    same_phone = "same_phone"
    same_screen_name = "same_screen_name"
    same_ip = "same_ip"
    same_media = "same_media"
    same_device = "same_device"
    similar_username = "similar_username"
    analyst_merge = "analyst_merge"


RULE_OF_KIND: dict[IdKind, Rule] = {
    IdKind.account: Rule.same_account,
    IdKind.email: Rule.same_email,
    IdKind.phone: Rule.same_phone,
    IdKind.screen_name: Rule.same_screen_name,
    IdKind.ip: Rule.same_ip,
    IdKind.device: Rule.same_device,
    IdKind.md5: Rule.same_media,
    IdKind.sha1: Rule.same_media,
    IdKind.sha256: Rule.same_media,
    IdKind.pdq: Rule.same_media,
    IdKind.username: Rule.similar_username,
}
STRENGTH: dict[Rule, Strength] = {
    Rule.same_account: Strength.strong,
    Rule.same_email: Strength.strong,
    Rule.same_phone: Strength.strong,
    Rule.same_screen_name: Strength.strong,
    Rule.same_ip: Strength.medium,
    Rule.same_media: Strength.medium,
    Rule.same_device: Strength.medium,
    Rule.similar_username: Strength.weak,
    Rule.analyst_merge: Strength.analyst,
}


def rule_weight(rule: Rule, config: LinkConfig) -> float:
    return {
        Rule.same_account: config.account_weight,
        Rule.same_email: config.email_weight,
        Rule.same_phone: config.phone_weight,
        Rule.same_screen_name: config.screen_name_weight,
        Rule.same_ip: config.ip_weight,
        Rule.same_media: config.media_weight,
        Rule.same_device: config.device_weight,
        Rule.similar_username: config.username_weight,
        Rule.analyst_merge: config.threshold,
    }[rule]


def shared_limit(rule: Rule, config: LinkConfig) -> int | None:
    """How many otherwise unlinked suspects may share an identifier before it stops counting."""
    return {
        Rule.same_ip: config.shared_ip_suspects,
        Rule.same_media: config.shared_media_suspects,
        Rule.same_device: config.shared_device_suspects,
        Rule.similar_username: config.shared_username_suspects,
    }.get(rule)


class Evidence(NamedTuple):
    # A NamedTuple: linking makes one per match, and tuples are built in C (a frozen dataclass costs
    # a Python-level __setattr__ per field).
    rule: Rule
    key: str  # the identifier it is about; evidence on one key counts once between two suspects
    weight: float
    referral_a: int
    referral_b: int
    detail: str = ""  # the identifier's value (or an analyst's note)
    measure: float | None = None  # IP: hours between the captures; PDQ: bits that differ

    @property
    def strength(self) -> Strength:
        return STRENGTH[self.rule]

    @property
    def explanation(self) -> str:
        """The sentence an analyst reads (built on demand: linking makes many more than anyone reads)."""
        parts = self.key.split(":", 2)
        scope = parts[1] if len(parts) > 2 else ""
        if self.rule is Rule.same_ip:
            return f"same IP address {self.detail} used {self.measure or 0:.1f} h apart"
        if self.rule is Rule.same_media:
            if scope == "pdq":
                return f"PDQ-matched media ({int(self.measure or 0)} of 256 bits differ)"
            return f"same file ({scope.upper()} {self.detail[:12]}...)"
        return {
            Rule.same_email: f"same email address {self.detail}",
            Rule.same_phone: f"same phone number {self.detail}",
            Rule.same_account: f"same account id {self.detail} on {scope}",
            Rule.same_screen_name: f"same screen name {self.detail} on {scope}",
            Rule.same_device: f"same device ({scope} {self.detail})",
            Rule.similar_username: f"similar usernames (variant key {self.detail!r})",
            Rule.analyst_merge: self.detail,
        }[self.rule]


def score(evidence: Iterable[Evidence], shared: set[str] | dict[str, str], config: LinkConfig) -> float:
    """Total weight of evidence between two suspects: one item per key, shared keys not counted, weak
    evidence capped at ``weak_cap`` so it never merges by itself, and media in common capped at
    ``media_cap``: offenders trade images, so any number of shared images says two accounts are connected,
    not that they are one person; it takes something else (an address, a device, a name) as well."""
    total = 0.0
    weak = 0.0
    media = 0.0
    for item in evidence:
        if item.key in shared:
            continue
        if item.strength is Strength.weak:
            weak += item.weight
        elif item.rule is Rule.same_media:
            media += item.weight
        else:
            total += item.weight
    return total + min(media, config.media_cap) + min(weak, config.weak_cap)
