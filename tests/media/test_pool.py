"""Worker-process hashing: outcomes for every item, time limits, crashes, and recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from safeguard.media import HashOptions, HashPool, HashTask, MediaLimits, signals_to_query
from safeguard.media.errors import (
    CorruptMedia,
    DecoderCrashed,
    EmptyFile,
    HashCancelled,
    HashQueueFull,
    HashTimeout,
    MemoryLimitExceeded,
    UnreadableFile,
)
from safeguard.media.pool import _FairQueue, _Job
from tests.media.helpers import PAN, shared_images


@pytest.fixture(scope="module")
def pool() -> HashPool:
    with HashPool(2) as started:
        yield started  # type: ignore[misc]


def test_map_gives_one_outcome_per_item(pool: HashPool, tmp_path: Path) -> None:
    images = shared_images(12)
    tasks = [HashTask(p, name=p.name) for p in images]
    tasks += [
        HashTask(b""),
        HashTask(tmp_path / "missing.jpg"),
        HashTask(b"\xff\xd8\xff\xe0" + b"\x00" * 100),
    ]
    outcomes = sorted(pool.map(tasks), key=lambda o: o.index)
    assert [o.index for o in outcomes] == list(range(len(tasks)))
    for outcome, path in zip(outcomes, images, strict=False):
        assert outcome.error is None and outcome.result is not None
        assert outcome.result == signals_to_query(path)  # identical to hashing in-process
    assert [type(o.error) for o in outcomes[-3:]] == [EmptyFile, UnreadableFile, CorruptMedia]


def test_time_limit_kills_the_item_and_the_pool_goes_on(pool: HashPool) -> None:
    slow = HashTask(PAN, HashOptions.for_query(limits=MediaLimits(video_timeout_s=0.2)))
    with pytest.raises(HashTimeout, match=r"0\.2 s"):
        pool.hash_one(slow)
    assert pool.hash_one(HashTask(shared_images(1)[0])).plain("pdq") is not None


def test_progress_reaches_the_caller(pool: HashPool) -> None:
    seen: list[int] = []
    result = pool.hash_one(HashTask(PAN), progress=lambda p: seen.append(p.frames_done))
    assert seen == list(range(1, 21)) and result.plain("vpdq") is not None


def test_a_crashing_worker_fails_only_its_item(pool: HashPool) -> None:
    killed: list[int] = []

    def kill_worker(_progress: object) -> None:
        if not killed:
            for worker in pool._workers:  # the test plays a decoder crash: kill the busy worker
                if worker.job is not None:
                    killed.append(worker.process.pid)
                    os.killpg(worker.process.pid, signal.SIGKILL)

    with pytest.raises(DecoderCrashed):
        pool.hash_one(HashTask(PAN), progress=kill_worker)
    assert killed
    assert pool.hash_one(HashTask(shared_images(1)[0])).plain("pdq") is not None


def test_workers_that_cannot_start_fail_items_instead_of_hanging() -> None:
    with HashPool(1, memory_bytes=5_000_000) as starved, pytest.raises((DecoderCrashed, MemoryLimitExceeded)):
        starved.hash_one(HashTask(shared_images(1)[0]))


def _paused(pool: HashPool) -> None:
    """Stop the dispatcher from handing out items, so the queue can be inspected."""
    pool._assign = lambda: None  # type: ignore[method-assign]


def _resumed(pool: HashPool) -> None:
    del pool._assign
    pool._wake()


def test_a_full_queue_refuses_with_retry_after_and_each_caller_has_a_share() -> None:
    image = HashTask(shared_images(1)[0])
    with HashPool(1, max_queued=4, max_queued_per_caller=2) as small:
        _paused(small)
        futures = [small.submit(image, caller="a"), small.submit(image, caller="a")]
        with pytest.raises(HashQueueFull) as own_share:
            small.submit(image, caller="a")
        assert own_share.value.status == 429 and own_share.value.retry_after >= 1
        futures += [small.submit(image, caller="b"), small.submit(image, caller="c")]
        with pytest.raises(HashQueueFull, match="4 items are waiting"):
            small.submit(image, caller="d")
        _resumed(small)
        assert all(f.result(60).plain("pdq") for f in futures)


def test_callers_are_served_in_turn() -> None:
    image = HashTask(shared_images(1)[0])
    finished: list[str] = []
    with HashPool(1) as one:
        _paused(one)
        for caller in ("a", "a", "a", "b"):
            one.submit(image, caller=caller).add_done_callback(lambda _f, c=caller: finished.append(c))
        _resumed(one)
        deadline = time.monotonic() + 60
        while len(finished) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert finished == ["a", "b", "a", "a"]  # b did not wait behind all of a's items


def test_fair_queue_keeps_videos_for_video_workers() -> None:
    queue = _FairQueue()
    video = _Job(HashTask(b"v"), Future(), None, 1.0, "a", is_video=True)
    image = _Job(HashTask(b"i"), Future(), None, 1.0, "a")
    queue.append(video)
    queue.append(image)
    assert queue.take(video_ok=False) is image  # a small item passes a video waiting for a video worker
    assert queue.take(video_ok=False) is None and len(queue) == 1
    assert queue.take(video_ok=True) is video and len(queue) == 0


def test_a_video_does_not_hold_every_worker_or_have_items_queued_behind_it() -> None:
    with HashPool(2) as two:
        assert two.video_workers == 1
        slow = HashOptions.for_query(vpdq_seconds_per_hash=0)
        videos = [two.submit(HashTask(PAN, slow)) for _ in range(2)]
        images = [two.submit(HashTask(p)) for p in shared_images(6)]
        for future in images:
            future.result(60)
        running_video = sum(1 for f in videos if f.running() and not f.done())
        assert running_video <= 1
        for future in videos:
            future.result(120)


def test_cancel_takes_a_queued_item_out() -> None:
    with HashPool(1) as one:
        _paused(one)
        future = one.submit(HashTask(shared_images(1)[0]))
        one.cancel(future)
        with pytest.raises(HashCancelled):
            future.result(5)
        assert one.queued() == 0
        _resumed(one)


def test_cancel_kills_a_running_item_and_its_temporary_copy_is_removed() -> None:
    copies: list[Path] = []
    with HashPool(1) as one:

        def cancel_once(_progress: object) -> None:
            if not copies:
                worker = one._workers[0]
                copies.extend(Path(worker.temp).iterdir())  # the worker's copy of the uploaded bytes
                copies.append(Path(worker.temp))
                one.cancel(future)

        future = one.submit(HashTask(PAN.read_bytes()), progress=cancel_once)
        with pytest.raises(HashCancelled):
            future.result(60)
        assert len(copies) >= 2 and not any(p.exists() for p in copies)
        assert one.hash_one(HashTask(shared_images(1)[0])).plain("pdq") is not None  # a fresh worker


def test_a_timed_out_video_leaves_no_copy(pool: HashPool) -> None:
    temps = [Path(w.temp) for w in pool._workers]
    slow = HashTask(PAN.read_bytes(), HashOptions.for_query(limits=MediaLimits(video_timeout_s=0.05)))
    with pytest.raises(HashTimeout):
        pool.hash_one(slow)
    # Whether the pool killed the worker (its directory goes with it) or the worker's own ffmpeg limit
    # fired first (it cleans up after itself), no copy of the video is left behind.
    left = [p for t in temps if t.exists() for p in t.rglob("*") if p.is_file()]
    assert left == []


def test_video_time_limit_scales_with_the_file_size() -> None:
    limits = MediaLimits()
    assert limits.video_timeout_for(1 << 20) == pytest.approx(65.0)
    assert limits.video_timeout_for(100 << 20) == pytest.approx(560.0)
    assert limits.video_timeout_for(2 << 30) == limits.video_timeout_s == 1800.0


def test_errors_name_no_temporary_path_or_python_repr(pool: HashPool) -> None:
    with pytest.raises(CorruptMedia) as broken:
        pool.hash_one(HashTask(PAN.read_bytes()[:3000]))
    detail = broken.value.detail
    assert "safeguard-media-" not in detail and "/tmp" not in detail and "safeguard-hash-" not in detail


def test_workers_die_with_the_server_process(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from safeguard.media import HashPool, HashTask\n"
        "pool = HashPool(1)\n"
        f"pool.hash_one(HashTask(Path({str(PAN)!r})))\n"
        "print(pool._workers[0].process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    worker = int(server.stdout.readline())
    os.kill(server.pid, signal.SIGKILL)  # no clean-up runs in the server
    server.wait(10)
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
