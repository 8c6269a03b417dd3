"""The ``safeguard banks`` commands and ``safeguard serve --demo``, run as a user would."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from safeguard.store.db import Database
from tests.banks.helpers import random_pdq
from tests.cli.helpers import assert_one_line_error, run_cli


def test_import_match_export(db: Database, tmp_path: Path) -> None:
    home, url = tmp_path / "home", db.url
    assert (
        run_cli("banks", "create", "ncmec", "--threshold", "31", home=home, database_url=url).returncode == 0
    )
    rng = random.Random(5)
    hashes = [random_pdq(rng) for _ in range(50)]
    good = tmp_path / "list.csv"
    good.write_text("signal_type,hash,label\n" + "".join(f"pdq,{h},A1\n" for h in hashes))
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text() + "pdq,not-a-hash\n")

    result = run_cli("banks", "import", "ncmec", str(bad), home=home, database_url=url)
    assert_one_line_error(result, "line 52", "nothing was imported")
    result = run_cli("banks", "import", "ncmec", str(good), home=home, database_url=url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == 50
    result = run_cli("banks", "import", "ncmec", str(good), home=home, database_url=url)
    assert json.loads(result.stdout)["added"] == 0

    result = run_cli("banks", "match", "pdq", hashes[7], home=home, database_url=url)
    assert result.returncode == 0, result.stderr
    match = json.loads(result.stdout.splitlines()[0])
    assert (match["bank"], match["distance"], match["labels"]) == ("ncmec", 0, ["A1"])
    result = run_cli("banks", "match", "pdq", random_pdq(rng), home=home, database_url=url)
    assert (result.returncode, result.stdout) == (3, ""), result.stderr
    assert_one_line_error(run_cli("banks", "match", "pdq", "zz", home=home, database_url=url), "pdq hash")
    assert_one_line_error(run_cli("banks", "show", "nope", home=home, database_url=url), "no bank named")

    result = run_cli("banks", "export", "ncmec", "--format", "csv", home=home, database_url=url)
    assert result.stdout.splitlines() == [f"pdq,{h},A1" for h in hashes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_demo_prints_a_working_curl_line(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SAFEGUARD_") or k == "SAFEGUARD_AUDIT_KEY_FILE"
    }
    env["SAFEGUARD_HOME"] = str(tmp_path / "home")
    proc = subprocess.Popen(
        [sys.executable, "-m", "safeguard.cli.main", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        curl = ""
        deadline = time.monotonic() + 60
        while not curl and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("curl "):
                curl = line
        found = re.search(r'Bearer (\S+)" -F "file=@([^"]+)" (http://\S+)', curl)
        assert found, curl
        key, path, url = found.groups()
        while True:
            try:
                r = httpx.post(
                    url,
                    headers={"Authorization": f"Bearer {key}"},
                    files={"file": ("e.jpg", Path(path).read_bytes())},
                    timeout=10,
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert r.status_code == 200, r.text
        assert r.json()["matched"] is True
        assert r.json()["results"][0]["matches"][0]["bank"] == "demo"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
