"""Helpers more than one bench script uses (run as ``python bench/<name>.py``, which puts this folder first
on ``sys.path``)."""

from __future__ import annotations

import http.client
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from safeguard.store.db import Database
from safeguard.store.migrate import upgrade


def fresh_database(postgres: str | None, workdir: Path, name: str) -> Database:
    """A migrated, empty database: PostgreSQL database ``name`` (dropped first) when ``postgres`` is an
    admin URL, else a SQLite file in ``workdir``."""
    if postgres:
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{workdir / 'bench.db'}"
    db = Database(url)
    upgrade(db)
    return db


def wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Return once the server on ``port`` answers ``GET /health`` with 200; exit if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not start within {timeout:g} s")
