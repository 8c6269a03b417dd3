"""The UI's routers, one per area; ``safeguard.web.app`` includes them all."""

from fastapi import APIRouter

from safeguard.web.routes import admin, auth, banks, figures, packages, review, webhooks

ROUTERS: list[APIRouter] = [
    auth.router,
    review.router,
    banks.router,
    figures.router,
    packages.router,
    webhooks.router,
    admin.router,
]
