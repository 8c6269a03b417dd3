"""Hash bank pages: list and create banks, look at their content, import a file, disable an item.

Analysts and admins can look; changing a bank is for admins, as in the HTTP API.
"""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from starlette.responses import RedirectResponse, Response

from safeguard.auth import Role
from safeguard.banks import importers, service
from safeguard.banks.models import DEFAULT_PDQ_THRESHOLD
from safeguard.store.db import Database
from safeguard.web.access import Viewer, base_path, form, get_db, page
from safeguard.web.rendering import render

router = APIRouter()
readers = page(Role.analyst)
admin_forms = form()

BankId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ContentId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE = 100


@router.get("/banks")
def bank_list(
    request: Request, viewer: Annotated[Viewer, Depends(readers)], db: Annotated[Database, Depends(get_db)]
) -> Response:
    with db.read_session() as session:
        banks = [(bank, service.content_count(session, bank.id)) for bank in service.list_banks(session)]
        return render(request, "banks.html", {"banks": banks, "default_threshold": DEFAULT_PDQ_THRESHOLD})


@router.post("/banks")
def bank_create(
    request: Request,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    description: Annotated[str, Form(max_length=10_000)] = "",
    is_allowlist: Annotated[bool, Form()] = False,
    pdq_threshold: Annotated[int, Form(ge=0, le=256)] = DEFAULT_PDQ_THRESHOLD,
) -> Response:
    with db.session() as session:
        bank = service.create_bank(
            session,
            viewer.actor,
            name=name,
            description=description,
            is_allowlist=is_allowlist,
            pdq_threshold=pdq_threshold,
        )
        bank_id = bank.id
    return RedirectResponse(f"{base_path(request)}/banks/{bank_id}?notice=bank-created", status_code=303)


def _bank_page(request: Request, db: Database, bank_id: int, after: int, result: object = None) -> Response:
    with db.read_session() as session:
        bank = service.get_bank(session, bank_id)
        items = service.list_content(session, bank, after_id=after, limit=PAGE)
        signals = service.signals_of(session, [item.id for item in items])
        context = {
            "bank": bank,
            "items": items,
            "signals": signals,
            "count": service.content_count(session, bank.id),
            "next_after": items[-1].id if len(items) == PAGE else None,
            "formats": importers.FORMATS,
            "result": result,
        }
        return render(request, "bank.html", context)


@router.get("/banks/{bank_id}")
def bank_page(
    request: Request,
    bank_id: BankId,
    viewer: Annotated[Viewer, Depends(readers)],
    db: Annotated[Database, Depends(get_db)],
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> Response:
    return _bank_page(request, db, bank_id, after)


@router.post("/banks/{bank_id}/import")
def bank_import(
    request: Request,
    bank_id: BankId,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
    file: Annotated[UploadFile, File()],
    format: Annotated[Literal["csv", "tsv", "jsonl", "hma"], Form()] = "csv",
    source: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """All or nothing, like the API: a bad line rejects the file and names the line."""
    with db.session() as session:
        bank = service.get_bank(session, bank_id)
        text = io.TextIOWrapper(file.file, encoding="utf-8", newline="")
        result = importers.import_stream(session, viewer.actor, bank, text, format, source=source)
    return _bank_page(request, db, bank_id, 0, result)


@router.post("/banks/{bank_id}/content/{content_id}/disable")
def content_disable(
    request: Request,
    bank_id: BankId,
    content_id: ContentId,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    with db.session() as session:
        bank = service.get_bank(session, bank_id)
        service.set_content_enabled(session, viewer.actor, bank, content_id, enabled=False, reason=reason)
    return RedirectResponse(f"{base_path(request)}/banks/{bank_id}?notice=item-disabled", status_code=303)


@router.post("/banks/{bank_id}/content/{content_id}/enable")
def content_enable(
    request: Request,
    bank_id: BankId,
    content_id: ContentId,
    viewer: Annotated[Viewer, Depends(admin_forms)],
    db: Annotated[Database, Depends(get_db)],
) -> Response:
    with db.session() as session:
        bank = service.get_bank(session, bank_id)
        service.set_content_enabled(session, viewer.actor, bank, content_id, enabled=True)
    return RedirectResponse(f"{base_path(request)}/banks/{bank_id}?notice=item-enabled", status_code=303)
