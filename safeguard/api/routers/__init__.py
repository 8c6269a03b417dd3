"""Every router of the API, in the order they appear in the OpenAPI document. One line per capability."""

from fastapi import APIRouter

from safeguard.api.routers import audit, health, keys

ROUTERS: list[APIRouter] = [
    health.router,
    keys.router,
    audit.router,
]
