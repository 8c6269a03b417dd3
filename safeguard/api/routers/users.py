"""Web UI user accounts (admin): list, create, disable and enable, change role. The same service as
``safeguard users`` and the UI's admin page (``safeguard.users.service``), so the same rules hold: strong
passwords, unique names, and no admin disabling or demoting their own account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from safeguard.api.deps import db_session, read_session, require_roles
from safeguard.auth import Actor, Role
from safeguard.users import service as users
from safeguard.users.service import UserInfo

router = APIRouter(prefix="/v1/users", tags=["users"])
admin_only = require_roles()
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    created_at: datetime
    disabled: bool
    locked: bool
    last_login_at: datetime | None

    @classmethod
    def of(cls, info: UserInfo) -> UserOut:
        return cls.model_validate(info, from_attributes=True)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, description="Lower-case letters, digits, . _ @ -")
    role: Role
    password: str = Field(min_length=1, max_length=1000, description="Checked for strength; never returned.")
    display_name: str = Field(default="", max_length=200)


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


@router.get("", response_model=list[UserOut], summary="List web UI users")
def list_users(
    actor: Annotated[Actor, Depends(admin_only)], session: Annotated[Session, Depends(read_session)]
) -> list[UserOut]:
    return [UserOut.of(info) for info in users.list_users(session)]


@router.post("", response_model=UserOut, status_code=201, summary="Create a web UI user")
def create_user(
    body: UserCreate,
    actor: Annotated[Actor, Depends(admin_only)],
    session: Annotated[Session, Depends(db_session)],
) -> UserOut:
    info = users.create_user(
        session,
        actor,
        username=body.username,
        role=body.role,
        password=body.password,
        display_name=body.display_name,
    )
    return UserOut.of(info)


@router.post("/{user_id}/disable", response_model=UserOut, summary="Disable a user (ends their sessions)")
def disable_user(
    user_id: UserId,
    actor: Annotated[Actor, Depends(admin_only)],
    session: Annotated[Session, Depends(db_session)],
) -> UserOut:
    return UserOut.of(users.set_disabled(session, actor, user_id, True))


@router.post("/{user_id}/enable", response_model=UserOut, summary="Enable a disabled user")
def enable_user(
    user_id: UserId,
    actor: Annotated[Actor, Depends(admin_only)],
    session: Annotated[Session, Depends(db_session)],
) -> UserOut:
    return UserOut.of(users.set_disabled(session, actor, user_id, False))


@router.post("/{user_id}/role", response_model=UserOut, summary="Change a user's role (ends their sessions)")
def set_role(
    user_id: UserId,
    body: RoleIn,
    actor: Annotated[Actor, Depends(admin_only)],
    session: Annotated[Session, Depends(db_session)],
) -> UserOut:
    return UserOut.of(users.set_role(session, actor, user_id, body.role.value))
