"""Identifiers: extracted from a referral and normalised so the same person's details compare equal.

Each identifier has a ``kind``, a ``value`` (the normalised value a person reads and searches for) and a
``key`` (what linking compares: the value, qualified by platform where the value is only unique on one
platform). The rules are documented in docs/intake.md ("Identifiers"); the short version:

- **email**: trimmed, lower-cased (every large provider ignores case), the domain IDNA-encoded; for
  providers known to ignore them, ``+tags`` are dropped (Gmail, Outlook/Hotmail/Live, iCloud, Proton,
  Fastmail) and dots in the local part are dropped (Gmail only: ``googlemail.com`` is ``gmail.com``).
  Other providers' addresses are kept as written: a dot or plus may be significant there.
- **phone**: E.164 via ``phonenumbers``; numbers without a country code use the default region
  (``SAFEGUARD_INTAKE_DEFAULT_REGION``, ``GB``). Accepted when the number is *possible* (its length fits the
  country's plan); validity against allocated ranges is not required, because fictional and recycled
  numbers still link referrals.
- **ip**: IPv4 as written; IPv6 keyed by its /64 network (a home gets at least a /64; devices rotate the
  lower 64 bits); IPv4-mapped IPv6 becomes IPv4. Capture times are kept: linking compares addresses only
  within a time window. Carrier-grade NAT (100.64.0.0/10), private, loopback, link-local, multicast and
  reserved addresses are kept for the package but never link.
- **account / screen_name**: per platform (``account:snapchat:1234``); screen names compared without case
  and a leading ``@``.
- **username**: a *variant key* across platforms for weak evidence: accents and case folded, trailing
  digits, separators and leetspeak removed, repeated letters collapsed (``J0hn_Smith99`` ->
  ``johnsmith``; see ``username_variant``).
- **device**: kind (imei, idfa, gaid, android_id, serial, mac, other) and value without separators.
- **md5 / sha1 / sha256 / pdq**: lower-case hex of the right length.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

import phonenumbers

from safeguard.intake.errors import InvalidIdentifier
from safeguard.intake.records import Referral


class IdKind(StrEnum):
    email = "email"
    phone = "phone"
    account = "account"
    screen_name = "screen_name"
    username = "username"
    ip = "ip"
    device = "device"
    md5 = "md5"
    sha1 = "sha1"
    sha256 = "sha256"
    pdq = "pdq"


MEDIA_KINDS = frozenset({IdKind.md5, IdKind.sha1, IdKind.sha256, IdKind.pdq})


class Identifier(NamedTuple):
    # A NamedTuple rather than a dataclass: a referral has a dozen, and tuples are built in C.
    kind: IdKind
    value: str
    key: str
    platform: str | None = None
    at: datetime | None = None
    linkable: bool = True
    note: str | None = None  # why it does not link, or what was assumed


@dataclass(slots=True)
class Extraction:
    identifiers: list[Identifier] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --- platforms ---------------------------------------------------------------------------------------

_PLATFORM_ALIASES = {
    "twitter": "x",
    "xcom": "x",
    "fb": "facebook",
    "meta": "facebook",
    "ig": "instagram",
    "googlemail": "google",
    "gmail": "google",
    "youtube": "google",
    "hotmail": "microsoft",
    "outlook": "microsoft",
    "skype": "microsoft",
}


def normalize_platform(raw: str | None) -> str:
    """``Snapchat``, ``snapchat.com`` and ``www.Snapchat.com`` are all ``snapchat``."""
    if not raw:
        return "unknown"
    text = raw.strip().casefold()
    text = re.sub(r"^(https?://)?(www\.)?", "", text)
    text = re.sub(r"\.(com|net|org|co\.uk|io|me|app|gg|tv)(/.*)?$", "", text)
    text = re.sub(r"[^a-z0-9]+", "", text)
    return _PLATFORM_ALIASES.get(text, text) or "unknown"


# --- email -------------------------------------------------------------------------------------------

_DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
_DOTS_IGNORED = frozenset({"gmail.com"})
_PLUS_TAGS_IGNORED = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "live.co.uk",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "fastmail.com",
        "fastmail.fm",
    }
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


@lru_cache(maxsize=65536)
def normalize_email(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip().strip("<>").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    if not _EMAIL.match(text):
        raise InvalidIdentifier(f"not an email address: {raw!r}")
    local, domain = text.rsplit("@", 1)
    try:
        domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidIdentifier(f"not an email domain: {raw!r}") from None
    domain = _DOMAIN_ALIASES.get(domain, domain)
    local = local.casefold()
    if domain in _PLUS_TAGS_IGNORED:
        local = local.split("+", 1)[0]
    if domain in _DOTS_IGNORED:
        local = local.replace(".", "")
    if not local:
        raise InvalidIdentifier(f"not an email address: {raw!r}")
    return f"{local}@{domain}"


# --- phone -------------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)  # parsing costs ~50 µs and one person's number recurs across referrals
def normalize_phone(raw: str, default_region: str = "GB") -> str:
    try:
        number = phonenumbers.parse(raw, default_region.upper())
    except phonenumbers.NumberParseException:
        raise InvalidIdentifier(f"not a phone number: {raw!r}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentifier(f"not a possible phone number: {raw!r}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


# --- IP addresses ------------------------------------------------------------------------------------

CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Never linkable: they identify nobody across networks. Documentation ranges (192.0.2.0/24,
# 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are deliberately absent: they never appear in real
# referrals, and examples and tests need addresses that behave like public ones.
_UNLINKABLE_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = (
    (CGNAT, "carrier-grade NAT address (shared by many subscribers)"),
    (ipaddress.ip_network("10.0.0.0/8"), "private address"),
    (ipaddress.ip_network("172.16.0.0/12"), "private address"),
    (ipaddress.ip_network("192.168.0.0/16"), "private address"),
    (ipaddress.ip_network("127.0.0.0/8"), "loopback address"),
    (ipaddress.ip_network("169.254.0.0/16"), "link-local address"),
    (ipaddress.ip_network("0.0.0.0/8"), "unspecified address"),
    (ipaddress.ip_network("224.0.0.0/4"), "multicast address"),
    (ipaddress.ip_network("240.0.0.0/4"), "reserved address"),
    (ipaddress.ip_network("fc00::/7"), "private (unique local) address"),
    (ipaddress.ip_network("fe80::/10"), "link-local address"),
    (ipaddress.ip_network("::1/128"), "loopback address"),
    (ipaddress.ip_network("::/128"), "unspecified address"),
    (ipaddress.ip_network("ff00::/8"), "multicast address"),
)
IPV6_LINK_PREFIX = 64


@dataclass(frozen=True, slots=True)
class IpInfo:
    value: str  # the address, canonical text
    key: str  # what linking compares: the IPv4 address or the IPv6 /64
    unlinkable: str | None  # why it never links, or None


def parse_ip(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    text = raw.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1 and "." in text:  # 203.0.113.5:443
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise InvalidIdentifier(f"not an IP address: {raw!r}") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=65536)
def ip_info(raw: str) -> IpInfo:
    address = parse_ip(raw)
    reason = next((why for net, why in _UNLINKABLE_NETWORKS if address in net), None)
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((address, IPV6_LINK_PREFIX), strict=False)
        return IpInfo(str(address), f"ip:{network}", reason)
    return IpInfo(str(address), f"ip:{address}", reason)


# --- usernames ---------------------------------------------------------------------------------------

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)


def fold(text: str) -> str:
    """Case and accents folded: ``Zoë`` -> ``zoe``."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_screen_name(raw: str) -> str:
    name = fold(raw).strip().lstrip("@").strip()
    if not name:
        raise InvalidIdentifier(f"empty screen name: {raw!r}")
    return name


def username_variant(raw: str) -> str:
    """The key under which spelling variants of one username meet.

    ``J0hn_Smith99``, ``john.smith``, ``JohnSmith2009`` and ``j0hnsm1th`` all give ``johnsmith``: trailing
    digits and separators (years, counters) are removed first, then digits inside the name are read as
    leetspeak (``0``->o, ``1``->i, ``3``->e, ``4``->a, ``5``->s, ``7``->t), everything but letters goes and
    runs of one letter collapse (``jonnny`` -> ``jony``).
    """
    name = fold(raw).strip().lstrip("@")
    name = re.sub(r"[\d_.\-\s]+$", "", name)
    name = name.translate(_LEET)
    name = re.sub(r"[^a-z]", "", name)
    return re.sub(r"(.)\1+", r"\1", name)


# --- devices and hashes ------------------------------------------------------------------------------

_DEVICE_KINDS = {
    "imei": "imei",
    "meid": "meid",
    "idfa": "idfa",
    "idfv": "idfv",
    "gaid": "gaid",
    "aaid": "gaid",
    "advertisingid": "gaid",
    "androidid": "android_id",
    "serial": "serial",
    "serialnumber": "serial",
    "mac": "mac",
    "macaddress": "mac",
}
_HEX_LENGTHS = {IdKind.md5: 32, IdKind.sha1: 40, IdKind.sha256: 64, IdKind.pdq: 64}
_HEX = re.compile(r"^[0-9a-f]+$")


def normalize_device(kind: str, value: str) -> tuple[str, str]:
    device_kind = _DEVICE_KINDS.get(re.sub(r"[^a-z]", "", kind.casefold()), "other")
    device_value = re.sub(r"[\s:\-]", "", value).casefold()
    if not device_value:
        raise InvalidIdentifier(f"empty device id of kind {kind!r}")
    return device_kind, device_value


def normalize_hash(kind: IdKind, value: str) -> str:
    text = value.strip().lower()
    if len(text) != _HEX_LENGTHS[kind] or not _HEX.match(text):
        raise InvalidIdentifier(
            f"not a {kind.value.upper()} hash ({_HEX_LENGTHS[kind]} hex digits): {value!r}"
        )
    return text


# --- extraction --------------------------------------------------------------------------------------


def extract(referral: Referral, default_region: str = "GB", *, min_username_key: int = 5) -> Extraction:
    """Every identifier of a referral, normalised; values that cannot be normalised become warnings."""
    out = Extraction()
    seen: set[tuple[str, str, datetime | None]] = set()

    def add(identifier: Identifier) -> None:
        marker = (identifier.kind.value, identifier.key, identifier.at)
        if marker not in seen:
            seen.add(marker)
            out.identifiers.append(identifier)

    for raw in referral.emails:
        try:
            email = normalize_email(raw)
        except InvalidIdentifier as exc:
            out.warnings.append(exc.detail)
            continue
        add(Identifier(IdKind.email, email, f"email:{email}"))
    for raw in referral.phones:
        try:
            phone = normalize_phone(raw, default_region)
        except InvalidIdentifier as exc:
            out.warnings.append(exc.detail)
            continue
        add(Identifier(IdKind.phone, phone, f"phone:{phone}"))
    for account in referral.accounts:
        platform = normalize_platform(account.platform or referral.platform)
        if account.account_id and account.account_id.strip():
            account_id = account.account_id.strip()
            add(Identifier(IdKind.account, account_id, f"account:{platform}:{account_id}", platform))
        if account.screen_name and account.screen_name.strip():
            name = normalize_screen_name(account.screen_name)
            add(Identifier(IdKind.screen_name, name, f"screen:{platform}:{name}", platform))
            variant = username_variant(account.screen_name)
            short = len(variant) < min_username_key
            note = (
                f"variant key shorter than {min_username_key} letters: too common to link" if short else None
            )
            add(Identifier(IdKind.username, variant or name, f"user:{variant}", None, None, not short, note))
    for capture in referral.ips:
        try:
            info = ip_info(capture.address)
        except InvalidIdentifier as exc:
            out.warnings.append(exc.detail)
            continue
        note = info.unlinkable
        if note is None and capture.at is None:
            note = "no capture time: an address without a time cannot be attributed"
        add(Identifier(IdKind.ip, info.value, info.key, None, capture.at, note is None, note))
    for device in referral.devices:
        try:
            kind, value = normalize_device(device.kind, device.value)
        except InvalidIdentifier as exc:
            out.warnings.append(exc.detail)
            continue
        add(Identifier(IdKind.device, value, f"device:{kind}:{value}", None, device.at))
    for file in referral.files:
        for kind, raw_hash in (
            (IdKind.md5, file.md5),
            (IdKind.sha1, file.sha1),
            (IdKind.sha256, file.sha256),
            (IdKind.pdq, file.pdq),
        ):
            if raw_hash:
                value = normalize_hash(kind, raw_hash)
                add(Identifier(kind, value, f"{kind.value}:{value}"))
    return out


def guess_kinds(value: str) -> list[IdKind]:
    """Which identifier kinds a bare search value could be (most specific first)."""
    text = value.strip()
    kinds: list[IdKind] = []
    if "@" in text.strip("@") and _EMAIL.match(text):
        kinds.append(IdKind.email)
    try:
        parse_ip(text)
        kinds.append(IdKind.ip)
    except InvalidIdentifier:
        pass
    lowered = text.lower()
    if _HEX.match(lowered):
        kinds.extend(kind for kind, length in _HEX_LENGTHS.items() if len(lowered) == length)
    if IdKind.ip not in kinds and re.fullmatch(r"\+?[\d\s().\-]{6,}", text):
        kinds.append(IdKind.phone)
    if IdKind.email not in kinds and IdKind.ip not in kinds:
        kinds.extend([IdKind.screen_name, IdKind.account, IdKind.device, IdKind.username])
    return kinds


def normalize_value(kind: IdKind, value: str, default_region: str = "GB") -> str:
    """A search value normalised the way imported identifiers are (``value``, not ``key``)."""
    if kind is IdKind.email:
        return normalize_email(value)
    if kind is IdKind.phone:
        return normalize_phone(value, default_region)
    if kind is IdKind.ip:
        return ip_info(value).value
    if kind is IdKind.screen_name:
        return normalize_screen_name(value)
    if kind is IdKind.username:
        return username_variant(value)
    if kind is IdKind.device:
        return normalize_device("other", value)[1]
    if kind in MEDIA_KINDS:
        return normalize_hash(kind, value)
    text = value.strip()
    if not text:
        raise InvalidIdentifier("empty account id")
    return text
