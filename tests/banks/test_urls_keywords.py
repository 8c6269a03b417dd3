"""URL normalisation and matching; keyword matching through obfuscations."""

from __future__ import annotations

import pytest

from safeguard.auth import Actor
from safeguard.banks import keywords, urls
from safeguard.banks.errors import ImportRejected, InvalidUrl
from safeguard.store.db import Database

ACTOR = Actor.system("tests")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://Example.COM/a/b", "https://example.com/a/b"),
        ("https://www.example.com:443/a", "example.com/a"),
        ("http://example.com./a/", "http://example.com/a"),
        ("http://example.com/%7Euser/%e2%82%ac", "http://example.com/~user/%E2%82%AC"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/a?utm_source=x&b=2&a=1&fbclid=y#frag", "http://example.com/a?a=1&b=2"),
        ("http://user:pw@example.com//a//b", "http://example.com/a/b"),
        ("http://bücher.example/x", "http://xn--bcher-kva.example/x"),
    ],
)
def test_normalisation_equates_spellings(a: str, b: str) -> None:
    assert urls.normalize_url(a).key == urls.normalize_url(b).key


def test_normalisation_keeps_what_matters() -> None:
    assert urls.normalize_url("http://example.com:8080/a").key == "example.com:8080/a"
    assert urls.normalize_url("http://example.com/A").key != urls.normalize_url("http://example.com/a").key
    for bad in ("ftp://example.com/x", "javascript:alert(1)", "http://", "x" * 3000):
        with pytest.raises(InvalidUrl):
            urls.normalize_url(bad)


def test_url_list_matching(db: Database) -> None:
    with db.session() as session:
        url_list = urls.create_url_list(session, ACTOR, name="iwf", source="IWF")
        lines = [
            "url,match,label",
            "http://bad.example/gallery/123.jpg",
            "evil.example,host,whole site",
            "https://host.example/private/,prefix,folder",
        ]
        assert urls.add_url_entries(session, ACTOR, url_list, urls.parse_url_lines(lines)) == 3
        assert urls.add_url_entries(session, ACTOR, url_list, urls.parse_url_lines(lines)) == 0
        with pytest.raises(ImportRejected, match="entry 2"):
            urls.add_url_entries(
                session, ACTOR, url_list, [urls.UrlEntryIn("a.example"), urls.UrlEntryIn("ftp://x")]
            )

    def kinds(url: str) -> list[str]:
        with db.read_session() as session:
            return [m.match for m in urls.match_url(session, url)[1]]

    assert kinds("HTTPS://WWW.bad.example/gallery/123.jpg?utm_campaign=z") == ["exact"]
    assert kinds("http://bad.example/gallery/124.jpg") == []
    assert kinds("http://cdn.evil.example/anything") == ["host"]
    assert kinds("http://notevil.example/") == []
    assert kinds("http://host.example/private/a/b.png") == ["prefix"]
    assert kinds("http://host.example/private") == ["prefix"]
    assert kinds("http://host.example/privateer/x") == []


@pytest.mark.parametrize(
    "query",
    [
        "forbidden phrase",
        "F0RB1DD3N  phr4se",
        "f o r b i d d e n phrase",
        "forbiddddden phraaase",
        "forbiddenphrase",
        "where to find forbidden-phrase pics",
    ],
)
def test_keyword_obfuscations_match(query: str) -> None:
    assert keywords.term_matches(keywords.tokens("forbidden phrase"), keywords.tokens(query))


@pytest.mark.parametrize("query", ["forbidden", "phrase forbidden", "unforbidden phrases", "something else"])
def test_keyword_non_matches(query: str) -> None:
    assert not keywords.term_matches(keywords.tokens("forbidden phrase"), keywords.tokens(query))


def test_check_query_returns_message_and_links(db: Database) -> None:
    with db.session() as session:
        kl = keywords.create_keyword_list(
            session,
            ACTOR,
            name="deterrence",
            message="This search may be illegal.",
            help_links=[keywords.HelpLink("Stop It Now", "https://www.stopitnow.org.uk/")],
        )
        assert (
            keywords.add_terms(session, ACTOR, kl, ["forbidden phrase", "F0rbidden  Phrase", "zzword"]) == 2
        )
    with db.read_session() as session:
        hits = keywords.check_query(session, "ZZW0RD")
        assert [(h.list_name, h.term, h.message) for h in hits] == [
            ("deterrence", "zzword", "This search may be illegal.")
        ]
        assert hits[0].help_links == [{"title": "Stop It Now", "url": "https://www.stopitnow.org.uk/"}]
        assert keywords.check_query(session, "harmless search") == []
