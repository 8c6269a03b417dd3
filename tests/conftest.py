"""Fixtures shared by every test.

``db`` runs a test twice: on SQLite (the embedded default) and on a real PostgreSQL server (the production
store). PostgreSQL comes from ``SAFEGUARD_TEST_POSTGRES_URL`` (an admin URL, e.g.
``postgresql+psycopg://safeguard:safeguard@127.0.0.1/postgres``); `.ci/run` installs, starts and sets it.
Each pytest-xdist worker gets its own throwaway database, migrated once; tables are emptied between tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from safeguard.api.app import create_app
from safeguard.audit.keys import chain_key
from safeguard.auth import Actor, Role
from safeguard.auth import service as keys
from safeguard.config import Settings, get_settings
from safeguard.schema import metadata
from safeguard.store.db import Database
from safeguard.store.migrate import head_revision, upgrade

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", autouse=True)
def audit_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One audit key for the test process and the commands it starts (they keep this variable)."""
    path = tmp_path_factory.mktemp("audit-key") / "audit.key"
    before = os.environ.get("SAFEGUARD_AUDIT_KEY_FILE")
    os.environ["SAFEGUARD_AUDIT_KEY_FILE"] = str(path)
    get_settings.cache_clear()
    chain_key.cache_clear()
    yield path
    if before is None:
        os.environ.pop("SAFEGUARD_AUDIT_KEY_FILE", None)
    else:
        os.environ["SAFEGUARD_AUDIT_KEY_FILE"] = before
    get_settings.cache_clear()
    chain_key.cache_clear()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin_url = os.environ.get("SAFEGUARD_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.fail(
            "SAFEGUARD_TEST_POSTGRES_URL is not set: the PostgreSQL half of the suite needs a server "
            "(run .ci/run, which installs and starts one)"
        )
    # Unique per run as well as per xdist worker, so two suites on one server never share a database.
    name = f"safeguard_test_{_worker()}_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # Schema tests move the recorded version on purpose; every test starts at the head again.
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head_revision()})


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite file or PostgreSQL database (the test runs once for each)."""
    if request.param == "sqlite":
        path = tmp_path / "safeguard.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        _truncate_all(database)
    yield database
    database.dispose()


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", database_url=db.url, media_dir=tmp_path / "media")


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    app = create_app(settings, db)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def make_key(db: Database) -> Callable[[Role], str]:
    """Create an API key with the given role and return the key itself."""

    def make(role: Role, name: str | None = None) -> str:
        with db.session() as session:
            created = keys.create_key(
                session, Actor.system("tests"), name=name or f"test {role.value}", role=role
            )
        return created.key

    return make


@pytest.fixture
def admin_headers(make_key: Callable[[Role], str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key(Role.admin)}"}


@pytest.fixture
def auth_headers(make_key: Callable[[Role], str]) -> Callable[[Role], dict[str, str]]:
    def headers(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_key(role)}"}

    return headers
