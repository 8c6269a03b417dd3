"""Worker-process hashing: outcomes for every item, time limits, crashes, and recovery."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from safeguard.media import HashOptions, HashPool, HashTask, MediaLimits, signals_to_query
from safeguard.media.errors import (
    CorruptMedia,
    DecoderCrashed,
    EmptyFile,
    HashTimeout,
    MemoryLimitExceeded,
    UnreadableFile,
)
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
