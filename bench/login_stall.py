"""Do bogus sign-ins stall writes? A real ``safeguard serve`` on loopback, argon2 at its real cost.

1. idle: ``--writes`` small API writes (``POST /v1/banks``, one at a time) with nothing else running;
2. load: the same writes while ``--clients`` connections (a second process) hammer ``POST /ui/login``
   with wrong passwords: half for an existing user name (the per-client throttle soon answers those 429),
   half for made-up names, a new one each time (no throttle applies: every one costs a password check).

Prints the p50/p99 of the write in both phases, their ratio (target <= 3x), and what the sign-ins got
(status counts: 401 refused, 429 throttled or queue full; a 500 or "database is locked" is a failure).
Loopback only; other work shares this machine, so treat the figures as a floor.

    .venv/bin/python bench/login_stall.py [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _shared import wait_ready

CLI = [sys.executable, "-m", "safeguard.cli.main"]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hammer(port: int, clients: int, seconds: float) -> None:
    """Runs in its own process: ``clients`` threads posting wrong passwords; prints status counts."""
    counts: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/ui/login")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = (response.getheader("set-cookie") or "").split(";")[0]
        found = CSRF.search(page)
        token = found.group(1) if found else ""
        tries = 0
        while time.monotonic() < deadline:
            tries += 1
            name = "mod" if n % 2 == 0 else f"nobody-{n}-{tries}"
            body = f"username={name}&password=wrong+password+{tries}&csrf_token={token}"
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
            try:
                conn.request("POST", "/ui/login", body=body, headers=headers)
                reply = conn.getresponse()
                reply.read()
                status = reply.status
            except OSError:
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                counts[status] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({str(k): v for k, v in sorted(counts.items())}))


def write_latencies(port: int, key: str, count: int, tag: str) -> tuple[list[float], Counter[int]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    seconds: list[float] = []
    statuses: Counter[int] = Counter()
    for i in range(count):
        body = json.dumps({"name": f"{tag}-{i}"})
        started = time.perf_counter()
        conn.request("POST", "/v1/banks", body=body, headers=headers)
        reply = conn.getresponse()
        reply.read()
        seconds.append(time.perf_counter() - started)
        statuses[reply.status] += 1
        time.sleep(0.02)
    conn.close()
    return seconds, statuses


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else values[0] * 1000


def setup(url: str) -> str:
    from safeguard.auth import Actor, Role
    from safeguard.auth import service as keys
    from safeguard.store.db import Database
    from safeguard.store.migrate import upgrade
    from safeguard.users import service as users

    db = Database(url)
    upgrade(db)
    with db.session() as session:
        system = Actor.system("bench")
        key = keys.create_key(session, system, name="bench-admin", role=Role.admin).key
        users.create_user(
            session, system, username="mod", role=Role.moderator, password="a real passphrase 42"
        )
    db.dispose()
    return key


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary home")
    parser.add_argument("--hammer", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hammer:
        hammer(args.port, args.clients, args.hammer)
        return
    home = Path(tempfile.mkdtemp(prefix="safeguard-bench-"))
    url = args.database_url or f"sqlite:///{home / 'safeguard.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEGUARD_")}
    env |= {"SAFEGUARD_HOME": str(home), "SAFEGUARD_DATABASE_URL": url, "SAFEGUARD_LOG_LEVEL": "WARNING"}
    key = setup(url)
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; database: {backend}")
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--workers", "1", "--port", str(port)],
        env=env,
        cwd=home,  # not the checkout: PYTHONPATH decides which tree the server runs
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(port, server)
        idle, idle_status = write_latencies(port, key, args.writes, "idle")
        seconds = max(20.0, args.writes * 0.2)
        load = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--hammer",
                str(seconds),
                "--port",
                str(port),
                "--clients",
                str(args.clients),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)  # let every client connect and the password checks queue up
        busy, busy_status = write_latencies(port, key, args.writes, "busy")
        logins: dict[str, Any] = json.loads(
            (load.communicate(timeout=seconds + 180)[0] or "{}").strip() or "{}"
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)
    for label, values, statuses in (("idle", idle, idle_status), ("busy", busy, busy_status)):
        print(
            f"{label}  POST /v1/banks x{len(values)}: p50 {p(values, 50):.1f} ms, "
            f"p99 {p(values, 99):.1f} ms, statuses {dict(statuses)}"
        )
    print(f"sign-ins during the load ({args.clients} clients): statuses {logins}")
    print(f"p99 ratio busy/idle: {p(busy, 99) / p(idle, 99):.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
