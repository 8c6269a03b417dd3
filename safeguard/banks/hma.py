"""HMA's rules and shapes over Safeguard's banks, for the HMA-compatible routes (``api/routers/hma.py``).

Matching is still :func:`safeguard.banks.matching.match_signal`, the one function behind ``/v1/match``;
this module only says what HMA's curation and hashing rules are and shapes answers as HMA does:

- **Content types.** An upload's form field names its content type (``photo`` or ``video``); the signal
  types hashed for it are the registered types of that kind, except Safeguard's own whole-file digests
  (``md5``, ``sha256``), which are still banked but not reported. ``?types=`` narrows the set. A PDQ hash
  under the quality floor is reported as ``""`` (python-threatexchange's ``PdqSignal`` does the same).
- **Names.** Banks created or renamed here follow HMA's ``UPPER_WITH_UNDERSCORE`` rule.
- **Items.** A note (at most 255 characters), HMA's ``metadata`` (``content_id``, ``content_uri``,
  ``json``) and ``disable_until_ts`` (0 disabled, 1 enabled, else a unix time before which the item does
  not match) are stored and returned.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from safeguard.auth import Actor
from safeguard.banks import media, service
from safeguard.banks.errors import ContentNotFound
from safeguard.banks.matcher import BankMatcher
from safeguard.banks.matching import Match, SignalMatches, banks_named, match_signal
from safeguard.banks.models import Bank, BankContent
from safeguard.banks.signals import VPDQ, normalize_hash, normalize_signal_type, signal_type_of
from safeguard.errors import InvalidInput, MalformedInput
from safeguard.media import ContentHasher, ContentKind, HashOptions, default_registry
from safeguard.store.base import utcnow

BANK_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
MAX_NOTE_CHARS = 255
MAX_METADATA_BYTES = 64 * 1024
METADATA_KEYS = ("content_id", "content_uri", "json")
# HMA's content types, and ``file`` (a Safeguard addition) for signal types that hash other files, as a
# plug-in may: its field name reaches them the way ``photo`` reaches PDQ.
CONTENT_KINDS = {"photo": ContentKind.photo, "video": ContentKind.video, "file": ContentKind.file}
# HMA's video_md5 is the MD5 of the file's bytes: computed from them even when they are not a video.
BYTE_DIGESTS = {"video_md5": "md5"}
NO_DISTANCE = "-"  # python-threatexchange's pretty string for a match without a distance
DISABLED_TS, ENABLED_TS = 0, 1
MAX_DISABLE_DAYS = 5 * 365


@dataclass(frozen=True, slots=True)
class Hashed:
    """An upload hashed the HMA way: the reported ``hashes`` and what banking it stores (with variants)."""

    hashes: dict[str, str]
    to_bank: list[service.SignalIn]
    to_query: dict[str, list[str]]


# Names, notes, metadata ------------------------------------------------------------------------------


def check_bank_name(name: str) -> str:
    if not BANK_NAME.fullmatch(name):
        raise InvalidInput("Bank names must be UPPER_WITH_UNDERSCORE", field="name")
    return name


def check_note(note: Any) -> str:
    """HMA's note: a string of at most 255 characters; an empty or missing note is none ("")."""
    if not note:
        return ""
    if not isinstance(note, str):
        raise InvalidInput("note should be a string", field="note")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"note must be at most {MAX_NOTE_CHARS} characters", field="note")
    return service.no_nul(note, "note")


def check_metadata(raw: Any) -> dict[str, Any] | None:
    """HMA's metadata object (``collab`` is HMA's own provenance and is dropped, as HMA does)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise InvalidInput("metadata form field must be valid JSON", field="metadata") from None
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidInput("metadata should be a json object", field="metadata")
    raw = {k: v for k, v in raw.items() if k != "collab"}
    unknown = sorted(str(k)[:40] for k in raw if k not in METADATA_KEYS)
    if unknown:
        raise InvalidInput(f"Invalid metadata: unknown field(s) {', '.join(unknown)}", field="metadata")
    for key in ("content_id", "content_uri"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise InvalidInput(f"Invalid metadata: {key} should be a string", field=f"metadata.{key}")
    if raw.get("json") is not None and not isinstance(raw["json"], dict):
        raise InvalidInput("Invalid metadata: json should be an object", field="metadata.json")
    text = json.dumps(raw)
    if len(text.encode()) > MAX_METADATA_BYTES or "\\u0000" in text:
        raise InvalidInput(f"metadata is at most {MAX_METADATA_BYTES} bytes of text", field="metadata")
    kept = {k: v for k, v in raw.items() if v is not None}
    return kept or None


# Hashing ---------------------------------------------------------------------------------------------


def content_kind(field_name: str) -> ContentKind:
    kind = CONTENT_KINDS.get(field_name)
    if kind is None:
        raise InvalidInput(f"no such content_type: {field_name[:40]!r}", field="content_type")
    return kind


def signal_types_for(kind: ContentKind, types: str | None = None) -> list[str]:
    """The signal types HMA hashes content of ``kind`` with, narrowed by ``types`` (comma-separated)."""
    hashers = [t for t in default_registry() if issubclass(t, ContentHasher) and kind in t.content_types]
    if types is None:  # the digests of every kind of bytes (md5, sha256) are banked but not answered
        return [t.name for t in hashers if not set(ContentKind) <= t.content_types]
    allowed = {t.name for t in hashers}
    chosen: list[str] = []
    for name in (part.strip().lower() for part in types.split(",")):
        if not name:
            continue
        if name not in allowed:
            raise InvalidInput(f"signal type {name[:40]!r} doesn't exist or is disabled", field="types")
        chosen.append(name)
    if not chosen:
        raise InvalidInput("empty signal type selection", field="types")
    return list(dict.fromkeys(chosen))


def hash_upload(data: bytes, kind: ContentKind, types: str | None, *, bank: bool) -> Hashed:
    names = signal_types_for(kind, types)
    result = media.hash_upload(data, HashOptions.for_bank() if bank else HashOptions.for_query())
    hashes: dict[str, str] = {}
    for name in names:
        plain = result.plain(name) or result.plain(BYTE_DIGESTS.get(name, ""))
        if plain is not None:
            hashes[name] = plain.hash if plain.matchable else ""
    if not hashes:
        raise MalformedInput(
            f"the {kind.value} upload holds {result.media.kind.value} content ({result.media.format}): "
            "none of its signal types apply"
        )
    keep = set(names) if types is not None else set(names) | {"md5", "sha256"}
    signals = [s for s in media.bankable(result) if s.signal_type in keep]
    present = {(s.signal_type, s.value) for s in signals}
    signals += [
        service.SignalIn(name, value)
        for name, value in hashes.items()
        if value and (name, value) not in present
    ]
    query: dict[str, list[str]] = {}
    for s in signals:
        if s.signal_type in hashes and (s.kind == "primary" or not bank):
            query.setdefault(s.signal_type, []).append(s.value)
    return Hashed(hashes=hashes, to_bank=signals, to_query=query)


# Items -----------------------------------------------------------------------------------------------


def add_content(
    session: Session,
    actor: Actor,
    bank: Bank,
    hashed: Hashed,
    *,
    note: str = "",
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Bank an upload (every signal, variants included) and answer HMA's ``{id, signals}``."""
    low = sorted(name for name, value in hashed.hashes.items() if not value)
    if low:
        raise InvalidInput(f"Invalid {low[0]} signal: its quality is under the floor (50)", field="file")
    added = service.add_content(session, actor, bank, hashed.to_bank, service.ContentMeta(notes=note))
    if metadata is not None and added.created:
        added.content.hma_metadata = metadata
    return {"id": added.content.id, "signals": dict(hashed.hashes)}


def add_signals(session: Session, actor: Actor, bank: Bank, body: dict[str, Any]) -> dict[str, Any]:
    """HMA's ``POST /c/bank/{name}/signal``: ``{signal_type: hash, ..., "note": "..."}``."""
    fields = dict(body)
    note = check_note(fields.pop("note", None))
    if not fields:
        raise InvalidInput("No signals given", field="signals")
    signals: dict[str, str] = {}
    for name, value in fields.items():
        if not isinstance(value, str):
            raise InvalidInput(f"Invalid {str(name)[:40]} signal: a hash is a string", field=str(name)[:40])
        st = normalize_signal_type(name, field=name[:40])
        signals[st] = normalize_hash(st, value, field=st)
    meta = service.ContentMeta(notes=note)
    added = service.add_content(session, actor, bank, [service.SignalIn(*kv) for kv in signals.items()], meta)
    return {"id": added.content.id, "signals": signals}


def _disable_until_ts(content: BankContent) -> int:
    if not content.enabled:
        return DISABLED_TS
    until = content.disabled_until
    if until is not None and until > utcnow():
        return int(until.timestamp())
    return ENABLED_TS


def content_view(
    session: Session, bank: Bank, content: BankContent, *, signals: bool = False, metadata: bool = True
) -> dict[str, Any]:
    """One item as HMA's ``GET /c/bank/{name}/content/{id}`` shows it (absent fields left out)."""
    view: dict[str, Any] = {
        "id": content.id,
        "disable_until_ts": _disable_until_ts(content),
        "original_media_uri": None,
        "bank": {"name": bank.name, "matching_enabled_ratio": bank.enabled_ratio if bank.enabled else 0.0},
    }
    if signals:
        rows = service.signals_of(session, [content.id])[content.id]
        primary = {r.signal_type: r.value for r in rows if r.kind == "primary"}
        if primary:
            view["signals"] = primary
    if metadata and content.hma_metadata:
        view["metadata"] = content.hma_metadata
    if content.notes:
        view["note"] = content.notes
    return view


def _check_disable_ts(raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(f"Invalid int: {str(raw)[:40]!r}", field="disable_until_ts") from None
    if isinstance(raw, bool) or value < 0:
        raise InvalidInput("disable_until_ts must be a non-negative integer", field="disable_until_ts")
    limit = utcnow() + timedelta(days=MAX_DISABLE_DAYS)
    if value > ENABLED_TS and value > limit.timestamp():
        raise InvalidInput(
            "disable_until_ts must be less than 5 years in the future", field="disable_until_ts"
        )
    return value


def update_content(
    session: Session, actor: Actor, bank: Bank, content_id: int, body: dict[str, Any]
) -> BankContent:
    """HMA's ``PUT /c/bank/{name}/content/{id}``: ``disable_until_ts`` and ``note``."""
    content = service.get_content(session, bank, content_id)
    if "disable_until_ts" in body:
        ts = _check_disable_ts(body["disable_until_ts"])
        reason = "disabled over the HMA API (disable_until_ts 0)"
        enabled = ts != DISABLED_TS
        service.set_content_enabled(session, actor, bank, content_id, enabled=enabled, reason=reason)
        content.disabled_until = datetime.fromtimestamp(ts, UTC) if ts > ENABLED_TS else None
    if "note" in body:
        content.notes = check_note(body["note"])
    content.updated_at = utcnow()
    session.flush()
    return content


def remove_content(session: Session, actor: Actor, bank: Bank, content_id: int) -> int:
    """How many content items were removed: 1, or 0 when the bank holds no such (live) item."""
    try:
        service.remove_content(session, actor, bank, content_id)
    except ContentNotFound:
        return 0
    return 1


# Matching --------------------------------------------------------------------------------------------


def live(matches: list[Match]) -> list[Match]:
    return [m for m in matches if not m.is_allowlist and not m.suppressed_by_allowlist]


def distance_of(m: Match) -> str:
    """A match's distance as python-threatexchange's ``pretty_str`` writes it."""
    if m.query_match_percent is not None and m.compared_match_percent is not None:
        return f"{m.query_match_percent:.0f}%[{m.compared_match_percent:.0f}%]"
    return NO_DISTANCE if signal_type_of(m.signal_type).exact else str(m.distance)


def lookup(
    session: Session,
    matcher: BankMatcher,
    signal_type: str,
    values: list[str],
    *,
    banks: str | None = None,
    seed: str | None = None,
    bypass: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """HMA's ``{bank: [{bank_content_id, distance}]}`` for a query's hashes (plain, and trimmed when it
    differs), best distance per content item; ``{}`` when nothing matches. ``bypass``: HMA's
    ``bypass_coinflip`` (every enabled bank answers, whatever its ratio)."""
    bank_ids = banks_named(matcher, banks.split(",")) if banks else None
    best: dict[int, Match] = {}
    for value in values:
        result: SignalMatches = match_signal(
            session, matcher, signal_type, value, bank_ids=bank_ids, seed=seed, bypass_coinflip=bypass
        )
        for m in live(result.matches):
            kept = best.get(m.content_id)
            if kept is None or m.distance < kept.distance:
                best[m.content_id] = m
    out: dict[str, list[dict[str, Any]]] = {}
    for m in sorted(best.values(), key=lambda m: (m.bank, m.content_id)):
        out.setdefault(m.bank, []).append({"bank_content_id": m.content_id, "distance": distance_of(m)})
    return out


def raw_lookup(
    session: Session, matcher: BankMatcher, signal_type: str, value: str, *, banks: str | None, distance: bool
) -> list[Any]:
    bank_ids = banks_named(matcher, banks.split(",")) if banks else None
    found = live(match_signal(session, matcher, signal_type, value, bank_ids=bank_ids).matches)
    if not distance:
        return [m.content_id for m in found]
    return [_with_distance(m) for m in found]


def _with_distance(m: Match) -> dict[str, Any]:
    out: dict[str, Any] = {"bank_content_id": m.content_id, "distance": distance_of(m)}
    if m.query_match_percent is not None and m.compared_match_percent is not None:
        # vpdq: the two percentages of HMA's "query%[compared%]" string, also as numbers
        out["query_match_percent"] = m.query_match_percent
        out["compared_match_percent"] = m.compared_match_percent
    return out


def compare(body: Any) -> dict[str, list[Any]]:
    """HMA's ``/m/compare``: ``{signal_type: [hash, hash]}`` -> ``{signal_type: [match, {distance}]}``."""
    if not isinstance(body, dict) or not body:
        raise InvalidInput("Request input was not a dict of signal types to hash pairs", field="body")
    out: dict[str, list[Any]] = {}
    for name, pair in body.items():
        if not isinstance(pair, list):
            raise InvalidInput(f"Comparison hashes for {str(name)[:40]} was not a list", field=str(name)[:40])
        if len(pair) != 2 or not all(isinstance(h, str) for h in pair):
            raise InvalidInput("Comparison hash list length must be exactly 2", field=str(name)[:40])
        st = normalize_signal_type(name, field=str(name)[:40])
        left, right = (normalize_hash(st, h, field=st) for h in pair)
        kind = signal_type_of(st)
        dist = kind.distance(left, right)
        info: dict[str, Any] = {} if kind.exact else {"distance": round(dist) if st != VPDQ else dist}
        out[st] = [dist <= kind.default_threshold, info]
    return out
