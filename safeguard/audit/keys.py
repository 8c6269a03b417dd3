"""The audit key: the secret the chain's HMACs and the checkpoints are keyed with, kept outside the database.

From ``SAFEGUARD_AUDIT_KEY`` (64 or more hex digits), else the file ``SAFEGUARD_AUDIT_KEY_FILE``, else
``$SAFEGUARD_HOME/audit.key``, which is generated (32 random bytes, hex, mode 0600) on first use. Someone
who can rewrite the database but cannot read this key cannot forge a record or a checkpoint.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from safeguard.config import get_settings
from safeguard.errors import InvalidInput

MIN_KEY_BYTES = 32


class AuditKeyInvalid(InvalidInput):
    """The configured audit key cannot be used."""


def _decode(text: str, source: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise AuditKeyInvalid(f"the audit key in {source} is not hex", field="audit_key") from None
    if len(key) < MIN_KEY_BYTES:
        raise AuditKeyInvalid(
            f"the audit key in {source} is shorter than {MIN_KEY_BYTES} bytes", field="audit_key"
        )
    return key


def key_file() -> Path:
    settings = get_settings()
    return settings.audit_key_file or settings.home / "audit.key"


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _decode(path.read_text(encoding="ascii", errors="replace"), str(path))
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
    return _decode(path.read_text(encoding="ascii"), str(path))


@lru_cache(maxsize=1)
def chain_key() -> bytes:
    """The key (read once per process; ``chain_key.cache_clear()`` after changing the settings)."""
    settings = get_settings()
    if settings.audit_key is not None:
        return _decode(settings.audit_key.get_secret_value(), "SAFEGUARD_AUDIT_KEY")
    return _read_or_create(key_file())
