"""The foundation commands, run as a user runs them: keys, db, audit, serve."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from safeguard.auth import Actor, Role
from safeguard.store.db import Database
from safeguard.store.migrate import head_revision
from safeguard.users import service as users
from tests.cli.helpers import assert_one_line_error, run_cli


def test_keys_lifecycle_and_audit(db: Database, tmp_path: Path) -> None:
    created = run_cli(
        "keys", "create", "--role", "integrator", "--name", "uploads", home=tmp_path, database_url=db.url
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"sg_[A-Za-z0-9_-]{43}", key)
    listed = run_cli("keys", "list", home=tmp_path, database_url=db.url)
    assert "uploads" in listed.stdout and "integrator" in listed.stdout and key not in listed.stdout
    revoked = run_cli("keys", "revoke", "1", home=tmp_path, database_url=db.url)
    assert revoked.returncode == 0 and "revoked key 1" in revoked.stdout
    again = run_cli("keys", "revoke", "1", home=tmp_path, database_url=db.url)
    assert_one_line_error(again, "already revoked")
    verified = run_cli("audit", "verify", home=tmp_path, database_url=db.url)
    assert verified.returncode == 0 and "2 records" in verified.stdout


def test_keys_created_with_an_expiry_list_it(db: Database, tmp_path: Path) -> None:
    created = run_cli(
        "keys", "create", "--role", "integrator", "--name", "trial", "--expires-in-days", "30",
        home=tmp_path, database_url=db.url,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    listed = run_cli("keys", "list", home=tmp_path, database_url=db.url).stdout
    assert "last used" in listed and "never" in listed and "expires" in listed
    row = next(line for line in listed.splitlines() if "trial" in line)
    assert re.search(r"20\d\d-\d\d-\d\dT", row.split("never")[1]), row  # the expiry is shown


def test_bad_input_is_one_line_on_stderr(db: Database, tmp_path: Path) -> None:
    assert_one_line_error(
        run_cli("keys", "create", "--role", "root", "--name", "x", home=tmp_path, database_url=db.url),
        "unknown role",
    )
    assert_one_line_error(run_cli("keys", "revoke", "77", home=tmp_path, database_url=db.url), "77")
    usage = run_cli("keys", "revoke", "not-a-number", home=tmp_path, database_url=db.url)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_unmigrated_database_is_refused_with_advice(tmp_path: Path) -> None:
    result = run_cli("keys", "list", home=tmp_path)
    assert_one_line_error(result, "safeguard db upgrade")
    upgraded = run_cli("db", "upgrade", home=tmp_path)
    assert upgraded.returncode == 0 and head_revision() in upgraded.stdout
    assert run_cli("keys", "list", home=tmp_path).returncode == 0


def test_audit_verify_names_the_broken_record(db: Database, tmp_path: Path) -> None:
    for i in range(3):
        run_cli("keys", "create", "--role", "analyst", "--name", f"a{i}", home=tmp_path, database_url=db.url)
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        conn.exec_driver_sql("UPDATE audit_log SET actor_id = 'someone else' WHERE seq = 2")
        if not db.is_sqlite:
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    result = run_cli("audit", "verify", home=tmp_path, database_url=db.url)
    assert_one_line_error(result, "record 2")
    assert result.returncode == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_first_serve_creates_database_and_prints_admin_key(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SAFEGUARD_") or k == "SAFEGUARD_AUDIT_KEY_FILE"
    }
    env["SAFEGUARD_HOME"] = str(tmp_path / "data")
    proc = subprocess.Popen(
        [sys.executable, "-m", "safeguard.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        key = None
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline and key is None:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("sg_"):
                key = line.strip()
        assert key, "".join(lines)
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}" in output
        assert str((tmp_path / "data" / "safeguard.db").resolve()) in output
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["database"] == "ok"
        listed = httpx.get(f"http://127.0.0.1:{port}/v1/keys", headers={"Authorization": f"Bearer {key}"})
        assert listed.status_code == 200 and listed.json()[0]["role"] == "admin"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # Set up once: a second bootstrap creates no further key.
    env_home = {"SAFEGUARD_HOME": str(tmp_path / "data")}
    code = "from safeguard.cli.serve import bootstrap; print(bootstrap())"
    again = subprocess.run(
        [sys.executable, "-c", code], env={**env, **env_home}, capture_output=True, text=True
    )
    assert again.stdout.strip() == "None", again.stderr
    listed_again = run_cli("keys", "list", home=tmp_path / "data")
    assert listed_again.stdout.count("first admin") == 1


def test_keys_create_names_the_ui_user_who_holds_it(db: Database, tmp_path: Path) -> None:
    with db.session() as session:
        users.create_user(
            session,
            Actor.system("tests"),
            username="alice",
            role=Role.moderator,
            password="a calm long pass 42",
        )
    args = ("keys", "create", "--role", "moderator", "--name", "alice's key")
    created = run_cli(*args, "--user", "alice", home=tmp_path, database_url=db.url)
    assert created.returncode == 0, created.stderr
    assert "held by 'alice'" in created.stdout
    listed = run_cli("keys", "list", home=tmp_path, database_url=db.url)
    assert "alice" in listed.stdout.split("alice's key", 1)[1].splitlines()[0]
    assert_one_line_error(run_cli(*args, "--user", "nobody", home=tmp_path, database_url=db.url), "nobody")
