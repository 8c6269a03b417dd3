"""Synthetic referrals with planted ground-truth suspects, for the linking bench, tests and demos.

Nothing here resembles a real person, and every identifier is from a range reserved so that it reaches no one:
names are made of syllables; email domains are ``.example`` and ``.test`` (RFC 2606 / 6761); IP addresses are
the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 of RFC 5737 and 2001:db8::/32 of
RFC 3849) or carrier-grade NAT space (100.64.0.0/10, RFC 6598, never routed on the internet); phone numbers
are Ofcom's drama numbers (07700 900000-900999 and the other ranges Ofcom keeps for fiction), so at most
10,000 suspects (by index) get one; device ids are IMEIs with the test reporting-body prefix ``00``; hashes
are random bits. The noise is the kind that makes linking hard:

- several emails per person, linked only through a phone or an account, some written in capitals;
- phone numbers written every way people write them;
- screen names that vary by platform (``j0hn_smith99``, ``JohnSmith``), and common names several strangers
  share;
- mobile captures from carrier NAT pools: addresses reused by many strangers, and 100.64.0.0/10;
- households: one home IP used by two different suspects;
- viral media: the same images (and near-duplicates under PDQ) re-reported from many unrelated people.

``hard=False`` leaves out the strangers' collisions (shared names, households, NAT pools, viral media).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from safeguard.intake.records import Account, Device, Indicator, IpCapture, Location, Referral, ReportedFile

PLATFORMS = ("examplechat", "photoshare", "clipvideo", "gamerlink", "friendsnet", "snapmoment")
PROVIDERS = ("mail.example", "post.example", "inbox.test", "chat.example", "webmail.test", "example.org")
# Ofcom's numbers for TV and radio drama (national significant numbers, without the trunk 0): each range
# is 1,000 numbers that will never be allocated to anyone.
DRAMA_PHONE_RANGES = (
    "7700900",  # mobile 07700 900xxx
    "2079460",  # London 020 7946 0xxx
    "1134960",  # Leeds 0113 496 0xxx
    "1144960",  # Sheffield
    "1154960",  # Nottingham
    "1164960",  # Leicester
    "1174960",  # Bristol
    "1184960",  # Reading
    "1214960",  # Birmingham
    "1314960",  # Edinburgh
    "1414960",  # Glasgow
    "1514960",  # Liverpool
    "1614960",  # Manchester
    "1914980",  # Tyneside 0191 498 0xxx
    "2920180",  # Cardiff 029 2018 0xxx
    "1632960",  # no area, 01632 960xxx
    "8081570",  # freephone 08081 570xxx
    "3069990",  # UK-wide 03069 990xxx
    "2896496",  # Northern Ireland 028 9649 6xxx
    "9098790",  # premium rate 0909 879 0xxx
)
DRAMA_PHONES = tuple(f"{prefix}{n:03d}" for prefix in DRAMA_PHONE_RANGES for n in range(1000))
DOCUMENTATION_V4 = tuple(
    f"{net}.{host}" for net in ("192.0.2", "198.51.100", "203.0.113") for host in range(1, 255)
)
SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ren",
    "tor",
    "vel",
    "sha",
    "dun",
    "bra",
    "kel",
    "mor",
    "zan",
    "fi",
    "gor",
    "lin",
)
COMMON_NAMES = ("shadow", "gamer", "dragon", "hunter", "player")
POSTCODES = (
    "G1 1AA",
    "G42 8AB",
    "EH1 1YZ",
    "KY16 9AJ",
    "AB10 1AA",
    "DD1 4HN",
    "PA1 1AA",
    "IV2 3BH",
    "ML1 1AA",
)
START = datetime(2021, 4, 1, tzinfo=UTC)
SPAN_DAYS = 3 * 365


@dataclass(slots=True)
class Person:
    index: int
    base: str
    emails: list[str]
    phones: list[str]
    accounts: dict[str, tuple[str, str]]  # platform -> (account id, screen name)
    home_ip: str
    postcode: str
    own_media: list[str]
    device: str | None
    start: datetime
    risk: tuple[str, ...] = ()


@dataclass(slots=True)
class Dataset:
    referrals: list[Referral] = field(default_factory=list)
    truth: list[int] = field(default_factory=list)  # person index per referral


def _bits(rng: random.Random) -> int:
    return rng.getrandbits(256)


def _hex(value: int) -> str:
    return f"{value:064x}"


def _flip(rng: random.Random, value: int, bits: int) -> int:
    for position in rng.sample(range(256), bits):
        value ^= 1 << position
    return value


def _username(rng: random.Random, base: str, hard: bool) -> str:
    style = rng.randrange(6 if hard else 3)
    if style == 0:
        return base
    if style == 1:
        return f"{base}{rng.randrange(1, 100)}"
    if style == 2:
        return f"{base[: len(base) // 2]}_{base[len(base) // 2 :]}"
    if style == 3:
        return base.replace("o", "0").replace("i", "1").replace("e", "3") + str(rng.randrange(1990, 2010))
    if style == 4:
        return base.capitalize() + "." + str(rng.randrange(10))
    return "_" + base.upper() + "_"


def _email(rng: random.Random, base: str, n: int) -> str:
    provider = PROVIDERS[rng.randrange(len(PROVIDERS))]
    return f"{base}{n}{rng.randrange(1000)}@{provider}"


def _spell_email(rng: random.Random, email: str, hard: bool) -> str:
    if not hard or rng.random() < 0.5:
        return email
    return email.upper() if rng.random() < 0.5 else email.capitalize()


def _spell_phone(rng: random.Random, national: str) -> str:
    # national: the ten digits after the 0 trunk prefix (one of Ofcom's drama numbers)
    digits = national
    return rng.choice(
        (
            f"0{digits}",
            f"+44{digits}",
            f"+44 {digits[:4]} {digits[4:]}",
            f"0044{digits}",
            f"0{digits[:4]}-{digits[4:]}",
        )
    )


def _home_ip(rng: random.Random, index: int) -> str:
    # One documentation-range IPv6 address per suspect index, so chunks generated apart never collide.
    return f"2001:db8:{(index >> 16) & 0xFFFF:x}:{index & 0xFFFF:x}::{rng.randrange(1, 0xFFFF):x}"


def _nat_address(rng: random.Random, n: int) -> str:
    # The IPv4 documentation ranges first (762 addresses), then documentation IPv6 for a larger pool.
    if n < len(DOCUMENTATION_V4):
        return DOCUMENTATION_V4[n]
    return f"2001:db8:fffe:{n >> 16 & 0xFFFF:x}:{n & 0xFFFF:x}::{rng.randrange(1, 0xFFFF):x}"


def _phones(rng: random.Random, index: int) -> list[str]:
    # Two drama numbers belong to each suspect index that has any, so no two suspects share one (a shared
    # number would be a true link) however the set is generated; later suspects have none.
    count = rng.choice((0, 1, 1, 2))
    if 2 * index + 1 >= len(DRAMA_PHONES):
        return []
    return [DRAMA_PHONES[2 * index], DRAMA_PHONES[2 * index + 1]][:count]


@dataclass(frozen=True, slots=True)
class World:
    """What unrelated people share: the viral images going round and the carrier NAT pool's addresses.
    Pass one world to several ``generate`` calls to build a large set in chunks."""

    viral: tuple[int, ...]
    nat_pool: tuple[str, ...]

    @classmethod
    def make(cls, suspects: int, seed: int = 7) -> World:
        rng = random.Random(seed * 7919 + 1)
        viral = tuple(_bits(rng) for _ in range(max(20, suspects // 50)))
        return cls(viral, tuple(_nat_address(rng, n) for n in range(max(50, suspects // 40))))


def generate(
    suspects: int,
    *,
    seed: int = 7,
    hard: bool = True,
    mean_referrals: float = 3.0,
    start_index: int = 0,
    world: World | None = None,
) -> Dataset:
    """About ``suspects * mean_referrals`` referrals; ``truth[i]`` is the person behind referral ``i``."""
    rng = random.Random(seed)
    world = world or World.make(suspects, seed)
    viral = list(world.viral)
    nat_pool = list(world.nat_pool)
    taken: set[tuple[str, str]] = set()
    people = [_person(rng, start_index + i, hard, taken) for i in range(suspects)]
    if hard:  # households: pairs of suspects behind one home address
        for a in range(0, len(people) - 1, 40):
            people[a + 1].home_ip = people[a].home_ip
    data = Dataset()
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(viral))]
    p_more = 1 - 1 / mean_referrals
    for person in people:
        count = 1
        while rng.random() < p_more and count < 80:
            count += 1
        when = person.start
        for n in range(count):
            when += timedelta(hours=rng.expovariate(1 / (24 * 12)))
            data.referrals.append(_referral(rng, person, n, when, hard, viral, weights, nat_pool))
            data.truth.append(person.index)
    order = list(range(len(data.referrals)))
    rng.shuffle(order)  # referrals arrive interleaved, not person by person
    data.referrals = [data.referrals[i] for i in order]
    data.truth = [data.truth[i] for i in order]
    return data


def _person(rng: random.Random, index: int, hard: bool, taken: set[tuple[str, str]]) -> Person:
    if hard and rng.random() < 0.03:
        base = rng.choice(COMMON_NAMES)
    else:
        base = "".join(rng.choice(SYLLABLES) for _ in range(3)) + str(index)
    platforms = rng.sample(PLATFORMS, rng.randint(1, 3))
    accounts = {}
    for platform in platforms:
        name = _username(rng, base, hard)
        while (platform, name.casefold()) in taken:  # a screen name is unique on its platform
            name = f"{name}{rng.randrange(10)}"
        taken.add((platform, name.casefold()))
        accounts[platform] = (f"{index}{rng.randrange(10**6):06d}", name)
    phones = _phones(rng, index)
    risk = tuple(
        i.value
        for i, p in (
            (Indicator.grooming, 0.15),
            (Indicator.sextortion, 0.05),
            (Indicator.arranging_to_meet, 0.03),
            (Indicator.access_to_children, 0.04),
            (Indicator.contact_offending, 0.02),
        )
        if rng.random() < p
    )
    return Person(
        index=index,
        base=base,
        emails=[_email(rng, base, n) for n in range(rng.randint(1, 4))],
        phones=phones,
        accounts=accounts,
        home_ip=_home_ip(rng, index),
        postcode=rng.choice(POSTCODES),
        own_media=[_hex(_bits(rng)) for _ in range(rng.randint(0, 4))],
        device=f"00{rng.randrange(10**13):013d}" if rng.random() < 0.3 else None,
        start=START + timedelta(days=rng.uniform(0, SPAN_DAYS - 60)),
        risk=risk,
    )


def _referral(
    rng: random.Random,
    person: Person,
    n: int,
    when: datetime,
    hard: bool,
    viral: list[int],
    weights: list[float],
    nat_pool: list[str],
) -> Referral:
    platform = rng.choice(list(person.accounts))
    account_id, screen_name = person.accounts[platform]
    emails = [_spell_email(rng, rng.choice(person.emails), hard)] if rng.random() < 0.7 else []
    phones = [_spell_phone(rng, rng.choice(person.phones))] if person.phones and rng.random() < 0.5 else []
    ips = []
    for _ in range(rng.randint(1, 3)):
        at = when - timedelta(hours=rng.uniform(0, 48))
        roll = rng.random()
        if roll < 0.55 or not hard:
            ips.append(IpCapture(person.home_ip, at, "Login"))
        elif roll < 0.8:
            ips.append(IpCapture(rng.choice(nat_pool), at, "Login"))
        else:
            ips.append(
                IpCapture(
                    f"100.{rng.randrange(64, 128)}.{rng.randrange(256)}.{rng.randrange(256)}", at, "Upload"
                )
            )
    files = []
    for _ in range(rng.randint(0, 3)):
        if hard and rng.random() < 0.4:
            value = rng.choices(viral, weights)[0]
            copy = _flip(rng, value, rng.randrange(0, 8))
            md5 = f"{value & ((1 << 128) - 1):032x}" if rng.random() < 0.5 else None
            files.append(
                ReportedFile(md5=md5, pdq=_hex(copy), classification=rng.choice(("A1", "A2", "B1", "B2")))
            )
        elif person.own_media:
            value = int(rng.choice(person.own_media), 16)
            files.append(
                ReportedFile(pdq=_hex(_flip(rng, value, rng.randrange(0, 6))), category=rng.choice("ABC"))
            )
    devices = (Device("IMEI", person.device, when),) if person.device and rng.random() < 0.3 else ()
    return Referral(
        source=rng.choice(("ncmec", "ncmec", "nca", "hotline")),
        external_id=f"SYN-{person.index}-{n}",
        received_at=when + timedelta(days=rng.uniform(1, 20)),
        incident_type="Child Pornography (possession, manufacture, and distribution)",
        incident_at=when,
        platform=platform,
        reporter=platform.capitalize(),
        emails=tuple(emails),
        phones=tuple(phones),
        accounts=(Account(platform, account_id, screen_name),),
        ips=tuple(ips),
        devices=devices,
        files=tuple(files),
        locations=(Location(postcode=person.postcode),) if rng.random() < 0.4 else (),
        indicators=tuple(i for i in person.risk if rng.random() < 0.6),
    )


def pairwise_scores(predicted: list[int], truth: list[int]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of a clustering against the truth (pairs of referrals)."""
    from collections import Counter

    def pairs(counts: Counter[object]) -> int:
        return sum(c * (c - 1) // 2 for c in counts.values())

    together = pairs(Counter(zip(predicted, truth, strict=True)))
    predicted_pairs = pairs(Counter(predicted))
    truth_pairs = pairs(Counter(truth))
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / truth_pairs if truth_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
