"""Review queue and webhook figures: claims/s and decisions/s with 100k open cases, deliveries/s.

    flock /tmp/safeguard-bench.lock .venv/bin/python bench/review.py [--cases 100000] [--postgres URL]

Baselines measured in the same run: a bare audited write transaction (the floor under every claim and
decision, since each is one audited transaction) and plain signed-less HTTP POSTs to the same receiver.
The machine is shared (2 cores, other work running), so absolute figures are indicative; the ratios hold.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from _shared import fresh_database
from sqlalchemy import insert, text

from safeguard import audit
from safeguard.actions import endpoints
from safeguard.actions.config import WebhookSettings
from safeguard.actions.verify import SIGNATURE_HEADER, InvalidSignature, verify_signature
from safeguard.actions.worker import DeliveryWorker
from safeguard.auth import Actor, Role
from safeguard.review import decisions, queue
from safeguard.review.common import open_key_of
from safeguard.review.config import ReviewSettings
from safeguard.review.decisions import Action
from safeguard.review.models import Case, ReviewEvent
from safeguard.review.priority import rank_of
from safeguard.review.signals import Label
from safeguard.store.base import utcnow
from safeguard.store.db import Database

OWNER = Actor(kind="api_key", id="1", role=Role.integrator)
SETTINGS = ReviewSettings(four_eyes_actions=[])


def seed_cases(db: Database, count: int) -> None:
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for i in range(count):
        base = 20 + (i * 7919) % 60
        live = i % 500 == 0
        rows.append(
            {
                "owner": "api_key:1",
                "kind": "content" if i % 10 else "conversation",
                "subject": f"item-{i}",
                "account_id": f"acct-{i % 5000}",
                "open_key": open_key_of("api_key:1", "content", f"item-{i}"),
                "status": "open",
                "queued": True,
                "escalated": False,
                "live_risk": live,
                "auto_eligible": True,
                "labels": ",A1," if i % 4 == 0 else ",B2,",
                "priority_base": float(base),
                "rank": rank_of(float(base), now),
                "priority_parts": {"severity": base},
                "signal_count": 1,
                "opened_at": now,
                "queued_at": now,
                "updated_at": now,
                "due_at": now,
            }
        )
        if len(rows) == 5000:
            with db.session() as session:
                session.execute(insert(Case), rows)
            rows = []
    if rows:
        with db.session() as session:
            session.execute(insert(Case), rows)


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def bench_baseline(db: Database, n: int) -> float:
    actor = Actor.system("bench")
    start = time.perf_counter()
    for i in range(n):
        with db.session() as session:
            audit.record(session, actor, "bench.noop", "bench", str(i))
    return rate(n, time.perf_counter() - start)


def bench_claims(db: Database, n: int, threads: int) -> tuple[float, list[int]]:
    claimed: list[int] = []
    lock = threading.Lock()

    def work(k: int) -> None:
        actor = Actor(kind="api_key", id=f"mod{k}", role=Role.moderator)
        for _ in range(n // threads):
            with db.session() as session:
                case = queue.claim_next(session, actor, settings=SETTINGS)
                assert case is not None
                with lock:
                    claimed.append(case.id)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    elapsed = time.perf_counter() - start
    assert len(set(claimed)) == len(claimed)
    return rate(len(claimed), elapsed), claimed


def bench_decisions(db: Database, n: int) -> float:
    actor = Actor(kind="api_key", id="decider", role=Role.moderator)
    ids = []
    for _ in range(n):
        with db.session() as session:
            case = queue.claim_next(session, actor, settings=SETTINGS)
            assert case is not None
            ids.append(case.id)
    start = time.perf_counter()
    for case_id in ids:
        with db.session() as session:
            decisions.decide(
                session, actor, case_id, label=Label.A1, actions=[Action.remove_content], settings=SETTINGS
            )
    return rate(n, time.perf_counter() - start)


class Sink(BaseHTTPRequestHandler):
    secret = ""
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = 200
        if Sink.secret:
            try:
                verify_signature(Sink.secret, body, self.headers.get(SIGNATURE_HEADER))
            except InvalidSignature:
                status = 400
        with Sink.lock:
            Sink.received += 1
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def bench_deliveries(db: Database, n: int, concurrency: int) -> tuple[float, float]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    cfg = WebhookSettings(
        allow_networks=["127.0.0.0/8"], allow_http=True, concurrency=concurrency, batch_size=concurrency * 8
    )
    body = json.dumps({"id": str(uuid.uuid4()), "type": "decision.made", "data": {"case_id": 1}})
    with httpx.Client() as client:
        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda _: client.post(url, content=body).status_code, range(n)))
        baseline = rate(n, time.perf_counter() - start)
    with db.session() as session:
        created = endpoints.create_endpoint(session, OWNER, url=url, events=["decision.made"], settings=cfg)
        Sink.secret = created.secret
        now = utcnow()
        session.execute(
            insert(ReviewEvent),
            [
                {
                    "event_id": str(uuid.uuid4()),
                    "type": "decision.made",
                    "owner": "api_key:1",
                    "case_id": i % 1000,
                    "payload": {"case_id": i % 1000, "label": "A1", "actions": ["remove_content"]},
                    "created_at": now,
                }
                for i in range(n)
            ],
        )
    Sink.received = 0
    worker = DeliveryWorker(db, cfg, poll_seconds=0.01)
    start = time.perf_counter()
    worker.drain(timeout=600)
    elapsed = time.perf_counter() - start
    worker.stop()
    server.shutdown()
    with db.read_session() as session:  # includes the decision.made events of the decisions bench
        delivered = session.scalar(text("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'"))
        total = session.scalar(text("SELECT count(*) FROM webhook_deliveries"))
    assert delivered == total and delivered >= n, (delivered, total, n)
    return rate(delivered, elapsed), baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--claims", type=int, default=2_000)
    parser.add_argument("--decisions", type=int, default=1_000)
    parser.add_argument("--deliveries", type=int, default=2_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (default: SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = fresh_database(args.postgres, Path(tmp), "safeguard_bench_review")
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"backend: {backend}; shared machine (2 cores, other work running): figures are indicative")
        start = time.perf_counter()
        seed_cases(db, args.cases)
        print(f"seeded {args.cases:,} open cases in {time.perf_counter() - start:.1f}s")
        base = bench_baseline(db, 500)
        print(f"baseline: bare audited write transaction     {base:8.0f} /s")
        one, _ = bench_claims(db, args.claims // 2, 1)
        print(f"claims/s, 1 moderator, {args.cases:,} open      {one:8.0f} /s  ({one / base:.2f}x baseline)")
        many, _ = bench_claims(db, args.claims, args.threads)
        label = f"claims/s, {args.threads} moderators at once"
        print(f"{label:43s}{many:8.0f} /s  ({many / base:.2f}x baseline)")
        dec = bench_decisions(db, args.decisions)
        print(f"decisions/s (final, outbox event, audited) {dec:8.0f} /s  ({dec / base:.2f}x baseline)")
        sent, raw = bench_deliveries(db, args.deliveries, args.threads)
        print(f"baseline: plain HTTP POSTs, {args.threads} in flight      {raw:8.0f} /s")
        print(f"webhook deliveries/s (signed, verified)    {sent:8.0f} /s  ({sent / raw:.2f}x plain POSTs)")
        db.dispose()


if __name__ == "__main__":
    main()
