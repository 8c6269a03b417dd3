"""``safeguard webhooks worker --once`` / ``dead`` / ``replay`` in real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from safeguard.actions import endpoints
from safeguard.actions.models import WebhookDelivery
from safeguard.review import flows
from safeguard.store.db import Database
from tests.actions.receiver import Receiver, running
from tests.cli.helpers import assert_one_line_error, run_cli
from tests.review.helpers import INTEGRATOR, REVIEW, WEBHOOKS, match


def statuses(db: Database) -> list[str]:
    with db.read_session() as session:
        return list(session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.id)))


@pytest.mark.slow
def test_worker_dead_letters_and_replay(db: Database, tmp_path: Path) -> None:
    env = {
        "SAFEGUARD_WEBHOOK_ALLOW_NETWORKS": '["127.0.0.0/8"]',
        "SAFEGUARD_WEBHOOK_ALLOW_HTTP": "true",
        "SAFEGUARD_WEBHOOK_RETRY_WINDOW_SECONDS": "0",
    }
    with running(Receiver(always_fail=True)) as receiver:
        with db.session() as session:
            created = endpoints.create_endpoint(
                session, INTEGRATOR, url=receiver.url, events=["case.opened"], settings=WEBHOOKS
            )
            receiver.secret = created.secret
            flows.open_case(session, INTEGRATOR, match("u1"), settings=REVIEW)
        worker = run_with_env(env, "webhooks", "worker", "--once", home=tmp_path, url=db.url)
        assert worker.returncode == 0, worker.stderr
        assert statuses(db) == ["dead"]
        listed = run_cli("webhooks", "dead", home=tmp_path, database_url=db.url)
        assert listed.returncode == 0 and "HTTP 503" in listed.stdout
        receiver.always_fail = False
        replay = run_cli("webhooks", "replay", "--all-dead", home=tmp_path, database_url=db.url)
        assert replay.returncode == 0 and replay.stdout.strip() == "replayed 1 deliveries"
        assert statuses(db) == ["pending"]
        worker = run_with_env(env, "webhooks", "worker", "--once", home=tmp_path, url=db.url)
        assert worker.returncode == 0, worker.stderr
        assert statuses(db) == ["delivered"] and len(receiver.applied) == 1
        again = run_cli("webhooks", "replay", "1", home=tmp_path, database_url=db.url)
        assert_one_line_error(again, "delivered, not dead-lettered")
        assert_one_line_error(run_cli("webhooks", "replay", home=tmp_path, database_url=db.url), "--all-dead")


def run_with_env(env: dict[str, str], *args: str, home: Path, url: str) -> subprocess.CompletedProcess[str]:
    """Like tests.cli.helpers.run_cli, plus the webhook settings (run_cli drops SAFEGUARD_* variables)."""
    full = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SAFEGUARD_") or k == "SAFEGUARD_AUDIT_KEY_FILE"
    }
    full.update(env, SAFEGUARD_HOME=str(home), SAFEGUARD_DATABASE_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "safeguard.cli.main", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
