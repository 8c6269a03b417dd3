"""Webhook delivery latency to a healthy endpoint while another endpoint drips its answers, vs. no drip.

    flock /tmp/safeguard-bench.lock .venv/bin/python bench/webhook_stall.py [--events 30] [--postgres URL]

Two integrators, one endpoint each. The healthy receiver answers at once; the dripping one sends its status
line one byte every 0.5 s, forever (each attempt ends at the worker's deadline). Each round writes one event
for the healthy integrator (and, in the drip phase, one for the dripping one) and times it from the write to
its arrival at the healthy receiver. Target: drip p95 <= 1.5x the no-drip p95 of the same run.
"""

from __future__ import annotations

import argparse
import socket
import socketserver
import statistics
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _shared import fresh_database

from safeguard.actions import endpoints
from safeguard.actions.config import WebhookSettings
from safeguard.actions.worker import DeliveryWorker
from safeguard.auth import Actor, Role
from safeguard.review.models import ReviewEvent
from safeguard.store.base import utcnow
from safeguard.store.db import Database

HEALTHY = Actor(kind="api_key", id="1", role=Role.integrator)
DRIPPING = Actor(kind="api_key", id="2", role=Role.integrator)
STOP = threading.Event()
ARRIVED: dict[str, float] = {}


class Healthy(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ARRIVED[self.headers["Safeguard-Idempotency-Key"]] = time.perf_counter()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Drip(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.recv(65536)
        try:
            for byte in b"HTTP/1.1 200 OK\r\n" * 100:
                if STOP.wait(0.5):
                    return
                conn.sendall(bytes([byte]))
        except OSError:
            return


def serve(server: socketserver.TCPServer) -> str:
    server.daemon_threads = True  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hook"


def write_event(db: Database, owner: str, case_id: int) -> str:
    event_id = str(uuid.uuid4())
    with db.session() as session:
        session.add(
            ReviewEvent(
                event_id=event_id,
                type="decision.made",
                owner=owner,
                case_id=case_id,
                payload={"case_id": case_id},
                created_at=utcnow(),
            )
        )
    return event_id


def phase(db: Database, events: int, drip: bool) -> list[float]:
    latencies = []
    for i in range(events):
        if drip:
            write_event(db, "api_key:2", 1000 + i)
        start = time.perf_counter()
        key = write_event(db, "api_key:1", len(ARRIVED) + 10_000 * drip)
        deadline = start + 60
        while key not in ARRIVED and time.perf_counter() < deadline:
            time.sleep(0.002)
        latencies.append(ARRIVED.get(key, deadline) - start)
        time.sleep(0.05)
    return latencies


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (default: SQLite file)")
    args = parser.parse_args()
    cfg = WebhookSettings(allow_networks=["127.0.0.0/8"], allow_http=True, timeout_seconds=3)
    healthy_url = serve(ThreadingHTTPServer(("127.0.0.1", 0), Healthy))
    drip_url = serve(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Drip))
    with tempfile.TemporaryDirectory() as tmp:
        db = fresh_database(args.postgres, Path(tmp), "safeguard_bench_webhook_stall")
        with db.session() as session:
            endpoints.create_endpoint(
                session, HEALTHY, url=healthy_url, events=["decision.made"], settings=cfg
            )
            endpoints.create_endpoint(session, DRIPPING, url=drip_url, events=["decision.made"], settings=cfg)
        worker = DeliveryWorker(db, cfg, poll_seconds=0.02).start()
        try:
            phase(db, 5, drip=False)  # warm-up (connections, caches), not counted
            quiet = phase(db, args.events, drip=False)
            dripping = phase(db, args.events, drip=True)
        finally:
            STOP.set()
            worker.stop()
            db.dispose()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"backend: {backend}; {args.events} events per phase; shared machine: figures are indicative")
    for name, values in (("no drip", quiet), ("drip   ", dripping)):
        print(f"{name}: p50 {statistics.median(values) * 1000:7.1f} ms   p95 {p95(values) * 1000:7.1f} ms")
    print(
        f"ratio drip/no drip: p50 {statistics.median(dripping) / statistics.median(quiet):.2f}x   "
        f"p95 {p95(dripping) / p95(quiet):.2f}x (target <= 1.5x)"
    )


if __name__ == "__main__":
    main()
