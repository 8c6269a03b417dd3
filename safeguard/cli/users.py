"""``safeguard users``: web UI accounts (create, list, set a password, unlock, disable)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from safeguard.auth import Actor
from safeguard.auth.service import parse_role
from safeguard.cli.common import console, err_console, open_db
from safeguard.errors import InvalidInput
from safeguard.users import service as users

app = typer.Typer(help="Web UI user accounts: create, list, password, unlock, disable.", no_args_is_help=True)

PASSWORD_ENV = "SAFEGUARD_USER_PASSWORD"


def _read_password(password_stdin: bool) -> str:
    """The new password from stdin, the environment, or an interactive prompt; never from argv (``ps``)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif os.environ.get(PASSWORD_ENV):
        password = os.environ[PASSWORD_ENV]
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    else:
        raise InvalidInput(
            f"give the password on stdin with --password-stdin or in {PASSWORD_ENV}", field="password"
        )
    return password


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Sign-in name (lower-case letters, digits, . _ @ -)")],
    role: Annotated[str, typer.Option(help="admin, moderator, analyst or integrator")],
    display_name: Annotated[str, typer.Option(help="Name shown in the UI")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
) -> None:
    """Create a user who signs in to the web UI at /ui."""
    password = _read_password(password_stdin)
    db = open_db()
    with db.session() as session:
        info = users.create_user(
            session,
            Actor.cli(),
            username=username,
            role=parse_role(role),
            password=password,
            display_name=display_name,
        )
    console.print(f"created user {info.id} ({info.username}, {info.role.value})")


@app.command("list")
def list_command() -> None:
    """List users (never their password hashes)."""
    db = open_db()
    with db.read_session() as session:
        infos = users.list_users(session)
    table = Table("id", "user", "name", "role", "status", "last sign-in")
    for info in infos:
        status = "disabled" if info.disabled else "locked" if info.locked else "active"
        last = info.last_login_at.isoformat(timespec="seconds") if info.last_login_at else ""
        table.add_row(str(info.id), info.username, info.display_name, info.role.value, status, last)
    console.print(table)


@app.command("password")
def password(
    username: Annotated[str, typer.Argument(help="The user's sign-in name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
) -> None:
    """Set a new password; ends the user's sessions and clears a lock-out."""
    new_password = _read_password(password_stdin)
    db = open_db()
    with db.session() as session:
        info = users.find_user(session, username)
        users.set_password(session, Actor.cli(), info.id, new_password)
    err_console.print(f"password changed for {info.username}")


@app.command("unlock")
def unlock(username: Annotated[str, typer.Argument(help="The user's sign-in name")]) -> None:
    """Clear a lock-out after too many failed sign-ins."""
    db = open_db()
    with db.session() as session:
        info = users.unlock(session, Actor.cli(), users.find_user(session, username).id)
    console.print(f"unlocked {info.username}")


@app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="The user's sign-in name")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again instead")] = False,
) -> None:
    """Disable a user (ends their sessions) or, with --enable, let them sign in again."""
    db = open_db()
    with db.session() as session:
        info = users.set_disabled(session, Actor.cli(), users.find_user(session, username).id, not enable)
    console.print(f"{'enabled' if enable else 'disabled'} {info.username}")
