"""Sign in, sign out, the home redirect and the personal settings (blur strength, breaks)."""

from __future__ import annotations

import hmac
import secrets
from functools import partial
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from safeguard.auth import Role
from safeguard.errors import TooManyRequests
from safeguard.store.db import Database
from safeguard.users import service as users
from safeguard.users.passwords import CHECKS_AT_ONCE
from safeguard.users.throttle import LoginThrottle
from safeguard.web.access import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Viewer,
    base_path,
    everyone,
    form,
    get_db,
    is_secure,
    page,
    web_settings,
)
from safeguard.web.rendering import render

router = APIRouter()
# Sign-ins checked at once (as many as safeguard.users.passwords runs); the others wait without a thread,
# and past MAX_WAITING_CHECKS waiting a sign-in is a 429. A 429 is sent after REFUSAL_DELAY_S: a client
# that retries at once is slowed to that pace at no cost to the server.
PASSWORD_CHECKS = CHECKS_AT_ONCE
MAX_WAITING_CHECKS = 256
REFUSAL_DELAY_S = 1.0
signed_in = page(*everyone())
signed_in_form = form(*everyone())

# Where each role lands after signing in.
HOME = {
    Role.admin: "/queue",
    Role.moderator: "/queue",
    Role.analyst: "/packages",  # intake analysts work on suspect packages
    Role.integrator: "/account",
}


def _safe_next(request: Request, next_path: str) -> str:
    """Only a path inside the UI: never another host (open redirect) or a protocol-relative URL."""
    base = base_path(request)
    if next_path.startswith(base + "/") and not next_path.startswith("//") and "\\" not in next_path:
        return next_path
    return ""


def _login_page(request: Request, *, error: str = "", next_path: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        {"login_csrf": token, "error": error, "next": next_path, "settings": web_settings(request)},
        status=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        path=base_path(request) + "/login",
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    return _login_page(request, next_path=_safe_next(request, next))


def _limiter(request: Request) -> anyio.CapacityLimiter:
    """Password checks running at once (each argon2 check is CPU-heavy and uses several threads)."""
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "login_limiter", None)
    if limiter is None:
        limiter = state.login_limiter = anyio.CapacityLimiter(PASSWORD_CHECKS)
    return limiter


def _throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle | None = getattr(request.app.state, "login_throttle", None)
    if throttle is None:
        settings = web_settings(request)
        throttle = LoginThrottle(settings.throttle_attempts, settings.throttle_minutes * 60)
        request.app.state.login_throttle = throttle
    return throttle


@router.post("/login")
async def login(
    request: Request,
    db: Annotated[Database, Depends(get_db)],
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    next_path = _safe_next(request, next)
    if not expected or not csrf_token or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_page(
            request, error="The sign-in form expired. Please try again.", next_path=next_path, status=403
        )
    settings = web_settings(request)
    limiter = _limiter(request)
    if limiter.statistics().tasks_waiting >= MAX_WAITING_CHECKS:
        await anyio.sleep(REFUSAL_DELAY_S)
        raise TooManyRequests("too many sign-ins are being checked right now; retry shortly", retry_after=2)
    check = partial(
        users.login,
        db,
        username,
        password,
        settings=settings,
        request_id=getattr(request.state, "request_id", None),
        client=request.client.host if request.client else "",
        throttle=_throttle(request),
    )
    # In a thread of its own limiter: neither the event loop nor the pool other routes run in waits on it.
    try:
        outcome = await anyio.to_thread.run_sync(check, limiter=limiter)
    except TooManyRequests:
        await anyio.sleep(REFUSAL_DELAY_S)
        raise
    if not outcome.ok or outcome.user is None or outcome.token is None:
        # One message for every failure, so the form does not tell which user names exist.
        error = "That user name and password did not work, or the account is locked for now."
        return _login_page(request, error=error, next_path=next_path, status=401)
    target = next_path or base_path(request) + HOME[outcome.user.role]
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        max_age=int(settings.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        path=base_path(request) or "/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=base_path(request) + "/login")
    return response


@router.post("/logout")
def logout(
    request: Request,
    viewer: Annotated[Viewer, Depends(signed_in_form)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.session() as session:
        users.logout(session, request.cookies.get(SESSION_COOKIE, ""), request_id=viewer.request_id)
    response = RedirectResponse(base_path(request) + "/login?notice=signed-out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=base_path(request) or "/")
    return response


@router.get("/")
def home(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    return RedirectResponse(base_path(request) + HOME[viewer.role], status_code=303)


@router.get("/account")
def account(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    return render(
        request, "account.html", {"settings": web_settings(request), "blur_range": users.BLUR_RANGE}
    )


@router.post("/account/blur")
def set_blur(
    request: Request,
    viewer: Annotated[Viewer, Depends(signed_in_form)],
    db: Annotated[Database, Depends(get_db)],
    blur_px: Annotated[int, Form(ge=users.BLUR_RANGE[0], le=users.BLUR_RANGE[1])],
) -> Response:
    with db.session() as session:
        users.set_blur(session, viewer.actor, viewer.session.user.id, blur_px)
    return RedirectResponse(base_path(request) + "/account?notice=settings-saved", status_code=303)


@router.post("/break")
def take_break(
    request: Request,
    viewer: Annotated[Viewer, Depends(signed_in_form)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.session() as session:
        users.take_break(session, viewer.actor, viewer.session.id)
    return RedirectResponse(base_path(request) + "/account?notice=break-taken", status_code=303)
