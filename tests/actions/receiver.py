"""A real webhook receiver on loopback for tests: verifies signatures, honours idempotency keys, and can
fail the first attempts, fail always, or hold a request (to kill the sender mid-delivery)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from safeguard.actions.verify import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, InvalidSignature, verify_signature


@dataclass
class Receiver:
    secret: str = ""
    fail_first: int = 0  # answer 503 to the first N attempts of every event
    always_fail: bool = False
    hold: threading.Event | None = None  # if set, the first request waits for it (the sender gets killed)
    delay: float = 0  # seconds every request takes before it is answered
    url: str = ""
    attempts: list[dict[str, Any]] = field(default_factory=list)  # every request, in arrival order
    applied: list[dict[str, Any]] = field(default_factory=list)  # events processed, once each
    bad_signatures: int = 0
    received_first: threading.Event = field(default_factory=threading.Event)
    _seen: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        try:
            verify_signature(self.secret, body, headers.get(SIGNATURE_HEADER))
        except InvalidSignature:
            with self._lock:
                self.bad_signatures += 1
            return 400
        key = headers[IDEMPOTENCY_HEADER]
        event = json.loads(body)
        with self._lock:
            first_request = not self.attempts
            self.attempts.append(
                {"key": key, "event": event, "attempt": headers.get("Safeguard-Delivery-Attempt")}
            )
            self._seen[key] = self._seen.get(key, 0) + 1
            tries = self._seen[key]
        if first_request:
            self.received_first.set()
            if self.hold is not None:
                self.hold.wait(30)
                return 500
        if self.delay:
            time.sleep(self.delay)
        if self.always_fail or tries <= self.fail_first:
            return 503
        with self._lock:
            if key not in {e["id"] for e in self.applied}:  # the idempotent effect
                self.applied.append(event)
        return 200

    def applied_ids(self) -> list[str]:
        with self._lock:
            return [e["id"] for e in self.applied]


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status = receiver.handle({k: v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/safeguard"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()
