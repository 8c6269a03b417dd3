"""Roles and the actor that performs an operation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a key or a user may do.

    ``admin`` may do everything; the other roles are the people and systems Safeguard serves:
    ``integrator`` (a platform's systems: submit content, receive actions), ``moderator`` (reviews cases),
    ``analyst`` (police or hotline intake).
    """

    admin = "admin"
    integrator = "integrator"
    moderator = "moderator"
    analyst = "analyst"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs an operation, carried into every audit record.

    ``kind`` is how they authenticated (``api_key``, ``user``, ``cli``, ``system``); ``id`` identifies them
    within that kind (the key id, the user name, the OS user for the CLI).
    """

    kind: str
    id: str
    role: Role
    request_id: str | None = None

    @classmethod
    def system(cls, name: str = "safeguard") -> Actor:
        return cls(kind="system", id=name, role=Role.admin)

    @classmethod
    def cli(cls) -> Actor:
        import getpass

        try:
            user = getpass.getuser()
        except Exception:  # no passwd entry in some containers: still audit, under a neutral name
            user = "unknown"
        return cls(kind="cli", id=user, role=Role.admin)
