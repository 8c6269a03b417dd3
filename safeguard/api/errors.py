"""RFC 9457 problem+json for every error the API returns.

Services raise :class:`safeguard.errors.SafeguardError` subclasses; request validation, unknown routes and
database constraint failures are mapped here too, so a client only ever sees one error shape. A 500 is a
bug: it is logged (without the request body) and answered with a problem that carries the request id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from safeguard.auth.identity import record_refusal
from safeguard.errors import SafeguardError

log = logging.getLogger("safeguard.api")

PROBLEM_JSON = "application/problem+json"

_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media", "Unsupported media"),
    422: ("invalid-input", "Invalid input"),
}


def problem_response(problem: dict[str, Any], request: Request | None = None) -> JSONResponse:
    if request is not None:
        problem.setdefault("instance", str(request.url.path))
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            problem.setdefault("request_id", request_id)
    headers = {"WWW-Authenticate": "Bearer"} if problem.get("status") == 401 else {}
    if problem.get("status") in (429, 503) and isinstance(problem.get("retry_after"), int):
        headers["Retry-After"] = str(problem["retry_after"])
    return JSONResponse(problem, status_code=int(problem["status"]), media_type=PROBLEM_JSON, headers=headers)


async def audit_refusal(request: Request, exc: SafeguardError) -> None:
    """Write ``tenant.refused`` for an error that refused another owner's resource (the answer itself is
    the plain not-found problem). A failure to write it is logged, never turned into a different answer."""
    if exc.refusal is None:
        return
    db = getattr(request.app.state, "db", None)
    if db is None:
        return
    try:
        await run_in_threadpool(record_refusal, db, exc.refusal)
    except Exception:
        log.exception("could not audit a cross-tenant refusal on %s", request.url.path)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_problem(exc: RequestValidationError) -> dict[str, Any]:
    errors = []
    malformed = False
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            malformed = True
        errors.append({"field": _field_name(err.get("loc", ())), "message": str(err.get("msg", "invalid"))})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "the request is not valid"
    if malformed:
        return {
            "type": "/problems/malformed-input",
            "title": "Malformed input",
            "status": 400,
            "detail": f"the request body is not valid JSON ({detail})",
            "errors": errors,
        }
    return {
        "type": "/problems/invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": detail,
        "errors": errors,
    }


def hma_problem_response(problem: dict[str, Any], request: Request) -> JSONResponse:
    """HMA's error shape on top of ours: the problem keeps every RFC 9457 member and adds HMA's
    ``message``; a value HMA's routes refuse with 400 is 400 here too (not 422)."""
    if problem.get("status") == 422:
        problem["status"] = 400
    problem.setdefault("message", problem.get("detail", ""))
    return problem_response(problem, request)


class HmaRoute(APIRoute):
    """A route of the HMA-compatible API: its errors carry HMA's ``message`` field and status codes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def hma_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SafeguardError as exc:
                return hma_problem_response(exc.to_problem(), request)
            except RequestValidationError as exc:
                return hma_problem_response(validation_problem(exc), request)

        return hma_handler


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SafeguardError)
    async def safeguard_error(request: Request, exc: SafeguardError) -> JSONResponse:
        await audit_refusal(request, exc)
        return problem_response(exc.to_problem(), request)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _HTTP_TITLES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        problem = {"type": f"/problems/{code}", "title": title, "status": exc.status_code, "detail": detail}
        return problem_response(problem, request)

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # A constraint the service did not check first (usually a race between two requests).
        problem = {
            "type": "/problems/conflict",
            "title": "Conflict",
            "status": 409,
            "detail": "the change conflicts with existing data (a duplicate or a concurrent change); retry",
        }
        return problem_response(problem, request)

    @app.exception_handler(OperationalError)
    async def operational_error(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else "error")
        problem = {
            "type": "/problems/unavailable",
            "title": "Service unavailable",
            "status": 503,
            "detail": "the database is unavailable or busy; retry",
        }
        return problem_response(problem, request)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = {
            "type": "/problems/internal",
            "title": "Internal error",
            "status": 500,
            "detail": "an unexpected error occurred; it has been logged with the request id",
        }
        return problem_response(problem, request)
