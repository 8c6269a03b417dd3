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

Bounds, so that no caller can stall the others:

- at most ``max_queued`` items wait (``max_queued_per_caller`` per caller, e.g. per API key); past that
  :meth:`HashPool.submit` raises :class:`HashQueueFull` (429 with ``Retry-After`` over HTTP);
- the next item is taken from the callers in turn (round robin), not first come first served;
- videos (sniffed from their first bytes when submitted) run on at most ``size - 1`` workers, so small
  items always have a worker; nothing is queued in a worker behind a video;
- a video may take ``limits.video_timeout_for(its size)``, not a fixed half hour;
- :meth:`HashPool.cancel` takes an item out (a queued one at once; a running one by killing its worker),
  which the API does when the client disconnects.

Each worker has a private temporary directory (its ``TMPDIR``); the pool removes it whenever it kills or
closes the worker, so a timed-out video leaves no copy behind. Workers run at a lower CPU priority and
die with the server process (``safeguard.media.processes``).

``HashPool`` is thread-safe: the API submits from request threads, the CLI maps over many files.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from safeguard.errors import SafeguardError
from safeguard.media.errors import (
    CorruptMedia,
    DecoderCrashed,
    HashCancelled,
    HashQueueFull,
    HashTimeout,
    from_wire,
)
from safeguard.media.sniff import SNIFF_BYTES, sniff
from safeguard.media.types import ContentKind, HashOptions, HashResult, Progress

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
    caller: str = ""
    is_video: bool = False
    size: int = 0
    abandoned: bool = False  # cancelled while running: the dispatcher kills its worker
    id: int = 0
    started: float = 0.0
    deadline: float = 0.0
    running: bool = False  # the future is marked running (it may still be re-queued after a worker died)


class _FairQueue:
    """Waiting jobs, one line per caller; :meth:`take` serves the callers in turn."""

    def __init__(self) -> None:
        self._lines: collections.OrderedDict[str, collections.deque[_Job]] = collections.OrderedDict()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def count(self, caller: str) -> int:
        line = self._lines.get(caller)
        return len(line) if line else 0

    def append(self, job: _Job) -> None:
        self._lines.setdefault(job.caller, collections.deque()).append(job)
        self._count += 1

    def push_front(self, jobs: list[_Job]) -> None:
        """Put jobs back at the head of their lines, their callers first in turn (a lost worker's)."""
        for job in reversed(jobs):
            self._lines.setdefault(job.caller, collections.deque()).appendleft(job)
            self._lines.move_to_end(job.caller, last=False)
            self._count += 1

    def remove(self, job: _Job) -> bool:
        line = self._lines.get(job.caller)
        if line is None or job not in line:
            return False
        line.remove(job)
        self._count -= 1
        if not line:
            del self._lines[job.caller]
        return True

    def take(self, video_ok: bool) -> _Job | None:
        """The first job of the first caller in turn that has one allowed (no video unless ``video_ok``)."""
        for caller, line in self._lines.items():
            for job in line:
                if video_ok or not job.is_video:
                    line.remove(job)
                    self._count -= 1
                    if line:
                        self._lines.move_to_end(caller)
                    else:
                        del self._lines[caller]
                    return job
        return None

    def drain(self) -> list[_Job]:
        jobs = [job for line in self._lines.values() for job in line]
        self._lines.clear()
        self._count = 0
        return jobs


class _Worker:
    """One ``python -m safeguard.media.worker`` child talking over a socket pair.

    A plain subprocess rather than multiprocessing: it never re-imports the caller's ``__main__`` (so
    scripts without a main guard, servers and threads are all fine) and it gets its own session, so
    killing its process group also kills the ffmpeg it started.
    """

    def __init__(self, memory_bytes: int | None) -> None:
        parent_end, child_end = socket.socketpair()
        self.temp = tempfile.mkdtemp(prefix="safeguard-hash-")  # the worker's TMPDIR; removed by us
        with child_end:
            command = [sys.executable, "-m", "safeguard.media.worker", str(child_end.fileno())]
            if memory_bytes:
                command.append(str(memory_bytes))
            self.process = subprocess.Popen(
                command,
                env=_worker_environment(self.temp),
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

    @property
    def runs_video(self) -> bool:
        return any(job.is_video for job in self.jobs)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the worker and any ffmpeg it started
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self.conn.close()
        shutil.rmtree(self.temp, ignore_errors=True)  # copies of what it was hashing


def _worker_environment(temp: str) -> dict[str, str]:
    """The caller's environment, with this package importable even if it was found via ``sys.path``."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["TMPDIR"] = temp
    env["SAFEGUARD_POOL_PARENT"] = str(os.getpid())
    return env


def _sniff_task(task: HashTask) -> tuple[bool, int]:
    """(is it a video, its size in bytes), from the first bytes; unreadable files count as small."""
    source = task.source
    if isinstance(source, bytes):
        return sniff(source[:SNIFF_BYTES]).kind is ContentKind.video, len(source)
    try:
        with source.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return False, 0  # the worker reports the unreadable file
    return sniff(head).kind is ContentKind.video, size


class HashPool:
    """``workers`` processes (default: all cores) hashing :class:`HashTask` s with time limits."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        memory_bytes: int | None = None,
        max_queued: int | None = None,
        max_queued_per_caller: int | None = None,
    ) -> None:
        self.size = max(1, workers or os.cpu_count() or 1)
        self._memory_bytes = memory_bytes if memory_bytes is not None else HashOptions().limits.memory_bytes
        self.max_queued = max_queued or self.size * 16
        self.max_queued_per_caller = max_queued_per_caller or max(1, self.max_queued // 2)
        self.video_workers = max(1, self.size - 1)  # one worker is kept for small items
        self._queue = _FairQueue()
        self._live: dict[Future[HashResult], _Job] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._wake_reader, self._wake_writer = multiprocessing.Pipe(duplex=False)
        self._closed = False
        self._broken: str | None = None
        self._startup_failures = 0
        # Started by the dispatcher thread, which lives as long as the pool: the parent-death signal
        # belongs to the thread that started a child, and a request thread may end any time.
        self._workers: list[_Worker] = []
        self._thread = threading.Thread(target=self._dispatch, name="safeguard-hash-pool", daemon=True)
        self._thread.start()

    # -- public API ---------------------------------------------------------------------------------

    def submit(
        self, task: HashTask, progress: ProgressSink | None = None, *, caller: str = ""
    ) -> Future[HashResult]:
        """Queue one item; the future holds its HashResult or raises its typed error.

        Raises :class:`HashQueueFull` when the queue, or ``caller``'s share of it, is full."""
        is_video, size = _sniff_task(task)
        limits = task.options.limits
        timeout = limits.video_timeout_for(size) if is_video else limits.timeout_s
        job = _Job(task, Future(), progress, timeout, caller, is_video, size)
        with self._lock:
            if self._closed:
                raise RuntimeError("the hash pool is closed")
            if self._broken is not None:
                raise DecoderCrashed(self._broken)
            if len(self._queue) >= self.max_queued:
                raise HashQueueFull(f"{self.max_queued} items are waiting to be hashed; retry", retry_after=5)
            if self._queue.count(caller) >= self.max_queued_per_caller:
                raise HashQueueFull(
                    f"{self.max_queued_per_caller} of your items are waiting to be hashed; retry",
                    retry_after=5,
                )
            job.id = next(self._ids)
            self._queue.append(job)
            self._live[job.future] = job
        job.future.add_done_callback(self._forget)
        self._wake()
        return job.future

    def hash_one(
        self, task: HashTask, progress: ProgressSink | None = None, *, caller: str = ""
    ) -> HashResult:
        """Hash one item and wait for it (raises the item's typed error)."""
        return self.submit(task, progress, caller=caller).result()

    async def hash_async(
        self,
        task: HashTask,
        *,
        caller: str = "",
        disconnected: Callable[[], Awaitable[bool]] | None = None,
        poll_s: float = 0.25,
    ) -> HashResult:
        """Hash one item without holding a thread; every ``poll_s`` asks ``disconnected()`` (a request's
        ``is_disconnected``) and cancels the item when the client has gone (:class:`HashCancelled`)."""
        future = self.submit(task, caller=caller)
        waiting = asyncio.wrap_future(future)
        try:
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=poll_s)
                if done:
                    return waiting.result()
                if disconnected is not None and await disconnected():
                    self.cancel(future)
                    raise HashCancelled("the client went away before hashing finished")
        except asyncio.CancelledError:
            self.cancel(future)
            raise

    def cancel(self, future: Future[HashResult]) -> None:
        """Take the item out: a queued one fails at once, a running one when its worker has been killed."""
        with self._lock:
            job = self._live.get(future)
            if job is None:
                return
            queued = self._queue.remove(job)
            if not queued:
                job.abandoned = True
        if queued:
            if job.running or job.future.set_running_or_notify_cancel():
                job.future.set_exception(HashCancelled("the item was cancelled"))
            return
        self._wake()

    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def _forget(self, future: Future[HashResult]) -> None:
        with self._lock:
            self._live.pop(future, None)

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
            self._workers = [_Worker(self._memory_bytes) for _ in range(self.size)]
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
                self._reap()
        finally:
            self._shutdown()

    def _assign(self) -> None:
        """Give each ready worker its next job, plus one more queued behind it so it never waits for us.

        Nothing waits behind a video, and videos run on at most ``video_workers`` workers at once."""
        for worker in list(self._workers):
            while worker.ready and len(worker.jobs) < _PIPELINE and not worker.runs_video:
                videos = sum(w.runs_video for w in self._workers)
                video_ok = not worker.jobs and videos < self.video_workers
                with self._lock:
                    job = self._queue.take(video_ok)
                if job is None:
                    break
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

    def _reap(self) -> None:
        """Kill the workers running an item that was cancelled (the client went away)."""
        for worker in list(self._workers):
            job = worker.job
            if job is not None and job.abandoned:
                self._lost(worker, HashCancelled("the item was cancelled"))

    @staticmethod
    def _start_clock(job: _Job) -> None:
        job.started = time.monotonic()
        job.deadline = job.started + job.timeout_s

    def _lost(self, worker: _Worker, error: SafeguardError) -> None:
        """The worker is gone: its running job fails with ``error``, its queued one goes back in line."""
        running = worker.jobs.popleft() if worker.jobs else None
        waiting = [job for job in worker.jobs if not job.abandoned]
        dropped = [job for job in worker.jobs if job.abandoned]
        worker.jobs.clear()
        self._replace(worker)
        with self._lock:
            self._queue.push_front(waiting)
        if running is not None:
            running.future.set_exception(error)
        for job in dropped:
            job.future.set_exception(HashCancelled("the item was cancelled"))

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
        if kind == "video":  # the worker sniffed a video: it gets the video time limit for its size
            job.timeout_s = job.task.options.limits.video_timeout_for(job.size)
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
            queued = self._queue.drain()
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
            leftover = self._queue.drain()
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
