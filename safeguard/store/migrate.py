"""Schema migrations: upgrade, and the check the server runs before it starts.

The server refuses to run on a schema it does not know: one that is behind the code (run ``safeguard db
upgrade``) or ahead of it (a newer Safeguard migrated it; running older code on it could corrupt data).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from safeguard.errors import ServiceUnavailable
from safeguard.store.db import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaState(StrEnum):
    empty = "empty"  # a new database: no tables at all
    current = "current"
    behind = "behind"  # migrated by an older Safeguard, or never migrated (tables without a version)
    ahead = "ahead"  # migrated by a newer Safeguard


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    state: SchemaState
    current: str | None
    head: str


class SchemaNotReady(ServiceUnavailable):
    code = "schema-not-ready"
    title = "Database schema not ready"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    heads = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads: {heads}; they must form one chain")
    return heads[0]


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def schema_status(db: Database) -> SchemaStatus:
    head = head_revision()
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        tables = set(inspect(conn).get_table_names())
    if current is None:
        state = SchemaState.empty if not (tables - {"alembic_version"}) else SchemaState.behind
    elif current == head:
        state = SchemaState.current
    elif current in known_revisions():
        state = SchemaState.behind
    else:
        state = SchemaState.ahead
    return SchemaStatus(state, current, head)


def upgrade(db: Database, revision: str = "head") -> None:
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def require_current_schema(db: Database) -> None:
    status = schema_status(db)
    if status.state is SchemaState.current:
        return
    if status.state is SchemaState.ahead:
        raise SchemaNotReady(
            f"the database schema ({status.current}) is newer than this Safeguard ({status.head}); "
            "upgrade Safeguard before starting it"
        )
    where = "has not been migrated" if status.current is None else f"is at {status.current}"
    raise SchemaNotReady(f"the database schema {where}; run `safeguard db upgrade` (head is {status.head})")
