"""Every router of the API, in the order they appear in the OpenAPI document. One line per capability."""

from fastapi import APIRouter

from safeguard.api.routers import (
    actions,
    audit,
    banks,
    health,
    hma,
    intake,
    keys,
    matching,
    media,
    review,
    stats,
    text,
    users,
)

ROUTERS: list[APIRouter] = [
    health.router,
    keys.router,
    users.router,
    audit.router,
    review.router,
    actions.router,
    banks.router,
    matching.router,
    hma.router,
    intake.router,
    stats.router,
    media.router,
    text.router,
]
