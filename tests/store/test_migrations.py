"""Migrations build exactly the schema the models describe; the server refuses unknown schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import text

from safeguard.api.app import create_app
from safeguard.config import Settings
from safeguard.schema import metadata
from safeguard.store.db import Database
from safeguard.store.migrate import SchemaNotReady, SchemaState, head_revision, schema_status


def test_migrated_schema_matches_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(context, metadata)
    assert diffs == []


def test_status_is_current_after_upgrade(db: Database) -> None:
    status = schema_status(db)
    assert status.state is SchemaState.current and status.current == head_revision()


def test_new_database_is_empty_and_server_refuses_it(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new.db'}")
    assert schema_status(db).state is SchemaState.empty
    app = create_app(Settings(home=tmp_path), db)
    with pytest.raises(SchemaNotReady, match="safeguard db upgrade"), TestClient(app):
        pass


def test_server_refuses_a_newer_schema(db: Database, settings: Settings) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    assert schema_status(db).state is SchemaState.ahead
    with (
        pytest.raises(SchemaNotReady, match="newer than this Safeguard"),
        TestClient(create_app(settings, db)),
    ):
        pass


def test_server_refuses_an_older_schema(db: Database, settings: Settings) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    assert schema_status(db).state is SchemaState.behind
    with pytest.raises(SchemaNotReady, match="has not been migrated"), TestClient(create_app(settings, db)):
        pass
