"""Errors of the index capability."""

from __future__ import annotations

from safeguard.errors import InvalidInput, MalformedInput


class InvalidHash(InvalidInput):
    """A hash is not of its signal type's form (PDQ: 64 hex digits; MD5: 32; SHA-256: 64)."""

    code = "invalid-hash"
    title = "Invalid hash"


class InvalidThreshold(InvalidInput):
    """A match threshold or rule value is out of range."""

    code = "invalid-threshold"
    title = "Invalid threshold"


class IndexFileError(MalformedInput):
    """A saved index file is missing, truncated, of another kind or of an unknown format version."""

    code = "index-file"
    title = "Unreadable index file"
