"""Upload -> hashes -> bank matches -> the upload's review case (``POST /v1/scan``).

One upload is one case: every bank entry it matched (in any number of banks, by any signal type) is
attached to the same case, which an earlier decision on the same media decides at most once - so the
platform hears one ``decision.made`` per piece of content. A re-scan of the same content id (per
integrator) adds to its open case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from safeguard.auth import Actor
from safeguard.banks import media
from safeguard.banks.matcher import BankMatcher
from safeguard.banks.matching import SignalMatches, match_signal, resolve_bank_filter
from safeguard.banks.service import SignalIn
from safeguard.review.config import ReviewSettings
from safeguard.review.flows import CaseResult
from safeguard.review.signals import Reach
from safeguard.review.sources import open_case_from_scan


@dataclass(frozen=True, slots=True)
class Upload:
    """What the platform says about an upload besides its bytes."""

    content_id: str | None = None  # the platform's id: matches open a case only when it is given
    account_id: str | None = None
    reach: Reach | None = None
    media_type: str | None = None  # "image" or "video": the kind the platform says it sends (checked)


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    hashes: list[SignalIn]
    checkpoint: int  # the change sequence number the matcher was current to
    results: list[SignalMatches]
    case: CaseResult | None  # None without a content id, or when nothing matched

    @property
    def matched(self) -> bool:
        return any(r.matched for r in self.results)


def scan_upload(
    session: Session,
    actor: Actor,
    matcher: BankMatcher,
    data: bytes,
    upload: Upload,
    *,
    banks: Collection[str] | None = None,
    settings: ReviewSettings | None = None,
) -> ScanOutcome:
    """Hash ``data``, match every hash against the banks (only ``banks`` when given; allowlists always
    apply) and, when the upload has a content id, file the matches into its one case."""
    caller = f"{actor.kind}:{actor.id}"
    hashes = media.hashes_to_query(data, expect=media.MEDIA_TYPES.get(upload.media_type or ""), caller=caller)
    return match_upload(session, actor, matcher, data, hashes, upload, banks=banks, settings=settings)


async def hash_upload(
    data: bytes,
    actor: Actor,
    *,
    media_type: str | None = None,
    disconnected: Callable[[], Awaitable[bool]] | None = None,
) -> list[SignalIn]:
    """The first half of :func:`scan_upload`, awaited: the hashes to match ``data`` with, hashed in the
    shared pool under ``actor``'s share, cancelled when ``disconnected()`` says the client went away."""
    caller = f"{actor.kind}:{actor.id}"
    expect = media.MEDIA_TYPES.get(media_type or "")
    return await media.hashes_to_query_async(data, expect=expect, caller=caller, disconnected=disconnected)


def match_upload(
    session: Session,
    actor: Actor,
    matcher: BankMatcher,
    data: bytes,
    hashes: list[SignalIn],
    upload: Upload,
    *,
    banks: Collection[str] | None = None,
    settings: ReviewSettings | None = None,
) -> ScanOutcome:
    """The rest of :func:`scan_upload` once ``data`` is hashed (the API awaits the hashing itself)."""
    checkpoint = matcher.checkpoint
    bank_ids = resolve_bank_filter(matcher, banks)
    results = [match_signal(session, matcher, h.signal_type, h.value, bank_ids=bank_ids) for h in hashes]
    case = None
    if upload.content_id is not None:
        case = open_case_from_scan(
            session,
            actor,
            results,
            content_id=upload.content_id,
            account_id=upload.account_id,
            content_sha256=hashlib.sha256(data).hexdigest(),
            reach=upload.reach,
            settings=settings,
        )
    return ScanOutcome(hashes=hashes, checkpoint=checkpoint, results=results, case=case)
