"""Bulk inserts through the driver's ``executemany``, each column's bind processing done once per value.

Why: for a bank import SQLAlchemy's per-row parameter handling (building a parameter dict per row and
running every column's type processor on every row) cost more than SQLite's own work. Rows here are
plain tuples, and a value shared by many rows (the batch's timestamp, an interned label list) is
converted once. Values are converted by the columns' own SQLAlchemy types, so what is stored is exactly
what ``session.execute(insert(table), rows)`` stores (tests/store/test_bulk.py compares the two).
Measured on the development machine, 100k bank signal rows on SQLite: see docs/performance.md.

Every bulk write goes through this module: bank imports and the change log (tuples), the audit log, and
intake's identifiers, links, pending evidence and alerts (dicts, :func:`insert_dicts`; updates by id,
:func:`update_by_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any]


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples of values in ``columns`` order) into ``table`` in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    processors: list[Processor | None] = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    converted = _convert(rows, processors)
    quote = dialect.identifier_preparer.quote
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(placeholder for _ in columns)})"
    )
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, converted)
    finally:
        cursor.close()


def _convert(rows: Sequence[Sequence[Any]], processors: list[Processor | None]) -> list[tuple[Any, ...]]:
    """Rows with each value converted by its column's processor, column by column."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for j, process in enumerate(processors):
        if process is None:
            continue
        values = columns[j]
        first = values[0]
        if all(value is first for value in values):  # one object in every row: the batch's timestamp
            columns[j] = [None if first is None else process(first)] * len(values)
            continue
        # Keyed by identity: the rows keep every value alive during the call, so an id is never reused.
        cache: dict[int, Any] = {}
        converted: list[Any] = []
        for value in values:
            if value is None:
                converted.append(None)
                continue
            done = cache.get(id(value), _MISSING)
            if done is _MISSING:
                done = cache[id(value)] = process(value)
            converted.append(done)
        columns[j] = converted
    return list(zip(*columns, strict=True))


_MISSING: Any = object()


def insert_dicts(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, batch: int = 5000
) -> None:
    """:func:`insert_rows` for rows given as dicts (every row has the first row's keys), ``batch`` at a time
    so the converted copy stays small."""
    if not rows:
        return
    columns = list(rows[0])
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        insert_rows(session, table, columns, [tuple(row[c] for c in columns) for row in part])


def update_by_id(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], *, batch: int = 1000
) -> None:
    """``UPDATE ... WHERE id = ?`` for many rows (dicts with ``id`` and the columns to set), one executemany
    per set of columns (Core, not the ORM's bulk path: measured several times faster for 100k rows)."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(k for k in row if k != "id")), []).append(row)
    for columns, group in groups.items():
        statement = (
            table.update()
            .where(table.c.id == bindparam("row_id"))
            .values({c: bindparam(f"new_{c}") for c in columns})
        )
        params = [{"row_id": r["id"], **{f"new_{c}": r[c] for c in columns}} for r in group]
        for start in range(0, len(params), batch):
            session.execute(statement, params[start : start + batch])
