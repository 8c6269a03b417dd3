"""HMA-compatible routes, so an existing Hasher-Matcher-Actioner client can point at Safeguard.

Paths, parameters, response bodies and status codes follow HMA's OpenMediaMatch blueprints (hashing
``/h``, matching ``/m``, curation ``/c``, ``/status``, ``/site-map``); ``tests/hma_replay`` replays HMA's
own API tests against them. Every route needs a Safeguard API key (integrator to hash and look up, admin
to curate) except ``/status`` and ``/status/live``, which load balancers call without one. Errors keep
Safeguard's problem+json members and add HMA's ``message``, with HMA's 400 where we would say 422.
Lookups run through the same matcher as ``/v1/match`` (``safeguard.banks.hma`` shapes HMA's answers).
Differences from HMA, on purpose: ``url=`` parameters (server-side fetches) are refused, since fetching
arbitrary URLs from the matching service is a server-side request forgery risk; creating a bank that
exists is 409 (HMA: 403); banked variants (rotations, crops, trimmed borders) match more than HMA does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from safeguard.api.deps import db_session, read_session, require_roles
from safeguard.api.errors import HmaRoute
from safeguard.api.routers.matching import get_matcher
from safeguard.auth import Actor, Role
from safeguard.banks import hma, service
from safeguard.banks.errors import BankNotFound
from safeguard.banks.matcher import BankMatcher
from safeguard.banks.models import Bank
from safeguard.banks.signals import VPDQ_MAX_CHARS
from safeguard.errors import InvalidInput, MalformedInput
from safeguard.media import ContentKind

router = APIRouter(tags=["hma"], route_class=HmaRoute)
integrators = require_roles(Role.integrator)
admins = require_roles()

BankName = Annotated[str, Field(min_length=1, max_length=200)]
SignalType = Annotated[str, Query(min_length=1, max_length=32)]
# A vpdq hash is long: over about 16 kB (some 200 frames) the HTTP server refuses the URL; POST it to
# /v1/match instead.
Signal = Annotated[str, Query(min_length=1, max_length=VPDQ_MAX_CHARS)]
Banks = Annotated[str | None, Query(max_length=4000, description="comma-separated bank names")]
Types = Annotated[str | None, Query(max_length=400, description="comma-separated signal types")]
Url = Annotated[str | None, Query(max_length=2000, description="refused: upload the file instead")]
ContentId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PhotoField = Annotated[UploadFile | None, File(description="an image (the field name is its content type)")]
VideoField = Annotated[UploadFile | None, File(description="a video (the field name is its content type)")]


def _no_url(url: str | None) -> None:
    if url is not None:
        raise InvalidInput(
            "fetching media from a URL is not supported (server-side request forgery risk); "
            "upload the file with POST instead",
            field="url",
        )


@dataclass(frozen=True, slots=True)
class Upload:
    kind: ContentKind
    data: bytes


async def one_upload(request: Request) -> Upload:
    """The one file of a multipart upload; its form field (``photo``, ``video``) names its content type."""
    form = await request.form()
    files = [(name, value) for name, value in form.multi_items() if isinstance(value, StarletteUpload)]
    if not files:
        raise MalformedInput("Missing multipart/form-data file upload (form field photo or video)")
    if len(files) > 1:
        raise MalformedInput("Only one file allowed per request")
    name, upload = files[0]
    return Upload(hma.content_kind(name), await upload.read())


UploadDep = Annotated[Upload, Depends(one_upload)]


class HmaBank(BaseModel):
    name: str
    matching_enabled_ratio: float

    @classmethod
    def of(cls, bank: Bank) -> HmaBank:
        ratio = bank.enabled_ratio if bank.enabled else 0.0
        return cls(name=bank.name, matching_enabled_ratio=ratio)


# Hashing ---------------------------------------------------------------------------------------------


@router.get("/h/hash", summary="HMA: hash media at a URL (refused: upload instead)")
def hash_url(_: Annotated[Actor, Depends(integrators)], url: Url = None) -> dict[str, str]:
    _no_url(url if url is not None else "")
    return {}


@router.post("/h/hash", summary="HMA: hash an uploaded file (form field photo or video)")
def hash_upload(
    _: Annotated[Actor, Depends(integrators)],
    upload: UploadDep,
    photo: PhotoField = None,
    video: VideoField = None,
    types: Types = None,
) -> dict[str, str]:
    return hma.hash_upload(upload.data, upload.kind, types, bank=False).hashes


# Matching --------------------------------------------------------------------------------------------


@router.get("/m/raw_lookup", summary="HMA: content ids matching a hash")
def raw_lookup(
    _: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
    signal_type: SignalType,
    signal: Signal,
    include_distance: Annotated[bool, Query()] = False,
    banks: Banks = None,
) -> dict[str, list[Any]]:
    found = hma.raw_lookup(session, matcher, signal_type, signal, banks=banks, distance=include_distance)
    return {"matches": found}


@router.get("/m/lookup", summary="HMA: matches of a hash, by bank")
def lookup_get(
    _: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
    signal_type: Annotated[str | None, Query(max_length=32)] = None,
    signal: Annotated[str | None, Query(max_length=VPDQ_MAX_CHARS)] = None,
    seed: Annotated[str | None, Query(max_length=200)] = None,
    banks: Banks = None,
    url: Url = None,
) -> dict[str, list[dict[str, Any]]]:
    _no_url(url)
    if not signal_type or not signal:
        raise InvalidInput(
            "Either url or both signal and signal_type are required",
            field="signal" if signal_type else "signal_type",
        )
    return hma.lookup(session, matcher, signal_type, [signal], banks=banks, seed=seed)


@router.post("/m/lookup", summary="HMA: hash an uploaded file; its matches by signal type and bank")
def lookup_post(
    _: Annotated[Actor, Depends(integrators)],
    session: Annotated[Session, Depends(read_session)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
    upload: UploadDep,
    photo: PhotoField = None,
    video: VideoField = None,
    seed: Annotated[str | None, Query(max_length=200)] = None,
    banks: Banks = None,
    bypass_coinflip: Annotated[bool, Query()] = False,
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    hashed = hma.hash_upload(upload.data, upload.kind, None, bank=False)
    return {
        st: hma.lookup(
            session, matcher, st, hashed.to_query.get(st, []), banks=banks, seed=seed, bypass=bypass_coinflip
        )
        for st in hashed.hashes
    }


@router.get("/m/index/status", summary="HMA: index status per signal type")
def index_status(
    _: Annotated[Actor, Depends(integrators)],
    matcher: Annotated[BankMatcher, Depends(get_matcher)],
    signal_type: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, dict[str, Any]]:
    sizes = matcher.sizes()
    if signal_type is not None:
        if signal_type not in sizes:
            raise InvalidInput(f"No such signal type {signal_type!r}", field="signal_type")
        sizes = {signal_type: sizes[signal_type]}
    present = matcher.ready.is_set()
    built_to = int(matcher.built_at) if present else -1
    return {st: {"present": present, "built_to": built_to, "size": size} for st, size in sizes.items()}


@router.post("/m/compare", summary="HMA: compare pairs of hashes ({signal_type: [hash, hash]})")
def compare(_: Annotated[Actor, Depends(integrators)], body: Annotated[Any, Body()]) -> dict[str, list[Any]]:
    return hma.compare(body)


# Curation: banks -------------------------------------------------------------------------------------


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


@router.post("/c/banks", status_code=201, summary="HMA: create a bank (name UPPER_WITH_UNDERSCORE)")
def bank_create(
    body: HmaBankCreate,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> HmaBank:
    ratio = body.enabled_ratio
    if ratio is None:
        ratio = 1.0 if body.enabled is None or body.enabled else 0.0
    name = hma.check_bank_name(body.name)
    return HmaBank.of(service.create_bank(session, actor, name=name, enabled_ratio=ratio))


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
) -> HmaBank:
    bank = service.get_bank_by_name(session, bank_name)
    ratio = body.enabled_ratio
    if ratio is None and body.enabled is not None:
        ratio = 1.0 if body.enabled else 0.0
    name = None if body.name is None else hma.check_bank_name(body.name)
    # HMA has one knob, the ratio. A ratio above 0 switches the bank on; 0 leaves `enabled` alone, so
    # HMA's bypass_coinflip still reaches the bank, as in HMA.
    enabled = True if ratio is not None and ratio > 0 else None
    return HmaBank.of(
        service.update_bank(session, actor, bank, name=name, enabled_ratio=ratio, enabled=enabled)
    )


@router.delete("/c/bank/{bank_name}", summary="HMA: delete a bank (200 when there is none)")
def bank_delete(
    bank_name: str, actor: Annotated[Actor, Depends(admins)], session: Annotated[Session, Depends(db_session)]
) -> dict[str, str]:
    try:
        bank = service.get_bank_by_name(session, bank_name)
    except BankNotFound:
        return {"message": "Done"}
    service.delete_bank(session, actor, bank)
    return {"message": "Done"}


# Curation: content -----------------------------------------------------------------------------------


@router.post("/c/bank/{bank_name}/content", summary="HMA: add an uploaded file to a bank")
def bank_add_file(
    bank_name: str,
    actor: Annotated[Actor, Depends(admins)],
    read: Annotated[Session, Depends(read_session)],
    session: Annotated[Session, Depends(db_session)],
    upload: UploadDep,
    photo: PhotoField = None,
    video: VideoField = None,
    metadata: Annotated[str | None, Form(description="HMA metadata, a JSON object")] = None,
    note: Annotated[str | None, Form(description="a note, at most 255 characters")] = None,
    types: Types = None,
    url: Url = None,
) -> dict[str, Any]:
    _no_url(url)
    service.get_bank_by_name(read, bank_name)  # a 404 before any hashing, without the write lock
    read.rollback()
    meta = hma.check_metadata(metadata)
    note_text = hma.check_note(note)
    # Hash first: the write transaction begins with the session's first statement, after the hashing.
    hashed = hma.hash_upload(upload.data, upload.kind, types, bank=True)
    bank = service.get_bank_by_name(session, bank_name)
    return hma.add_content(session, actor, bank, hashed, note=note_text, metadata=meta)


@router.get("/c/bank/{bank_name}/content/{content_id}", summary="HMA: show one content item")
def bank_get_content(
    bank_name: str,
    content_id: ContentId,
    _: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(read_session)],
    include_signals: Annotated[bool, Query()] = False,
    include_metadata: Annotated[bool, Query()] = True,
) -> dict[str, Any]:
    bank = service.get_bank_by_name(session, bank_name)
    content = service.get_content(session, bank, content_id)
    return hma.content_view(session, bank, content, signals=include_signals, metadata=include_metadata)


@router.put("/c/bank/{bank_name}/content/{content_id}", summary="HMA: set disable_until_ts or the note")
def bank_update_content(
    bank_name: str,
    content_id: ContentId,
    body: Annotated[dict[str, Any], Body(max_length=16)],
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> dict[str, Any]:
    bank = service.get_bank_by_name(session, bank_name)
    content = hma.update_content(session, actor, bank, content_id, body)
    return hma.content_view(session, bank, content)


@router.delete("/c/bank/{bank_name}/content/{content_id}", summary="HMA: remove a content item")
def bank_delete_content(
    bank_name: str,
    content_id: ContentId,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> dict[str, int]:
    bank = service.get_bank_by_name(session, bank_name)
    return {"deleted": hma.remove_content(session, actor, bank, content_id)}


@router.post("/c/bank/{bank_name}/signal", summary="HMA: add hashes directly ({signal_type: hash, note})")
def bank_add_signals(
    bank_name: str,
    body: Annotated[dict[str, Any], Body(max_length=64)],
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> dict[str, Any]:
    bank = service.get_bank_by_name(session, bank_name)
    return hma.add_signals(session, actor, bank, body)


# Status ----------------------------------------------------------------------------------------------


@router.get("/status", response_class=PlainTextResponse, summary="HMA: readiness (no key needed)")
def status(matcher: Annotated[BankMatcher, Depends(get_matcher)]) -> PlainTextResponse:
    if not matcher.ready.is_set():
        return PlainTextResponse("INDEX-NOT-LOADED", status_code=503)
    if matcher.is_stale:
        return PlainTextResponse("INDEX-STALE", status_code=503)
    return PlainTextResponse("I-AM-ALIVE")


@router.get("/status/live", response_class=PlainTextResponse, summary="HMA: liveness (no key needed)")
def status_live() -> PlainTextResponse:
    return PlainTextResponse("I-AM-ALIVE")


@router.get("/site-map", summary="HMA: every API route path")
def site_map(request: Request, _: Annotated[Actor, Depends(integrators)]) -> list[str]:
    paths = {getattr(route, "path", "") for route in request.app.routes}
    return sorted(p for p in paths if p and not p.startswith("/ui"))
