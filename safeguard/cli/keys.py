"""``safeguard keys``: create, list and revoke API keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from safeguard.auth import Actor
from safeguard.auth import service as keys
from safeguard.cli.common import console, open_db
from safeguard.store.base import utcnow

app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)


@app.command("create")
def create(
    role: Annotated[str, typer.Option(help="admin, integrator, moderator or analyst")],
    name: Annotated[str, typer.Option(help="Who or what will use the key")],
    expires_in_days: Annotated[
        float | None, typer.Option(min=0.001, max=36500, help="Refuse the key after this many days")
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(help="The UI user who holds the key (four-eyes treats both as one person)"),
    ] = None,
) -> None:
    """Create a key. It is printed once; only its hash is stored."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    db = open_db()
    with db.session() as session:
        created = keys.create_key(
            session,
            Actor.cli(),
            name=name,
            role=keys.parse_role(role),
            expires_at=expires_at,
            user=user,
        )
    held = f", held by {created.info.user!r}" if created.info.user else ""
    console.print(f"created key {created.info.id} ({created.info.role.value}, {created.info.name!r}{held})")
    console.print("store it now, it is not shown again:")
    print(created.key)


@app.command("list")
def list_command() -> None:
    """List keys (never the keys themselves)."""
    db = open_db()
    with db.read_session() as session:
        infos = keys.list_keys(session)
    table = Table("id", "name", "role", "user", "prefix", "created", "last used", "expires", "revoked")
    for info in infos:
        table.add_row(
            str(info.id),
            info.name,
            info.role.value,
            info.user or "",
            info.prefix,
            _when(info.created_at),
            _when(info.last_used_at) or "never",
            _when(info.expires_at),
            _when(info.revoked_at),
        )
    console.print(table)


@app.command("revoke")
def revoke(key_id: Annotated[int, typer.Argument(help="The key's id (from `keys list`)")]) -> None:
    """Revoke a key: requests with it are refused from now on."""
    db = open_db()
    with db.session() as session:
        info = keys.revoke_key(session, Actor.cli(), key_id)
    console.print(f"revoked key {info.id} ({info.name!r})")


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""
