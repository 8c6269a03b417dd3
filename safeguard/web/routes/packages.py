"""Suspect investigation packages for analysts, read-only: the list most urgent first (tier, score, the
reasons) and one package (referrals, identifiers, media hashes and labels, timeline, links with their
explanations).

A thin view over ``safeguard.intake.packages``, like ``GET /v1/intake/suspects``; assigning, outcomes, split
and merge stay in the API and CLI, where they are audited with the analyst's reason.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from safeguard.auth import Role
from safeguard.intake import packages
from safeguard.store.db import Database
from safeguard.web.access import Viewer, get_db, page
from safeguard.web.rendering import render

router = APIRouter()
analysts = page(Role.analyst)

PAGE = 50
SuspectId = Annotated[int, Path(ge=1, le=2**63 - 1)]
State = Literal["new", "assessed", "actioned", "closed"]
Tier = Literal["immediate", "high", "medium", "low"]


@router.get("/packages")
def packages_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(analysts)],
    db: Annotated[Database, Depends(get_db)],
    state: State | None = None,
    tier: Tier | None = None,
    area: Annotated[str | None, Query(max_length=100)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    with db.read_session() as session:
        rows, total = packages.list_packages(
            session, state=state, tier=tier, area=area or None, limit=PAGE, offset=offset
        )
        context = {
            "suspects": rows,
            "total": total,
            "state": state or "",
            "tier": tier or "",
            "area": area or "",
            "states": list(get_args(State)),
            "tiers": list(get_args(Tier)),
            "offset": offset,
            "next_offset": offset + PAGE if offset + PAGE < total else None,
            "previous_offset": max(0, offset - PAGE) if offset else None,
        }
        return render(request, "packages.html", context)


@router.get("/packages/{suspect_id}")
def package_page(
    request: Request,
    suspect_id: SuspectId,
    viewer: Annotated[Viewer, Depends(analysts)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.read_session() as session:
        view = packages.package(session, suspect_id)
        return render(request, "package.html", {"view": view, "s": view.suspect})
