"""Referral importers: CyberTipline-style XML, Safeguard's JSON format, and CSV.

``parse_referrals(data, format=None)`` reads a whole file or rejects it: either every referral parses, or
``ImportRejected`` names the line, element or path and the reason, and nothing is returned. The format is
detected from the first non-blank byte when not given (``<`` XML, ``{`` JSON, anything else CSV).
"""

from __future__ import annotations

from collections.abc import Callable

from safeguard.intake.errors import ImportRejected, UnknownFormat
from safeguard.intake.importers import csvfmt, cybertip, jsonfmt
from safeguard.intake.importers.common import ParsedFile

PARSERS: dict[str, Callable[[bytes], ParsedFile]] = {
    cybertip.FORMAT: cybertip.parse,
    jsonfmt.FORMAT: jsonfmt.parse,
    csvfmt.FORMAT: csvfmt.parse,
}
ALIASES = {"xml": cybertip.FORMAT, "cybertip": cybertip.FORMAT, "json": jsonfmt.FORMAT}

__all__ = ["PARSERS", "ParsedFile", "detect_format", "parse_referrals"]


def detect_format(data: bytes) -> str:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return cybertip.FORMAT
    if head in (b"{", b"["):
        return jsonfmt.FORMAT
    if not head:
        raise ImportRejected("the file is empty", where="line 1")
    return csvfmt.FORMAT


def resolve_format(name: str | None, data: bytes) -> str:
    if name is None or name == "auto":
        return detect_format(data)
    key = ALIASES.get(name.lower(), name.lower())
    if key not in PARSERS:
        raise UnknownFormat(f"unknown format {name!r} (one of: auto, {', '.join(PARSERS)})", field="format")
    return key


def parse_referrals(data: bytes, format: str | None = None) -> ParsedFile:
    return PARSERS[resolve_format(format, data)](data)
