"""Webhook admin: endpoints, deliveries, dead letters and replay (the actions capability does the work)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from safeguard.actions import endpoints, outbox
from safeguard.auth import Role
from safeguard.auth import service as keys
from safeguard.review.events import EVENT_TYPES
from safeguard.store.db import Database
from safeguard.web.access import Viewer, base_path, form, get_db, page
from safeguard.web.rendering import render

router = APIRouter()
admins = page()
admin_forms = form()

EndpointId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE = 100


def _page(
    request: Request, viewer: Viewer, db: Database, status: str, after: int = 0, created: object = None
) -> Response:
    with db.read_session() as session:
        deliveries = outbox.list_deliveries(
            session, viewer.actor, status=status or None, after=after, limit=PAGE
        )
        integrators = [k for k in keys.list_keys(session, include_revoked=False) if k.role is Role.integrator]
        context = {
            "endpoints": endpoints.list_endpoints(session, viewer.actor),
            "deliveries": deliveries,
            "next_after": deliveries[-1].id if len(deliveries) == PAGE else None,
            "counts": outbox.counts(session),
            "status": status,
            "event_types": EVENT_TYPES,
            "integrators": integrators,
            "created": created,
        }
        return render(request, "admin/webhooks.html", context)


@router.get("/admin/webhooks")
def webhook_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(admins)],
    db: Annotated[Database, Depends(get_db)],
    status: Annotated[str, Query(pattern="^(|pending|delivered|dead)$")] = "",
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> Response:
    return _page(request, viewer, db, status, after)


@router.post("/admin/webhooks")
def webhook_create(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
    url: Annotated[str, Form(min_length=1, max_length=2000)],
    owner: Annotated[str, Form(pattern=r"^api_key:\d{1,10}$")],
    events: Annotated[list[str], Form(min_length=1, max_length=10)],
    description: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    with db.session() as session:
        created = endpoints.create_endpoint(
            session, viewer.actor, url=url, events=events, description=description, owner=owner
        )
    return _page(request, viewer, db, "", created=created)


@router.post("/admin/webhooks/{endpoint_id}/deactivate")
def webhook_deactivate(
    request: Request,
    endpoint_id: EndpointId,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.session() as session:
        endpoints.deactivate(session, viewer.actor, endpoint_id)
    return RedirectResponse(f"{base_path(request)}/admin/webhooks?notice=endpoint-updated", status_code=303)


@router.post("/admin/webhooks/deliveries/{delivery_id}/replay")
def delivery_replay(
    request: Request,
    delivery_id: DeliveryId,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.session() as session:
        outbox.replay(session, viewer.actor, delivery_id)
    return RedirectResponse(f"{base_path(request)}/admin/webhooks?notice=replayed", status_code=303)


@router.post("/admin/webhooks/dead/replay")
def dead_replay(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.session() as session:
        outbox.replay_dead(session, viewer.actor)
    return RedirectResponse(f"{base_path(request)}/admin/webhooks?notice=replayed", status_code=303)
