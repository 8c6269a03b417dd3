"""Matching a signal against the banks: the one match shape used by ``/v1/match``, ``/v1/scan`` and the
HMA-compatible routes.

Rules, in order: a hit counts if its bank exists and is enabled, the distance is within the bank's
threshold, the bank's enabled ratio admits this query (a deterministic coin flip per query hash, or per
``seed`` as HMA's lookup does), and the content item is neither disabled nor removed. Allowlist banks
always take part (a ``banks=`` filter narrows only the other banks); if any allowlist bank matches, the
other banks' matches are returned with ``suppressed_by_allowlist = true``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.banks.errors import IndexNotReady
from safeguard.banks.matcher import BankInfo, BankMatcher, Hit
from safeguard.banks.models import BankContent
from safeguard.banks.signals import DISTANCE_TYPES, PDQ_MAX_THRESHOLD, normalize_hash, normalize_signal_type
from safeguard.errors import InvalidInput

READY_WAIT_S = 10.0


@dataclass(frozen=True, slots=True)
class Match:
    bank_id: int
    bank: str
    is_allowlist: bool
    content_id: int
    signal_type: str
    distance: int
    labels: list[str]
    external_ids: dict[str, Any]
    suppressed_by_allowlist: bool = False


@dataclass(frozen=True, slots=True)
class SignalMatches:
    signal_type: str
    hash: str
    matches: list[Match] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return any(not m.suppressed_by_allowlist and not m.is_allowlist for m in self.matches)


def coinflip(signal_type: str, value: str, seed: str | None = None) -> float:
    """A number in [0, 1) fixed for this query: the same content always gets the same answer from a bank
    that is partly rolled out. HMA draws it from ``random.Random(seed)``; without a seed we derive it from
    the hash itself rather than at random, so repeated lookups agree."""
    if seed is not None:
        return random.Random(seed).random()
    digest = hashlib.sha256(f"{signal_type}:{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def resolve_bank_filter(matcher: BankMatcher, names: Collection[str] | None) -> set[int] | None:
    if not names:
        return None
    by_name = {b.name: b.id for b in matcher.banks.values() if not b.deleted}
    unknown = sorted(n for n in names if n not in by_name)
    if unknown:
        raise InvalidInput(
            f"unknown bank(s): {', '.join(repr(n[:200]) for n in unknown[:10])}", field="banks"
        )
    return {by_name[n] for n in names}


def _admits(bank: BankInfo | None, hit: Hit, signal_type: str, flip: float) -> bool:
    if bank is None or bank.deleted or not bank.enabled:
        return False
    if signal_type in DISTANCE_TYPES and hit.distance > bank.pdq_threshold:
        return False
    return bank.enabled_ratio >= 1.0 or flip < bank.enabled_ratio


def match_signal(
    session: Session | None,
    matcher: BankMatcher,
    signal_type: str,
    value: str,
    *,
    bank_ids: set[int] | None = None,
    seed: str | None = None,
) -> SignalMatches:
    st = normalize_signal_type(signal_type)
    value = normalize_hash(st, value)
    if not matcher.ready.wait(READY_WAIT_S):
        raise IndexNotReady("the match index is still loading; retry shortly")
    banks = matcher.banks
    live = [b for b in banks.values() if b.enabled and not b.deleted]
    radius = max((b.pdq_threshold for b in live), default=0) if st in DISTANCE_TYPES else 0
    hits = matcher.query(st, value, min(radius, PDQ_MAX_THRESHOLD))
    flip = coinflip(st, value, seed)
    best: dict[int, Hit] = {}
    for hit in hits:
        bank = banks.get(hit.bank_id)
        if not _admits(bank, hit, st, flip):
            continue
        assert bank is not None
        if bank_ids is not None and not bank.is_allowlist and bank.id not in bank_ids:
            continue
        kept = best.get(hit.content_id)
        if kept is None or hit.distance < kept.distance:
            best[hit.content_id] = hit
    if not best:
        return SignalMatches(st, value, [])
    query = select(BankContent.id, BankContent.labels, BankContent.external_ids).where(
        BankContent.id.in_(list(best)), BankContent.enabled.is_(True), BankContent.removed_at.is_(None)
    )
    if session is not None:
        rows = session.execute(query).all()
    else:  # most queries match nothing: open a database session only when there is something to look up
        with matcher.db.read_session() as own:
            rows = own.execute(query).all()
    found = [(best[cid], labels, external) for cid, labels, external in rows]
    allowlisted = any(banks[h.bank_id].is_allowlist for h, _, _ in found)
    matches = [
        Match(
            bank_id=h.bank_id,
            bank=banks[h.bank_id].name,
            is_allowlist=banks[h.bank_id].is_allowlist,
            content_id=h.content_id,
            signal_type=st,
            distance=h.distance,
            labels=list(labels or []),
            external_ids=dict(external or {}),
            suppressed_by_allowlist=allowlisted and not banks[h.bank_id].is_allowlist,
        )
        for h, labels, external in found
    ]
    matches.sort(key=lambda m: (m.suppressed_by_allowlist, m.is_allowlist, m.distance, m.bank, m.content_id))
    return SignalMatches(st, value, matches)
