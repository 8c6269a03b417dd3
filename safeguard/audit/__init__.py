"""The tamper-evident audit log. ``record(...)`` in every state-changing operation; ``verify`` to check."""

from safeguard.audit.service import ChainReport, page, record, verify

__all__ = ["ChainReport", "page", "record", "verify"]
