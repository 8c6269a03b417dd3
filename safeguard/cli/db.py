"""``safeguard db``: migrate and inspect the database schema."""

from __future__ import annotations

import typer

from safeguard.cli.common import console, open_db, settings
from safeguard.store.migrate import schema_status, upgrade

app = typer.Typer(help="Database schema: upgrade, status.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Migrate the database to the schema this Safeguard needs (creates it if new)."""
    db = open_db(check_schema=False)
    before = schema_status(db)
    upgrade(db)
    after = schema_status(db)
    console.print(f"database: {_describe(settings().resolved_database_url)}")
    console.print(f"schema: {before.current or 'empty'} -> {after.current}")


@app.command("status")
def status_command() -> None:
    """Show the schema revision and whether it matches this code."""
    db = open_db(check_schema=False)
    status = schema_status(db)
    console.print(f"database: {_describe(settings().resolved_database_url)}")
    console.print(f"schema: {status.current or 'none'} (code expects {status.head}): {status.state.value}")


def _describe(url: str) -> str:
    """The URL without its password, so it is safe to print."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
