"""What every CLI command shares: the console, opening the database, and the error wrapper."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console

from safeguard.config import Settings, get_settings
from safeguard.store.db import Database
from safeguard.store.migrate import require_current_schema

console = Console(soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def settings() -> Settings:
    return get_settings()


def open_db(*, check_schema: bool = True) -> Database:
    """The configured database, refusing to touch a schema this code does not know."""
    db = Database(settings().resolved_database_url)
    if check_schema:
        require_current_schema(db)
    return db


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"error: {message}", markup=False)
    sys.exit(code)
