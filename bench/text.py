"""Grooming detection benchmark: streaming scoring throughput on one core, and API latency under load.

Phases (each bounded in time and count):
1. **in-process, one core**: the first ``--messages`` messages of ``../shared/data/grooming`` (Perverted-
   Justice and NPS chats, in conversation order) fed to :class:`StreamingScorer` one message at a time (what
   the API does per message), then in batches of ``--batch``. Baseline in the same run: the text
   normalisation alone (``normalise.fold``), the least any scorer must do per message.
2. **API**: a real ``safeguard serve --workers 2`` on loopback (SQLite, temporary home); ``--clients``
   threads each post single messages of their own conversations to ``POST /v1/conversations/{id}/messages``
   for ``--duration`` seconds (keep-alive). Baseline in the same run: ``GET /health`` with the same clients.

Run under the shared lock: ``flock /tmp/safeguard-bench.lock .venv/bin/python bench/text.py``. Loopback
only. Other work may share the machine (2 cores): the load average is printed first.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core means no BLAS threads either
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import http.client
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "grooming"
CLI = [sys.executable, "-m", "safeguard.cli.main"]


def load_messages(limit: int) -> list[Any]:
    from safeguard.text.loaders import load_directory

    messages = []
    for conversation in load_directory(DATA):
        messages.extend(conversation.messages)
        if len(messages) >= limit:
            break
    return messages[:limit]


def in_process(messages: list[Any], batch: int) -> None:
    from safeguard.text.normalise import fold
    from safeguard.text.scorer import StreamingScorer
    from safeguard.text.state import ConversationState

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    scorer = StreamingScorer()
    warm: dict[str, ConversationState] = {}
    scorer.score_messages(warm, messages[:200])  # first-call costs (compiled tree walk, caches)

    started = time.perf_counter()
    for m in messages:
        fold(m.text)
    baseline = time.perf_counter() - started

    states: dict[str, ConversationState] = {}
    started = time.perf_counter()
    for m in messages:
        scorer.update(states.setdefault(m.conversation_id, ConversationState()), m)
    single = time.perf_counter() - started

    states = {}
    started = time.perf_counter()
    for start in range(0, len(messages), batch):
        scorer.score_messages(states, messages[start : start + batch])
    batched = time.perf_counter() - started

    n = len(messages)
    print(f"1. in-process, one core, {n:,} messages of {len(states):,} conversations")
    print(f"  baseline, text normalisation only: {n / baseline:,.0f} messages/s")
    print(
        f"  streaming scorer, one message at a time: {n / single:,.0f} messages/s "
        f"({single / baseline:.1f}x the baseline's time; target >= 20,000/s)"
    )
    print(f"  streaming scorer, batches of {batch:,}: {n / batched:,.0f} messages/s")
    sizes = [len(s.authors) for s in states.values()]
    print(f"  state kept: {len(states):,} conversations, {sum(sizes):,} authors (bounded per author)")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(
    port: int, key: str, texts: list[str], duration: float, clients: int, health: bool
) -> dict[str, float]:
    deadline = time.monotonic() + duration
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        source = itertools.cycle(texts[i::clients] or texts)
        for n in range(1_000_000):
            if time.monotonic() > deadline:
                break
            if health:
                method, path, body = "GET", "/health", None
            else:
                # Each client talks in its own conversations, 200 messages each, two authors taking turns.
                method, path = "POST", f"/v1/conversations/bench-{i}-{n // 200}/messages"
                body = json.dumps({"author": f"a{n % 2}", "text": next(source)}).encode()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            latencies[i].append(time.perf_counter() - started)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    every = sorted(x for per in latencies for x in per)
    return {
        "requests": len(every),
        "rps": len(every) / elapsed,
        "p50_ms": statistics.median(every) * 1000,
        "p99_ms": every[int(0.99 * (len(every) - 1))] * 1000,
        "errors": sum(errors),
    }


def api(texts: list[str], duration: float, clients: int, workers: int) -> None:
    from safeguard.auth import Actor, Role
    from safeguard.auth import service as keys
    from safeguard.store.db import Database
    from safeguard.store.migrate import upgrade

    home = Path(tempfile.mkdtemp(prefix="safeguard-text-bench-"))
    url = f"sqlite:///{home / 'safeguard.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEGUARD_")}
    env |= {"SAFEGUARD_HOME": str(home), "SAFEGUARD_DATABASE_URL": url, "SAFEGUARD_LOG_LEVEL": "WARNING"}
    db = Database(url)
    upgrade(db)
    with db.session() as session:
        key = keys.create_key(session, Actor.system("bench"), name="bench", role=Role.integrator).key
    db.dispose()
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--workers", str(workers), "--port", str(port), "--no-webhooks"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start within 120 s")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        # Warm every worker: the first message loads the model.
        load(port, key, texts[:50], 3.0, clients, health=False)
        print(f"2. API: safeguard serve --workers {workers} (SQLite), {clients} client threads")
        base = load(port, key, texts, 10.0, clients, health=True)
        print(
            f"  baseline GET /health, 10 s: {base['rps']:,.0f} req/s, p50 {base['p50_ms']:.2f} ms, "
            f"p99 {base['p99_ms']:.2f} ms, errors {base['errors']}"
        )
        got = load(port, key, texts, duration, clients, health=False)
        print(
            f"  POST /v1/conversations/{{id}}/messages, {duration:.0f} s: {got['rps']:,.0f} messages/s, "
            f"p50 {got['p50_ms']:.2f} ms, p99 {got['p99_ms']:.2f} ms (target <= 10 ms), "
            f"errors {got['errors']:.0f} ({got['rps'] / base['rps']:.2f}x the /health rate)"
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-api", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} not found: the benchmark reads the shared grooming data")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (shared with other work)")
    messages = load_messages(args.messages)
    texts = [m.text for m in messages if m.text.strip()][:20_000]
    if not args.skip_api:  # before phase 1 pins this process to one core
        api(texts, args.duration, args.clients, args.workers)
    in_process(messages, args.batch)


if __name__ == "__main__":
    main()
