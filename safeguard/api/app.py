"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from safeguard import __version__
from safeguard.api.errors import install_error_handlers
from safeguard.api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from safeguard.api.routers import ROUTERS
from safeguard.auth.cache import KeyCache
from safeguard.banks.matcher import BankMatcher
from safeguard.config import Settings, get_settings
from safeguard.store.db import Database
from safeguard.store.migrate import require_current_schema
from safeguard.web.app import create_ui_app

DESCRIPTION = """
Safeguard finds and stops child sexual abuse material and grooming: media hash matching (PDQ, vPDQ,
MD5/SHA-256), grooming risk scoring, a review queue, actions back to the platform, referrals and intake.

Every route except `/health` needs an API key: `Authorization: Bearer sg_...`. Errors are RFC 9457
`application/problem+json`.
"""


def create_app(
    settings: Settings | None = None, db: Database | None = None, *, check_schema: bool = True
) -> FastAPI:
    settings = settings or get_settings()
    database = db or Database(settings.resolved_database_url)
    logging.getLogger("safeguard").setLevel(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if check_schema:
            require_current_schema(database)
        # Each worker process keeps its own in-memory bank indexes, loaded and refreshed in the background.
        matcher = BankMatcher(database)
        app.state.bank_matcher = matcher
        matcher.start()
        try:
            yield
        finally:
            matcher.stop()
        if db is None:  # only dispose what this factory created
            database.dispose()

    app = FastAPI(
        title="Safeguard",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database
    app.state.key_cache = KeyCache(settings.auth_cache_seconds)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    # The web UI is a mounted app with cookie sessions: its routes stay out of the API's table and OpenAPI.
    ui = create_ui_app(settings, database)
    ui.state.key_cache = app.state.key_cache
    app.mount("/ui", ui)
    # Outermost first: the request id is set before anything can fail, the body limit before parsing.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app
