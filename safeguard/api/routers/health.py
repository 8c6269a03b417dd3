"""``GET /health``: the one route without authentication (for load balancers and orchestrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import text

from safeguard import __version__
from safeguard.api.deps import get_db
from safeguard.store.db import Database

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    database: str


@router.get("/health", response_model=Health, summary="Liveness and database reachability")
def health(db: Annotated[Database, Depends(get_db)]) -> Health:
    try:
        with db.read_session() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # report, never raise: health must answer even when the database is down
        database = "unavailable"
    return Health(status="ok" if database == "ok" else "degraded", version=__version__, database=database)
