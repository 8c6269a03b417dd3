"""A real ``safeguard serve`` with a webhook worker and a local webhook receiver, for the browser tests."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from safeguard.auth import Actor, Role
from safeguard.auth import service as keys
from safeguard.store.db import Database
from safeguard.store.migrate import upgrade
from safeguard.users import service as users

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "ci-artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Receiver:
    """A local platform endpoint: records every webhook it is sent."""

    port: int
    received: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                received.append({"headers": dict(self.headers), "body": json.loads(body)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def wait_for(self, event_type: str, case_id: int, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for hit in self.received:
                body = hit["body"]
                data = body.get("data", {})
                if body.get("type") == event_type and _case_id_of(data) == case_id:
                    return hit
            time.sleep(0.2)
        raise AssertionError(f"no {event_type} webhook for case {case_id}; got {self.received}")


def _case_id_of(data: dict[str, Any]) -> int | None:
    case = data.get("case")
    if isinstance(case, dict) and "id" in case:
        return int(case["id"])
    value = data.get("case_id")
    return int(value) if value is not None else None


@dataclass
class Stack:
    home: Path
    base_url: str
    env: dict[str, str]
    integrator_key: str
    receiver: Receiver
    processes: list[subprocess.Popen[bytes]]
    image_sha256: str
    admin_key: str = ""

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "safeguard.cli.main", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done

    def api(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.request(
            method,
            self.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {self.integrator_key}"},
            timeout=30,
        )
        assert response.status_code < 300, response.text
        result: dict[str, Any] = response.json()
        return result

    def open_media_case(self, content_id: str, labels: list[str]) -> int:
        signal = {
            "type": "media_match",
            "content_id": content_id,
            "account_id": f"uploader-{content_id}",
            "bank": "demo-bank",
            "bank_content_id": f"entry-{content_id}",
            "distance": 6,
            "labels": labels,
            "content_sha256": self.image_sha256,
            "reach": {"views": 40},
        }
        return int(self.api("POST", "/v1/cases/signals", signal)["case_id"])

    def open_grooming_case(self, conversation_id: str) -> int:
        signal = {
            "type": "grooming_alert",
            "conversation_id": conversation_id,
            "account_id": f"adult-{conversation_id}",
            "risk": 0.82,
            "behaviours": ["age_location_probing", "secrecy", "channel_move"],
            "reasons": ["asked how old the child is", "asked to keep the chat secret", "asked to move app"],
            "live": False,
        }
        return int(self.api("POST", "/v1/cases/signals", signal)["case_id"])


def start_stack(tmp: Path, image: Path, password: str) -> Iterator[Stack]:
    """Migrate a temp SQLite home, create users and a key, start serve, a webhook worker and a receiver."""
    home = tmp / "home"
    media = tmp / "media"
    media.mkdir(parents=True)
    sha = hashlib.sha256(image.read_bytes()).hexdigest()
    shutil.copy(image, media / f"{sha}{image.suffix.lower()}")
    port = free_port()
    receiver = Receiver(free_port()).start()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SAFEGUARD_") or k in ("SAFEGUARD_TEST_POSTGRES_URL", "SAFEGUARD_AUDIT_KEY_FILE")
    }
    env.update(
        {
            "SAFEGUARD_HOME": str(home),
            "SAFEGUARD_MEDIA_DIR": str(media),
            "SAFEGUARD_WEBHOOK_ALLOW_NETWORKS": '["127.0.0.0/8"]',
            "SAFEGUARD_WEBHOOK_ALLOW_HTTP": "true",
            "SAFEGUARD_WEBHOOK_BACKOFF_BASE_SECONDS": "0.5",
            "SAFEGUARD_WEB_LOCKOUT_ATTEMPTS": "5",
            "SAFEGUARD_WEB_BREAK_AFTER_ITEMS": "40",
            "PYTHONUNBUFFERED": "1",
        }
    )
    stack = Stack(home, f"http://127.0.0.1:{port}", env, "", receiver, [], sha)
    # Set up in-process (the CLI has its own tests); serve then finds a current schema and a key.
    db = Database(f"sqlite:///{home / 'safeguard.db'}")
    try:
        upgrade(db)
        with db.session() as session:
            for name, role in (("admin1", Role.admin), ("mod1", Role.moderator), ("mod2", Role.moderator)):
                users.create_user(session, Actor.system("tests"), username=name, role=role, password=password)
            created = keys.create_key(session, Actor.system("tests"), name="platform", role=Role.integrator)
            stack.integrator_key = created.key
            admin = keys.create_key(session, Actor.system("tests"), name="operator", role=Role.admin)
            stack.admin_key = admin.key
    finally:
        db.dispose()
    log = (tmp / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "safeguard.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "safeguard.cli.main", "webhooks", "worker", "--poll", "0.2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    stack.processes = [serve, worker]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(stack.base_url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or serve.poll() is not None:
                raise AssertionError("safeguard serve did not start: " + (tmp / "serve.log").read_text())
            time.sleep(0.3)
        yield stack
    finally:
        for process in stack.processes:
            process.terminate()
        for process in stack.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        receiver.stop()
        log.close()
