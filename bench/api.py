"""Matching service benchmark: a real ``safeguard serve --workers N`` on loopback with 1M PDQ hashes.

Phases (each bounded in time and request count):
1. import the seed hashes with the real CLI (``safeguard banks import``): wall time and peak memory of the
   importing process — the figure for large imports;
2. start ``safeguard serve --workers N`` and wait until every worker has loaded its index;
3. baseline: ``GET /health`` for a few seconds (the server's floor per request, same clients);
4. sustained ``POST /v1/match`` for ``--duration`` seconds from a second process (keep-alive connections,
   ``--clients`` threads; 10% of queries are near-duplicates of banked hashes and must match);
5. the same while ``safeguard banks import`` adds ``--import-hashes`` new hashes; then how long until the
   new hashes match in every worker.

Run under the shared lock: ``flock /tmp/safeguard-bench.lock .venv/bin/python bench/api.py``. Loopback only.
Other work shares this machine (2 cores), so treat the figures as a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "safeguard.cli.main"]


def write_hashes(path: Path, count: int, seed: int) -> np.ndarray:
    """A CSV of ``count`` random PDQ hashes (returned as an (n, 32) uint8 array)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, size=(count, 32), dtype=np.uint8)
    with open(path, "w") as f:
        f.write("signal_type,hash,label\n")
        for start in range(0, count, 100_000):
            chunk = codes[start : start + 100_000]
            f.write("".join(f"pdq,{row.tobytes().hex()},A1\n" for row in chunk))
    return codes


def flip(code: np.ndarray, bits: int, rng: random.Random) -> str:
    value = int.from_bytes(code.tobytes(), "big")
    for bit in rng.sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


def run_import(env: dict[str, str], bank: str, path: Path, nice: int = 0) -> dict[str, float]:
    """Import with the real CLI in a child process; wall time and the child's peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*(["nice", "-n", str(nice)] if nice else []), *CLI, "banks", "import", bank, str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peak = 0
    import psutil

    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, ps.memory_info().rss)
        time.sleep(0.2)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"import failed: {out}")
    wall = time.perf_counter() - started
    peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
    return {"seconds": wall, "peak_rss_mb": peak / 2**20, **json.loads(out)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(
    port: int, method: str, path: str, key: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None
    finally:
        conn.close()


# Load generator (runs in its own process) -------------------------------------------------------------


def loadgen(args: argparse.Namespace) -> None:
    key, port = os.environ["BENCH_KEY"], args.port
    hits = json.loads(Path(args.hits_file).read_text()) if args.hits_file else []
    deadline = time.monotonic() + args.duration
    latencies: list[list[float]] = [[] for _ in range(args.clients)]
    errors = [0] * args.clients
    missed = [0] * args.clients
    per_client = args.max_requests // args.clients

    def client(i: int) -> None:
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        for _ in range(per_client):
            if time.monotonic() > deadline:
                break
            expect = bool(hits) and rng.random() < 0.1
            if args.path == "/health":
                method, body = "GET", None
            else:
                value = rng.choice(hits) if expect else f"{rng.getrandbits(256):064x}"
                method, body = (
                    "POST",
                    json.dumps({"signals": [{"signal_type": "pdq", "hash": value}]}).encode(),
                )
            t0 = time.perf_counter()
            try:
                conn.request(method, args.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            latencies[i].append(time.perf_counter() - t0)
            if response.status != 200:
                errors[i] += 1
            elif expect and not json.loads(data)["matched"]:
                missed[i] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for chunk in latencies for x in chunk)
    print(
        json.dumps(
            {
                "requests": len(flat),
                "seconds": elapsed,
                "rps": len(flat) / elapsed if elapsed else 0,
                "p50_ms": 1000 * flat[len(flat) // 2] if flat else None,
                "p99_ms": 1000 * flat[int(len(flat) * 0.99)] if flat else None,
                "mean_ms": 1000 * statistics.fmean(flat) if flat else None,
                "errors": sum(errors),
                "expected_matches_missed": sum(missed),
            }
        )
    )


def start_loadgen(
    port: int, key: str, path: str, duration: float, clients: int, hits_file: str | None, max_requests: int
) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        __file__,
        "--loadgen",
        "--port",
        str(port),
        "--path",
        path,
        "--duration",
        str(duration),
        "--clients",
        str(clients),
        "--max-requests",
        str(max_requests),
    ]
    if hits_file:
        cmd += ["--hits-file", hits_file]
    return subprocess.Popen(cmd, env={**os.environ, "BENCH_KEY": key}, stdout=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    out, _ = proc.communicate(timeout=timeout)
    result: dict[str, Any] = json.loads(out)
    return result


# Orchestration ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--import-hashes", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=600_000)
    parser.add_argument(
        "--import-only", action="store_true", help="Only phase 1: import --hashes lines (e.g. 10,000,000)"
    )
    parser.add_argument(
        "--import-nice", type=int, default=0, help="run the import during the load under nice -n N"
    )
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary home")
    parser.add_argument("--loadgen", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--path", default="/v1/match", help=argparse.SUPPRESS)
    parser.add_argument("--hits-file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen:
        loadgen(args)
        return

    from safeguard.auth import Actor, Role
    from safeguard.auth import service as keys
    from safeguard.banks import service
    from safeguard.store.db import Database
    from safeguard.store.migrate import upgrade

    home = Path(tempfile.mkdtemp(prefix="safeguard-bench-"))
    url = args.database_url or f"sqlite:///{home / 'safeguard.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEGUARD_")}
    env |= {"SAFEGUARD_HOME": str(home), "SAFEGUARD_DATABASE_URL": url, "SAFEGUARD_LOG_LEVEL": "WARNING"}
    db = Database(url)
    upgrade(db)
    with db.session() as session:
        service.create_bank(session, Actor.system("bench"), name="bench")
        key = keys.create_key(session, Actor.system("bench"), name="bench", role=Role.integrator).key
        keys.create_key(session, Actor.system("bench"), name="bench-admin", role=Role.admin)
    db.dispose()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (shared with other work)")
    print(
        f"database: {'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}; workers: {args.workers}; "
        f"client threads: {args.clients}"
    )
    server = None
    try:
        seed_csv = home / "seed.csv"
        codes = write_hashes(seed_csv, args.hashes, seed=1)
        imported = run_import(env, "bench", seed_csv)
        seed_csv.unlink()
        backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
        print(
            f"import {args.hashes:,} lines (CLI, {backend}): {imported['seconds']:.1f} s, "
            f"{args.hashes / imported['seconds']:,.0f} lines/s, peak RSS {imported['peak_rss_mb']:.0f} MB"
        )
        if args.import_only:
            return
        rng = random.Random(7)
        hits = [flip(codes[rng.randrange(len(codes))], 8, rng) for _ in range(2000)]
        hits_file = home / "hits.json"
        hits_file.write_text(json.dumps(hits))

        port = free_port()
        started = time.perf_counter()
        server = subprocess.Popen(
            [*CLI, "serve", "--workers", str(args.workers), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ready = 0
        while ready < 20:
            if time.perf_counter() - started > 600 or server.poll() is not None:
                raise SystemExit("workers did not load within 600 s")
            try:
                status, body = request(port, "GET", "/m/index/status", key)
                ready = ready + 1 if status == 200 and body["pdq"]["size"] >= args.hashes else 0
            except OSError:
                ready = 0
            time.sleep(0.1)
        print(f"workers up with {args.hashes:,} hashes loaded: {time.perf_counter() - started:.1f} s")

        base = finish(start_loadgen(port, key, "/health", 10, args.clients, None, args.max_requests), 60)
        print(
            f"baseline GET /health, 10 s: {base['rps']:,.0f} req/s, p50 {base['p50_ms']:.2f} ms, "
            f"p99 {base['p99_ms']:.2f} ms, errors {base['errors']}"
        )
        steady = finish(
            start_loadgen(
                port, key, "/v1/match", args.duration, args.clients, str(hits_file), args.max_requests
            ),
            args.duration + 120,
        )
        print(
            f"POST /v1/match, {steady['seconds']:.0f} s: {steady['rps']:,.0f} req/s, "
            f"p50 {steady['p50_ms']:.2f} ms, "
            f"p99 {steady['p99_ms']:.2f} ms, errors {steady['errors']}, "
            f"expected matches missed {steady['expected_matches_missed']} "
            f"({steady['requests']:,} requests; {steady['rps'] / base['rps']:.2f}x the /health rate)"
        )

        new_csv = home / "new.csv"
        new_codes = write_hashes(new_csv, args.import_hashes, seed=2)
        load = start_loadgen(
            port, key, "/v1/match", args.duration, args.clients, str(hits_file), args.max_requests
        )
        time.sleep(2)
        new_import = run_import(env, "bench", new_csv, args.import_nice)
        import_done = time.perf_counter()
        probes = [new_codes[i].tobytes().hex() for i in random.Random(3).sample(range(len(new_codes)), 50)]
        while True:
            checks = [
                request(
                    port,
                    "POST",
                    "/v1/match",
                    key,
                    {"signals": [{"signal_type": "pdq", "hash": p} for p in probes]},
                )
                for _ in range(6)
            ]
            if all(s == 200 and all(r["matched"] for r in b["results"]) for s, b in checks):
                break
            if time.perf_counter() - import_done > 120:
                raise SystemExit("new hashes did not become matchable within 120 s")
            time.sleep(0.05)
        visible_after = time.perf_counter() - import_done
        during = finish(load, args.duration + 180)
        print(
            f"import {args.import_hashes:,} lines during the load (nice {args.import_nice}): "
            f"{new_import['seconds']:.1f} s "
            f"(peak RSS {new_import['peak_rss_mb']:.0f} MB); new hashes matchable in every worker "
            f"{visible_after:.2f} s after the import committed"
        )
        print(
            f"POST /v1/match during the import, {during['seconds']:.0f} s: {during['rps']:,.0f} req/s, "
            f"p50 {during['p50_ms']:.2f} ms, p99 {during['p99_ms']:.2f} ms, errors {during['errors']}, "
            f"expected matches missed {during['expected_matches_missed']}"
        )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
