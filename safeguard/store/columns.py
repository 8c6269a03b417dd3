"""A column type for states: a ``StrEnum`` in Python, a plain string in the database.

``mapped_column(StrEnumColumn(CaseStatus, 24))`` stores the value as ``VARCHAR(24)`` (so migrations and
both backends see an ordinary string column, and adding a state needs no schema change) and loads it back
as the enum member. Writing a value that is not a member raises ``ValueError`` before it reaches the
database, so a typo in a state is an error, not a new state.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import String, TypeDecorator
from sqlalchemy.engine import Dialect

E = TypeVar("E", bound=StrEnum)


class StrEnumColumn(TypeDecorator[E]):
    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int, **kwargs: Any) -> None:
        super().__init__(length, **kwargs)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        if value is None:
            return None
        return self.enum(value)
