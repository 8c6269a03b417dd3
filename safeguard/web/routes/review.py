"""Moderator pages: the queue, claiming, the case page, its media, decisions, four eyes, escalation."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from safeguard.auth import Role
from safeguard.config import Settings
from safeguard.flows import decision as decision_flow
from safeguard.review import decisions, queue
from safeguard.review.decisions import Action, load_case
from safeguard.review.errors import CaseNotFound, InvalidDecision
from safeguard.review.signals import Label
from safeguard.store.db import Database
from safeguard.users import service as users
from safeguard.web import casework
from safeguard.web.access import Viewer, base_path, form, get_db, page
from safeguard.web.actors import actor_names
from safeguard.web.contact_sheet import contact_sheet
from safeguard.web.rendering import render

router = APIRouter()
moderators = page(Role.moderator)
moderator_forms = form(Role.moderator)

CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DecisionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Kind = Annotated[str, Query(pattern="^(|content|conversation|account)$")]
LabelFilter = Annotated[str, Query(pattern="^(|A1|A2|B1|B2)$")]


def _media_dir(request: Request) -> FsPath:
    settings: Settings = request.app.state.settings
    return settings.resolved_media_dir


def _to_case(request: Request, case_id: int, notice: str = "") -> RedirectResponse:
    suffix = f"?notice={notice}" if notice else ""
    return RedirectResponse(f"{base_path(request)}/cases/{case_id}{suffix}", status_code=303)


def _to_queue(request: Request, notice: str) -> RedirectResponse:
    return RedirectResponse(f"{base_path(request)}/queue?notice={notice}", status_code=303)


@router.get("/queue")
def queue_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(moderators)],
    db: Annotated[Database, Depends(get_db)],
    kind: Kind = "",
    label: LabelFilter = "",
    overdue: bool = False,
    escalated: bool = False,
) -> Response:
    with db.read_session() as session:
        view = casework.queue_view(
            session,
            viewer.actor,
            kind=kind,
            label=label,
            overdue=overdue,
            escalated=True if escalated and viewer.is_admin else None,
        )
    filters = {"kind": kind, "label": label, "overdue": overdue, "escalated": escalated}
    return render(request, "queue.html", {"view": view, "filters": filters, "kinds": casework.KINDS})


@router.post("/queue/claim")
def claim_next(
    request: Request,
    viewer: Annotated[Viewer, Depends(moderator_forms)],
    db: Annotated[Database, Depends(get_db)],
    kind: Annotated[str, Form(pattern="^(|content|conversation|account)$")] = "",
    label: Annotated[str, Form(pattern="^(|A1|A2|B1|B2)$")] = "",
) -> Response:
    flt = queue.QueueFilter(kinds=[kind] if kind else [], labels=[label] if label else [])
    with db.session() as session:
        case = queue.claim_next(session, viewer.actor, flt)
        if case is None:
            return _to_queue(request, "queue-empty")
        # The wellness counter counts the media items a moderator is about to see (at least one per case).
        items = len(casework.case_media(session, case, _media_dir(request)))
        users.count_views(session, viewer.session.id, max(1, items))
        case_id = case.id
    return _to_case(request, case_id)


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: CaseId,
    viewer: Annotated[Viewer, Depends(moderators)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.read_session() as session:
        view = casework.case_view(session, load_case(session, case_id), viewer.actor, _media_dir(request))
        label_choices, action_choices = casework.decision_choices(view.case.kind)
        context = {
            "view": view,
            "label_choices": label_choices,
            "action_choices": action_choices,
            "bank_choices": casework.bank_choices(session),
            # The same roles as POST /v1/cases/{id}/appeals, less the platform (which has no UI login).
            "may_appeal": viewer.may(Role.moderator),
            "names": actor_names(
                session,
                [d.moderator for d in view.decisions]
                + [d.confirmed_by for d in view.decisions]
                + [a.submitted_by for a in view.appeals],
            ),
        }
        return render(request, "case.html", context)


@router.get("/cases/{case_id}/media/{key}")
def case_media_file(
    request: Request,
    case_id: CaseId,
    key: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
    viewer: Annotated[Viewer, Depends(moderators)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    """Kept media of this case only; the page shows it blurred and in greyscale, and nothing caches it."""
    with db.read_session() as session:
        case = load_case(session, case_id)
        keys = {item.key for item in casework.case_media(session, case, _media_dir(request))}
    path = casework.media_file(_media_dir(request), key) if key in keys else None
    if path is None:
        raise CaseNotFound(f"case {case_id} has no kept media {key[:12]}…")
    if path.suffix.lower() in casework.VIDEO_TYPES:
        sheet = contact_sheet(path)
        return Response(sheet, media_type="image/jpeg", headers={"cache-control": "no-store"})
    return FileResponse(
        path,
        media_type=casework.IMAGE_TYPES[path.suffix.lower()],
        headers={"cache-control": "no-store", "content-disposition": "inline"},
    )


@router.post("/cases/{case_id}/decide")
def decide(
    request: Request,
    case_id: CaseId,
    viewer: Annotated[Viewer, Depends(moderator_forms)],
    db: Annotated[Database, Depends(get_db)],
    label: Annotated[str, Form(max_length=32)],
    actions: Annotated[list[str], Form(max_length=7)] = [],  # noqa: B006 - FastAPI copies defaults
    notes: Annotated[str, Form(max_length=10_000)] = "",
    bank: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        chosen_label = Label(label)
        chosen_actions = [Action(a) for a in actions]
    except ValueError:
        raise InvalidDecision("choose a label and actions from the form", field="label") from None
    with db.session() as session:
        decision = decision_flow.decide(
            session,
            viewer.actor,
            case_id,
            label=chosen_label,
            actions=chosen_actions,
            notes=notes,
            bank=bank or None,
        )
        status = decision.status
    notice = {"escalation": "escalated", "pending_confirmation": "proposed"}.get(status, "decided")
    return _to_queue(request, notice)


@router.post("/cases/{case_id}/decisions/{decision_id}/confirm")
def confirm(
    request: Request,
    case_id: CaseId,
    decision_id: DecisionId,
    viewer: Annotated[Viewer, Depends(moderator_forms)],
    db: Annotated[Database, Depends(get_db)],
    approve: Annotated[bool, Form()],
    notes: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    with db.session() as session:
        decision_flow.confirm(session, viewer.actor, case_id, decision_id, approve=approve, notes=notes)
    return _to_queue(request, "confirmed" if approve else "rejected")


@router.post("/cases/{case_id}/release")
def release(
    request: Request,
    case_id: CaseId,
    viewer: Annotated[Viewer, Depends(moderator_forms)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.session() as session:
        queue.release(session, viewer.actor, case_id)
    return _to_queue(request, "released")


@router.post("/cases/{case_id}/renew")
def renew(
    request: Request,
    case_id: CaseId,
    viewer: Annotated[Viewer, Depends(moderator_forms)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.session() as session:
        queue.renew(session, viewer.actor, case_id)
    return _to_case(request, case_id, "renewed")


@router.post("/cases/{case_id}/escalate")
def escalate(
    request: Request,
    case_id: CaseId,
    viewer: Annotated[Viewer, Depends(moderator_forms)],
    db: Annotated[Database, Depends(get_db)],
    reason: Annotated[str, Form(min_length=1, max_length=4000)],
) -> Response:
    with db.session() as session:
        queue.escalate(session, viewer.actor, case_id, reason=reason)
    return _to_queue(request, "escalated")


@router.post("/cases/{case_id}/appeal")
def appeal(
    request: Request,
    case_id: CaseId,
    viewer: Annotated[Viewer, Depends(moderator_forms)],
    db: Annotated[Database, Depends(get_db)],
    reason: Annotated[str, Form(min_length=1, max_length=4000)],
) -> Response:
    with db.session() as session:
        decisions.appeal(session, viewer.actor, case_id, reason=reason)
    return _to_case(request, case_id, "appealed")
