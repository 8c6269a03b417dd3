"""How the pages name who did something: a key by its name, a person by their user name, not ``api_key:3``."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard.auth.models import ApiKey


def actor_names(session: Session, actors: Iterable[str | None]) -> dict[str, str]:
    """``"kind:id"`` -> the words a page shows for it; one query for all the keys among ``actors``."""
    wanted = {a for a in actors if a}
    key_ids = {int(a.split(":", 1)[1]) for a in wanted if a.startswith("api_key:") and a[8:].isdigit()}
    key_names: dict[int, str] = {}
    if key_ids:
        rows = session.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(key_ids))).tuples()
        key_names = dict(rows.all())
    names: dict[str, str] = {}
    for actor in wanted:
        kind, _, ident = actor.partition(":")
        if kind == "api_key" and ident.isdigit() and int(ident) in key_names:
            names[actor] = f"key “{key_names[int(ident)]}” (#{ident})"
        elif kind == "user":
            names[actor] = ident
        elif kind == "cli":
            names[actor] = f"{ident} (CLI)"
        elif kind == "system":
            names[actor] = f"Safeguard ({ident})"
        else:
            names[actor] = actor
    return names
