"""URL lists (such as IWF's URL list): normalisation, import and matching.

Normalisation makes trivially different spellings of one address compare equal: the scheme is dropped
(http and https are the same address for a list), the host is lower-cased, IDNA-encoded, stripped of
trailing dots, a leading ``www.`` and default ports (80, 443) and user info; the path has percent-escapes
of unreserved characters decoded and the rest upper-cased, dot segments resolved, repeated and trailing
slashes removed (the path's case is kept: servers may treat it as significant); tracking parameters
(``utm_*``, ``fbclid``, ``gclid``...) are removed and the remaining query parameters sorted; the fragment
is dropped.

An entry matches as ``exact`` (the same normalised URL), ``host`` (the host or any subdomain of it) or
``prefix`` (the URL's host and path start with the entry's, at a path-segment boundary).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth import Actor
from safeguard.banks.errors import ImportRejected, InvalidUrl, ListExists, ListNotFound
from safeguard.banks.models import UrlList, UrlListEntry
from safeguard.banks.service import no_nul
from safeguard.errors import InvalidInput

MATCH_KINDS = ("exact", "host", "prefix")
MAX_URL_CHARS = 2000
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "si",
    }
)
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


@dataclass(frozen=True, slots=True)
class NormalizedUrl:
    host: str
    path: str  # "" for the root
    query: str

    @property
    def key(self) -> str:
        return self.host + self.path + (f"?{self.query}" if self.query else "")

    @property
    def prefix_key(self) -> str:
        return self.host + self.path


def _normalize_escapes(text: str) -> str:
    def fix(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else f"%{m.group(1).upper()}"

    # Decode unreserved escapes, upper-case the rest, then escape what must be (spaces, non-ASCII).
    return quote(_ESCAPE.sub(fix, text), safe=_PATH_SAFE)


def _normalize_path(path: str) -> str:
    segments: list[str] = []
    for segment in _normalize_escapes(path).split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return "/" + "/".join(segments) if segments else ""


def _normalize_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidUrl("the URL has no host", field="url")
    try:
        host = unicodedata.normalize("NFKC", host).encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidUrl(f"the host {host[:100]!r} is not a valid domain name", field="url") from None
    if host.startswith("www."):
        host = host[4:]
    if not host or any(c in host for c in " /\\@"):
        raise InvalidUrl("the URL has no valid host", field="url")
    return host


def normalize_url(url: str) -> NormalizedUrl:
    text = url.strip()
    if not text or len(text) > MAX_URL_CHARS:
        raise InvalidUrl(f"a URL is 1 to {MAX_URL_CHARS} characters", field="url")
    if "://" not in text:
        text = "http://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl(f"not a valid URL: {exc}", field="url") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidUrl(f"only http and https URLs are listed, not {parts.scheme[:20]!r}", field="url")
    host = _normalize_host(parts.hostname or "")
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    params = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    query = urlencode(sorted(params), quote_via=quote)
    return NormalizedUrl(host=host, path=_normalize_path(parts.path), query=query)


def entry_key(url: str, match: str) -> str:
    normalized = normalize_url(url)
    if match == "exact":
        return normalized.key
    if match == "host":
        return normalized.host
    if match == "prefix":
        return normalized.prefix_key
    raise InvalidInput(f"match is one of {', '.join(MATCH_KINDS)}", field="match")


def default_match(url: str) -> str:
    normalized = normalize_url(url)
    return "host" if not normalized.path and not normalized.query else "exact"


# Lists -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UrlEntryIn:
    url: str
    match: str | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class UrlMatch:
    list_id: int
    list_name: str
    entry_id: int
    match: str
    listed_url: str
    label: str


def create_url_list(session: Session, actor: Actor, *, name: str, source: str = "") -> UrlList:
    name = no_nul(name, "name").strip()
    no_nul(source, "source")
    if not name or len(name) > 200:
        raise InvalidInput("a list name is 1 to 200 characters", field="name")
    if session.scalar(select(UrlList.id).where(UrlList.name == name)) is not None:
        raise ListExists(f"a URL list named {name!r} already exists", field="name")
    url_list = UrlList(name=name, source=source[:200])
    session.add(url_list)
    session.flush()
    audit.record(session, actor, "url_list.create", "url_list", str(url_list.id), {"name": name})
    return url_list


def get_url_list(session: Session, list_id: int) -> UrlList:
    url_list = session.get(UrlList, list_id)
    if url_list is None:
        raise ListNotFound(f"no URL list with id {list_id}")
    return url_list


def list_url_lists(session: Session) -> list[UrlList]:
    return list(session.scalars(select(UrlList).order_by(UrlList.id)))


def parse_url_lines(lines: Iterable[str]) -> list[UrlEntryIn]:
    """Lines of ``url[,match[,label]]`` (or tab-separated); ``#`` comments and blank lines skipped."""
    entries = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        parts = [p.strip() for p in re.split(r"[\t,]", text, maxsplit=2)]
        if parts[0].lower() == "url" and number == 1:
            continue
        match = parts[1].lower() if len(parts) > 1 and parts[1] else None
        entries.append(UrlEntryIn(parts[0], match, parts[2] if len(parts) > 2 else ""))
    return entries


def add_url_entries(session: Session, actor: Actor, url_list: UrlList, entries: list[UrlEntryIn]) -> int:
    """Add entries (all or nothing; an entry already listed is skipped); returns how many were new."""
    rows: dict[tuple[str, str], UrlListEntry] = {}
    for number, entry in enumerate(entries, start=1):
        try:
            match = entry.match or default_match(entry.url)
            if match not in MATCH_KINDS:
                raise InvalidInput(f"match is one of {', '.join(MATCH_KINDS)}, not {match[:20]!r}")
            key = entry_key(entry.url, match)
            no_nul(entry.url + entry.label, "entries")
        except (InvalidInput, InvalidUrl) as exc:
            raise ImportRejected(f"entry {number}: {exc.detail}; nothing was added", entry=number) from None
        rows.setdefault(
            (match, key),
            UrlListEntry(
                list_id=url_list.id,
                url=entry.url[:MAX_URL_CHARS],
                match=match,
                key=key,
                label=entry.label[:200],
            ),
        )
    existing: set[tuple[str, str]] = set()
    keys = [k for _, k in rows]
    for start in range(0, len(keys), 1000):
        query = select(UrlListEntry.match, UrlListEntry.key).where(
            UrlListEntry.list_id == url_list.id, UrlListEntry.key.in_(keys[start : start + 1000])
        )
        existing.update((m, k) for m, k in session.execute(query))
    new = [row for ident, row in rows.items() if ident not in existing]
    session.add_all(new)
    session.flush()
    audit.record(session, actor, "url_list.add", "url_list", str(url_list.id), {"added": len(new)})
    return len(new)


def _host_candidates(host: str) -> list[str]:
    bare, _, port = host.partition(":")
    labels = bare.split(".")
    hosts = [".".join(labels[i:]) for i in range(len(labels) - 1)] or [bare]
    return [f"{h}:{port}" if port else h for h in hosts]


def _prefix_candidates(normalized: NormalizedUrl) -> list[str]:
    out = [normalized.host]
    segments = [s for s in normalized.path.split("/") if s]
    for i in range(1, len(segments) + 1):
        out.append(normalized.host + "/" + "/".join(segments[:i]))
    return out


def match_url(session: Session, url: str) -> tuple[NormalizedUrl, list[UrlMatch]]:
    normalized = normalize_url(url)
    condition = or_(
        and_(UrlListEntry.match == "exact", UrlListEntry.key == normalized.key),
        and_(UrlListEntry.match == "host", UrlListEntry.key.in_(_host_candidates(normalized.host))),
        and_(UrlListEntry.match == "prefix", UrlListEntry.key.in_(_prefix_candidates(normalized))),
    )
    query = (
        select(UrlListEntry, UrlList.name)
        .join(UrlList, UrlList.id == UrlListEntry.list_id)
        .where(condition)
        .order_by(UrlListEntry.id)
    )
    matches = [
        UrlMatch(e.list_id, name, e.id, e.match, e.url, e.label) for e, name in session.execute(query).all()
    ]
    return normalized, matches
