"""What the importers share: strict value parsers that say where a bad value is, and the parsed file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from safeguard.intake.errors import ImportRejected, InvalidIdentifier
from safeguard.intake.identifiers import IdKind, normalize_hash
from safeguard.intake.records import INDUSTRY_CLASSIFICATIONS, Category, Indicator, Referral, Source

MAX_TEXT = 20_000


@dataclass(slots=True)
class ParsedFile:
    format: str
    referrals: list[Referral] = field(default_factory=list)


def parse_time(text: str, where: str) -> datetime:
    """ISO 8601 with a time zone (``Z`` or an offset), returned in UTC.

    A time without a zone is refused rather than guessed: an IP address is attributed to a subscriber by
    its exact capture time, and an hour's error names the wrong household.
    """
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ImportRejected(f"not an ISO 8601 date-time: {value!r}", where=where) from None
    if parsed.tzinfo is None:
        raise ImportRejected(f"date-time {value!r} has no time zone (add Z or an offset)", where=where)
    return parsed.astimezone(UTC)


def parse_bool(text: str, where: str) -> bool:
    value = text.strip().lower()
    if value in {"true", "1", "yes", "y"}:
        return True
    if value in {"false", "0", "no", "n"}:
        return False
    raise ImportRejected(f"expected true or false, got {text.strip()!r}", where=where)


def parse_int(text: str, where: str, *, low: int = 0, high: int = 2**31 - 1) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ImportRejected(f"expected a whole number, got {text.strip()!r}", where=where) from None
    if not low <= value <= high:
        raise ImportRejected(f"{value} is out of range ({low}..{high})", where=where)
    return value


def check_source(text: str, where: str) -> str:
    value = text.strip().lower()
    if value not in Source.__members__:
        known = ", ".join(Source.__members__)
        raise ImportRejected(f"unknown source {text.strip()!r} (one of: {known})", where=where)
    return value


def check_external_id(text: str, where: str) -> str:
    value = text.strip()
    if not value:
        raise ImportRejected("a referral needs an id", where=where)
    if len(value) > 200 or not re.fullmatch(r"[\w.:/#\-]+", value):
        raise ImportRejected(
            f"referral id {value[:60]!r} must be 1-200 letters, digits or . : / # - _", where=where
        )
    return value


def check_indicator(text: str, where: str) -> str:
    value = text.strip().lower()
    if value not in Indicator.__members__:
        known = ", ".join(Indicator.__members__)
        raise ImportRejected(f"unknown risk indicator {text.strip()!r} (one of: {known})", where=where)
    return value


def check_category(text: str, where: str) -> str:
    value = text.strip().upper()
    if value not in Category.__members__:
        raise ImportRejected(f"category must be A, B or C, got {text.strip()!r}", where=where)
    return value


def check_classification(text: str, where: str) -> str:
    value = text.strip().upper()
    if value not in INDUSTRY_CLASSIFICATIONS:
        raise ImportRejected(
            f"industry classification must be A1, A2, B1 or B2, got {text.strip()!r}", where=where
        )
    return value


def check_hash(kind: IdKind, text: str, where: str) -> str:
    try:
        return normalize_hash(kind, text)
    except InvalidIdentifier as exc:
        raise ImportRejected(exc.detail, where=where) from None


def check_text(text: str | None, where: str, *, limit: int = MAX_TEXT) -> str | None:
    if text is None:
        return None
    value = text.strip()
    if len(value) > limit:
        raise ImportRejected(f"text longer than {limit} characters", where=where)
    return value or None


def dedupe(referrals: list[Referral], where_of: list[str]) -> list[Referral]:
    """Drop exact repeats inside one file; the same id with different content is an error."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    out: list[Referral] = []
    for referral, where in zip(referrals, where_of, strict=True):
        marker = (referral.source, referral.external_id)
        digest = referral.digest()
        if marker in seen:
            if seen[marker][0] != digest:
                raise ImportRejected(
                    f"referral {referral.external_id!r} appears twice with different content "
                    f"(first at {seen[marker][1]})",
                    where=where,
                )
            continue
        seen[marker] = (digest, where)
        out.append(referral)
    return out
