"""``safeguard webhooks add|list|remove`` in a real subprocess: the API's registration rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from safeguard.actions.models import WebhookEndpoint
from safeguard.store.db import Database
from tests.cli.helpers import assert_one_line_error


def _cli(*args: str, home: Path, url: str, allow_loopback: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEGUARD_")}
    env.update({"SAFEGUARD_HOME": str(home), "SAFEGUARD_DATABASE_URL": url, "COLUMNS": "200"})
    if allow_loopback:
        env["SAFEGUARD_WEBHOOK_ALLOW_NETWORKS"] = '["127.0.0.0/8"]'
    command = [sys.executable, "-m", "safeguard.cli.main", "webhooks", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_add_list_remove(db: Database, tmp_path: Path) -> None:
    home = tmp_path / "home"
    hook = "https://127.0.0.1:9/hook"
    refused = _cli("add", hook, "--owner", "api_key:7", "--event", "case.opened", home=home, url=db.url)
    assert_one_line_error(refused)  # loopback is refused unless the operator allows it (SSRF guard)
    bad_event = _cli(
        "add", hook, "--owner", "api_key:7", "--event", "nope", home=home, url=db.url, allow_loopback=True
    )
    assert_one_line_error(bad_event, "events")

    added = _cli(
        "add",
        hook,
        "--owner",
        "api_key:7",
        "--event",
        "case.opened",
        home=home,
        url=db.url,
        allow_loopback=True,
    )
    assert added.returncode == 0, added.stderr
    created = json.loads(added.stdout)
    assert created["secret"].startswith("whsec_") and created["owner"] == "api_key:7"
    assert created["events"] == ["case.opened"] and created["active"] is True

    listed = _cli("list", "--json", home=home, url=db.url)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["id"] for r in rows] == [created["id"]] and "secret" not in rows[0]

    removed = _cli("remove", str(created["id"]), home=home, url=db.url)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["active"] is False
    with db.read_session() as session:
        endpoint = session.get(WebhookEndpoint, created["id"])
        assert endpoint is not None and endpoint.active is False
    assert_one_line_error(_cli("remove", "999", home=home, url=db.url), "999")
