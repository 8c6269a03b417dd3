"""Enumerate the UI's routes, so the access test covers pages added later automatically."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount

from safeguard.auth import Role
from safeguard.web.access import PageAccess

# Reachable without a session: the sign-in form itself.
PUBLIC = {("GET", "/login"), ("POST", "/login")}


@dataclass(frozen=True)
class UiRoute:
    method: str
    path: str
    roles: frozenset[Role]
    writes: bool

    def url(self, value: str = "1") -> str:
        return "/ui" + re.sub(r"\{[^}]+\}", value, self.path)

    def __str__(self) -> str:
        return f"{self.method} /ui{self.path}"


def ui_app(app: FastAPI) -> FastAPI:
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/ui":
            assert isinstance(route.app, FastAPI)
            return route.app
    raise AssertionError("the UI is not mounted at /ui")


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _access(route: APIRoute) -> PageAccess | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, PageAccess):
            return dep.call
        stack.extend(dep.dependencies)
    return None


def ui_routes(app: FastAPI) -> list[UiRoute]:
    found = []
    for route in _api_routes(list(ui_app(app).routes)):
        for method in sorted(route.methods or ()):
            if (method, route.path) in PUBLIC:
                continue
            access = _access(route)
            if access is None:
                raise AssertionError(f"UI route {method} {route.path} has no page()/form() access check")
            if method != "GET" and not access.writes:
                raise AssertionError(f"UI route {method} {route.path} changes state without a CSRF check")
            found.append(UiRoute(method, route.path, access.roles, access.writes))
    return found
