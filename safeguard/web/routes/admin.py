"""Admin pages: API keys, user accounts and the audit log with its chain verification."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from safeguard import audit
from safeguard.auth import Role
from safeguard.auth import service as keys
from safeguard.auth.cache import KeyCache
from safeguard.errors import InvalidInput
from safeguard.store.base import utcnow
from safeguard.store.db import Database
from safeguard.users import service as users
from safeguard.web.access import Viewer, base_path, form, get_db, page
from safeguard.web.actors import actor_names
from safeguard.web.rendering import render

router = APIRouter()
admins = page()
admin_forms = form()

ROLES = [role.value for role in Role]
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/admin/keys")
def key_list(
    request: Request, viewer: Annotated[Viewer, Depends(admins)], db: Annotated[Database, Depends(get_db)]
) -> Response:
    with db.read_session() as session:
        infos = keys.list_keys(session)
    return render(
        request, "admin/keys.html", {"keys": infos, "roles": ROLES, "new_key": None, "now": utcnow()}
    )


@router.post("/admin/keys")
def key_create(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    role: Annotated[str, Form(max_length=32)],
    expires_in_days: Annotated[str, Form(max_length=10)] = "",
    user: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expires_at = _expiry(expires_in_days)
    holder = user.strip() or None  # the UI user who holds the key: one person for four-eyes
    with db.session() as session:
        created = keys.create_key(
            session,
            viewer.actor,
            name=name,
            role=keys.parse_role(role),
            expires_at=expires_at,
            user=holder,
        )
    with db.read_session() as session:
        infos = keys.list_keys(session)
    # The key is shown on this one response and never again (only its hash is stored).
    return render(
        request, "admin/keys.html", {"keys": infos, "roles": ROLES, "new_key": created, "now": utcnow()}
    )


def _expiry(days: str) -> datetime | None:
    """The form's optional "expires in days" as a moment; blank: never."""
    if not days.strip():
        return None
    if not days.strip().isdigit() or not 1 <= int(days) <= 36500:
        raise InvalidInput("expires in days must be a whole number from 1 to 36500", field="expires_in_days")
    return utcnow() + timedelta(days=int(days))


@router.post("/admin/keys/{key_id}/revoke")
def key_revoke(
    request: Request,
    key_id: KeyId,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.session() as session:
        keys.revoke_key(session, viewer.actor, key_id)
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    if cache is not None:  # the API's cache of checked keys (shared with this UI): forget the revoked key
        cache.clear()
    return RedirectResponse(base_path(request) + "/admin/keys?notice=key-revoked", status_code=303)


@router.get("/admin/users")
def user_list(
    request: Request, viewer: Annotated[Viewer, Depends(admins)], db: Annotated[Database, Depends(get_db)]
) -> Response:
    with db.read_session() as session:
        people = users.list_users(session)
    return render(request, "admin/users.html", {"users": people, "roles": ROLES})


@router.post("/admin/users")
def user_create(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
    username: Annotated[str, Form(min_length=1, max_length=100)],
    role: Annotated[str, Form(max_length=32)],
    password: Annotated[str, Form(max_length=1024)],
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    with db.session() as session:
        users.create_user(
            session,
            viewer.actor,
            username=username,
            role=keys.parse_role(role),
            password=password,
            display_name=display_name,
        )
    return RedirectResponse(base_path(request) + "/admin/users?notice=user-created", status_code=303)


@router.post("/admin/users/{user_id}")
def user_update(
    request: Request,
    user_id: UserId,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
    operation: Annotated[str, Form(pattern="^(role|disable|enable|unlock|password)$")],
    role: Annotated[str, Form(max_length=32)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    with db.session() as session:
        if operation == "role":
            users.set_role(session, viewer.actor, user_id, role)
        elif operation in ("disable", "enable"):
            users.set_disabled(session, viewer.actor, user_id, operation == "disable")
        elif operation == "unlock":
            users.unlock(session, viewer.actor, user_id)
        else:
            users.set_password(session, viewer.actor, user_id, password)
    return RedirectResponse(base_path(request) + "/admin/users?notice=user-updated", status_code=303)


@router.get("/admin/audit")
def audit_log(
    request: Request,
    viewer: Annotated[Viewer, Depends(admins)],
    db: Annotated[Database, Depends(get_db)],
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    action: Annotated[str, Query(max_length=100)] = "",
    object_type: Annotated[str, Query(max_length=100)] = "",
    object_id: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    with db.read_session() as session:
        chain = audit.verify(session)
        records = audit.page(
            session,
            after=after,
            limit=100,
            action=action or None,
            object_type=object_type or None,
            object_id=object_id or None,
        )
        filters = {"action": action, "object_type": object_type, "object_id": object_id}
        # Rendered inside the session: the records are ORM rows, expired when the read transaction ends.
        names = actor_names(session, (f"{r.actor_kind}:{r.actor_id}" for r in records.records))
        context = {"chain": chain, "page": records, "filters": filters, "names": names}
        return render(request, "admin/audit.html", context)
