"""The linker: adds referrals one at a time and keeps suspects (clusters of referrals) up to date.

For each new referral it looks up every identifier key in the inverted index (and PDQ neighbours in the
media index), so the cost is a handful of look-ups whatever the number of referrals already linked:

1. **Strong** evidence (same account on the same platform, email, phone, screen name on the same
   platform) merges the referral into each suspect it matches.
2. **Shared identifiers.** An IP address, device, file or username key now seen for
   ``shared_*_suspects`` or more otherwise unlinked suspects is marked shared and stops counting - for this
   and every later decision (viral media re-reported by many people, carrier NAT and public Wi-Fi
   addresses). Carrier-grade NAT, private addresses and configured shared networks never count at all.
3. **Medium and weak** evidence accumulates per pair of suspects; when a pair's total reaches the
   threshold they merge, and merging carries both suspects' pending evidence over, so a later referral can
   complete a link an earlier one started.

Merges never cross an analyst's do-not-link constraint, and never join two suspects assigned to different
owners (deconfliction: both owners are alerted instead). A referral that attaches to an assigned suspect
alerts its owner.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from safeguard.intake.config import LinkConfig
from safeguard.intake.identifiers import MEDIA_KINDS, Identifier, IdKind, parse_ip
from safeguard.intake.linking.evidence import (
    RULE_OF_KIND,
    Evidence,
    Rule,
    Strength,
    rule_weight,
    score,
    shared_limit,
)
from safeguard.intake.linking.state import LinkRecord, LinkState


class KeyUse(NamedTuple):
    rule: Rule
    key: str
    value: str
    at: float | None = None


class LinkItem(NamedTuple):
    referral_id: int
    uses: tuple[KeyUse, ...] = ()
    pdqs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Held:
    """A link the evidence supports but that was not made, and why."""

    clusters: tuple[int, int]
    evidence: tuple[Evidence, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Alert:
    """Something a suspect's owner must know (deconfliction)."""

    owner: str
    cluster: int
    kind: str  # referral_attached, suspects_merged, possible_link
    why: str = ""
    referral_id: int | None = None
    other: int | None = None

    def message(self, name: Callable[[int], int] = lambda cluster: cluster) -> str:
        """The text, with cluster ids turned into suspect ids by ``name``."""
        if self.kind == "referral_attached":
            return f"new referral {self.referral_id} attached to suspect {name(self.cluster)}: {self.why}"
        if self.kind == "suspects_merged":
            return f"suspect {name(self.other or 0)} merged into suspect {name(self.cluster)}"
        other = name(self.other or 0)
        return f"suspect {name(self.cluster)} may be the same person as suspect {other} ({self.why})"


@dataclass(slots=True)
class LinkOutcome:
    referral_id: int
    cluster: int
    merged: list[tuple[int, int]] = field(default_factory=list)  # (kept, merged in)
    links: list[LinkRecord] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    discounted: list[Evidence] = field(default_factory=list)


def link_item(referral_id: int, identifiers: Iterable[Identifier], config: LinkConfig) -> LinkItem:
    """The keys a referral links by: linkable identifiers outside the configured shared networks."""
    networks = _networks(config.shared_networks)
    uses: list[KeyUse] = []
    pdqs: list[str] = []
    for identifier in identifiers:
        if not identifier.linkable:
            continue
        if identifier.kind is IdKind.pdq:
            pdqs.append(identifier.value)
            continue
        rule = RULE_OF_KIND[identifier.kind]
        at = None
        if identifier.kind is IdKind.ip:
            if identifier.at is None or any(parse_ip(identifier.value) in net for net in networks):
                continue
            at = identifier.at.timestamp()
        uses.append(KeyUse(rule, link_key(identifier), identifier.value, at))
    return LinkItem(referral_id, tuple(uses), tuple(dict.fromkeys(pdqs)))


def link_key(identifier: Identifier) -> str:
    """The key an identifier is indexed under for linking (media keys share one ``media:`` space)."""
    return f"media:{identifier.key}" if identifier.kind in MEDIA_KINDS else identifier.key


_NETWORK_CACHE: dict[tuple[str, ...], list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {}


def _networks(cidrs: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    if cidrs not in _NETWORK_CACHE:
        _NETWORK_CACHE[cidrs] = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    return _NETWORK_CACHE[cidrs]


class Linker:
    def __init__(self, config: LinkConfig | None = None, state: LinkState | None = None) -> None:
        self.config = config or LinkConfig()
        self.state = state or LinkState()
        self._weights = {rule: rule_weight(rule, self.config) for rule in Rule}
        self._limits = {rule: shared_limit(rule, self.config) for rule in Rule}

    # --- adding referrals ----------------------------------------------------------------------------

    def add(self, item: LinkItem) -> LinkOutcome:
        state, config, rid = self.state, self.config, item.referral_id
        if state.loader is not None:
            state.preload(use.key for use in item.uses)
        found: list[tuple[int, Evidence]] = []
        for use in item.uses:
            found.extend(self._matches(use, rid))
        near: dict[str, tuple[bool, list[tuple[int, str, int]]]] = {}
        for value in item.pdqs:
            near[value] = state.pdq_near(value, config.pdq_radius)
            found.extend(self._pdq_matches(value, near[value][1], rid))
        cluster = state.new_cluster(rid)
        for use in item.uses:
            state.add_posting(use.key, rid, use.at)
        outcome = LinkOutcome(rid, cluster)

        grouped: dict[int, list[Evidence]] = {}
        for other, evidence in found:
            grouped.setdefault(state.find(other), []).append(evidence)
        strong = {
            c: items for c, items in grouped.items() if any(e.strength is Strength.strong for e in items)
        }
        rest = [(c, e) for c, items in grouped.items() if c not in strong for e in items]
        state.ensure(strong)
        for other in sorted(strong, key=lambda c: (c not in state.owners, abs(c))):
            # Strong evidence first; the rest found with the same suspect is kept as supporting evidence.
            items = sorted(strong[other], key=lambda e: e.strength is not Strength.strong)
            self._merge(state.cluster(rid), other, items, outcome, rid)

        self._detect_shared(item, near, rid)
        for value in item.pdqs:
            state.add_pdq(value, rid, viral=f"media:pdq:{value}" in state.shared, radius=config.pdq_radius)
        by_cluster: dict[int, list[Evidence]] = {}
        for other, evidence in rest:
            if evidence.key in state.shared:
                outcome.discounted.append(evidence)
                continue
            by_cluster.setdefault(state.find(other), []).append(evidence)
        for other, items in by_cluster.items():
            mine = state.cluster(rid)
            if state.find(other) == mine:
                continue
            pending = state.add_pair_evidence(mine, other, items)
            if score(pending.values(), state.shared, config) >= config.threshold:
                self._merge(mine, other, self._counted(pending), outcome, rid)
        outcome.cluster = state.cluster(rid)
        owner = state.owner(outcome.cluster)
        if owner and outcome.merged:
            why = "; ".join(e.explanation for link in outcome.links for e in link.evidence[:2])
            outcome.alerts.append(Alert(owner, outcome.cluster, "referral_attached", why, rid))
        return outcome

    def _matches(self, use: KeyUse, rid: int) -> list[tuple[int, Evidence]]:
        state = self.state
        if use.key in state.shared:
            return []
        timed = use.rule is Rule.same_ip
        window = self.config.ip_window_hours * 3600
        best: dict[int, tuple[float, int]] = {}
        for referral, at in state.postings_of(use.key):
            gap = 0.0
            if timed:
                if at is None or use.at is None:
                    continue
                gap = abs(at - use.at)
                if gap > window:
                    continue
            other = state.cluster(referral)
            if other not in best or gap < best[other][0]:
                best[other] = (gap, referral)
        weight = self._weights[use.rule]
        return [
            (other, Evidence(use.rule, use.key, weight, rid, ref, use.value, gap / 3600 if timed else None))
            for other, (gap, ref) in best.items()
        ]

    def _pdq_matches(
        self, value: str, near: list[tuple[int, str, int]], rid: int
    ) -> list[tuple[int, Evidence]]:
        state = self.state
        best: dict[int, tuple[int, int, str]] = {}
        for ref, stored, distance in near:
            if ref == rid or f"media:pdq:{stored}" in state.shared:
                continue
            other = state.cluster(ref)
            if other not in best or distance < best[other][0]:
                best[other] = (distance, ref, stored)
        weight = self._weights[Rule.same_media]
        return [
            (
                other,
                Evidence(Rule.same_media, f"media:pdq:{stored}", weight, rid, ref, stored, float(distance)),
            )
            for other, (distance, ref, stored) in best.items()
        ]

    def _detect_shared(
        self, item: LinkItem, near: dict[str, tuple[bool, list[tuple[int, str, int]]]], rid: int
    ) -> None:
        state = self.state
        for use in item.uses:
            limit = self._limits[use.rule]
            if limit is None or use.key in state.shared:
                continue
            clusters = _distinct(state, (p[0] for p in state.postings_of(use.key)), limit)
            if clusters >= limit:
                state.mark_shared(use.key, f"seen for {clusters} or more otherwise unlinked suspects")
        limit = self.config.shared_media_suspects
        for value, (viral, matches) in near.items():
            keys = [f"media:pdq:{value}"] + [f"media:pdq:{stored}" for _, stored, _ in matches]
            if viral or any(k in state.shared for k in keys):
                state.mark_shared(keys[0], "a copy of media already seen for many unlinked suspects")
                continue
            clusters = _distinct(state, [rid] + [ref for ref, _, _ in matches], limit)
            if clusters >= limit:
                for key in keys:
                    state.mark_shared(key, f"media seen for {clusters} or more otherwise unlinked suspects")

    def _counted(self, pending: dict[str, Evidence]) -> list[Evidence]:
        return [e for e in pending.values() if e.key not in self.state.shared]

    def _merge(
        self, a: int, b: int, evidence: Sequence[Evidence], outcome: LinkOutcome, rid: int | None
    ) -> None:
        state, config = self.state, self.config
        queue: list[tuple[int, int, Sequence[Evidence]]] = [(a, b, evidence)]
        while queue:
            x, y, items = queue.pop(0)
            x, y = state.find(x), state.find(y)
            if x == y:
                continue
            if state.cannot_link(x, y):
                outcome.held.append(
                    Held((x, y), tuple(items), "an analyst split these suspects apart (do not link)")
                )
                continue
            owner_x, owner_y = state.owner(x), state.owner(y)
            if owner_x and owner_y and owner_x != owner_y:
                reason = (
                    f"suspects assigned to different owners ({owner_x}, {owner_y}): deconflict before merging"
                )
                outcome.held.append(Held((x, y), tuple(items), reason))
                why = "; ".join(e.explanation for e in items[:3])
                for owner, mine, theirs in ((owner_x, x, y), (owner_y, y, x)):
                    outcome.alerts.append(Alert(owner, mine, "possible_link", why, rid, theirs))
                continue
            keep = state.older(x, y)
            gone = y if keep == x else x
            joined_new = rid is not None and state.cluster(rid) == gone
            grown = state.union(keep, gone)
            record = LinkRecord(items[0].referral_a, items[0].referral_b, tuple(items))
            state.record_link(keep, record)
            outcome.links.append(record)
            outcome.merged.append((keep, gone))
            keeper = state.owner(keep)
            if keeper and not joined_new:
                outcome.alerts.append(Alert(keeper, keep, "suspects_merged", "", rid, gone))
            for other in grown:
                pending = state.pair_evidence(keep, other)
                if score(pending.values(), state.shared, config) >= config.threshold:
                    queue.append((keep, other, self._counted(pending)))

    # --- analysts' decisions -------------------------------------------------------------------------

    def merge(self, a: int, b: int, *, actor: str, reason: str) -> tuple[int, int]:
        """An analyst merges two suspects (lifting any do-not-link between them). Returns (kept, gone)."""
        state = self.state
        x, y = state.find(a), state.find(b)
        state.ensure([x, y])
        state.remove_blocks(x, y)
        keep = state.older(x, y)
        gone = y if keep == x else x
        members_x, members_y = state.member_list(keep), state.member_list(gone)
        evidence = Evidence(
            Rule.analyst_merge,
            f"analyst:{keep}:{gone}",
            self.config.threshold,
            members_x[0],
            members_y[0],
            f"merged by {actor}: {reason}",
        )
        state.union(keep, gone)
        state.record_link(keep, LinkRecord(members_x[0], members_y[0], (evidence,), actor, reason))
        return keep, gone

    def split(self, cluster: int, referral_ids: Sequence[int], *, actor: str, reason: str) -> int:
        """An analyst moves referrals out of a suspect into a new one; the two are never linked again
        automatically. Returns the new cluster."""
        return self.state.split(cluster, referral_ids, actor=actor, reason=reason)


def _distinct(state: LinkState, referrals: Iterable[int], limit: int) -> int:
    seen: set[int] = set()
    for referral in referrals:
        seen.add(state.cluster(referral))
        if len(seen) >= limit:
            break
    return len(seen)
