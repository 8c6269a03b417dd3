"""``safeguard users``: create an account from the shell, then sign in with it.

Runs the real command in a subprocess on a temporary SQLite home (the service under it is tested on both
backends; each CLI start is slow, so these stay few)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from safeguard.store.db import Database
from safeguard.store.migrate import upgrade
from safeguard.users import service as users

PASSWORD = "a calm long passphrase 42"


def _run(args: list[str], home: Path, db: Database, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAFEGUARD_HOME": str(home), "SAFEGUARD_DATABASE_URL": db.url}
    env.pop("SAFEGUARD_USER_PASSWORD", None)
    return subprocess.run(
        [sys.executable, "-m", "safeguard.cli.main", "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    upgrade(database)
    yield database
    database.dispose()


def test_users_create_list_and_sign_in(tmp_path: Path, db: Database) -> None:
    done = _run(["create", "mod1", "--role", "moderator", "--password-stdin"], tmp_path, db, PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "created user" in done.stdout and PASSWORD not in done.stdout + done.stderr
    assert users.login(db, "mod1", PASSWORD).ok
    listed = _run(["list"], tmp_path, db)
    assert "mod1" in listed.stdout and "moderator" in listed.stdout
    again = _run(["create", "mod1", "--role", "moderator", "--password-stdin"], tmp_path, db, PASSWORD + "\n")
    assert again.returncode == 2 and again.stderr.strip() == "error: a user named 'mod1' already exists"


def test_users_create_refuses_weak_passwords_and_unknown_roles(tmp_path: Path, db: Database) -> None:
    weak = _run(["create", "mod2", "--role", "moderator", "--password-stdin"], tmp_path, db, "short\n")
    assert weak.returncode == 2 and weak.stderr.startswith("error: a password needs at least 12")
    role = _run(["create", "mod2", "--role", "king", "--password-stdin"], tmp_path, db, PASSWORD + "\n")
    assert role.returncode == 2 and "unknown role" in role.stderr
    none = _run(["create", "mod2", "--role", "moderator"], tmp_path, db)
    assert none.returncode == 2 and "--password-stdin" in none.stderr
