"""Keyword lists for search deterrence: terms matched through common obfuscations, answered with the
list's deterrence message and help links (e.g. signposting to Stop It Now).

Both the listed terms and the search query go through the same normalisation: Unicode compatibility
folding and case folding, accents removed, leetspeak digits and symbols mapped to letters (``0``→o,
``1``/``!``→i, ``3``→e, ``4``/``@``→a, ``5``/``$``→s, ``7``/``+``→t...), everything else that is not a
letter or digit treated as a space, runs of one repeated letter collapsed (``teeeen`` → ``ten``), and runs
of single characters joined (``c h i l d`` → ``child``). A term matches when its words appear
consecutively in the query, or when its letters (spaces removed) equal consecutive query words joined,
so ``childporn`` and ``child porn`` match each other. Whole words only: a term never matches inside a
longer word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from safeguard import audit
from safeguard.auth import Actor
from safeguard.banks.errors import ListExists, ListNotFound
from safeguard.banks.models import KeywordList, KeywordTerm
from safeguard.banks.service import no_nul
from safeguard.errors import InvalidInput

MAX_QUERY_CHARS = 2000
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "!": "i",
        "|": "l",
        "3": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "+": "t",
        "8": "b",
        "9": "g",
    }
)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_REPEATS = re.compile(r"(.)\1+")


def tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c)).translate(_LEET)
    words = [_REPEATS.sub(r"\1", w) for w in _NOT_ALNUM.sub(" ", folded).split()]
    joined: list[str] = []
    run: list[str] = []
    for word in words:
        if len(word) == 1:
            run.append(word)
            continue
        if run:
            joined.append(_REPEATS.sub(r"\1", "".join(run)))
            run = []
        joined.append(word)
    if run:
        joined.append(_REPEATS.sub(r"\1", "".join(run)))
    return joined


def normalize_term(term: str) -> str:
    return " ".join(tokens(term))


def term_matches(term_words: list[str], query_words: list[str]) -> bool:
    n = len(term_words)
    if n and any(query_words[i : i + n] == term_words for i in range(len(query_words) - n + 1)):
        return True
    target = "".join(term_words)
    if not target:
        return False
    for start in range(len(query_words)):
        joined = ""
        for word in query_words[start:]:
            joined += word
            if joined == target:
                return True
            if len(joined) >= len(target):
                break
    return False


@dataclass(frozen=True, slots=True)
class HelpLink:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class QueryHit:
    list_id: int
    list_name: str
    term: str
    message: str
    help_links: list[dict[str, str]]


def create_keyword_list(
    session: Session, actor: Actor, *, name: str, message: str, help_links: list[HelpLink]
) -> KeywordList:
    name = no_nul(name, "name").strip()
    no_nul(message, "message")
    for link in help_links:
        no_nul(link.title + link.url, "help_links")
    if not name or len(name) > 200:
        raise InvalidInput("a list name is 1 to 200 characters", field="name")
    if not message.strip():
        raise InvalidInput("a deterrence message is required", field="message")
    if session.scalar(select(KeywordList.id).where(KeywordList.name == name)) is not None:
        raise ListExists(f"a keyword list named {name!r} already exists", field="name")
    links = [{"title": link.title, "url": link.url} for link in help_links]
    keyword_list = KeywordList(name=name, message=message, help_links=links)
    session.add(keyword_list)
    session.flush()
    audit.record(session, actor, "keyword_list.create", "keyword_list", str(keyword_list.id), {"name": name})
    return keyword_list


def get_keyword_list(session: Session, list_id: int) -> KeywordList:
    keyword_list = session.get(KeywordList, list_id)
    if keyword_list is None:
        raise ListNotFound(f"no keyword list with id {list_id}")
    return keyword_list


def list_keyword_lists(session: Session) -> list[KeywordList]:
    return list(session.scalars(select(KeywordList).order_by(KeywordList.id)))


def add_terms(session: Session, actor: Actor, keyword_list: KeywordList, terms: Iterable[str]) -> int:
    """Add terms (a term that normalises to nothing is refused; duplicates skipped); returns how many."""
    wanted: dict[str, str] = {}
    for i, term in enumerate(terms):
        normalized = normalize_term(no_nul(term, f"terms.{i}"))
        if not normalized or len(term) > 500:
            raise InvalidInput(f"term {i + 1} is empty after normalisation or too long", field=f"terms.{i}")
        wanted.setdefault(normalized, term.strip())
    existing = set(
        session.scalars(select(KeywordTerm.normalized).where(KeywordTerm.list_id == keyword_list.id))
    )
    new = [
        KeywordTerm(list_id=keyword_list.id, term=t, normalized=n)
        for n, t in wanted.items()
        if n not in existing
    ]
    session.add_all(new)
    session.flush()
    audit.record(
        session, actor, "keyword_list.add", "keyword_list", str(keyword_list.id), {"added": len(new)}
    )
    return len(new)


def check_query(session: Session, query: str) -> list[QueryHit]:
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"a query is at most {MAX_QUERY_CHARS} characters", field="query")
    query_words = tokens(query)
    if not query_words:
        return []
    rows = session.execute(
        select(KeywordTerm.term, KeywordTerm.normalized, KeywordList)
        .join(KeywordList, KeywordList.id == KeywordTerm.list_id)
        .order_by(KeywordList.id, KeywordTerm.id)
    ).all()
    hits: list[QueryHit] = []
    seen_lists: set[int] = set()
    for term, normalized, keyword_list in rows:
        if keyword_list.id in seen_lists:
            continue
        if term_matches(normalized.split(), query_words):
            seen_lists.add(keyword_list.id)
            hits.append(
                QueryHit(
                    keyword_list.id,
                    keyword_list.name,
                    term,
                    keyword_list.message,
                    list(keyword_list.help_links),
                )
            )
    return hits
