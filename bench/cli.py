"""Start-up of the ``safeguard`` command and of the server, each beside a baseline measured in the same run.

Each figure is the median wall time of ``--runs`` fresh processes (interleaved with their baselines, so a
busy machine slows both alike):

- ``python -c pass``: the interpreter's floor;
- ``safeguard --help`` against that floor;
- raw pdqhash + Pillow hashing one image in a fresh process, and ``safeguard hash IMAGE`` against it
  (the command also starts a hashing worker process, the price of its time and memory limits);
- ``safeguard serve`` on a fresh data directory until the first ``GET /health`` answers 200, against
  ``python -c pass`` (once per run: the server is started, polled every 20 ms, then stopped).

Usage: ``python bench/cli.py [--runs 5] [--image PATH]``. Loopback only; nothing is left running.
Other work shares this machine (2 cores), so treat the figures as a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "safeguard.cli.main"]
DEFAULT_IMAGE = Path("/work/shared/data/images/img_0001.jpg")
RAW_HASH = (
    "import sys, numpy, pdqhash\n"
    "from PIL import Image\n"
    "image = Image.open(sys.argv[1]).convert('RGB')\n"
    "print(pdqhash.compute(numpy.asarray(image))[0].tobytes().hex())\n"
)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEGUARD_")}
    env["SAFEGUARD_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_until_health(env: dict[str, str], timeout_s: float = 120.0) -> float:
    """Seconds from starting ``safeguard serve`` to the first 200 from ``/health``; the server is stopped."""
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--no-webhooks"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.perf_counter() - start < timeout_s:
            if process.poll() is not None:
                raise SystemExit(f"safeguard serve exited with {process.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return time.perf_counter() - start
            except OSError:
                pass
            time.sleep(0.02)
        raise SystemExit("safeguard serve did not answer /health in time")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def pair(runs: int, measure: Callable[[], float], baseline: Callable[[], float]) -> tuple[float, float]:
    ours: list[float] = []
    base: list[float] = []
    for _ in range(runs):
        base.append(baseline())
        ours.append(measure())
    return statistics.median(ours), statistics.median(base)


def report(name: str, ours: float, base_name: str, base: float) -> None:
    figures = f"{ours * 1000:8.0f} ms   {base_name:<26} {base * 1000:6.0f} ms   ratio {ours / base:5.1f}x"
    print(f"{name:<34} {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE)
    parser.add_argument("--no-serve", action="store_true", help="Skip the server start-up figure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(Path(tmp))
        floor = [sys.executable, "-c", "pass"]
        raw = [sys.executable, "-c", RAW_HASH, str(args.image)]
        ours, base = pair(args.runs, lambda: timed([*CLI, "--help"], env), lambda: timed(floor, env))
        report("safeguard --help", ours, "python -c pass", base)
        hash_one = [*CLI, "hash", "--no-progress", str(args.image)]
        ours, base = pair(args.runs, lambda: timed(hash_one, env), lambda: timed(raw, env))
        report("safeguard hash IMAGE", ours, "raw pdqhash + Pillow", base)
        if not args.no_serve:
            ours, base = pair(args.runs, lambda: serve_until_health(env), lambda: timed(floor, env))
            report("safeguard serve -> /health 200", ours, "python -c pass", base)


if __name__ == "__main__":
    main()
