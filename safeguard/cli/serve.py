"""``safeguard serve``: start the HTTP API (and, on an empty data directory, set everything up)."""

from __future__ import annotations

from typing import Annotated

import typer

from safeguard.auth import Actor, Role
from safeguard.auth import service as keys
from safeguard.cli.common import console, fail, open_db, settings
from safeguard.store.migrate import SchemaState, schema_status, upgrade


def bootstrap() -> str | None:
    """Create the database on first run and return a new admin key, printed once; None if already set up."""
    db = open_db(check_schema=False)
    try:
        status = schema_status(db)
        if status.state is SchemaState.empty:
            upgrade(db)
        elif status.state is not SchemaState.current:
            open_db()  # raises the precise "behind" / "ahead" error
        with db.session() as session:
            if keys.has_any_key(session):
                return None
            created = keys.create_key(session, Actor.system("bootstrap"), name="first admin", role=Role.admin)
            return created.key
    finally:
        db.dispose()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
) -> None:
    """Start the API server. A first run on an empty data directory creates the database and prints an
    admin key once."""
    import uvicorn

    cfg = settings()
    admin_key = bootstrap()
    console.print(f"Safeguard on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    if cfg.is_sqlite:
        console.print(f"database: SQLite file {cfg.resolved_database_url.removeprefix('sqlite:///')}")
    if admin_key:
        console.print("first run: created an admin API key. Store it now, it is not shown again:")
        print(admin_key, flush=True)
    try:
        uvicorn.run(
            "safeguard.api.asgi:create_default_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=cfg.log_level.lower(),
        )
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
