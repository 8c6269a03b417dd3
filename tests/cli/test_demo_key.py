"""``serve --demo`` keeps one demo integrator key across restarts instead of minting one per start."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import func, select

from safeguard.auth import Actor
from safeguard.auth import service as keys
from safeguard.auth.models import ApiKey
from safeguard.cli.serve import _demo_key
from safeguard.store.db import Database


def _key_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(ApiKey)) or 0


def test_restart_reuses_the_kept_demo_key(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "demo" / "integrator-key"
    with db.session() as session:
        first = _demo_key(session, path)
    with db.session() as session:
        second = _demo_key(session, path)
    assert first == second
    assert _key_count(db) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_revoked_or_garbled_kept_key_is_replaced(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "integrator-key"
    with db.session() as session:
        first = _demo_key(session, path)
        actor = keys.authenticate(session, first)
        keys.revoke_key(session, Actor.system("test"), int(actor.id))
    with db.session() as session:
        second = _demo_key(session, path)
    assert second != first
    path.write_text("not a key\n")
    with db.session() as session:
        third = _demo_key(session, path)
    assert third not in (first, second)
    assert path.read_text().strip() == third
