"""Jinja2 templates and the page-rendering helper every route uses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from safeguard.users import service as users
from safeguard.web.access import CSRF_FIELD, Viewer, base_path, web_settings

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")

# Fixed messages shown after a redirect (``?notice=code``): never echo text from the query string.
NOTICES = {
    "signed-out": "You are signed out.",
    "key-revoked": "The API key was revoked.",
    "user-created": "The user was created.",
    "user-updated": "The user was updated.",
    "released": "The case went back to the queue.",
    "appealed": "The case is reopened on appeal: another moderator reviews it; both decisions are kept.",
    "escalated": "The case was escalated to a senior reviewer.",
    "decided": "Decision recorded. The platform is told by webhook.",
    "proposed": "Decision proposed. A second moderator confirms it before it takes effect.",
    "confirmed": "Decision confirmed.",
    "rejected": "The proposed decision was rejected; the case is back in the queue.",
    "renewed": "Your claim on the case was extended.",
    "queue-empty": "Nothing is waiting in the queue for you. Well done.",
    "break-taken": "Welcome back. The counter starts again.",
    "settings-saved": "Your settings were saved.",
    "replayed": "The delivery was queued again.",
    "bank-created": "The bank was created.",
    "item-disabled": "The bank item was disabled: it no longer matches.",
    "item-enabled": "The bank item matches again.",
    "endpoint-created": "The webhook endpoint was created.",
    "endpoint-updated": "The webhook endpoint was updated.",
}


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def ago(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = int((datetime.now(UTC) - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 90:
        text = f"{seconds} s"
    elif seconds < 5400:
        text = f"{seconds // 60} min"
    elif seconds < 172800:
        text = f"{seconds // 3600} h"
    else:
        text = f"{seconds // 86400} d"
    return f"in {text}" if future else f"{text} ago"


templates.env.filters["when"] = when
templates.env.filters["ago"] = ago


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    notice_code = request.query_params.get("notice", "")
    ctx: dict[str, Any] = {
        "base": base_path(request),
        "viewer": viewer,
        "csrf_field": CSRF_FIELD,
        "csrf_token": viewer.session.csrf_token if viewer else "",
        "notice": NOTICES.get(notice_code, ""),
        "break_due": viewer is not None and users.break_due(viewer.session, settings=web_settings(request)),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status)
