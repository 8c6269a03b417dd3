"""The tamper-evident audit log. ``record(...)`` in every state-changing operation; ``verify`` to check.

The chain is keyed with the audit key (``keys``) and its head can be exported as signed checkpoints
(``checkpoints``) that ``verify`` checks the chain against.
"""

from safeguard.audit.service import ChainReport, Checkpoint, page, record, verify

__all__ = ["ChainReport", "Checkpoint", "page", "record", "verify"]
