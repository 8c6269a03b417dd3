"""Intake routes (role analyst): import referral files, search by any identifier, suspect investigation
packages (view, assign, state, outcomes, split, merge) and deconfliction alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from safeguard.api.deps import db_session, read_session, require_roles
from safeguard.auth import Actor, Role
from safeguard.errors import PayloadTooLarge
from safeguard.intake import packages, service
from safeguard.intake.views import OutcomeView

router = APIRouter(tags=["intake"])
# Response schemas validate from the typed read models of safeguard.intake.views (and the ORM rows).
READ_MODEL = ConfigDict(from_attributes=True)
analysts = require_roles(Role.analyst)

SuspectId = Annotated[int, Path(ge=1, le=2**63 - 1)]
ReferralId = Annotated[int, Path(ge=1, le=2**63 - 1)]
AlertId = Annotated[int, Path(ge=1, le=2**63 - 1)]
MAX_IMPORT_BYTES = 200 * 1024 * 1024


class ImportOut(BaseModel):
    batch_id: int | None = Field(description="null when every referral was already imported (a no-op)")
    format: str
    referrals: int
    imported: int
    duplicates: int
    referral_ids: list[int]
    suspects: list[int]
    suspects_created: int
    merges: int
    alerts: int
    warnings: list[str]


class SuspectOut(BaseModel):
    model_config = READ_MODEL
    id: int
    state: str
    tier: str
    score: float
    referral_count: int
    assigned_to: str | None
    assigned_force: str | None
    assigned_at: datetime | None
    force_area: str | None
    council: str | None
    previous_packages: int
    created_at: datetime
    updated_at: datetime


class SuspectList(BaseModel):
    total: int
    suspects: list[SuspectOut]


class OutcomeOut(BaseModel):
    model_config = READ_MODEL
    apprehended: bool
    apprehended_at: datetime | None
    charged: bool
    charged_at: datetime | None
    no_further_action: bool
    no_further_action_at: datetime | None
    children_safeguarded: int
    safeguarded_at: datetime | None
    notes: str | None


class ReferralBrief(BaseModel):
    model_config = READ_MODEL
    id: int
    source: str
    external_id: str
    suspect_id: int | None
    received_at: datetime
    incident_at: datetime | None
    incident_type: str | None
    platform: str | None
    reporter: str | None
    indicators: list[str]
    force_area: str | None
    council: str | None


class BankMatchOut(BaseModel):
    model_config = READ_MODEL
    bank: str
    signal_type: str
    labels: list[str]
    allowlist: bool


class MediaOut(BaseModel):
    """Hashes and labels of a reported file. Intake never holds the media itself."""

    model_config = READ_MODEL
    referral_id: int
    name: str | None
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    classification: str | None
    category: str | None
    viewed_by_platform: bool | None
    publicly_available: bool | None
    annotations: list[str]
    labels: list[str]
    bank_matches: list[BankMatchOut] = Field(default_factory=list, description="exact matches in hash banks")


class IdentifierOut(BaseModel):
    model_config = READ_MODEL
    kind: str
    value: str
    platforms: list[str]
    referrals: list[int]
    first_seen: datetime | None
    last_seen: datetime | None
    linkable: bool
    note: str | None


class TimelineOut(BaseModel):
    model_config = READ_MODEL
    at: datetime
    kind: str
    text: str
    referral_id: int | None


class LocationOut(BaseModel):
    model_config = READ_MODEL
    force: str | None
    council: str | None
    referrals: list[int]


class LinkOut(BaseModel):
    model_config = READ_MODEL
    referral_a: int
    referral_b: int
    rule: str
    strength: str
    weight: float
    explanation: str
    actor: str
    created_at: datetime
    overruled: bool = Field(description="the two referrals are no longer in one suspect (an analyst split)")


class EvidenceOut(BaseModel):
    model_config = READ_MODEL
    rule: str
    explanation: str
    weight: float
    counted: bool
    referral_a: int
    referral_b: int


class PossibleLinkOut(BaseModel):
    model_config = READ_MODEL
    suspect_id: int
    score: float
    threshold: float
    evidence: list[EvidenceOut]


class ReasonOut(BaseModel):
    model_config = READ_MODEL
    factor: str
    points: float
    reason: str


class AlertOut(BaseModel):
    model_config = READ_MODEL
    id: int
    suspect_id: int
    owner: str
    kind: str
    message: str
    referral_id: int | None
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class PackageOut(BaseModel):
    model_config = READ_MODEL
    suspect: SuspectOut
    redirected_from: int | None = Field(description="the id asked for, when it was merged into this suspect")
    merged_from: list[int]
    tier: str = Field(description="as of now (recency and escalation change with time)")
    score: float
    reasons: list[ReasonOut]
    assigned: bool = Field(description="deconfliction: already assigned to an officer or force")
    outcome: OutcomeOut
    referrals: list[ReferralBrief]
    identifiers: list[IdentifierOut]
    media: list[MediaOut]
    timeline: list[TimelineOut]
    locations: list[LocationOut]
    links: list[LinkOut]
    possible_links: list[PossibleLinkOut]
    alerts: list[AlertOut]


class AssignIn(BaseModel):
    officer: str | None = Field(default=None, max_length=200)
    force: str | None = Field(default=None, max_length=200)


class StateIn(BaseModel):
    state: Literal["new", "assessed", "actioned", "closed"]


class OutcomeIn(BaseModel):
    apprehended: bool | None = None
    charged: bool | None = None
    no_further_action: bool | None = None
    children_safeguarded: int | None = Field(default=None, ge=0, le=100_000)
    notes: str | None = Field(default=None, max_length=20_000)


class SplitIn(BaseModel):
    referral_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=10_000)
    reason: str = Field(min_length=1, max_length=2000)


class SplitOut(BaseModel):
    kept: int
    new: int


class MergeIn(BaseModel):
    suspect_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=2, max_length=2)
    reason: str = Field(min_length=1, max_length=2000)


class MergeOut(BaseModel):
    kept: int


class HitOut(BaseModel):
    model_config = READ_MODEL
    kind: str
    value: str
    referral_id: int
    source: str
    external_id: str
    suspect_id: int | None
    tier: str | None
    state: str | None
    assigned_to: str | None
    seen_at: datetime | None


class SearchOut(BaseModel):
    model_config = READ_MODEL
    query: str
    kinds: list[str]
    hits: list[HitOut]


class ReferralOut(BaseModel):
    model_config = READ_MODEL
    referral: ReferralBrief
    document: dict[str, Any]
    warnings: list[str]
    identifiers: list[IdentifierOut]
    media: list[MediaOut]


@router.post(
    "/v1/intake/imports", response_model=ImportOut, status_code=201, summary="Import a referral file"
)
def import_referrals(
    actor: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(db_session)],
    file: Annotated[UploadFile, File(description="CyberTipline-style XML, Safeguard JSON or CSV")],
    format: Annotated[
        Literal["auto", "cybertip-xml", "safeguard-json", "csv"], Form(description="detected when auto")
    ] = "auto",
) -> ImportOut:
    """All or nothing: a bad file is refused (problem+json naming the line, element or path) and nothing
    is imported; referrals already imported with the same content are skipped."""
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"referral files are limited to {MAX_IMPORT_BYTES} bytes")
    report = service.import_file(session, actor, data, format=format, filename=file.filename)
    return ImportOut(
        batch_id=report.batch_id,
        format=report.format,
        referrals=report.referrals,
        imported=report.imported,
        duplicates=report.duplicates,
        referral_ids=report.referral_ids,
        suspects=report.suspects,
        suspects_created=report.suspects_created,
        merges=report.merges,
        alerts=report.alerts,
        warnings=report.warnings[:1000],
    )


@router.get("/v1/intake/suspects", response_model=SuspectList, summary="Packages, most urgent first")
def list_suspects(
    _: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(read_session)],
    state: Annotated[Literal["new", "assessed", "actioned", "closed"] | None, Query()] = None,
    tier: Annotated[Literal["immediate", "high", "medium", "low"] | None, Query()] = None,
    assigned_to: Annotated[str | None, Query(max_length=200)] = None,
    area: Annotated[str | None, Query(max_length=100, description="council or force area")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> SuspectList:
    rows, total = packages.list_packages(
        session, state=state, tier=tier, assigned_to=assigned_to, area=area, limit=limit, offset=offset
    )
    return SuspectList(total=total, suspects=[SuspectOut.model_validate(s) for s in rows])


@router.get(
    "/v1/intake/suspects/{suspect_id}", response_model=PackageOut, summary="A suspect investigation package"
)
def get_package(
    suspect_id: SuspectId,
    _: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(read_session)],
) -> PackageOut:
    return PackageOut.model_validate(packages.package(session, suspect_id))


@router.post("/v1/intake/suspects/{suspect_id}/assign", response_model=SuspectOut, summary="Assign a package")
def assign(
    suspect_id: SuspectId,
    body: AssignIn,
    actor: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(db_session)],
) -> SuspectOut:
    return SuspectOut.model_validate(
        packages.assign(session, actor, suspect_id, officer=body.officer, force=body.force)
    )


@router.post("/v1/intake/suspects/{suspect_id}/state", response_model=SuspectOut, summary="Move a package on")
def set_state(
    suspect_id: SuspectId,
    body: StateIn,
    actor: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(db_session)],
) -> SuspectOut:
    return SuspectOut.model_validate(packages.set_state(session, actor, suspect_id, body.state))


@router.post("/v1/intake/suspects/{suspect_id}/outcome", response_model=OutcomeOut, summary="Record outcomes")
def record_outcome(
    suspect_id: SuspectId,
    body: OutcomeIn,
    actor: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(db_session)],
) -> OutcomeOut:
    suspect = packages.record_outcome(
        session,
        actor,
        suspect_id,
        apprehended=body.apprehended,
        charged=body.charged,
        no_further_action=body.no_further_action,
        children_safeguarded=body.children_safeguarded,
        notes=body.notes,
    )
    return OutcomeOut.model_validate(OutcomeView.of(suspect))


@router.post("/v1/intake/suspects/{suspect_id}/split", response_model=SplitOut, summary="Split a suspect")
def split(
    suspect_id: SuspectId,
    body: SplitIn,
    actor: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(db_session)],
) -> SplitOut:
    """Move referrals into a new suspect; automatic linking never joins the two again."""
    kept, new = service.split_suspect(session, actor, suspect_id, body.referral_ids, reason=body.reason)
    return SplitOut(kept=kept, new=new)


@router.post("/v1/intake/merges", response_model=MergeOut, summary="Merge two suspects")
def merge(
    body: MergeIn,
    actor: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(db_session)],
) -> MergeOut:
    first, second = body.suspect_ids
    return MergeOut(kept=service.merge_suspects(session, actor, first, second, reason=body.reason))


@router.get("/v1/intake/referrals/{referral_id}", response_model=ReferralOut, summary="One referral")
def get_referral(
    referral_id: ReferralId,
    _: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(read_session)],
) -> ReferralOut:
    return ReferralOut.model_validate(packages.get_referral(session, referral_id))


@router.get("/v1/intake/search", response_model=SearchOut, summary="Find referrals by any identifier")
def search(
    _: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(read_session)],
    value: Annotated[str, Query(min_length=1, max_length=500)],
    kind: Annotated[
        Literal[
            "email",
            "phone",
            "account",
            "screen_name",
            "username",
            "ip",
            "device",
            "md5",
            "sha1",
            "sha256",
            "pdq",
            "referral",
        ]
        | None,
        Query(description="guessed from the value when absent"),
    ] = None,
) -> SearchOut:
    return SearchOut.model_validate(packages.search(session, value, kind))


@router.get("/v1/intake/alerts", response_model=list[AlertOut], summary="Deconfliction alerts")
def list_alerts(
    _: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(read_session)],
    owner: Annotated[str | None, Query(max_length=200)] = None,
    include_acknowledged: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertOut]:
    rows = packages.alerts(session, owner=owner, include_acknowledged=include_acknowledged, limit=limit)
    return [AlertOut.model_validate(a) for a in rows]


@router.post("/v1/intake/alerts/{alert_id}/ack", response_model=AlertOut, summary="Acknowledge an alert")
def acknowledge(
    alert_id: AlertId,
    actor: Annotated[Actor, Depends(analysts)],
    session: Annotated[Session, Depends(db_session)],
) -> AlertOut:
    return AlertOut.model_validate(packages.acknowledge(session, actor, alert_id))
