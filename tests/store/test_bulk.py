"""store.bulk.insert_rows stores exactly what SQLAlchemy's own executemany stores."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert, select

from safeguard.auth import Actor
from safeguard.banks import service
from safeguard.banks.models import BankContent
from safeguard.store.base import utcnow
from safeguard.store.bulk import insert_rows
from safeguard.store.db import Database

COLUMNS = (
    "id",
    "bank_id",
    "labels",
    "source",
    "external_ids",
    "notes",
    "enabled",
    "created_at",
    "updated_at",
)


def test_insert_rows_matches_sqlalchemy_insert(db: Database) -> None:
    table = cast(Table, BankContent.__table__)
    now = utcnow()
    shared_labels = ["A1", "tag with spaces"]
    with db.session() as session:
        bank = service.create_bank(session, Actor.system("test"), name="bulk")
        rows: list[tuple[Any, ...]] = []
        for i in range(1, 7):
            labels = shared_labels if i % 2 else [f"L{i}", "ünïcode"]
            external = {"ncmec": f"id-{i}"} if i % 3 else {}
            rows.append(
                (i, bank.id, labels, "csv", external, "" if i == 4 else f"note {i}", i != 5, now, now)
            )
        insert_rows(session, table, COLUMNS, rows)
        plain = [dict(zip(COLUMNS, (r[0] + 100, *r[1:]), strict=True)) for r in rows]
        session.execute(insert(table), plain)
    with db.read_session() as session:
        stored = {c.id: c for c in session.scalars(select(BankContent))}
        assert len(stored) == 12
        for i in range(1, 7):
            ours, theirs = stored[i], stored[i + 100]
            for name in COLUMNS[1:]:
                assert getattr(ours, name) == getattr(theirs, name), name
            assert ours.created_at == now and ours.created_at.tzinfo is not None
        assert stored[1].labels == shared_labels and stored[2].labels == ["L2", "ünïcode"]
        assert stored[1].external_ids == {"ncmec": "id-1"} and stored[3].external_ids == {}
        assert stored[4].notes == "" and stored[5].enabled is False


def test_insert_rows_is_rolled_back_with_its_transaction(db: Database) -> None:
    table = cast(Table, BankContent.__table__)
    now = utcnow()
    with db.session() as session:
        bank_id = service.create_bank(session, Actor.system("test"), name="bulk").id
    try:
        with db.session() as session:
            insert_rows(session, table, COLUMNS, [(1, bank_id, [], "", {}, "", True, now, now)])
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    with db.read_session() as session:
        assert session.scalars(select(BankContent)).first() is None
