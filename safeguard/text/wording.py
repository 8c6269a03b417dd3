"""How reasons read to a person: counts with the right plural, excerpts without stray separators."""

from __future__ import annotations

import re

_EDGE = re.compile(r"^[^\w?!']+|[^\w?!']+$")


def plural(n: int, word: str) -> str:
    """``1 message``, ``2 messages``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def quote(excerpt: str) -> str:
    """An excerpt as a moderator reads it: spaces collapsed, no separator left at either end (a span may
    end on the comma after a word), in curly quotes; empty when nothing is left."""
    text = _EDGE.sub("", " ".join(excerpt.split()))
    return f"\u201c{text}\u201d" if text else ""
