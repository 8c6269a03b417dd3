"""Run the real ``safeguard`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(
    *args: str,
    home: Path,
    database_url: str | None = None,
    input: str | None = None,
    timeout: float = 120,
    columns: int = 200,
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SAFEGUARD_") or k == "SAFEGUARD_AUDIT_KEY_FILE"
    }
    env["SAFEGUARD_HOME"] = str(home)
    if database_url:
        env["SAFEGUARD_DATABASE_URL"] = database_url
    env["COLUMNS"] = str(columns)
    return subprocess.run(
        [sys.executable, "-m", "safeguard.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
