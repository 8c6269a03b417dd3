"""Hash banks (admin to change, integrator to read): banks, content, imports, exports, the change log,
URL lists and keyword lists."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from safeguard.api.deps import db_session, get_db, read_session, require_roles
from safeguard.auth import Actor, Role
from safeguard.banks import changes, importers, keywords, media, service, urls
from safeguard.banks.errors import ImportRejected
from safeguard.banks.models import Bank, BankContent, BankSignal, KeywordList, UrlList
from safeguard.banks.signals import PDQ_MAX_THRESHOLD, VPDQ_MAX_CHARS
from safeguard.store.db import Database

router = APIRouter(tags=["banks"])
admins = require_roles()
readers = require_roles(Role.integrator)

BankId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Bank id")]
ContentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Content id")]
ListId = Annotated[int, Path(ge=1, le=2**31 - 1, description="List id")]


class SignalModel(BaseModel):
    signal_type: str = Field(min_length=1, max_length=32, examples=["pdq"])
    hash: str = Field(
        min_length=1,
        max_length=VPDQ_MAX_CHARS,
        description="Lowercase hex; for vpdq a JSON list of 'pdq hex,quality,timestamp' frame strings",
    )
    kind: Literal["primary", "variant"] = "primary"


class BankCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    is_allowlist: bool = False
    enabled: bool = True
    enabled_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    pdq_threshold: int = Field(default=31, ge=0, le=PDQ_MAX_THRESHOLD)


class BankUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    is_allowlist: bool | None = None
    enabled: bool | None = None
    enabled_ratio: float | None = Field(default=None, ge=0.0, le=1.0)
    pdq_threshold: int | None = Field(default=None, ge=0, le=PDQ_MAX_THRESHOLD)


class BankOut(BaseModel):
    id: int
    name: str
    description: str
    is_allowlist: bool
    enabled: bool
    enabled_ratio: float
    pdq_threshold: int
    version: int = Field(description="Change sequence number of the bank's last change")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, bank: Bank) -> BankOut:
        return cls(
            id=bank.id,
            name=bank.name,
            description=bank.description,
            is_allowlist=bank.is_allowlist,
            enabled=bank.enabled,
            enabled_ratio=bank.enabled_ratio,
            pdq_threshold=bank.pdq_threshold,
            version=bank.version,
            created_at=bank.created_at,
            updated_at=bank.updated_at,
        )


class BankDetail(BankOut):
    content_count: int


class ContentCreate(BaseModel):
    signals: list[SignalModel] = Field(min_length=1, max_length=service.MAX_SIGNALS_PER_CONTENT)
    labels: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)
    source: str = Field(default="", max_length=200)
    external_ids: dict[str, Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, max_length=20
    )
    notes: str = Field(default="", max_length=10_000)


class ContentOut(BaseModel):
    id: int
    bank_id: int
    labels: list[str]
    source: str
    external_ids: dict[str, Any]
    notes: str
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    signals: list[SignalModel]

    @classmethod
    def of(cls, content: BankContent, signals: list[BankSignal]) -> ContentOut:
        return cls(
            id=content.id,
            bank_id=content.bank_id,
            labels=list(content.labels),
            source=content.source,
            external_ids=dict(content.external_ids),
            notes=content.notes,
            enabled=content.enabled,
            disabled_reason=content.disabled_reason,
            created_at=content.created_at,
            signals=[SignalModel(signal_type=s.signal_type, hash=s.value, kind=s.kind) for s in signals],
        )


class ContentAdded(ContentOut):
    created: bool = Field(description="False if every signal was already in the bank (nothing added)")


class DisableBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ImportOut(BaseModel):
    lines: int
    items: int
    added: int
    signals_added: int
    duplicates: int
    checkpoint: int
    sha256: str


class ChangeOut(BaseModel):
    seq: int
    op: str
    bank_id: int
    content_id: int | None
    signal_type: str | None
    hash: str | None
    kind: str | None


class ChangesOut(BaseModel):
    checkpoint: int = Field(description="The newest change sequence number overall")
    next_since: int = Field(description="Pass as `since` to fetch the next page")
    changes: list[ChangeOut]


# Banks -----------------------------------------------------------------------------------------------


@router.get("/v1/banks/changes", response_model=ChangesOut, summary="Changes since a checkpoint")
def bank_changes(
    _: Annotated[Actor, Depends(readers)],
    session: Annotated[Session, Depends(read_session)],
    since: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    bank_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> ChangesOut:
    checkpoint = changes.current_checkpoint(session)
    rows = changes.changes_since(session, since, limit, bank_id)
    return ChangesOut(
        checkpoint=checkpoint,
        next_since=rows[-1].seq if rows else max(since, checkpoint if bank_id is None else since),
        changes=[
            ChangeOut(
                seq=r.seq,
                op=r.op,
                bank_id=r.bank_id,
                content_id=r.content_id,
                signal_type=r.signal_type,
                hash=r.value,
                kind=r.kind,
            )
            for r in rows
        ],
    )


@router.post("/v1/banks", response_model=BankOut, status_code=201, summary="Create a bank")
def create_bank(
    body: BankCreate,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> BankOut:
    return BankOut.of(service.create_bank(session, actor, **body.model_dump()))


@router.get("/v1/banks", response_model=list[BankOut], summary="List banks")
def list_banks(
    _: Annotated[Actor, Depends(readers)], session: Annotated[Session, Depends(read_session)]
) -> list[BankOut]:
    return [BankOut.of(b) for b in service.list_banks(session)]


@router.get("/v1/banks/{bank_id}", response_model=BankDetail, summary="Show a bank")
def show_bank(
    bank_id: BankId, _: Annotated[Actor, Depends(readers)], session: Annotated[Session, Depends(read_session)]
) -> BankDetail:
    bank = service.get_bank(session, bank_id)
    return BankDetail(**BankOut.of(bank).model_dump(), content_count=service.content_count(session, bank.id))


@router.patch("/v1/banks/{bank_id}", response_model=BankOut, summary="Rename, describe, enable, tune a bank")
def update_bank(
    bank_id: BankId,
    body: BankUpdate,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> BankOut:
    bank = service.get_bank(session, bank_id)
    return BankOut.of(service.update_bank(session, actor, bank, **body.model_dump(exclude_unset=True)))


@router.delete("/v1/banks/{bank_id}", status_code=204, summary="Delete a bank (soft, audited)")
def delete_bank(
    bank_id: BankId,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> None:
    service.delete_bank(session, actor, service.get_bank(session, bank_id))


# Content ---------------------------------------------------------------------------------------------


def _meta(body: ContentCreate) -> service.ContentMeta:
    return service.ContentMeta(tuple(body.labels), body.source, body.external_ids, body.notes)


@router.post(
    "/v1/banks/{bank_id}/content", response_model=ContentAdded, status_code=201, summary="Add by hashes"
)
def add_content(
    bank_id: BankId,
    body: ContentCreate,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> ContentAdded:
    bank = service.get_bank(session, bank_id)
    signals = [service.SignalIn(s.signal_type, s.hash, s.kind) for s in body.signals]
    added = service.add_content(session, actor, bank, signals, _meta(body))
    all_signals = service.signals_of(session, [added.content.id])[added.content.id]
    return ContentAdded(**ContentOut.of(added.content, all_signals).model_dump(), created=added.created)


@router.post(
    "/v1/banks/{bank_id}/content/upload",
    response_model=ContentAdded,
    status_code=201,
    summary="Add by uploading media (hashed on the way in; the media is not kept)",
)
def upload_content(
    bank_id: BankId,
    actor: Annotated[Actor, Depends(admins)],
    read: Annotated[Session, Depends(read_session)],
    session: Annotated[Session, Depends(db_session)],
    file: Annotated[UploadFile, File(description="An image or video")],
    labels: Annotated[str, Form(max_length=5000, description="Comma-separated labels")] = "",
    source: Annotated[str, Form(max_length=200)] = "",
    notes: Annotated[str, Form(max_length=10_000)] = "",
    media_type: Annotated[Literal["image", "video"] | None, Form()] = None,
) -> ContentAdded:
    service.get_bank(read, bank_id)  # a 404 before any hashing, without the write lock
    read.rollback()
    data = file.file.read()
    # Hash first: the write transaction begins with the session's first statement, after the hashing.
    signals = media.hashes_to_bank(
        data, expect=media.MEDIA_TYPES.get(media_type or ""), caller=f"{actor.kind}:{actor.id}"
    )
    bank = service.get_bank(session, bank_id)
    meta = service.ContentMeta(tuple(x for x in labels.split(",") if x.strip()), source, {}, notes)
    added = service.add_content(session, actor, bank, signals, meta)
    all_signals = service.signals_of(session, [added.content.id])[added.content.id]
    return ContentAdded(**ContentOut.of(added.content, all_signals).model_dump(), created=added.created)


@router.get("/v1/banks/{bank_id}/content", response_model=list[ContentOut], summary="List content (paged)")
def list_content(
    bank_id: BankId,
    _: Annotated[Actor, Depends(readers)],
    session: Annotated[Session, Depends(read_session)],
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ContentOut]:
    bank = service.get_bank(session, bank_id)
    contents = service.list_content(session, bank, after_id=after_id, limit=limit)
    signals = service.signals_of(session, [c.id for c in contents])
    return [ContentOut.of(c, signals[c.id]) for c in contents]


@router.get("/v1/banks/{bank_id}/content/{content_id}", response_model=ContentOut, summary="Show content")
def show_content(
    bank_id: BankId,
    content_id: ContentId,
    _: Annotated[Actor, Depends(readers)],
    session: Annotated[Session, Depends(read_session)],
) -> ContentOut:
    content = service.get_content(session, service.get_bank(session, bank_id), content_id)
    return ContentOut.of(content, service.signals_of(session, [content.id])[content.id])


@router.post(
    "/v1/banks/{bank_id}/content/{content_id}/disable",
    response_model=ContentOut,
    summary="Disable (false positive)",
)
def disable_content(
    bank_id: BankId,
    content_id: ContentId,
    body: DisableBody,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> ContentOut:
    bank = service.get_bank(session, bank_id)
    content = service.set_content_enabled(session, actor, bank, content_id, enabled=False, reason=body.reason)
    return ContentOut.of(content, service.signals_of(session, [content.id])[content.id])


@router.post(
    "/v1/banks/{bank_id}/content/{content_id}/enable", response_model=ContentOut, summary="Enable again"
)
def enable_content(
    bank_id: BankId,
    content_id: ContentId,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> ContentOut:
    bank = service.get_bank(session, bank_id)
    content = service.set_content_enabled(session, actor, bank, content_id, enabled=True)
    return ContentOut.of(content, service.signals_of(session, [content.id])[content.id])


@router.delete("/v1/banks/{bank_id}/content/{content_id}", status_code=204, summary="Remove content")
def remove_content(
    bank_id: BankId,
    content_id: ContentId,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> None:
    service.remove_content(session, actor, service.get_bank(session, bank_id), content_id)


@router.post("/v1/banks/{bank_id}/import", response_model=ImportOut, summary="Import a file (all or nothing)")
def import_file(
    bank_id: BankId,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
    file: Annotated[UploadFile, File(description="CSV, TSV, JSON Lines or HMA signal maps")],
    format: Annotated[Literal["csv", "tsv", "jsonl", "hma"], Form()] = "csv",
    source: Annotated[str, Form(max_length=200)] = "",
) -> ImportOut:
    bank = service.get_bank(session, bank_id)
    text = io.TextIOWrapper(file.file, encoding="utf-8", newline="")
    result = importers.import_stream(session, actor, bank, text, format, source=source)
    return ImportOut(
        lines=result.lines,
        items=result.items,
        added=result.added,
        signals_added=result.signals_added,
        duplicates=result.duplicates,
        checkpoint=result.checkpoint,
        sha256=result.sha256,
    )


@router.get("/v1/banks/{bank_id}/export", summary="Export the bank's live content (streamed)")
def export_bank(
    bank_id: BankId,
    _: Annotated[Actor, Depends(admins)],
    db: Annotated[Database, Depends(get_db)],
    format: Annotated[Literal["csv", "tsv", "jsonl", "hma"], Query()] = "jsonl",
) -> StreamingResponse:
    with db.read_session() as session:
        service.get_bank(session, bank_id)  # 404 before the stream starts

    def lines() -> Iterator[bytes]:
        with db.read_session() as session:
            bank = service.get_bank(session, bank_id)
            for line in importers.export_lines(session, bank, format):
                yield line.encode("utf-8")

    media_type = {"csv": "text/csv", "tsv": "text/tab-separated-values"}.get(format, "application/x-ndjson")
    return StreamingResponse(lines(), media_type=media_type)


# URL lists -------------------------------------------------------------------------------------------


class UrlListCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    source: str = Field(default="", max_length=200)


class UrlListOut(BaseModel):
    id: int
    name: str
    source: str

    @classmethod
    def of(cls, url_list: UrlList) -> UrlListOut:
        return cls(id=url_list.id, name=url_list.name, source=url_list.source)


class UrlEntryModel(BaseModel):
    url: str = Field(min_length=1, max_length=urls.MAX_URL_CHARS)
    match: Literal["exact", "host", "prefix"] | None = None
    label: str = Field(default="", max_length=200)


class UrlEntriesIn(BaseModel):
    entries: list[UrlEntryModel] = Field(min_length=1, max_length=100_000)


class AddedOut(BaseModel):
    added: int


@router.post("/v1/url-lists", response_model=UrlListOut, status_code=201, summary="Create a URL list")
def create_url_list(
    body: UrlListCreate,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> UrlListOut:
    return UrlListOut.of(urls.create_url_list(session, actor, name=body.name, source=body.source))


@router.get("/v1/url-lists", response_model=list[UrlListOut], summary="List URL lists")
def list_url_lists(
    _: Annotated[Actor, Depends(readers)], session: Annotated[Session, Depends(read_session)]
) -> list[UrlListOut]:
    return [UrlListOut.of(x) for x in urls.list_url_lists(session)]


@router.post("/v1/url-lists/{list_id}/entries", response_model=AddedOut, summary="Add URL entries")
def add_url_entries(
    list_id: ListId,
    body: UrlEntriesIn,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> AddedOut:
    url_list = urls.get_url_list(session, list_id)
    entries = [urls.UrlEntryIn(e.url, e.match, e.label) for e in body.entries]
    return AddedOut(added=urls.add_url_entries(session, actor, url_list, entries))


@router.post("/v1/url-lists/{list_id}/import", response_model=AddedOut, summary="Import a URL list file")
def import_url_list(
    list_id: ListId,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
    file: Annotated[UploadFile, File(description="Lines of url[,match[,label]]")],
) -> AddedOut:
    url_list = urls.get_url_list(session, list_id)
    try:
        lines = file.file.read().decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise ImportRejected("the file is not UTF-8 text; nothing was added") from None
    return AddedOut(added=urls.add_url_entries(session, actor, url_list, urls.parse_url_lines(lines)))


# Keyword lists ---------------------------------------------------------------------------------------


class HelpLinkModel(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000)


class KeywordListCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=5000)
    help_links: list[HelpLinkModel] = Field(default_factory=list, max_length=20)


class KeywordListOut(BaseModel):
    id: int
    name: str
    message: str
    help_links: list[HelpLinkModel]

    @classmethod
    def of(cls, kl: KeywordList) -> KeywordListOut:
        links = [HelpLinkModel(**link) for link in kl.help_links]
        return cls(id=kl.id, name=kl.name, message=kl.message, help_links=links)


class TermsIn(BaseModel):
    terms: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(min_length=1, max_length=10_000)


@router.post(
    "/v1/keyword-lists", response_model=KeywordListOut, status_code=201, summary="Create a keyword list"
)
def create_keyword_list(
    body: KeywordListCreate,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> KeywordListOut:
    links = [keywords.HelpLink(x.title, x.url) for x in body.help_links]
    kl = keywords.create_keyword_list(session, actor, name=body.name, message=body.message, help_links=links)
    return KeywordListOut.of(kl)


@router.get("/v1/keyword-lists", response_model=list[KeywordListOut], summary="List keyword lists")
def list_keyword_lists(
    _: Annotated[Actor, Depends(readers)], session: Annotated[Session, Depends(read_session)]
) -> list[KeywordListOut]:
    return [KeywordListOut.of(x) for x in keywords.list_keyword_lists(session)]


@router.post("/v1/keyword-lists/{list_id}/terms", response_model=AddedOut, summary="Add terms")
def add_terms(
    list_id: ListId,
    body: TermsIn,
    actor: Annotated[Actor, Depends(admins)],
    session: Annotated[Session, Depends(db_session)],
) -> AddedOut:
    kl = keywords.get_keyword_list(session, list_id)
    return AddedOut(added=keywords.add_terms(session, actor, kl, body.terms))
