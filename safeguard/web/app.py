"""The UI application: a FastAPI app of its own, mounted by the API app at ``/ui``.

Being a mounted application keeps its routes out of the API's route table and OpenAPI document (they use
cookie sessions, not API keys); ``safeguard.web.access`` protects each route instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from safeguard.api.errors import audit_refusal, problem_response
from safeguard.config import Settings
from safeguard.errors import SafeguardError, TooManyRequests
from safeguard.store.db import Database
from safeguard.users.config import WebSettings, get_web_settings
from safeguard.web.access import LoginRequired, login_url
from safeguard.web.rendering import HERE, render
from safeguard.web.routes import ROUTERS

log = logging.getLogger("safeguard.web")

# Pages hold case details: no third-party anything, no framing, no caching, no referrer leaks.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def create_ui_app(settings: Settings, db: Database, web_settings: WebSettings | None = None) -> FastAPI:
    ui = FastAPI(title="Safeguard UI", docs_url=None, redoc_url=None, openapi_url=None)
    ui.state.settings = settings
    ui.state.db = db
    ui.state.web_settings = web_settings or get_web_settings()
    for router in ROUTERS:
        ui.include_router(router)
    ui.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _install_error_pages(ui)

    @ui.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if "/static/" not in request.url.path:
            response.headers["cache-control"] = "no-store"
        return response

    return ui


def _install_error_pages(ui: FastAPI) -> None:
    @ui.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.method in ("GET", "HEAD"):
            return RedirectResponse(login_url(request, exc.next_path), status_code=303)
        return render(request, "error.html", {"title": exc.title, "detail": exc.detail}, status=401)

    @ui.exception_handler(TooManyRequests)
    async def too_many(request: Request, exc: TooManyRequests) -> Response:
        # A script gets the problem document; a browser gets the page. Both carry Retry-After.
        if "json" in request.headers.get("accept", ""):
            return problem_response(exc.to_problem(), request)
        page = render(request, "error.html", {"title": exc.title, "detail": exc.detail}, status=exc.status)
        page.headers["retry-after"] = str(exc.retry_after)
        return page

    @ui.exception_handler(SafeguardError)
    async def safeguard_error(request: Request, exc: SafeguardError) -> Response:
        await audit_refusal(request, exc)
        return render(request, "error.html", {"title": exc.title, "detail": exc.detail}, status=exc.status)

    @ui.exception_handler(RequestValidationError)
    async def invalid_form(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({".".join(str(p) for p in err.get("loc", ())[1:]) for err in exc.errors()})
        detail = "check these fields: " + ", ".join(f for f in fields if f) if fields else "check the form"
        return render(request, "error.html", {"title": "Invalid input", "detail": detail}, status=422)

    @ui.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title = "Not found" if exc.status_code == 404 else "Request refused"
        return render(
            request, "error.html", {"title": title, "detail": str(exc.detail)}, status=exc.status_code
        )

    @ui.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError) -> Response:
        # Busy or locked (SQLite under a long writer) or unreachable: the request can be retried.
        log.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else "error")
        detail = "The database is busy or unavailable. Try again in a moment."
        response = render(request, "error.html", {"title": "Busy", "detail": detail}, status=503)
        response.headers["retry-after"] = "1"
        return response

    @ui.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("UI error (request %s)", getattr(request.state, "request_id", "-"))
        detail = "Something went wrong on our side. The error was logged."
        return render(request, "error.html", {"title": "Server error", "detail": detail}, status=500)
