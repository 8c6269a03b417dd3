"""Audit log append: ``safeguard.audit.record`` (plain SQL through the driver) against the ORM version it
replaced (``session.get`` of the head with FOR UPDATE, ``add``, ``flush``), in the same process.

Every state-changing request appends one record while it holds the chain head's lock, so this is time
spent inside every write transaction of the deployment. SQLite file in a temporary folder; PostgreSQL
with ``--postgres URL``. Run under the shared lock: ``flock /tmp/safeguard-bench.lock .venv/bin/python
bench/audit.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.audit import service
from safeguard.audit.models import AuditHead, AuditRecord
from safeguard.auth import Actor
from safeguard.store.base import utcnow
from safeguard.store.db import Database
from safeguard.store.migrate import upgrade

Recorder = Callable[..., AuditRecord]


def orm_record(
    session: Session, actor: Actor, action: str, object_type: str, object_id: str, change: Mapping[str, Any]
) -> AuditRecord:
    """The ORM version of ``audit.record`` (the baseline)."""
    head = session.get(AuditHead, service.HEAD_ID, with_for_update=True)
    if head is None:
        head = AuditHead(id=service.HEAD_ID, seq=0, hash=service.GENESIS_HASH)
        session.add(head)
    rec = AuditRecord(
        seq=head.seq + 1,
        at=utcnow(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        role=actor.role.value,
        action=action,
        object_type=object_type,
        object_id=object_id,
        request_id=actor.request_id,
        change_digest=service.digest_change(change),
        prev_hash=head.hash,
    )
    rec.hash = service.record_hash(rec)
    session.add(rec)
    head.seq, head.hash = rec.seq, rec.hash
    session.flush()
    return rec


def per_transaction_us(db: Database, recorder: Recorder, count: int) -> float:
    """Mean microseconds of a write transaction that appends one record (what a request pays)."""
    actor = Actor.system("bench")
    started = time.perf_counter()
    for i in range(count):
        with db.session() as session:
            recorder(session, actor, "conversation.messages", "conversation", f"c{i}", {"messages": 1})
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="a PostgreSQL URL (its audit tables are appended to)")
    args = parser.parse_args()
    url = args.postgres or f"sqlite:///{Path(tempfile.mkdtemp(prefix='safeguard-bench-')) / 'audit.db'}"
    db = Database(url)
    upgrade(db)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (shared with other work)")
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; {args.records:,} transactions a round")
    times: dict[str, list[float]] = {"orm": [], "driver": []}
    for _ in range(args.rounds):  # interleaved, so both see the same machine
        times["orm"].append(per_transaction_us(db, orm_record, args.records))
        times["driver"].append(per_transaction_us(db, audit.record, args.records))
    orm, driver = statistics.median(times["orm"]), statistics.median(times["driver"])
    print(f"baseline, ORM append: {orm:,.0f} us per one-record write transaction (median of {args.rounds})")
    speedup = orm / driver
    print(f"audit.record (driver SQL): {driver:,.0f} us per one-record write transaction ({speedup:.2f}x)")
    with db.read_session() as session:
        report = service.verify(session)
    print(f"chain verifies: {report.ok} ({report.records:,} records)")
    db.dispose()


if __name__ == "__main__":
    main()
