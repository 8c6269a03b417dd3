"""The audit log (admin): page through it, and verify its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.api.deps import read_session, require_roles
from safeguard.audit.models import AuditRecord
from safeguard.auth import Actor

router = APIRouter(prefix="/v1/audit", tags=["audit"])
admin_only = require_roles()


class AuditRecordOut(BaseModel):
    seq: int
    at: datetime
    actor_kind: str
    actor_id: str
    role: str
    action: str
    object_type: str
    object_id: str
    request_id: str | None
    change_digest: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, rec: AuditRecord) -> AuditRecordOut:
        return cls.model_validate(rec, from_attributes=True)


class AuditPageOut(BaseModel):
    records: list[AuditRecordOut]
    next_after: int | None
    total: int


class ChainReportOut(BaseModel):
    ok: bool
    records: int
    head_hash: str
    first_broken_seq: int | None
    problem: str | None


@router.get("", response_model=AuditPageOut, summary="Page through the audit log, oldest first")
def list_audit(
    actor: Annotated[Actor, Depends(admin_only)],
    session: Annotated[Session, Depends(read_session)],
    after: Annotated[int, Query(ge=0, le=2**62, description="Return records after this seq.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    action: Annotated[str | None, Query(max_length=100)] = None,
    object_type: Annotated[str | None, Query(max_length=100)] = None,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
) -> AuditPageOut:
    result = audit.page(
        session,
        after=after,
        limit=limit,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
    )
    return AuditPageOut(
        records=[AuditRecordOut.of(r) for r in result.records],
        next_after=result.next_after,
        total=result.total,
    )


@router.get("/verify", response_model=ChainReportOut, summary="Verify the audit log's hash chain")
def verify_audit(
    actor: Annotated[Actor, Depends(admin_only)],
    session: Annotated[Session, Depends(read_session)],
) -> ChainReportOut:
    report = audit.verify(session)
    return ChainReportOut(
        ok=report.ok,
        records=report.records,
        head_hash=report.head_hash,
        first_broken_seq=report.first_broken_seq,
        problem=report.problem,
    )
