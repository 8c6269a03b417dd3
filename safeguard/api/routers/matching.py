"""The matching service (integrator): match signals, scan media, match URLs, check search queries.

Every media match has the same shape here and in the HMA-compatible routes: bank, content id, signal
type, distance, labels, external ids and whether an allowlist bank suppressed it.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from safeguard.api.deps import db_session, read_session, require_roles
from safeguard.api.routers.banks import SignalModel
from safeguard.auth import Actor, Role
from safeguard.banks import keywords, urls
from safeguard.banks.matcher import BankMatcher
from safeguard.banks.matching import Match, SignalMatches, match_signal, resolve_bank_filter
from safeguard.flows.scan import Upload, hash_upload, match_upload
from safeguard.review.config import ReviewSettings, get_review_settings
from safeguard.review.signals import Reach

router = APIRouter(tags=["matching"])
integrators = require_roles(Role.integrator)
MAX_SIGNALS_PER_REQUEST = 100


def get_matcher(request: Request) -> BankMatcher:
    matcher: BankMatcher = request.app.state.bank_matcher
    return matcher


class MatchOut(BaseModel):
    bank: str
    bank_id: int
    is_allowlist: bool
    content_id: int
    signal_type: str
    distance: int
    labels: list[str]
    external_ids: dict[str, Any]
    suppressed_by_allowlist: bool
    query_match_percent: float | None = Field(
        default=None, description="vpdq only: the share (0-100) of the query's frames that matched"
    )
    compared_match_percent: float | None = Field(
        default=None, description="vpdq only: the share (0-100) of the banked video's frames that matched"
    )

    @classmethod
    def of(cls, m: Match) -> MatchOut:
        return cls(
            bank=m.bank,
            bank_id=m.bank_id,
            is_allowlist=m.is_allowlist,
            content_id=m.content_id,
            signal_type=m.signal_type,
            distance=m.distance,
            labels=m.labels,
            external_ids=m.external_ids,
            suppressed_by_allowlist=m.suppressed_by_allowlist,
            query_match_percent=m.query_match_percent,
            compared_match_percent=m.compared_match_percent,
        )


class SignalResult(BaseModel):
    signal_type: str
    hash: str
    matched: bool = Field(description="A match from a non-allowlist bank that no allowlist suppressed")
    matches: list[MatchOut]

    @classmethod
    def of(cls, r: SignalMatches) -> SignalResult:
        return cls(
            signal_type=r.signal_type,
            hash=r.hash,
            matched=r.matched,
            matches=[MatchOut.of(m) for m in r.matches],
        )


class MatchRequest(BaseModel):
    signals: list[SignalModel] = Field(min_length=1, max_length=MAX_SIGNALS_PER_REQUEST)
    banks: list[Annotated[str, Field(max_length=200)]] | None = Field(
        default=None, max_length=100, description="Only these banks (allowlist banks always apply)"
    )


class MatchResponse(BaseModel):
    matched: bool
    checkpoint: int = Field(description="The change sequence number this worker's index is current to")
    results: list[SignalResult]


class ScanResponse(MatchResponse):
    hashes: list[SignalModel] = Field(description="The hashes computed from the upload")
    case_id: int | None = Field(
        default=None, description="The review case the matches were filed into (when content_id was given)"
    )
    auto_decision: str | None = Field(
        default=None, description="The label, when a re-upload was decided by the earlier decision"
    )


def run_match(
    session: Session | None, matcher: BankMatcher, signals: list[tuple[str, str]], banks: list[str] | None
) -> MatchResponse:
    bank_ids = resolve_bank_filter(matcher, banks)
    checkpoint = matcher.checkpoint
    results = [
        SignalResult.of(match_signal(session, matcher, st, value, bank_ids=bank_ids)) for st, value in signals
    ]
    return MatchResponse(matched=any(r.matched for r in results), checkpoint=checkpoint, results=results)


@router.post("/v1/match", response_model=MatchResponse, summary="Match one or many signals against the banks")
async def match(  # async: CPU-only (index in memory), so no thread hop per request
    body: MatchRequest,
    _: Annotated[Actor, Depends(integrators)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
) -> MatchResponse:
    return run_match(None, matcher, [(s.signal_type, s.hash) for s in body.signals], body.banks)


def review_settings(request: Request) -> ReviewSettings:
    settings: ReviewSettings | None = getattr(request.app.state, "review_settings", None)
    return settings or get_review_settings()


@router.post("/v1/scan", response_model=ScanResponse, summary="Hash uploaded media, match it, open a case")
async def scan(
    request: Request,
    actor: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(db_session)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
    settings: Annotated[ReviewSettings, Depends(review_settings)],
    file: Annotated[UploadFile, File(description="An image or video; it is hashed and not kept")],
    media_type: Annotated[Literal["image", "video"] | None, Form()] = None,
    banks: Annotated[list[str] | None, Query(max_length=100, description="Only these banks")] = None,
    content_id: Annotated[
        str | None,
        Form(min_length=1, max_length=200, description="The platform's upload id: matches open a case"),
    ] = None,
    account_id: Annotated[str | None, Form(min_length=1, max_length=200)] = None,
    views: Annotated[int, Form(ge=0, le=10**12)] = 0,
    shares: Annotated[int, Form(ge=0, le=10**12)] = 0,
    recipients: Annotated[int, Form(ge=0, le=10**12)] = 0,
) -> ScanResponse:
    """Every bank match of one upload goes into ONE case for its ``content_id`` (re-scans of the same id
    add to it); a re-upload of decided media is decided at once, once."""
    upload = Upload(
        content_id=content_id,
        account_id=account_id,
        reach=Reach(views=views, shares=shares, recipients=recipients),
        media_type=media_type,
    )
    data = await file.read()
    # Awaited, not waited for in a thread (a queue of uploads cannot use up the server's threads); a client
    # that disconnects has its item cancelled; each API key gets its share of the hashing pool.
    hashes = await hash_upload(data, actor, media_type=media_type, disconnected=request.is_disconnected)
    outcome = await run_in_threadpool(
        partial(match_upload, banks=banks, settings=settings), session, actor, matcher, data, hashes, upload
    )
    case = outcome.case
    return ScanResponse(
        matched=outcome.matched,
        checkpoint=outcome.checkpoint,
        results=[SignalResult.of(r) for r in outcome.results],
        hashes=[SignalModel(signal_type=h.signal_type, hash=h.value) for h in outcome.hashes],
        case_id=case.case.id if case else None,
        auto_decision=case.auto_decision.label if case and case.auto_decision else None,
    )


class UrlIn(BaseModel):
    url: str = Field(min_length=1, max_length=urls.MAX_URL_CHARS)


class UrlMatchOut(BaseModel):
    list_id: int
    list: str
    entry_id: int
    match: str
    listed_url: str
    label: str


class UrlMatchResponse(BaseModel):
    matched: bool
    normalized: str
    matches: list[UrlMatchOut]


@router.post("/v1/match-url", response_model=UrlMatchResponse, summary="Match a URL against the URL lists")
def match_url(
    body: UrlIn, _: Annotated[Actor, Depends(integrators)], session: Annotated[Session, Depends(read_session)]
) -> UrlMatchResponse:
    normalized, found = urls.match_url(session, body.url)
    return UrlMatchResponse(
        matched=bool(found),
        normalized=normalized.key,
        matches=[
            UrlMatchOut(
                list_id=m.list_id,
                list=m.list_name,
                entry_id=m.entry_id,
                match=m.match,
                listed_url=m.listed_url,
                label=m.label,
            )
            for m in found
        ],
    )


class QueryIn(BaseModel):
    query: str = Field(min_length=1, max_length=keywords.MAX_QUERY_CHARS)


class HelpLinkOut(BaseModel):
    title: str
    url: str


class QueryHitOut(BaseModel):
    list_id: int
    list: str
    term: str


class QueryCheckResponse(BaseModel):
    matched: bool
    message: str | None = Field(description="The deterrence message to show the searcher")
    help_links: list[HelpLinkOut]
    hits: list[QueryHitOut]


@router.post(
    "/v1/check-query", response_model=QueryCheckResponse, summary="Check a search query (deterrence)"
)
def check_query(
    body: QueryIn,
    _: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
) -> QueryCheckResponse:
    hits = keywords.check_query(session, body.query)
    links: dict[str, HelpLinkOut] = {}
    for hit in hits:
        for link in hit.help_links:
            links.setdefault(link["url"], HelpLinkOut(title=link["title"], url=link["url"]))
    return QueryCheckResponse(
        matched=bool(hits),
        message=hits[0].message if hits else None,
        help_links=list(links.values()),
        hits=[QueryHitOut(list_id=h.list_id, list=h.list_name, term=h.term) for h in hits],
    )
