"""Write, read and verify the hash-chained audit log.

Each record stores the SHA-256 of the previous record's canonical form (``prev_hash``) and its own
(``hash``). Editing a field changes that record's hash; deleting or inserting a row breaks the next
record's ``prev_hash`` or the sequence; deleting the newest rows leaves the head pointing past the end.
``verify`` walks the chain and names the first record where any of that happens.

Only a digest of the change is stored, never the change itself, so the log holds nothing sensitive while
still proving what was recorded (a caller holding the change can recompute the digest).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from safeguard.audit.keys import chain_key
from safeguard.audit.models import AuditHead, AuditRecord
from safeguard.auth.roles import Actor
from safeguard.store.base import utcnow
from safeguard.store.bulk import insert_rows

GENESIS_HASH = "0" * 64
HEAD_ID = 1
VERIFY_BATCH = 5_000
_RECORD_COLUMNS = (
    "seq",
    "at",
    "actor_kind",
    "actor_id",
    "role",
    "action",
    "object_type",
    "object_id",
    "request_id",
    "change_digest",
    "prev_hash",
    "hash",
    "version",
)
UNKEYED = 1  # plain SHA-256: records written before the chain was keyed
KEYED = 2  # HMAC-SHA256 with the audit key (safeguard.audit.keys)


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, non-JSON values (datetimes, enums) as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest_change(change: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(change)).encode("utf-8")).hexdigest()


def _record_fields(rec: AuditRecord) -> dict[str, Any]:
    fields = {
        "seq": rec.seq,
        "at": rec.at.isoformat(timespec="microseconds"),
        "actor_kind": rec.actor_kind,
        "actor_id": rec.actor_id,
        "role": rec.role,
        "action": rec.action,
        "object_type": rec.object_type,
        "object_id": rec.object_id,
        "request_id": rec.request_id,
        "change_digest": rec.change_digest,
        "prev_hash": rec.prev_hash,
    }
    if rec.version != UNKEYED:
        fields["version"] = rec.version
    return fields


def record_hash(rec: AuditRecord, key: bytes | None = None) -> str:
    """The record's hash by its version: SHA-256 (version 1), or HMAC-SHA256 with the audit key."""
    canonical = canonical_json(_record_fields(rec)).encode("utf-8")
    if rec.version == UNKEYED:
        return hashlib.sha256(canonical).hexdigest()
    return hmac.new(key if key is not None else chain_key(), canonical, hashlib.sha256).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    change: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Append one audit record in the caller's transaction (so it commits or rolls back with the change).

    Plain SQL through the driver, not the ORM: every state-changing request of the deployment passes
    through here while it holds the chain head's lock, and the ORM's get / add / flush was ~40% of a
    conversation message's write transaction (docs/grooming.md "Speed"; measured with
    ``bench/audit.py``). The returned record is not in the session.
    """
    session.flush()  # what the caller has pending goes first, as an ORM write here would have done
    connection = session.connection()
    qmark = connection.dialect.paramstyle == "qmark"
    p = "?" if qmark else "%s"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        # SQLite's BEGIN IMMEDIATE already holds the database's write lock; PostgreSQL locks the row.
        select_head = f"SELECT seq, hash FROM audit_head WHERE id = {p}" + ("" if qmark else " FOR UPDATE")
        cursor.execute(select_head, (HEAD_ID,))
        head = cursor.fetchone()
        if head is None:
            # The first record of a deployment: two first writers must not both create the head.
            cursor.execute(
                f"INSERT INTO audit_head (id, seq, hash) VALUES ({p}, 0, {p}) ON CONFLICT DO NOTHING",
                (HEAD_ID, GENESIS_HASH),
            )
            cursor.execute(select_head, (HEAD_ID,))
            head = cursor.fetchone()
        head_seq, head_hash = head
        # Microsecond precision is what both SQLite and PostgreSQL keep, so the canonical form round-trips.
        rec = AuditRecord(
            seq=head_seq + 1,
            at=utcnow(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            role=actor.role.value,
            action=action,
            object_type=object_type,
            object_id=object_id,
            request_id=actor.request_id,
            change_digest=digest_change(change or {}),
            prev_hash=head_hash,
            version=KEYED,
        )
        rec.hash = record_hash(rec)
        cursor.execute(
            f"UPDATE audit_head SET seq = {p}, hash = {p} WHERE id = {p}", (rec.seq, rec.hash, HEAD_ID)
        )
    finally:
        cursor.close()
    row = tuple(getattr(rec, name) for name in _RECORD_COLUMNS)
    insert_rows(session, cast(Table, AuditRecord.__table__), _RECORD_COLUMNS, [row])
    return rec


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    records: int
    head_hash: str
    first_broken_seq: int | None = None
    problem: str | None = None
    unkeyed: int = 0  # records hashed without the key (written before the chain was keyed)
    checkpoints: int = 0  # checkpoints the chain was checked against


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The head of the chain at one moment, signed with the audit key (``safeguard.audit.checkpoints``)."""

    seq: int
    hash: str
    at: str


def _problem(rec: AuditRecord, expected_prev: str, key: bytes, last_version: int) -> str | None:
    if rec.prev_hash != expected_prev:
        return f"record {rec.seq} does not chain onto record {rec.seq - 1}"
    if rec.version not in (UNKEYED, KEYED):
        return f"record {rec.seq} has an unknown version {rec.version}"
    if rec.version < last_version:
        return f"record {rec.seq} is unkeyed after keyed records (downgraded)"
    if record_hash(rec, key) != rec.hash:
        return f"record {rec.seq} was altered"
    return None


def verify(session: Session, checkpoints: Sequence[Checkpoint] = ()) -> ChainReport:
    """Walk the whole chain; report the first record that does not fit, the chain or a checkpoint.

    A checkpoint pins the hash of record ``seq``: a rewrite of any record up to it changes that hash, and a
    log that ends before it was truncated."""
    key = chain_key()
    pinned = {c.seq: c for c in checkpoints}
    expected_prev, expected_seq, count, unkeyed, version = GENESIS_HASH, 1, 0, 0, UNKEYED

    def broken(seq: int, problem: str) -> ChainReport:
        return ChainReport(False, count, expected_prev, seq, problem, unkeyed, len(checkpoints))

    for rec in _iter_records(session):
        if rec.seq != expected_seq:
            return broken(expected_seq, f"record {expected_seq} is missing")
        problem = _problem(rec, expected_prev, key, version)
        if problem is not None:
            return broken(rec.seq, problem)
        checkpoint = pinned.get(rec.seq)
        if checkpoint is not None and checkpoint.hash != rec.hash:
            return broken(rec.seq, f"record {rec.seq} differs from the checkpoint of {checkpoint.at}")
        version = rec.version
        unkeyed += rec.version == UNKEYED
        expected_prev = rec.hash
        expected_seq += 1
        count += 1
    head = session.get(AuditHead, HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != count or head_hash != expected_prev:
        return broken(count + 1, f"the log ends at record {count} but its head says {head_seq}")
    latest = max(checkpoints, key=lambda c: c.seq, default=None)
    if latest is not None and latest.seq > count:
        return broken(
            count + 1, f"the log ends at record {count} but the checkpoint of {latest.at} saw {latest.seq}"
        )
    if 0 in pinned and pinned[0].hash != GENESIS_HASH:
        return broken(1, "the checkpoint of an empty log does not match")
    return ChainReport(True, count, expected_prev, None, None, unkeyed, len(checkpoints))


def _iter_records(session: Session) -> Iterator[AuditRecord]:
    after = 0
    while True:
        batch = list(
            session.scalars(
                select(AuditRecord)
                .where(AuditRecord.seq > after)
                .order_by(AuditRecord.seq)
                .limit(VERIFY_BATCH)
            )
        )
        if not batch:
            return
        yield from batch
        after = batch[-1].seq
        session.expunge_all()


@dataclass(frozen=True, slots=True)
class AuditPage:
    records: list[AuditRecord]
    next_after: int | None
    total: int


def page(
    session: Session,
    *,
    after: int = 0,
    limit: int = 100,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
) -> AuditPage:
    """Records with ``seq > after`` in order, filtered; ``next_after`` is the cursor for the next page."""
    query = select(AuditRecord).where(AuditRecord.seq > after)
    if action:
        query = query.where(AuditRecord.action == action)
    if object_type:
        query = query.where(AuditRecord.object_type == object_type)
    if object_id:
        query = query.where(AuditRecord.object_id == object_id)
    if since:
        query = query.where(AuditRecord.at >= since)
    rows = list(session.scalars(query.order_by(AuditRecord.seq).limit(limit + 1)))
    next_after = rows[limit - 1].seq if len(rows) > limit else None
    total = session.scalar(select(func.count()).select_from(AuditRecord)) or 0
    return AuditPage(rows[:limit], next_after, total)
