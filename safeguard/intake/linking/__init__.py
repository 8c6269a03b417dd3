"""Linking referrals into suspects: evidence rules, the linking state and the linker."""

from safeguard.intake.linking.engine import Alert, Held, KeyUse, Linker, LinkItem, LinkOutcome, link_item
from safeguard.intake.linking.evidence import Evidence, Rule, Strength
from safeguard.intake.linking.state import LinkRecord, LinkState

__all__ = [
    "Alert",
    "Evidence",
    "Held",
    "KeyUse",
    "LinkItem",
    "LinkOutcome",
    "LinkRecord",
    "LinkState",
    "Linker",
    "Rule",
    "Strength",
    "link_item",
]
