"""Dependencies every router uses: the database session and the role check.

``require_roles(Role.integrator)`` returns a dependency that authenticates the bearer key and checks its
role (admin is always allowed). The returned callable carries ``.roles`` so the route-enumeration test can
prove that every route is protected and by which roles.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from safeguard.auth import Actor, Role
from safeguard.auth.cache import KeyCache
from safeguard.auth.errors import MissingCredentials, RoleNotAllowed
from safeguard.auth.service import check_digest, key_digest, record_use
from safeguard.banks.matcher import BankMatcher
from safeguard.config import Settings
from safeguard.store.base import utcnow
from safeguard.store.db import Database

logger = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer sg_...`")


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def db_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    """A read-write transaction around the route: commits if the route returns, rolls back if it raises."""
    with db.session() as session:
        yield session


def get_matcher(request: Request) -> BankMatcher:
    """This worker's in-memory bank matcher."""
    matcher: BankMatcher = request.app.state.bank_matcher
    return matcher


def read_session(db: Annotated[Database, Depends(get_db)]) -> Iterator[Session]:
    with db.read_session() as session:
        yield session


def request_id(request: Request) -> str | None:
    value: str | None = getattr(request.state, "request_id", None)
    return value


class RoleDependency:
    """Callable dependency; ``roles`` is the set of roles allowed besides admin."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        db: Annotated[Database, Depends(get_db)],
    ) -> Actor:
        if credentials is None or not credentials.credentials:
            raise MissingCredentials("an API key is required: send `Authorization: Bearer <key>`")
        digest = key_digest(credentials.credentials)
        cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
        cached = cache.get(digest) if cache is not None else None
        if cached is not None:  # no thread hop and no query: the hot path of matching
            actor = Actor(kind="api_key", id=cached.key_id, role=cached.role, request_id=request_id(request))
        else:
            actor, valid_for = await run_in_threadpool(_lookup, db, digest, request_id(request))
            if cache is not None:
                cache.put(digest, actor.id, actor.role, valid_for=valid_for)
        if actor.role is not Role.admin and actor.role not in self.roles:
            allowed = ", ".join(sorted(r.value for r in self.roles | {Role.admin}))
            raise RoleNotAllowed(
                f"this route needs one of the roles: {allowed}; the key has {actor.role.value}"
            )
        request.state.actor = actor
        return actor


def _lookup(db: Database, digest: str, rid: str | None) -> tuple[Actor, float | None]:
    """The key's actor and how many seconds it stays valid (None: no expiry); notes its use."""
    with db.read_session() as session:
        actor, times = check_digest(session, digest, request_id=rid)
    now = utcnow()
    if times.use_is_stale(now):
        _note_use(db, actor.id)
    valid_for = None if times.expires_at is None else (times.expires_at - now).total_seconds()
    return actor, valid_for


def _note_use(db: Database, key_id: str) -> None:
    # Last use is advisory: a busy database must not fail or hold up the request it came with.
    try:
        with db.session() as session:
            record_use(session, key_id)
    except OperationalError:
        logger.info("api key last-use not recorded: database busy")


def clear_key_cache(request: Request) -> None:
    """Forget cached keys in this worker (after a revocation, so it applies here at once)."""
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    if cache is not None:
        cache.clear()


def require_roles(*roles: Role) -> RoleDependency:
    return RoleDependency(frozenset(roles))
