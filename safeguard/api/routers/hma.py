"""HMA-compatible routes, so an existing Hasher-Matcher-Actioner client can point at Safeguard.

Paths, parameters and response bodies follow HMA's OpenMediaMatch blueprints (hashing ``/h``, matching
``/m``, curation ``/c``, ``/status``); every route needs a Safeguard API key (integrator to hash and look
up, admin to curate). Lookups run through the same matcher as ``/v1/match``, so HMA's routes agree with
each other and with ours: ``/m/lookup`` returns the names of banks with a live (not allowlist-suppressed)
match, ``/m/raw_lookup`` the content ids of those matches. Differences from HMA, on purpose: errors are
problem+json (with HMA's ``message`` field kept in ``detail``); ``url=`` parameters (server-side fetches)
are refused, since fetching arbitrary URLs from the matching service is a server-side request forgery
risk; creating a bank that exists is 409 (HMA: 403).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Path, Query, UploadFile
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from safeguard.api.deps import db_session, get_matcher, read_session, require_roles
from safeguard.auth import Actor, Role
from safeguard.banks import matching, media, service
from safeguard.banks.errors import IndexNotReady
from safeguard.banks.matcher import BankMatcher
from safeguard.banks.matching import READY_WAIT_S, Match, match_signal
from safeguard.banks.models import Bank
from safeguard.banks.signals import VPDQ_MAX_CHARS
from safeguard.errors import InvalidInput, MalformedInput
from safeguard.media import HashOptions
from safeguard.media.registry import MAX_NAME_CHARS

router = APIRouter(tags=["hma"])
integrators = require_roles(Role.integrator)
admins = require_roles()

BankName = Annotated[str, Field(min_length=1, max_length=200)]
SignalType = Annotated[str, Query(min_length=1, max_length=MAX_NAME_CHARS)]
# A vpdq hash is long: the HTTP server (uvicorn, httptools) refuses a request target over 65,535 bytes
# with a plain 400 before the app sees it (about 700 frames URL-encoded; docs/banks.md); POST to /v1/match.
Signal = Annotated[str, Query(min_length=1, max_length=VPDQ_MAX_CHARS)]


def _no_url(url: str | None) -> None:
    if url is not None:
        raise InvalidInput(
            "fetching media from a URL is not supported (server-side request forgery risk); "
            "upload the file with POST instead",
            field="url",
        )


def _hash_upload(photo: UploadFile | None, video: UploadFile | None) -> dict[str, str]:
    if (photo is None) == (video is None):
        raise MalformedInput("upload exactly one file, in a form field named photo or video")
    upload = photo or video
    assert upload is not None
    # HMA answers with the plain hash of each type, whatever its quality (its lookup applies the floor).
    result = media.hash_upload(upload.file.read(), HashOptions.for_query())
    return {s.signal_type: s.hash for s in result.signals if s.variant is None}


class HmaBank(BaseModel):
    name: str
    matching_enabled_ratio: float

    @classmethod
    def of(cls, bank: Bank) -> HmaBank:
        ratio = bank.enabled_ratio if bank.enabled else 0.0
        return cls(name=bank.name, matching_enabled_ratio=ratio)


# Hashing ---------------------------------------------------------------------------------------------


@router.get("/h/hash", summary="HMA: hash media at a URL (refused: upload instead)")
def hash_url(
    _: Annotated[Actor, Depends(integrators)], url: Annotated[str | None, Query()] = None
) -> dict[str, str]:
    _no_url(url if url is not None else "")
    return {}


@router.post("/h/hash", summary="HMA: hash an uploaded file (form field photo or video)")
def hash_upload(
    _: Annotated[Actor, Depends(integrators)],
    photo: Annotated[UploadFile | None, File()] = None,
    video: Annotated[UploadFile | None, File()] = None,
) -> dict[str, str]:
    return _hash_upload(photo, video)


# Matching --------------------------------------------------------------------------------------------


def _bank_names(
    session: Session, matcher: BankMatcher, signal_type: str, signal: str, seed: str | None
) -> list[str]:
    result = match_signal(session, matcher, signal_type, signal, seed=seed)
    names = [m.bank for m in result.matches if not m.is_allowlist and not m.suppressed_by_allowlist]
    return list(dict.fromkeys(names))


@router.get("/m/raw_lookup", summary="HMA: content ids matching a hash")
def raw_lookup(
    _: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
    signal_type: SignalType,
    signal: Signal,
    include_distance: Annotated[bool, Query()] = False,
) -> dict[str, list[Any]]:
    result = match_signal(session, matcher, signal_type, signal)
    live = [m for m in result.matches if not m.is_allowlist and not m.suppressed_by_allowlist]
    if include_distance:
        return {"matches": [_with_distance(m) for m in live]}
    return {"matches": [m.content_id for m in live]}


def _with_distance(m: Match) -> dict[str, Any]:
    if m.query_match_percent is None or m.compared_match_percent is None:
        return {"content_id": m.content_id, "distance": str(m.distance)}
    # HMA writes a vpdq similarity as its pretty_str, "query%[compared%]".
    return {
        "content_id": m.content_id,
        "distance": f"{m.query_match_percent:.0f}%[{m.compared_match_percent:.0f}%]",
        "query_match_percent": m.query_match_percent,
        "compared_match_percent": m.compared_match_percent,
    }


@router.get("/m/lookup", summary="HMA: banks matching a hash")
def lookup_get(
    _: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
    signal_type: Annotated[str | None, Query(max_length=MAX_NAME_CHARS)] = None,
    signal: Annotated[str | None, Query(max_length=VPDQ_MAX_CHARS)] = None,
    seed: Annotated[str | None, Query(max_length=200)] = None,
    url: Annotated[str | None, Query(max_length=2000)] = None,
) -> list[str]:
    _no_url(url)
    if not signal_type or not signal:
        raise InvalidInput(
            "signal_type and signal are required", field="signal" if signal_type else "signal_type"
        )
    return _bank_names(session, matcher, signal_type, signal, seed)


@router.post("/m/lookup", summary="HMA: hash an uploaded file and return matching banks per signal type")
def lookup_post(
    _: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
    photo: Annotated[UploadFile | None, File()] = None,
    video: Annotated[UploadFile | None, File()] = None,
    seed: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, list[str]]:
    hashes = _hash_upload(photo, video)
    return {st: _bank_names(session, matcher, st, value, seed) for st, value in hashes.items()}


@router.get("/m/index/status", summary="HMA: index status per signal type")
def index_status(
    _: Annotated[Actor, Depends(integrators)], matcher: Annotated[BankMatcher, Depends(get_matcher)]
) -> dict[str, dict[str, Any]]:
    present = matcher.ready.is_set()
    return {
        st: {"present": present, "built_to": matcher.checkpoint if present else -1, "size": size}
        for st, size in matcher.sizes().items()
    }


# Curation --------------------------------------------------------------------------------------------


class HmaBankCreate(BaseModel):
    name: BankName
    enabled_ratio: float | None = Field(default=None, ge=0.0, le=1.0)
    enabled: bool | None = None


class HmaBankUpdate(BaseModel):
    name: BankName | None = None
    enabled_ratio: float | None = Field(default=None, ge=0.0, le=1.0)
    enabled: bool | None = None


@router.get("/c/banks", summary="HMA: list banks")
def banks_index(
    _: Annotated[Actor, Depends(admins)], session: Annotated[Session, Depends(read_session)]
) -> list[HmaBank]:
    return [HmaBank.of(b) for b in service.list_banks(session)]


@router.post("/c/banks", status_code=201, summary="HMA: create a bank")
def bank_create(
    body: HmaBankCreate,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> HmaBank:
    ratio = body.enabled_ratio
    if ratio is None:
        ratio = 1.0 if body.enabled is None or body.enabled else 0.0
    return HmaBank.of(service.create_bank(session, actor, name=body.name, enabled_ratio=ratio))


@router.get("/c/bank/{bank_name}", summary="HMA: show a bank")
def bank_show(
    bank_name: str, _: Annotated[Actor, Depends(admins)], session: Annotated[Session, Depends(read_session)]
) -> HmaBank:
    return HmaBank.of(service.get_bank_by_name(session, bank_name))


@router.put("/c/bank/{bank_name}", summary="HMA: rename or enable/disable a bank")
def bank_update(
    bank_name: str,
    body: HmaBankUpdate,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
) -> HmaBank:
    bank = service.get_bank_by_name(session, bank_name)
    ratio = body.enabled_ratio
    if ratio is None and body.enabled is not None:
        ratio = 1.0 if body.enabled else 0.0
    # HMA has one knob (the ratio); keep ours consistent: enabled follows it.
    enabled = None if ratio is None else ratio > 0
    return HmaBank.of(
        matching.update_bank(
            session, matcher, actor, bank, name=body.name, enabled_ratio=ratio, enabled=enabled
        )
    )


@router.delete("/c/bank/{bank_name}", summary="HMA: delete a bank")
def bank_delete(
    bank_name: str,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
) -> dict[str, str]:
    matching.delete_bank(session, matcher, actor, service.get_bank_by_name(session, bank_name))
    return {"message": "Done"}


def _added(result: service.AddedContent) -> dict[str, Any]:
    return {
        "id": result.content.id,
        "signals": {s.signal_type: s.value for s in result.signals if s.kind == "primary"},
    }


@router.post("/c/bank/{bank_name}/content", summary="HMA: add an uploaded file to a bank")
def bank_add_file(
    bank_name: str,
    actor: Annotated[Actor, Depends(admins)],
    read: Annotated[Session, Depends(read_session)],
    session: Annotated[Session, Depends(db_session)],
    photo: Annotated[UploadFile | None, File()] = None,
    video: Annotated[UploadFile | None, File()] = None,
    url: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    _no_url(url)
    service.get_bank_by_name(read, bank_name)  # a 404 before any hashing, without the write lock
    read.rollback()
    if (photo is None) == (video is None):
        raise MalformedInput(
            "Neither `url` nor multipart file upload was received (form field photo or video)"
        )
    upload = photo or video
    assert upload is not None
    # Hash first: the write transaction begins with the session's first statement, after the hashing.
    signals = media.hashes_to_bank(upload.file.read(), is_video=video is not None)
    bank = service.get_bank_by_name(session, bank_name)
    return _added(service.add_content(session, actor, bank, signals, service.ContentMeta()))


@router.delete("/c/bank/{bank_name}/content/{content_id}", summary="HMA: remove content from a bank")
def bank_delete_content(
    bank_name: str,
    content_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> dict[str, int]:
    bank = service.get_bank_by_name(session, bank_name)
    return {"deleted": service.remove_content(session, actor, bank, content_id)}


@router.post("/c/bank/{bank_name}/signal", summary="HMA: add hashes directly ({signal_type: hash})")
def bank_add_signals(
    bank_name: str,
    body: Annotated[dict[str, Annotated[str, Field(max_length=VPDQ_MAX_CHARS)]], Body(max_length=64)],
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> dict[str, Any]:
    bank = service.get_bank_by_name(session, bank_name)
    if not body:
        raise InvalidInput("No signals given")
    signals = [service.SignalIn(st, value) for st, value in body.items()]
    return _added(service.add_content(session, actor, bank, signals, service.ContentMeta()))


# Status ----------------------------------------------------------------------------------------------


@router.get("/status", response_class=PlainTextResponse, summary="HMA: liveness of the matcher")
def status(
    _: Annotated[Actor, Depends(integrators)], matcher: Annotated[BankMatcher, Depends(get_matcher)]
) -> str:
    if not matcher.ready.wait(READY_WAIT_S):
        raise IndexNotReady("INDEX-STALE: the match index is still loading")
    if matcher.is_stale:
        raise IndexNotReady("INDEX-STALE: the match index has not refreshed recently")
    return "I-AM-ALIVE"
