"""Matching a signal against the banks: the one match shape used by ``/v1/match``, ``/v1/scan`` and the
HMA-compatible routes.

Rules, in order: a hit counts if its bank exists and is enabled, the distance is within the bank's
threshold, the bank's enabled ratio admits this query (a deterministic coin flip per query hash, or per
``seed`` as HMA's lookup does; HMA's ``bypass_coinflip`` skips it), and the content item is neither
disabled (for good, or until HMA's ``disable_until_ts``) nor removed. Allowlist banks
always take part (a ``banks=`` filter narrows only the other banks); if any allowlist bank matches, the
other banks' matches are returned with ``suppressed_by_allowlist = true``.

A ``vpdq`` query (a video) is scored per banked video as threatexchange's vpdq signal type scores it: its
frames match within the bank's ``pdq_threshold``, and it counts when the share of the query's frames that
match and the share of the banked video's frames that match reach ``VPDQ_QUERY_MATCH_PERCENT`` and
``VPDQ_COMPARED_MATCH_PERCENT`` (80 and 0, as threatexchange). Its match carries both percentages, and
``distance`` is the median distance of the matched query frames.

Thresholds: ``pdq`` and ``vpdq`` frames match within the bank's ``pdq_threshold``; exact types only
when equal; any other (plug-in) type within its own ``default_threshold``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from safeguard.banks.errors import IndexNotReady
from safeguard.banks.matcher import BankInfo, BankMatcher, Hit
from safeguard.banks.models import BankContent
from safeguard.banks.signals import (
    DISTANCE_TYPES,
    PDQ_MAX_THRESHOLD,
    VPDQ,
    VPDQ_COMPARED_MATCH_PERCENT,
    VPDQ_QUERY_MATCH_PERCENT,
    normalize_hash,
    normalize_signal_type,
    signal_type_of,
)
from safeguard.banks.vpdq_index import VpdqScore
from safeguard.errors import InvalidInput
from safeguard.media import IndexKind
from safeguard.store.base import utcnow

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
    # vpdq only: the share of the query's frames that matched, and of the banked video's frames.
    query_match_percent: float | None = None
    compared_match_percent: float | None = None


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


def _vpdq_rank(score: VpdqScore) -> tuple[float, float, int]:
    return (-score.query_match_percent, -score.compared_match_percent, score.distance)


def _scored_videos(matcher: BankMatcher, value: str, radius: int, scores: dict[int, VpdqScore]) -> list[Hit]:
    """The banked videos that match ``value`` at their bank's threshold, one (the best-scoring signal: the
    plain hash or a banked variant) per content item; fills ``scores`` by content id."""
    chosen: dict[int, Hit] = {}
    for video in matcher.query_vpdq(value, radius):
        bank = matcher.banks.get(video.bank_id)
        if bank is None:
            continue
        score = video.score(bank.pdq_threshold)
        if score.query_match_percent < VPDQ_QUERY_MATCH_PERCENT:
            continue
        if score.compared_match_percent < VPDQ_COMPARED_MATCH_PERCENT:
            continue
        kept = scores.get(video.content_id)
        if kept is None or _vpdq_rank(score) < _vpdq_rank(kept):
            scores[video.content_id] = score
            chosen[video.content_id] = Hit(video.signal_id, video.content_id, video.bank_id, score.distance)
    return list(chosen.values())


def _search_radius(signal_type: str, banks: Collection[BankInfo]) -> float:
    """How far the index searches: the largest live bank threshold for PDQ and vPDQ (each hit is then
    checked against its own bank's), the type's own threshold for other distance types, 0 for exact."""
    kind = signal_type_of(signal_type)
    if kind.index_kind() in (IndexKind.pdq, IndexKind.vpdq):
        widest = max((b.pdq_threshold for b in banks if b.enabled and not b.deleted), default=0)
        return min(widest, PDQ_MAX_THRESHOLD)
    return 0 if kind.exact else kind.default_threshold


def banks_named(matcher: BankMatcher, names: Collection[str]) -> set[int]:
    """The ids of the live banks among ``names``; names of no bank select nothing (HMA's ``banks=``)."""
    wanted = set(names)
    return {b.id for b in matcher.banks.values() if not b.deleted and b.name in wanted}


def _admits(bank: BankInfo | None, hit: Hit, signal_type: str, flip: float | None) -> bool:
    """``flip`` None (HMA's ``bypass_coinflip``): every enabled bank answers, whatever its ratio."""
    if bank is None or bank.deleted or not bank.enabled:
        return False
    if signal_type in DISTANCE_TYPES and hit.distance > bank.pdq_threshold:
        return False
    return flip is None or bank.enabled_ratio >= 1.0 or flip < bank.enabled_ratio


def match_signal(
    session: Session | None,
    matcher: BankMatcher,
    signal_type: str,
    value: str,
    *,
    bank_ids: set[int] | None = None,
    seed: str | None = None,
    bypass_coinflip: bool = False,
) -> SignalMatches:
    st = normalize_signal_type(signal_type)
    value = normalize_hash(st, value)
    if not matcher.ready.wait(READY_WAIT_S):
        raise IndexNotReady("the match index is still loading; retry shortly")
    banks = matcher.banks
    radius = _search_radius(st, banks.values())
    flip = None if bypass_coinflip else coinflip(st, value, seed)
    scores: dict[int, VpdqScore] = {}
    if st == VPDQ:
        hits = _scored_videos(matcher, value, int(radius), scores)
    else:
        hits = matcher.query(st, value, radius)
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
        BankContent.id.in_(list(best)),
        BankContent.enabled.is_(True),
        BankContent.removed_at.is_(None),
        or_(BankContent.disabled_until.is_(None), BankContent.disabled_until <= utcnow()),
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
            query_match_percent=scores[h.content_id].query_match_percent if h.content_id in scores else None,
            compared_match_percent=(
                scores[h.content_id].compared_match_percent if h.content_id in scores else None
            ),
        )
        for h, labels, external in found
    ]
    matches.sort(
        key=lambda m: (
            m.suppressed_by_allowlist,
            m.is_allowlist,
            -(m.query_match_percent or 0.0),
            m.distance,
            m.bank,
            m.content_id,
        )
    )
    return SignalMatches(st, value, matches)
