"""What every CLI command shares: the console, opening the database, and the error wrapper."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from safeguard.config import Settings
    from safeguard.store.db import Database

console = Console(soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


# The configuration and the database layer are imported on first use, so commands that need neither
# (``safeguard hash``, every ``--help``) start without pydantic-settings and SQLAlchemy.


def settings() -> Settings:
    from safeguard.config import get_settings

    return get_settings()


def open_db(*, check_schema: bool = True) -> Database:
    """The configured database, refusing to touch a schema this code does not know."""
    from safeguard.store.db import Database
    from safeguard.store.migrate import require_current_schema

    db = Database(settings().resolved_database_url)
    if check_schema:
        require_current_schema(db)
    return db


@contextmanager
def db_session(*, read_only: bool = False) -> Iterator[Session]:
    """One transaction on the configured database (committed on success), the engine disposed after."""
    db = open_db()
    try:
        with db.read_session() if read_only else db.session() as session:
            yield session
    finally:
        db.dispose()


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"error: {message}", markup=False)
    sys.exit(code)
