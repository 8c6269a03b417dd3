"""``safeguard hash PATH...``: hash files and folders into signals, in parallel, safely.

Every file is hashed in a worker process with the time and memory limits of ``safeguard.media``; its
kind comes from its bytes, never its name. Output goes to stdout, one record per file (JSON Lines), one
row per signal (CSV) or ``signal_type,hash`` lines (HMA); the progress bar and the list of files that
could not be hashed go to stderr, and the exit code is 1 when any file failed.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from safeguard.cli.common import err_console
from safeguard.errors import InvalidInput
from safeguard.media.pool import HashOutcome, HashPool, HashTask
from safeguard.media.types import HashOptions, MediaLimits
from safeguard.media.types import Progress as VideoProgress


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    hma = "hma"


# Over 60 lines: half of it is the Typer declaration of its twelve options; the body is about 40 lines.
def hash_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (searched recursively)")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="jsonl (one record per file), csv, or hma")
    ] = OutputFormat.jsonl,
    bank: Annotated[
        bool,
        typer.Option("--bank", help="Hashes to bank (adds dihedral and crop variants) rather than to query"),
    ] = False,
    signal_types: Annotated[
        list[str] | None, typer.Option("--signal-type", "-s", help="Only these signal types (repeatable)")
    ] = None,
    all_frames: Annotated[
        bool, typer.Option("--all-frames", help="Hash every frame of animated images")
    ] = False,
    seconds_per_hash: Annotated[
        float, typer.Option("--seconds-per-hash", min=0, max=3600, help="vPDQ: one frame every N seconds")
    ] = 1.0,
    quality_floor: Annotated[
        int, typer.Option("--quality-floor", min=0, max=100, help="PDQ below this quality is not matchable")
    ] = 50,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per image or file")] = 60.0,
    video_timeout: Annotated[
        float, typer.Option("--video-timeout", min=0.1, help="Seconds per video")
    ] = 1800.0,
    max_pixels: Annotated[
        int, typer.Option("--max-pixels", min=1, help="Largest image, in pixels (decompression bombs)")
    ] = 64_000_000,
    workers: Annotated[
        int, typer.Option("--workers", "-j", min=0, help="Worker processes (0: one per core)")
    ] = 0,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar")] = True,
) -> None:
    """Hash files into signals (PDQ, vPDQ, MD5, SHA-256...)."""
    wanted = _signal_types(signal_types) if signal_types else None
    limits = MediaLimits(timeout_s=timeout, video_timeout_s=video_timeout, max_image_pixels=max_pixels)
    preset = HashOptions.for_bank if bank else HashOptions.for_query
    options = preset(
        signal_types=wanted,
        all_frames=all_frames,
        vpdq_seconds_per_hash=seconds_per_hash,
        quality_floor=quality_floor,
        limits=limits,
    )
    files = list(_expand(paths))
    if not files:
        raise InvalidInput("no files to hash under the given paths", field="paths")
    failures: list[tuple[Path, str]] = []
    writer = _Writer(output_format, sys.stdout)
    with (
        HashPool(min(workers or os.cpu_count() or 1, len(files))) as pool,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not progress,
        ) as bar,
    ):
        task = bar.add_task("hashing", total=len(files))

        def video_progress(index: int, step: VideoProgress) -> None:
            done = (
                f"{step.seconds_done:.0f}/{step.duration_s:.0f} s"
                if step.duration_s
                else f"{step.frames_done}"
            )
            bar.update(task, description=f"hashing {files[index].name}: {done}")

        tasks = (HashTask(path, options, str(path)) for path in files)
        for outcome in _in_order(pool.map(tasks, progress=video_progress)):
            path = files[outcome.index]
            if outcome.error is not None:
                failures.append((path, outcome.error.detail))
            elif outcome.result is not None:
                writer.write(path, outcome)
            bar.advance(task)
    sys.stdout.flush()
    if failures:
        err_console.print(f"{len(failures)} of {len(files)} files could not be hashed:", markup=False)
        for path, reason in failures:
            err_console.print(f"  {path}: {reason}", markup=False)
        raise typer.Exit(1)


def _signal_types(names: list[str]) -> frozenset[str]:
    """The registered names of the signal types asked for (the registry imports every hasher: only now)."""
    from safeguard.media.registry import default_registry

    registry = default_registry()
    return frozenset(registry.get(name).name for name in names)


def _expand(paths: list[Path]) -> Iterator[Path]:
    """Files as given, and every file under a folder (sorted); a missing path is passed on to fail."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def _in_order(outcomes: Iterator[HashOutcome]) -> Iterator[HashOutcome]:
    """Outcomes in submission order (the pool finishes them out of order; a few wait at most)."""
    waiting: dict[int, HashOutcome] = {}
    next_index = 0
    for outcome in outcomes:
        waiting[outcome.index] = outcome
        while next_index in waiting:
            yield waiting.pop(next_index)
            next_index += 1
    yield from (waiting[i] for i in sorted(waiting))


class _Writer:
    def __init__(self, output_format: OutputFormat, out: TextIO) -> None:
        self.format = output_format
        self.out = out
        self.csv = csv.writer(out, lineterminator="\n")
        if output_format is OutputFormat.csv:
            self.csv.writerow(["path", "signal_type", "hash", "quality", "variant", "matchable"])

    def write(self, path: Path, outcome: HashOutcome) -> None:
        result = outcome.result
        assert result is not None
        if self.format is OutputFormat.jsonl:
            record = {"path": str(path), **result.to_dict()}
            self.out.write(json.dumps(record, separators=(",", ":")) + "\n")
            return
        for signal in result.signals:
            if self.format is OutputFormat.csv:
                quality = "" if signal.quality is None else signal.quality
                self.csv.writerow(
                    [path, signal.signal_type, signal.hash, quality, signal.variant or "", signal.matchable]
                )
            elif signal.matchable:  # HMA-style bank lines: only hashes worth matching
                self.csv.writerow([signal.signal_type, signal.hash])
