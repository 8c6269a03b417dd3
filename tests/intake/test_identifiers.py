"""Normalisation: the same person's details compare equal, and only where providers treat them so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safeguard.intake.errors import InvalidIdentifier
from safeguard.intake.identifiers import (
    IdKind,
    extract,
    guess_kinds,
    ip_info,
    normalize_device,
    normalize_email,
    normalize_hash,
    normalize_phone,
    normalize_platform,
    username_variant,
)
from safeguard.intake.records import Account, Device, IpCapture, Referral, ReportedFile


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sam.Ple+chat@GoogleMail.com", "sample@gmail.com"),
        ("s.a.m.p.l.e@gmail.com", "sample@gmail.com"),
        ("T.Person+fn@outlook.com", "t.person@outlook.com"),  # Outlook: plus tags, but dots count
        ("first.last+x@example.org", "first.last+x@example.org"),  # unknown provider: kept as written
        ("  <Who@Example.ORG> ", "who@example.org"),
        ("mailto:a@icloud.com", "a@icloud.com"),
        ("user@bücher.example", "user@xn--bcher-kva.example"),
    ],
)
def test_email(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["no-at-sign", "a@b", "a b@c.de", "+tag@gmail.com"])
def test_bad_email(raw: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalize_email(raw)


@pytest.mark.parametrize(
    "raw", ["07700 900123", "+44 7700 900123", "0044 7700 900123", "(07700) 900-123", "+447700900123"]
)
def test_phone_spellings_meet(raw: str) -> None:
    assert normalize_phone(raw) == "+447700900123"


def test_phone_default_region_and_rejects() -> None:
    assert normalize_phone("(202) 555-0142", "US") == "+12025550142"
    assert normalize_phone("+1 202 555 0142", "GB") == "+12025550142"
    for bad in ("12", "call me", "+44 12"):
        with pytest.raises(InvalidIdentifier):
            normalize_phone(bad)


def test_ip_addresses() -> None:
    assert ip_info("203.0.113.7").key == "ip:203.0.113.7"
    assert ip_info("203.0.113.7:443").value == "203.0.113.7"
    assert ip_info("::ffff:203.0.113.7").value == "203.0.113.7"
    v6 = ip_info("[2001:db8:42:7:abcd::1]:443")
    assert v6.value == "2001:db8:42:7:abcd::1" and v6.key == "ip:2001:db8:42:7::/64"
    assert ip_info("2001:db8:42:7::99").key == v6.key  # same household /64
    assert "carrier-grade NAT" in (ip_info("100.64.0.1").unlinkable or "")
    assert "private" in (ip_info("192.168.1.10").unlinkable or "")
    assert ip_info("100.128.0.1").unlinkable is None  # just outside 100.64.0.0/10
    with pytest.raises(InvalidIdentifier):
        ip_info("300.1.1.1")


def test_username_variants() -> None:
    for raw in ("J0hn_Smith99", "john.smith", "JohnSmith2009", "j0hnsm1th", "@johnnsmith"):
        assert username_variant(raw) == "johnsmith", raw
    assert username_variant("Zoë-Smith") == "zoesmith"
    assert username_variant("jane") != username_variant("john")


def test_devices_hashes_platforms() -> None:
    assert normalize_device("IMEI", "35-209900-176148-1") == ("imei", "352099001761481")
    assert normalize_device("Advertising ID", "6D92-078A") == ("gaid", "6d92078a")
    assert normalize_device("toaster", "X1")[0] == "other"
    assert (
        normalize_hash(IdKind.md5, " 9E107D9D372BB6826BD81D3542A419D6 ") == "9e107d9d372bb6826bd81d3542a419d6"
    )
    with pytest.raises(InvalidIdentifier):
        normalize_hash(IdKind.pdq, "f" * 63)
    assert normalize_platform("www.Snapchat.com") == "snapchat"
    assert normalize_platform("Twitter") == "x"


def test_extract_marks_what_cannot_link() -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    referral = Referral(
        source="nca",
        external_id="X1",
        emails=("not-an-email",),
        phones=("07700 900123",),
        accounts=(Account("ExampleChat", account_id="42", screen_name="Ab1"),),
        ips=(IpCapture("100.64.1.1", at), IpCapture("198.51.100.1", None), IpCapture("198.51.100.2", at)),
        devices=(Device("IMEI", "35-209900-176148-1"),),
        files=(ReportedFile(md5="9e107d9d372bb6826bd81d3542a419d6", pdq="0" * 64),),
    )
    found = extract(referral)
    assert found.warnings == ["not an email address: 'not-an-email'"]
    by_kind = {(i.kind, i.value): i for i in found.identifiers}
    assert by_kind[(IdKind.account, "42")].key == "account:examplechat:42"
    assert by_kind[(IdKind.screen_name, "ab1")].key == "screen:examplechat:ab1"
    short = by_kind[(IdKind.username, "ab")]
    assert not short.linkable and "too common" in (short.note or "")
    assert not by_kind[(IdKind.ip, "100.64.1.1")].linkable
    untimed = by_kind[(IdKind.ip, "198.51.100.1")]
    assert not untimed.linkable and "capture time" in (untimed.note or "")
    assert by_kind[(IdKind.ip, "198.51.100.2")].linkable
    assert (IdKind.pdq, "0" * 64) in by_kind and (IdKind.phone, "+447700900123") in by_kind


def test_guess_kinds() -> None:
    assert guess_kinds("a@b.example")[0] is IdKind.email
    assert guess_kinds("203.0.113.7") == [IdKind.ip]
    assert IdKind.md5 in guess_kinds("9e107d9d372bb6826bd81d3542a419d6")
    assert {IdKind.pdq, IdKind.sha256} <= set(guess_kinds("f" * 64))
    assert IdKind.phone in guess_kinds("07700 900123")
    assert IdKind.screen_name in guess_kinds("sam_ple")
