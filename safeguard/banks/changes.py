"""The bank change log: one global, gap-free sequence of changes that workers and exchanges replay.

Every writer first locks the single ``bank_checkpoint`` row (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite
transactions already hold the write lock from ``BEGIN IMMEDIATE``), then hands out the next numbers. So
sequence numbers become visible in order: a reader that has seen ``seq = n`` can never later see a
committed change with a smaller number, which a database sequence alone does not guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from safeguard.banks.models import BankChange, BankCheckpoint
from safeguard.store.base import utcnow

CHECKPOINT_ID = 1
OPS = ("add", "remove", "disable", "enable", "bank")
_SESSION_KEY = "safeguard.banks.change_writer"


class ChangeWriter:
    """Buffers change rows of one transaction and writes them with consecutive sequence numbers."""

    def __init__(self, session: Session) -> None:
        self.session = session
        dialect = session.get_bind().dialect.name
        ins = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(ins(BankCheckpoint).values(id=CHECKPOINT_ID, seq=0).on_conflict_do_nothing())
        locked = session.scalar(
            select(BankCheckpoint.seq).where(BankCheckpoint.id == CHECKPOINT_ID).with_for_update()
        )
        self.seq: int = int(locked or 0)
        self._pending: list[dict[str, Any]] = []

    def log(self, op: str, bank_id: int, content_id: int | None = None, signal_id: int | None = None) -> int:
        self.seq += 1
        self._pending.append(
            {"seq": self.seq, "op": op, "bank_id": bank_id, "content_id": content_id, "signal_id": signal_id}
        )
        return self.seq

    def log_many(self, op: str, bank_id: int, rows: Sequence[tuple[int, int]]) -> int:
        """Log ``op`` for many (content_id, signal_id) pairs; returns the last sequence number."""
        for content_id, signal_id in rows:
            self.seq += 1
            self._pending.append(
                {
                    "seq": self.seq,
                    "op": op,
                    "bank_id": bank_id,
                    "content_id": content_id,
                    "signal_id": signal_id,
                }
            )
        return self.seq

    def flush(self) -> int:
        if self._pending:
            at = utcnow()
            for row in self._pending:
                row["at"] = at
            self.session.execute(cast(Table, BankChange.__table__).insert(), self._pending)
            self._pending = []
            self.session.execute(
                update(BankCheckpoint).where(BankCheckpoint.id == CHECKPOINT_ID).values(seq=self.seq)
            )
        return self.seq


def writer(session: Session) -> ChangeWriter:
    """The change writer of this transaction (created, and the checkpoint locked, on first use)."""
    existing = session.info.get(_SESSION_KEY)
    if isinstance(existing, ChangeWriter):
        return existing
    created = ChangeWriter(session)
    session.info[_SESSION_KEY] = created
    return created


def current_checkpoint(session: Session) -> int:
    value = session.scalar(select(BankCheckpoint.seq).where(BankCheckpoint.id == CHECKPOINT_ID))
    return int(value or 0)


@dataclass(frozen=True, slots=True)
class ChangeRow:
    seq: int
    op: str
    bank_id: int
    content_id: int | None
    signal_id: int | None
    signal_type: str | None
    value: str | None
    kind: str | None


def changes_since(session: Session, since: int, limit: int, bank_id: int | None = None) -> list[ChangeRow]:
    """Changes with ``seq > since`` in order, with the signal each one concerns."""
    from safeguard.banks.models import BankSignal

    query = (
        select(
            BankChange.seq,
            BankChange.op,
            BankChange.bank_id,
            BankChange.content_id,
            BankChange.signal_id,
            BankSignal.signal_type,
            BankSignal.value,
            BankSignal.kind,
        )
        .outerjoin(BankSignal, BankSignal.id == BankChange.signal_id)
        .where(BankChange.seq > since)
        .order_by(BankChange.seq)
        .limit(limit)
    )
    if bank_id is not None:
        query = query.where(BankChange.bank_id == bank_id)
    # Core execution and fetchall, not ORM row loading: the matcher reads 100k changes about 2x faster.
    return [ChangeRow(*row) for row in session.connection().execute(query).all()]
