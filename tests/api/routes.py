"""Enumerate the app's routes, so auth and bad-input tests cover routes added later automatically."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from safeguard.api.deps import RoleDependency
from safeguard.auth import Role

PUBLIC_PATHS = {"/health", "/status", "/status/live"}


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str  # the template, e.g. /v1/keys/{key_id}/revoke
    roles: frozenset[Role]  # allowed besides admin; empty for admin-only
    has_body: bool

    def url(self, value: str = "1") -> str:
        return re.sub(r"\{[^}]+\}", value, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _role_dependency(route: APIRoute) -> RoleDependency | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, RoleDependency):
            return dep.call
        stack.extend(dep.dependencies)
    return None


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    # FastAPI wraps included routers (``_IncludedRouter``); walk into them. Our routers are included
    # without an extra prefix, so each APIRoute's path is the full path (checked against OpenAPI below).
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def protected_routes(app: FastAPI) -> list[RouteCase]:
    cases = []
    for route in _api_routes(list(app.routes)):
        if route.path in PUBLIC_PATHS:
            continue
        dep = _role_dependency(route)
        if dep is None:
            raise AssertionError(f"route {route.path} has no require_roles(...) dependency")
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            cases.append(RouteCase(method, route.path, dep.roles, route.body_field is not None))
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if path not in PUBLIC_PATHS
    }
    found = {(c.method, c.path) for c in cases}
    assert documented <= found, f"routes missed by the enumeration: {documented - found}"
    return cases
