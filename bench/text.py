"""Grooming detection benchmark: streaming scoring throughput on one core, and API latency under load.

Phases (each bounded in time and count):
1. **in-process, one core**: the first ``--messages`` messages of ``../shared/data/grooming`` (Perverted-
   Justice and NPS chats, in conversation order) fed to :class:`StreamingScorer` one message at a time (what
   the API does per message), then in batches of ``--batch``. Baselines in the same run: the text
   normalisation alone (``normalise.fold``), the least any scorer must do per message; and the issue's
   reference model (word + character TF-IDF, logistic regression) predicting the same messages.
2. **API**: a real ``safeguard serve --workers 2`` on loopback (a SQLite file in a temporary home, or a
   fresh database on ``--postgres``); ``--clients`` threads each post single messages of their own
   conversations to ``POST /v1/conversations/{id}/messages`` for ``--duration`` seconds (keep-alive), then
   batches of ``--api-batch`` messages (closed loop: each client sends its next request when the last one
   is answered, so this is the saturation throughput, and its latency is mostly time spent queueing).
   Then an **open-loop** phase: single messages arriving at a fixed rate (``--rate``; by default half the
   closed-loop rate just measured, i.e. the server at 50% load) from a pool of senders, each latency
   measured from the message's scheduled arrival (a late sender counts against the server, so the
   figure does not hide queueing). Baseline in the same run: ``GET /health`` with the same clients.

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


def load_messages(limit: int) -> tuple[list[Any], list[int]]:
    """The first ``limit`` messages, and for each whether its author is a labelled groomer."""
    from safeguard.text.loaders import load_directory

    messages, labels = [], []
    for conversation in load_directory(DATA):
        messages.extend(conversation.messages)
        labels.extend(int(m.author_id in conversation.groomers) for m in conversation.messages)
        if len(messages) >= limit:
            break
    return messages[:limit], labels[:limit]


def tfidf_baseline(messages: list[Any], labels: list[int], batch: int) -> tuple[float, float]:
    """Messages/s of the issue's reference model (word + character TF-IDF, logistic regression; the
    vectorisers of ``safeguard/text/baseline.py``) predicting each message alone and in batches. It is
    fitted here on these messages (their author's label) only so that it has real vocabularies."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    from safeguard.text.baseline import _vectorisers

    texts = [m.text for m in messages]
    words, chars = _vectorisers()
    x = sparse.hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    model = LogisticRegression(C=10.0, max_iter=200, class_weight="balanced").fit(x, labels)

    def predict(part: list[str]) -> None:
        model.predict_proba(sparse.hstack([words.transform(part), chars.transform(part)]).tocsr())

    sample = texts[:5_000]  # one at a time is slow: time a sample
    started = time.perf_counter()
    for text in sample:
        predict([text])
    single = len(sample) / (time.perf_counter() - started)
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        predict(texts[start : start + batch])
    batched = len(texts) / (time.perf_counter() - started)
    return single, batched


def in_process(messages: list[Any], labels: list[int], batch: int) -> None:
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

    tfidf_single, tfidf_batched = tfidf_baseline(messages, labels, batch)
    n = len(messages)
    print(f"1. in-process, one core, {n:,} messages of {len(states):,} conversations")
    print(f"  baseline, text normalisation only: {n / baseline:,.0f} messages/s")
    print(
        f"  streaming scorer, one message at a time: {n / single:,.0f} messages/s "
        f"({single / baseline:.1f}x the baseline's time; target >= 20,000/s)"
    )
    print(f"  streaming scorer, batches of {batch:,}: {n / batched:,.0f} messages/s")
    print(
        f"  baseline, TF-IDF words + characters and logistic regression (no state, no reasons): "
        f"{tfidf_single:,.0f} messages/s one at a time, {tfidf_batched:,.0f} in batches of {batch:,}; "
        f"the streaming scorer is {n / single / tfidf_single:.2f}x / {n / batched / tfidf_batched:.2f}x"
    )
    sizes = [len(s.authors) for s in states.values()]
    print(f"  state kept: {len(states):,} conversations, {sum(sizes):,} authors (bounded per author)")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(
    port: int, key: str, texts: list[str], duration: float, clients: int, health: bool, batch: int = 1
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
                method, path = "POST", f"/v1/conversations/bench-{i}-{n * batch // 200}/messages"
                items = [{"author": f"a{j % 2}", "text": next(source)} for j in range(batch)]
                body = json.dumps(items[0] if batch == 1 else {"messages": items}).encode()
            started = time.perf_counter()
            conn, ok = _send(conn, port, method, path, body, headers)
            errors[i] += not ok
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


def _send(
    conn: http.client.HTTPConnection,
    port: int,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
) -> tuple[http.client.HTTPConnection, bool]:
    """One request on a keep-alive connection; a broken connection is replaced. Returns (conn, ok)."""
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return conn, response.status < 400
    except (OSError, http.client.HTTPException):
        conn.close()
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30), False


def load_open(
    port: int, key: str, texts: list[str], duration: float, rate: float, senders: int = 32
) -> dict[str, float]:
    """Single messages arriving every ``1/rate`` s for ``duration`` s; latency from the scheduled arrival."""
    count = max(1, int(duration * rate))
    start = time.perf_counter() + 0.2
    latencies: list[list[float]] = [[] for _ in range(senders)]
    errors = [0] * senders

    def sender(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        source = itertools.cycle(texts[i::senders] or texts)
        for n, arrival in enumerate(range(i, count, senders)):
            scheduled = start + arrival / rate
            wait = scheduled - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            body = json.dumps({"author": f"a{n % 2}", "text": next(source)}).encode()
            path = f"/v1/conversations/open-{i}-{n // 200}/messages"
            conn, ok = _send(conn, port, "POST", path, body, headers)
            errors[i] += not ok
            latencies[i].append(time.perf_counter() - scheduled)
        conn.close()

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    every = sorted(x for per in latencies for x in per)
    return {
        "requests": len(every),
        "rps": len(every) / elapsed,
        "p50_ms": statistics.median(every) * 1000,
        "p99_ms": every[int(0.99 * (len(every) - 1))] * 1000,
        "max_ms": every[-1] * 1000,
        "errors": sum(errors),
    }


def database_url(postgres: str | None, home: Path) -> str:
    """A fresh database: a file in ``home``, or a new database on the PostgreSQL server ``postgres``."""
    if not postgres:
        return f"sqlite:///{home / 'safeguard.db'}"
    from sqlalchemy import create_engine, make_url, text

    name = "safeguard_bench_text"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(postgres).set(database=name).render_as_string(hide_password=False)


def api(
    texts: list[str],
    duration: float,
    clients: int,
    workers: int,
    postgres: str | None,
    api_batch: int,
    rate: float | None,
) -> None:
    from safeguard.auth import Actor, Role
    from safeguard.auth import service as keys
    from safeguard.store.db import Database
    from safeguard.store.migrate import upgrade

    home = Path(tempfile.mkdtemp(prefix="safeguard-text-bench-"))
    url = database_url(postgres, home)
    backend = "PostgreSQL" if postgres else "SQLite"
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
        print(f"2. API: safeguard serve --workers {workers} ({backend}), {clients} client threads")
        base = load(port, key, texts, 10.0, clients, health=True)
        print(
            f"  baseline GET /health, 10 s: {base['rps']:,.0f} req/s, p50 {base['p50_ms']:.2f} ms, "
            f"p99 {base['p99_ms']:.2f} ms, errors {base['errors']}"
        )
        got = load(port, key, texts, duration, clients, health=False)
        closed_rate = got["rps"]
        print(
            f"  POST /v1/conversations/{{id}}/messages, {duration:.0f} s, closed loop (saturation): "
            f"{got['rps']:,.0f} messages/s, p50 {got['p50_ms']:.2f} ms, p99 {got['p99_ms']:.2f} ms "
            f"(target <= 10 ms), errors {got['errors']:.0f} "
            f"({got['rps'] / base['rps']:.2f}x the /health rate)"
        )
        if api_batch > 1:
            got = load(port, key, texts, duration, clients, health=False, batch=api_batch)
            print(
                f"  POST batches of {api_batch} messages, {duration:.0f} s: "
                f"{got['rps'] * api_batch:,.0f} messages/s; per request p50 {got['p50_ms']:.2f} ms, "
                f"p99 {got['p99_ms']:.2f} ms = per message p50 {got['p50_ms'] / api_batch:.2f} ms, "
                f"p99 {got['p99_ms'] / api_batch:.2f} ms, errors {got['errors']:.0f}"
            )
        fixed = rate or round(closed_rate / 2)
        got = load_open(port, key, texts, duration, fixed)
        print(
            f"  POST single messages, open loop at {fixed:,.0f} messages/s "
            f"({'--rate' if rate else 'half the closed-loop rate'}, {fixed / closed_rate:.0%} of it), "
            f"{duration:.0f} s: {got['rps']:,.0f} messages/s, from scheduled arrival p50 "
            f"{got['p50_ms']:.2f} ms, p99 {got['p99_ms']:.2f} ms (target <= 10 ms), "
            f"max {got['max_ms']:.0f} ms, errors {got['errors']:.0f}"
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
    parser.add_argument("--api-batch", type=int, default=20, help="also post batches of this many (1: no)")
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (default: a SQLite file)")
    parser.add_argument("--rate", type=float, help="open-loop arrival rate (default: half the closed loop's)")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} not found: the benchmark reads the shared grooming data")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (shared with other work)")
    messages, labels = load_messages(args.messages)
    texts = [m.text for m in messages if m.text.strip()][:20_000]
    if not args.skip_api:  # before phase 1 pins this process to one core
        api(texts, args.duration, args.clients, args.workers, args.postgres, args.api_batch, args.rate)
    if not args.skip_in_process:
        in_process(messages, labels, args.batch)


if __name__ == "__main__":
    main()
