"""Persistence: the SQLAlchemy base, engine and sessions, and the Alembic migrations."""

from safeguard.store.base import Base, JSONDoc, UTCDateTime, utcnow
from safeguard.store.db import Database

__all__ = ["Base", "Database", "JSONDoc", "UTCDateTime", "utcnow"]
