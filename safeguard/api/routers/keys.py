"""API keys (admin): create (the key is shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from safeguard.api.deps import clear_key_cache, db_session, require_roles
from safeguard.auth import Actor, Role
from safeguard.auth import service as keys
from safeguard.auth.service import ApiKeyInfo

router = APIRouter(prefix="/v1/keys", tags=["keys"])
admin_only = require_roles()


class ApiKeyOut(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    expires_at: datetime | None = Field(default=None, description="Refused from this moment on; null: never.")
    last_used_at: datetime | None = Field(
        default=None, description="When the key was last checked (to within a minute); null: never used."
    )
    user: str | None = Field(description="The UI user who holds the key (one person for four-eyes).")

    @classmethod
    def of(cls, info: ApiKeyInfo) -> ApiKeyOut:
        return cls(
            id=info.id,
            name=info.name,
            role=info.role,
            prefix=info.prefix,
            created_at=info.created_at,
            created_by=info.created_by,
            revoked_at=info.revoked_at,
            expires_at=info.expires_at,
            last_used_at=info.last_used_at,
            user=info.user,
        )


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Who or what uses the key.")
    role: Role
    expires_at: datetime | None = Field(
        default=None, description="Optional expiry, in the future (UTC if no zone)."
    )
    user: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The UI user (username) who holds the key: four-eyes rules treat the key and that "
        "user's login as one person.",
    )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself. Shown only in this response; store it now.")


@router.post("", response_model=ApiKeyCreated, status_code=201, summary="Create an API key")
def create_key(
    body: ApiKeyCreate,
    actor: Annotated[Actor, Depends(admin_only)],
    session: Annotated[Session, Depends(db_session)],
) -> ApiKeyCreated:
    created = keys.create_key(
        session, actor, name=body.name, role=body.role, expires_at=body.expires_at, user=body.user
    )
    return ApiKeyCreated(**ApiKeyOut.of(created.info).model_dump(), key=created.key)


@router.get("", response_model=list[ApiKeyOut], summary="List API keys (never the keys themselves)")
def list_keys(
    actor: Annotated[Actor, Depends(admin_only)],
    session: Annotated[Session, Depends(db_session)],
) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(info) for info in keys.list_keys(session)]


@router.post("/{key_id}/revoke", response_model=ApiKeyOut, summary="Revoke an API key")
def revoke_key(
    key_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    actor: Annotated[Actor, Depends(admin_only)],
    session: Annotated[Session, Depends(db_session)],
    request: Request,
) -> ApiKeyOut:
    revoked = ApiKeyOut.of(keys.revoke_key(session, actor, key_id))
    session.commit()  # before forgetting cached keys, so no request can re-cache the key as still valid
    clear_key_cache(request)
    return revoked
