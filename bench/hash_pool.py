"""Do long videos stall the server? A real ``safeguard serve`` on loopback with its shared hashing pool.

1. idle: ``--probes`` rounds of ``GET /health`` and a small-image ``POST /v1/scan`` (one at a time);
2. load: the same while two long synthetic videos (``ffmpeg`` testsrc, ``--video-seconds`` each, made here)
   are hashed through ``POST /v1/hash`` by another API key.

Prints p50/p99 of both probes in both phases, the busy/idle p99 ratios (target <= 2x) and how the videos
ended (200, or 422 ``hash-timeout`` when the size-scaled limit stopped them). Loopback only; other work
shares this machine, so treat the figures as a floor.

    .venv/bin/python bench/hash_pool.py [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from login_stall import free_port, wait_ready

CLI = [sys.executable, "-m", "safeguard.cli.main"]
IMAGE = Path(os.environ.get("SAFEGUARD_BENCH_IMAGE", "/work/shared/data/images/img_0001.jpg"))


def multipart(field: str, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post_file(port: int, key: str, path: str, data: bytes, timeout: float = 120) -> tuple[int, float]:
    body, content_type = multipart("file", "upload", data)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.perf_counter()
    conn.request(
        "POST", path, body=body, headers={"Authorization": f"Bearer {key}", "Content-Type": content_type}
    )
    reply = conn.getresponse()
    reply.read()
    conn.close()
    return reply.status, time.perf_counter() - started


def probes(port: int, key: str, rounds: int) -> tuple[list[float], list[float], list[int]]:
    image = IMAGE.read_bytes()
    health: list[float] = []
    scan: list[float] = []
    statuses: list[int] = []
    for _ in range(rounds):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        started = time.perf_counter()
        conn.request("GET", "/health")
        conn.getresponse().read()
        health.append(time.perf_counter() - started)
        conn.close()
        status, seconds = post_file(port, key, "/v1/scan", image)
        scan.append(seconds)
        statuses.append(status)
        time.sleep(0.05)
    return health, scan, statuses


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def make_video(path: Path, seconds: int) -> None:
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi",
         "-i", f"testsrc=size=640x360:rate=30:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-y", str(path)],
        check=True,
    )  # fmt: skip


def setup(url: str) -> tuple[str, str]:
    from safeguard.auth import Actor, Role
    from safeguard.auth import service as keys
    from safeguard.banks import service as banks
    from safeguard.store.db import Database
    from safeguard.store.migrate import upgrade

    db = Database(url)
    upgrade(db)
    with db.session() as session:
        system = Actor.system("bench")
        banks.create_bank(session, system, name="bench")
        scanner = keys.create_key(session, system, name="scanner", role=Role.integrator).key
        uploader = keys.create_key(session, system, name="uploader", role=Role.integrator).key
    db.dispose()
    return scanner, uploader


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--video-seconds", type=int, default=900)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary home")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="safeguard-bench-"))
    url = args.database_url or f"sqlite:///{home / 'safeguard.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEGUARD_")}
    env |= {"SAFEGUARD_HOME": str(home), "SAFEGUARD_DATABASE_URL": url, "SAFEGUARD_LOG_LEVEL": "WARNING"}
    scanner, uploader = setup(url)
    videos = [home / f"long{n}.mp4" for n in range(2)]
    for video in videos:
        make_video(video, args.video_seconds)
    sizes = ", ".join(f"{v.stat().st_size / 2**20:.1f} MiB" for v in videos)
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; database: {backend}")
    print(f"videos: 2 x {args.video_seconds} s 640x360 30 fps ({sizes})")
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--workers", "1", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ended: list[tuple[int, float]] = []
    try:
        wait_ready(port, server)
        post_file(port, scanner, "/v1/scan", IMAGE.read_bytes())  # start the pool's workers
        idle = probes(port, scanner, args.probes)

        def upload(video: Path) -> None:
            ended.append(post_file(port, uploader, "/v1/hash", video.read_bytes(), timeout=3600))

        threads = [threading.Thread(target=upload, args=(v,)) for v in videos]
        for thread in threads:
            thread.start()
        time.sleep(2)
        busy = probes(port, scanner, args.probes)
        still_hashing = sum(thread.is_alive() for thread in threads)
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)
    for label, (health, scan, statuses) in (("idle", idle), ("busy", busy)):
        print(
            f"{label}: GET /health p50 {p(health, 50):.1f} ms p99 {p(health, 99):.1f} ms; "
            f"POST /v1/scan (small image) p50 {p(scan, 50):.1f} ms p99 {p(scan, 99):.1f} ms; "
            f"scan statuses {sorted(set(statuses))}"
        )
    print(f"videos still hashing when the busy probes ended: {still_hashing} of 2")
    print(f"videos: {[(status, round(seconds, 1)) for status, seconds in ended]} (status, seconds)")
    print(
        f"p99 ratio busy/idle: /health {p(busy[0], 99) / p(idle[0], 99):.2f}x, "
        f"/v1/scan {p(busy[1], 99) / p(idle[1], 99):.2f}x (target <= 2x)"
    )


if __name__ == "__main__":
    main()
