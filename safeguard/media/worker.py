"""A hashing worker process: ``python -m safeguard.media.worker FD [MEMORY_BYTES]``.

Started by :class:`safeguard.media.pool.HashPool`. Receives ``(job id, source, options, progress?)`` on
the socket ``FD`` and answers ``("progress" | "done" | "error", job id, payload)``; ``None`` ends it.
Everything that can go wrong with one item is sent back as a typed error; only a crash or a kill ends
the process, and the pool then reports the item and starts a new worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from multiprocessing.connection import Connection
from pathlib import Path

from safeguard.errors import SafeguardError
from safeguard.media.errors import CorruptMedia, MemoryLimitExceeded, UnreadableFile, to_wire
from safeguard.media.processes import die_with_parent, parent_gone
from safeguard.media.sniff import SNIFF_BYTES, sniff
from safeguard.media.types import ContentKind, Progress

NICE = 10  # the hashing processes' CPU priority, below the server's (ffmpeg runs lower still)


def serve(conn: Connection) -> None:
    from safeguard.media.service import hash_content

    conn.send(("ready", 0, None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job_id, source, options, wants_progress = message

        def report(progress: Progress, job_id: int = job_id) -> None:
            conn.send(("progress", job_id, progress))

        try:
            if _is_video(source):
                conn.send(("video", job_id, None))  # the pool then allows the video time limit
            result = hash_content(source, options, progress=report if wants_progress else None)
        except SafeguardError as exc:
            conn.send(("error", job_id, to_wire(exc)))
        except MemoryError:
            conn.send(("error", job_id, to_wire(MemoryLimitExceeded("hashing exceeded the memory limit"))))
        except OSError as exc:
            # Name the caller's own file, never a temporary copy; no Python reprs.
            named = isinstance(source, Path) and exc.filename == str(source)
            reason = exc.strerror or "the file cannot be read"
            conn.send(("error", job_id, to_wire(UnreadableFile(f"{source}: {reason}" if named else reason))))
        except Exception as exc:
            conn.send(
                (
                    "error",
                    job_id,
                    to_wire(CorruptMedia(f"the content cannot be decoded ({type(exc).__name__})")),
                )
            )
        else:
            conn.send(("done", job_id, result))


def _is_video(source: Path | bytes) -> bool:
    if isinstance(source, bytes):
        head = source[:SNIFF_BYTES]
    else:
        try:
            with source.open("rb") as handle:
                head = handle.read(SNIFF_BYTES)
        except OSError:
            return False  # hash_content reports the unreadable file

    return sniff(head).kind is ContentKind.video


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    die_with_parent()  # killed with the server, whatever kills it; ffmpeg asks the same of this process
    parent = os.environ.get("SAFEGUARD_POOL_PARENT", "")
    if parent.isdigit() and parent_gone(int(parent)):
        return
    with contextlib.suppress(OSError):
        os.nice(NICE)  # the server's requests get the cores first; ffmpeg inherits it
    if len(argv) > 1:
        import resource

        limit = int(argv[1])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    serve(Connection(int(argv[0])))


if __name__ == "__main__":
    main(sys.argv[1:])
