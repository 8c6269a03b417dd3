"""Hashing in worker processes with a time limit and a memory limit per item.

Decoders fed hostile files can loop, crash or allocate without end, and none of that can be interrupted
from Python inside the same process. So every item is hashed in a worker process; a dispatcher thread
hands items out and watches the clock:

- past ``limits.timeout_s`` (``video_timeout_s`` once the worker has seen that the item is a video) the
  worker's whole process group is killed (the worker and its ffmpeg) and the item fails with
  :class:`HashTimeout`;
- a worker that dies (decoder crash, address-space limit ``limits.memory_bytes``) fails its item with
  :class:`DecoderCrashed`;
- a fresh worker replaces a killed one, so one bad file never stalls the rest.

``HashPool`` is thread-safe: the API submits from request threads, the CLI maps over many files.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from safeguard.errors import SafeguardError
from safeguard.media.errors import (
    CorruptMedia,
    DecoderCrashed,
    HashTimeout,
    from_wire,
)
from safeguard.media.types import HashOptions, HashResult, Progress

Source = Path | bytes


@dataclass(frozen=True, slots=True)
class HashTask:
    source: Source
    options: HashOptions = field(default_factory=HashOptions.for_query)
    name: str | None = None  # what to call it in reports (the path, an upload's file name)


@dataclass(frozen=True, slots=True)
class HashOutcome:
    index: int  # position of the task in the submitted sequence
    task: HashTask
    result: HashResult | None
    error: SafeguardError | None
    seconds: float


ProgressSink = Callable[[Progress], None]
_MAX_STARTUP_FAILURES = 3
_PIPELINE = 2  # jobs handed to a worker at once: the running one and the next


@dataclass(eq=False)
class _Job:
    task: HashTask
    future: Future[HashResult]
    progress: ProgressSink | None
    timeout_s: float
    id: int = 0
    started: float = 0.0
    deadline: float = 0.0
    running: bool = False  # the future is marked running (it may still be re-queued after a worker died)


class _Worker:
    """One ``python -m safeguard.media.worker`` child talking over a socket pair.

    A plain subprocess rather than multiprocessing: it never re-imports the caller's ``__main__`` (so
    scripts without a main guard, servers and threads are all fine) and it gets its own session, so
    killing its process group also kills the ffmpeg it started.
    """

    def __init__(self, memory_bytes: int | None) -> None:
        parent_end, child_end = socket.socketpair()
        with child_end:
            command = [sys.executable, "-m", "safeguard.media.worker", str(child_end.fileno())]
            if memory_bytes:
                command.append(str(memory_bytes))
            self.process = subprocess.Popen(
                command,
                env=_worker_environment(),
                pass_fds=[child_end.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.conn = Connection(parent_end.detach())
        self.jobs: collections.deque[_Job] = collections.deque()  # the running job first, then one queued
        self.ready = False  # set when the worker has imported everything; time limits start after that

    @property
    def job(self) -> _Job | None:
        """The job the worker is running now."""
        return self.jobs[0] if self.jobs else None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the worker and any ffmpeg it started
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self.conn.close()


def _worker_environment() -> dict[str, str]:
    """The caller's environment, with this package importable even if it was found via ``sys.path``."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env


class HashPool:
    """``workers`` processes (default: all cores) hashing :class:`HashTask` s with time limits."""

    def __init__(self, workers: int | None = None, *, memory_bytes: int | None = None) -> None:
        self.size = max(1, workers or os.cpu_count() or 1)
        self._memory_bytes = memory_bytes if memory_bytes is not None else HashOptions().limits.memory_bytes
        self._queue: collections.deque[_Job] = collections.deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._wake_reader, self._wake_writer = multiprocessing.Pipe(duplex=False)
        self._closed = False
        self._broken: str | None = None
        self._startup_failures = 0
        self._workers = [_Worker(self._memory_bytes) for _ in range(self.size)]
        self._thread = threading.Thread(target=self._dispatch, name="safeguard-hash-pool", daemon=True)
        self._thread.start()

    # -- public API ---------------------------------------------------------------------------------

    def submit(self, task: HashTask, progress: ProgressSink | None = None) -> Future[HashResult]:
        """Queue one item; the future holds its HashResult or raises its typed error."""
        job = _Job(task, Future(), progress, task.options.limits.timeout_s)
        with self._lock:
            if self._closed:
                raise RuntimeError("the hash pool is closed")
            if self._broken is not None:
                raise DecoderCrashed(self._broken)
            job.id = next(self._ids)
            self._queue.append(job)
        self._wake()
        return job.future

    def hash_one(self, task: HashTask, progress: ProgressSink | None = None) -> HashResult:
        """Hash one item and wait for it (raises the item's typed error)."""
        return self.submit(task, progress).result()

    def map(
        self, tasks: Iterable[HashTask], progress: Callable[[int, Progress], None] | None = None
    ) -> Iterator[HashOutcome]:
        """Hash many items, yielding outcomes as they complete (not in order; see ``index``).

        At most a few items per worker are queued at a time, so a long generator of tasks is fine.
        """
        window = self.size * 2 + 2
        pending: dict[Future[HashResult], tuple[int, HashTask, float]] = {}
        done_signal = threading.Condition()
        finished: collections.deque[Future[HashResult]] = collections.deque()

        def on_done(future: Future[HashResult]) -> None:
            with done_signal:
                finished.append(future)
                done_signal.notify()

        source = iter(enumerate(tasks))
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                item = next(source, None)
                if item is None:
                    exhausted = True
                    break
                index, task = item
                sink = (lambda p, i=index: progress(i, p)) if progress is not None else None
                future = self.submit(task, sink)
                pending[future] = (index, task, time.perf_counter())
                future.add_done_callback(on_done)
            if not pending:
                return
            with done_signal:
                while not finished:
                    done_signal.wait()
                future = finished.popleft()
            index, task, started = pending.pop(future)
            error = future.exception()
            seconds = time.perf_counter() - started
            if error is None:
                yield HashOutcome(index, task, future.result(), None, seconds)
            else:
                typed = error if isinstance(error, SafeguardError) else CorruptMedia(str(error))
                yield HashOutcome(index, task, None, typed, seconds)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake()
        self._thread.join(10)

    def __enter__(self) -> HashPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- dispatcher thread -------------------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_writer.send_bytes(b"x")

    def _dispatch(self) -> None:
        try:
            while True:
                with self._lock:
                    closing = self._closed
                if closing:
                    break
                self._assign()
                busy = [w for w in self._workers if w.job is not None or not w.ready]
                now = time.monotonic()
                deadlines = [w.job.deadline for w in busy if w.job is not None]
                timeout = max(0.0, min(deadlines, default=now + 1.0) - now)
                ready = multiprocessing.connection.wait([self._wake_reader, *[w.conn for w in busy]], timeout)
                for conn in ready:
                    if conn is self._wake_reader:
                        while self._wake_reader.poll():
                            self._wake_reader.recv_bytes()
                    else:
                        self._receive(next(w for w in busy if w.conn is conn))
                self._expire()
        finally:
            self._shutdown()

    def _assign(self) -> None:
        """Give each ready worker its next job, plus one more queued behind it so it never waits for us."""
        for worker in list(self._workers):
            while worker.ready and len(worker.jobs) < _PIPELINE:
                with self._lock:
                    if not self._queue:
                        return
                    job = self._queue.popleft()
                if not job.running:
                    if not job.future.set_running_or_notify_cancel():
                        continue
                    job.running = True
                if not worker.jobs:
                    self._start_clock(job)
                worker.jobs.append(job)
                try:
                    worker.conn.send((job.id, job.task.source, job.task.options, job.progress is not None))
                except (OSError, ValueError):
                    self._lost(worker, DecoderCrashed("the hashing process could not take the item"))
                    break

    @staticmethod
    def _start_clock(job: _Job) -> None:
        job.started = time.monotonic()
        job.deadline = job.started + job.timeout_s

    def _lost(self, worker: _Worker, error: SafeguardError) -> None:
        """The worker is gone: its running job fails with ``error``, its queued one goes back in line."""
        running = worker.jobs.popleft() if worker.jobs else None
        waiting = list(worker.jobs)
        worker.jobs.clear()
        self._replace(worker)
        with self._lock:
            self._queue.extendleft(reversed(waiting))
        if running is not None:
            running.future.set_exception(error)

    def _receive(self, worker: _Worker) -> None:
        job = worker.job
        try:
            kind, job_id, payload = worker.conn.recv()
        except (EOFError, OSError):
            code = worker.process.poll()
            if job is None:
                self._replace(worker)
                self._startup_failures += 1  # died while starting (e.g. a memory limit too small)
                if self._startup_failures >= _MAX_STARTUP_FAILURES:
                    self._fail_queue(f"hashing processes cannot start (exit status {code})")
                return
            reason = f"the hashing process crashed or hit its memory limit (exit status {code})"
            self._lost(worker, DecoderCrashed(reason))
            return
        if kind == "ready":
            worker.ready = True
            self._startup_failures = 0
            return
        if job is None or job_id != job.id:
            return  # a late message from a previous job
        if kind == "video":  # the worker sniffed a video: it gets the (longer) video time limit
            job.timeout_s = job.task.options.limits.video_timeout_s
            job.deadline = job.started + job.timeout_s
            return
        if kind == "progress":
            if job.progress is not None:
                with contextlib.suppress(Exception):
                    job.progress(payload)
            return
        worker.jobs.popleft()
        if worker.jobs:
            self._start_clock(worker.jobs[0])  # the worker went straight on to it
        if kind == "done":
            job.future.set_result(payload)
        else:
            job.future.set_exception(from_wire(payload))

    def _fail_queue(self, reason: str) -> None:
        with self._lock:
            self._broken = reason
            queued = list(self._queue)
            self._queue.clear()
        for job in queued:
            if job.running or job.future.set_running_or_notify_cancel():
                job.future.set_exception(DecoderCrashed(reason))

    def _expire(self) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            job = worker.job
            if job is not None and now >= job.deadline:
                limit = f"{job.timeout_s:g}"
                self._lost(
                    worker, HashTimeout(f"hashing took longer than the limit of {limit} s and was stopped")
                )

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` and start a fresh one in its place (none once the pool is broken)."""
        worker.kill()
        if worker not in self._workers:
            return
        index = self._workers.index(worker)
        if self._broken is None:
            self._workers[index] = _Worker(self._memory_bytes)
        else:
            del self._workers[index]

    def _shutdown(self) -> None:
        for worker in self._workers:
            for job in worker.jobs:
                job.future.set_exception(DecoderCrashed("the hash pool was closed"))
            worker.jobs.clear()
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        deadline = time.monotonic() + 2
        for worker in self._workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.process.wait(max(0.0, deadline - time.monotonic()))
            worker.kill()
        with self._lock:
            leftover = list(self._queue)
            self._queue.clear()
        for job in leftover:
            if job.running or job.future.set_running_or_notify_cancel():
                job.future.set_exception(DecoderCrashed("the hash pool was closed"))


_shared: HashPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> HashPool:
    """One pool per process for servers (one worker per core), started on first use, closed at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = HashPool()
            atexit.register(_shared.close)
        return _shared
