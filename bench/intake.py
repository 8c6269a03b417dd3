"""Intake linking benchmark: quality against planted suspects, throughput, and incremental re-linking.

Phases:
1. **quality**: synthetic referrals with planted ground-truth suspects (``safeguard.intake.synthetic``), hard
   setting (shared names, households, carrier NAT pools, viral media) and easy setting; pairwise precision,
   recall and F1 of the in-memory linker; and the same hard set through the database-backed service
   (SQLite), which must agree.
2. **library throughput**: N referrals as one Safeguard JSON file, parsed, normalised and linked in memory.
   Baseline in the same run: parsing alone.
3. **library incremental**: link M referrals in memory, then add single referrals and time each.
   Baseline in the same run: the time to link all M from scratch.
4. **database throughput**: the same N-referral file through ``service.import_file`` into a fresh SQLite
   database (parse, store, link, write back, commit).
5. **database incremental**: build a SQLite database of D linked referrals (imports of 50k), then import
   single referrals through the service, each its own committed transaction, and time each.

Run under the shared lock: ``flock /tmp/safeguard-bench.lock .venv/bin/python bench/intake.py``. Other work
shares this machine (2 cores): treat the times as a ceiling on what a quiet machine would take.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from safeguard.auth import Actor  # noqa: E402
from safeguard.intake import service  # noqa: E402
from safeguard.intake.identifiers import extract  # noqa: E402
from safeguard.intake.importers import parse_referrals  # noqa: E402
from safeguard.intake.importers.jsonfmt import dump  # noqa: E402
from safeguard.intake.linking import Linker, link_item  # noqa: E402
from safeguard.intake.models import IntakeReferral  # noqa: E402
from safeguard.intake.records import Referral  # noqa: E402
from safeguard.intake.synthetic import Dataset, World, generate, pairwise_scores  # noqa: E402
from safeguard.store.db import Database  # noqa: E402
from safeguard.store.migrate import upgrade  # noqa: E402

ACTOR = Actor.system("bench")
MEAN_REFERRALS = 3.0


def log(message: str) -> None:
    print(message, flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def timed(label: str) -> Iterator[dict[str, float]]:
    out: dict[str, float] = {}
    start = time.perf_counter()
    yield out
    out["s"] = time.perf_counter() - start
    log(f"  {label}: {out['s']:.2f} s")


def spread(timings: list[float], digits: int) -> str:
    ordered = sorted(timings)
    p95 = ordered[max(0, int(0.95 * len(ordered)) - 1)]
    return (
        f"median {statistics.median(ordered):.{digits}f} ms, p95 {p95:.{digits}f} ms, "
        f"max {ordered[-1]:.{digits}f} ms"
    )


def chunks(total_referrals: int, seed: int, hard: bool = True) -> Iterator[Dataset]:
    """Synthetic data in chunks of ~30k referrals sharing one world (viral images, NAT pool)."""
    suspects = int(total_referrals / MEAN_REFERRALS)
    world = World.make(suspects, seed)
    step = 10_000
    for start in range(0, suspects, step):
        yield generate(
            min(step, suspects - start), seed=seed + start, hard=hard, start_index=start, world=world
        )


def link_all(linker: Linker, referrals: list[Referral], first_id: int) -> int:
    for n, referral in enumerate(referrals):
        linker.add(link_item(first_id + n, extract(referral).identifiers, linker.config))
    return first_id + len(referrals)


def quality(suspects: int, seed: int, hard: bool) -> tuple[float, float, float, int]:
    data = generate(suspects, seed=seed, hard=hard)
    linker = Linker()
    with service.bulk(len(data.referrals)):
        link_all(linker, data.referrals, 0)
    predicted = [linker.state.cluster(n) for n in range(len(data.referrals))]
    precision, recall, f1 = pairwise_scores(predicted, data.truth)
    return precision, recall, f1, len(data.referrals)


def db_quality(suspects: int, seed: int, workdir: Path) -> tuple[float, float, float]:
    data = generate(suspects, seed=seed, hard=True)
    db = Database(f"sqlite:///{workdir / 'quality.db'}")
    upgrade(db)
    blob = json.dumps(dump(data.referrals)).encode()
    with db.session() as session:
        service.import_file(session, ACTOR, blob)
    with db.read_session() as session:
        rows = session.execute(select(IntakeReferral.external_id, IntakeReferral.suspect_id))
        suspect_of = {external_id: suspect_id for external_id, suspect_id in rows}
    db.dispose()
    predicted = [suspect_of[r.external_id] for r in data.referrals]
    return pairwise_scores(predicted, data.truth)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quality-suspects", type=int, default=10_000)
    parser.add_argument("--throughput", type=int, default=100_000, help="referrals for phases 2 and 4")
    parser.add_argument("--incremental", type=int, default=1_000_000, help="referrals linked before phase 3")
    parser.add_argument(
        "--db-incremental", type=int, default=1_000_000, help="referrals stored before phase 5"
    )
    parser.add_argument("--adds", type=int, default=200, help="single referrals timed in phases 3 and 5")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip", action="append", default=[], help="phase number to skip (repeatable)")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the SQLite files go (default: temp)"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="safeguard-intake-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    log(
        f"intake bench on {platform.node()} ({os.cpu_count()} cores, shared with other work), Python "
        f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f}"
    )
    skip = {int(x) for x in args.skip}

    if 1 not in skip:
        log("\n1. linking quality (pairwise, against planted suspects)")
        for hard in (True, False):
            p, r, f1, n = quality(args.quality_suspects, args.seed, hard)
            log(
                f"  {'hard' if hard else 'easy'} setting, {args.quality_suspects} suspects, {n} referrals: "
                f"precision {p:.4f}, recall {r:.4f}, F1 {f1:.4f}  (target F1 >= 0.95 on hard)"
            )
        small = min(args.quality_suspects, 3000)
        mem = quality(small, args.seed + 1, True)
        via_db = db_quality(small, args.seed + 1, workdir)
        log(
            f"  database-backed service, hard, {small} suspects: precision {via_db[0]:.4f}, recall "
            f"{via_db[1]:.4f}, F1 {via_db[2]:.4f} (in-memory on the same data: F1 {mem[2]:.4f})"
        )

    if 2 not in skip or 4 not in skip:
        log(f"\n   generating {args.throughput} referrals as one JSON file")
        referrals: list[Referral] = []
        for chunk in chunks(args.throughput, args.seed + 2):
            referrals.extend(chunk.referrals)
        blob = json.dumps(dump(referrals)).encode()
        log(f"   {len(referrals)} referrals, {len(blob) / 1e6:.1f} MB")
        del referrals
        gc.collect()

    if 2 not in skip:
        log(f"\n2. library throughput: parse + normalise + link {args.throughput} referrals in memory")
        with timed("baseline, parse only") as parse_only, service.bulk(args.throughput):
            parsed = parse_referrals(blob)
        del parsed
        gc.collect()
        with timed("parse + normalise + link") as total, service.bulk(args.throughput):
            parsed = parse_referrals(blob)
            linker = Linker()
            link_all(linker, parsed.referrals, 0)
        clusters = len({linker.state.cluster(n) for n in range(len(parsed.referrals))})
        log(
            f"  {len(parsed.referrals) / total['s']:,.0f} referrals/s into {clusters} suspects; "
            f"linking took {total['s'] / parse_only['s']:.1f}x the parse-only time (target <= 60 s)"
        )
        del parsed, linker
        gc.collect()

    if 3 not in skip:
        log(
            f"\n3. library incremental: link {args.incremental} referrals, then add {args.adds} one at a time"
        )
        linker = Linker()
        next_id = 0
        start = time.perf_counter()
        with service.bulk(args.incremental):
            for chunk in chunks(args.incremental, args.seed + 3):
                next_id = link_all(linker, chunk.referrals, next_id)
        build = time.perf_counter() - start
        log(
            f"  linked {next_id} referrals in {build:.1f} s ({next_id / build:,.0f}/s); "
            f"RSS {rss_mb():,.0f} MB"
        )
        fresh = generate(max(1, args.adds // 2), seed=args.seed + 99, start_index=10**8).referrals[
            : args.adds
        ]
        timings = []
        for referral in fresh:
            item = link_item(next_id, extract(referral).identifiers, linker.config)
            t0 = time.perf_counter()
            linker.add(item)
            timings.append((time.perf_counter() - t0) * 1000)
            next_id += 1
        log(
            f"  add one referral to {next_id - len(timings):,} linked: {spread(timings, 3)} "
            f"(target <= 50 ms); baseline re-linking everything: {build:.1f} s "
            f"= {build * 1000 / statistics.median(timings):,.0f}x one incremental add"
        )
        del linker
        gc.collect()

    if 4 not in skip:
        log(f"\n4. database throughput: import {args.throughput} referrals into SQLite through the service")
        db = Database(f"sqlite:///{workdir / 'throughput.db'}")
        upgrade(db)
        with (
            timed("service.import_file (parse, store, link, write back, commit)") as total,
            db.session() as session,
        ):
            report = service.import_file(session, ACTOR, blob, filename="bench.json")
        log(
            f"  {report.imported / total['s']:,.0f} referrals/s into {len(report.suspects)} suspects "
            f"(target <= 60 s); database file {os.path.getsize(workdir / 'throughput.db') / 1e6:,.0f} MB"
        )
        db.dispose()

    if 5 not in skip:
        log(
            f"\n5. database incremental: {args.db_incremental} referrals in SQLite, "
            f"then {args.adds} imports of one"
        )
        path = workdir / "incremental.db"
        path.unlink(missing_ok=True)
        db = Database(f"sqlite:///{path}")
        upgrade(db)
        start = time.perf_counter()
        stored = 0
        for chunk in chunks(args.db_incremental, args.seed + 5):
            for part in range(0, len(chunk.referrals), 50_000):
                blob = json.dumps(dump(chunk.referrals[part : part + 50_000])).encode()
                with db.session() as session:
                    stored += service.import_file(session, ACTOR, blob).imported
        build = time.perf_counter() - start
        log(
            f"  stored and linked {stored} referrals in {build:.0f} s ({stored / build:,.0f}/s); "
            f"file {os.path.getsize(path) / 1e6:,.0f} MB"
        )
        fresh = generate(max(1, args.adds // 2), seed=args.seed + 98, start_index=10**8).referrals[
            : args.adds
        ]
        timings = []
        for referral in fresh:
            single = json.dumps(dump([referral])).encode()
            t0 = time.perf_counter()
            with db.session() as session:
                service.import_file(session, ACTOR, single)
            timings.append((time.perf_counter() - t0) * 1000)
        log(
            f"  import one referral into {stored:,} (parse, store, link, write back, commit): "
            f"{spread(timings, 1)} (target <= 50 ms)"
        )
        db.dispose()
    log(f"\npeak RSS {rss_mb():,.0f} MB; SQLite files in {workdir}")


if __name__ == "__main__":
    main()
