"""Who may open a page: the session cookie, the role check and the anti-forgery (CSRF) check.

Every UI route depends on ``page(...)`` (read-only pages) or ``form(...)`` (state-changing POSTs). Both
carry ``.roles`` so ``tests/web/test_route_access.py`` can prove that every route is protected. A request
without a live session is sent to the login page (GET) or refused (POST); a role that is not allowed gets
403; a form without the session's CSRF token gets 403 before any handler code runs.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from safeguard.auth import Actor, Role
from safeguard.errors import Forbidden, Unauthorized
from safeguard.store.db import Database
from safeguard.users import service as users
from safeguard.users.config import WebSettings

SESSION_COOKIE = "sg_session"
LOGIN_CSRF_COOKIE = "sg_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Unauthorized):
    code = "login-required"
    title = "Sign in required"

    def __init__(self, detail: str, *, next_path: str = "") -> None:
        super().__init__(detail)
        self.next_path = next_path


class PageForbidden(Forbidden):
    code = "page-forbidden"
    title = "Not allowed"


class CsrfRejected(Forbidden):
    code = "csrf-rejected"
    title = "Form expired"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in person for this request."""

    session: users.ActiveSession
    request_id: str | None

    @property
    def actor(self) -> Actor:
        return self.session.actor(self.request_id)

    @property
    def role(self) -> Role:
        return self.session.user.role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def may(self, *roles: Role) -> bool:
        return self.is_admin or self.role in roles


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def web_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.web_settings
    return settings


def base_path(request: Request) -> str:
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https" or web_settings(request).secure_cookies


def _viewer(request: Request, db: Database, roles: frozenset[Role]) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE, "")
    active = None
    if token:
        # A read transaction: on SQLite a write one would take the database's write lock on every page.
        with db.read_session() as session:
            active = users.resolve_session(session, token, settings=web_settings(request), touch=False)
        if active is not None and users.needs_touch(active):
            with db.session() as session:
                users.touch_session(session, active.id)
    if active is None:
        path = request.url.path
        query = f"?{request.url.query}" if request.url.query else ""
        raise LoginRequired("sign in to continue", next_path=path + query)
    viewer = Viewer(active, getattr(request.state, "request_id", None))
    if not viewer.is_admin and viewer.role not in roles:
        raise PageForbidden("your role cannot open this page")
    request.state.viewer = viewer
    return viewer


class PageAccess:
    """A signed-in user with one of ``roles`` (admin is always allowed). GET pages."""

    writes = False

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    def __call__(self, request: Request, db: Annotated[Database, Depends(get_db)]) -> Viewer:
        return _viewer(request, db, self.roles)


async def submitted_csrf(request: Request) -> str:
    """The CSRF token sent with a form (field) or a script's request (header)."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached by Starlette: the route's Form(...) fields read it again
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


class FormAccess(PageAccess):
    """As :class:`PageAccess`, and the request must carry this session's CSRF token. State-changing POSTs."""

    writes = True

    def __call__(  # type: ignore[override]
        self,
        request: Request,
        db: Annotated[Database, Depends(get_db)],
        submitted: Annotated[str, Depends(submitted_csrf)],
    ) -> Viewer:
        viewer = _viewer(request, db, self.roles)
        expected = viewer.session.csrf_token
        if not submitted or not hmac.compare_digest(submitted.encode(), expected.encode()):
            raise CsrfRejected("this form has expired or did not come from Safeguard; reload the page")
        return viewer


def page(*roles: Role) -> PageAccess:
    return PageAccess(frozenset(roles))


def form(*roles: Role) -> FormAccess:
    return FormAccess(frozenset(roles))


def everyone() -> frozenset[Role]:
    return frozenset(Role)


def login_url(request: Request, next_path: str = "") -> str:
    url = f"{base_path(request)}/login"
    return f"{url}?next={quote(next_path, safe='')}" if next_path else url
