"""Each link rule, its weight and its explanation; shared identifiers; analysts' splits and merges;
deconfliction. All on the in-memory linker (the database-backed path is tested in test_service.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from safeguard.intake.config import LinkConfig
from safeguard.intake.identifiers import extract
from safeguard.intake.linking import Linker, LinkOutcome, Rule, link_item
from safeguard.intake.records import Account, Device, IpCapture, Referral, ReportedFile
from safeguard.intake.synthetic import generate, pairwise_scores

T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)


def pdq(seed: int, flips: int = 0) -> str:
    rng = random.Random(seed)
    value = rng.getrandbits(256)
    for bit in random.Random(seed + 1000 + flips).sample(range(256), flips):
        value ^= 1 << bit
    return f"{value:064x}"


@dataclass
class Harness:
    config: LinkConfig = field(default_factory=LinkConfig)
    linker: Linker = field(init=False)
    count: int = 0

    def __post_init__(self) -> None:
        self.linker = Linker(self.config)

    def add(self, **values: object) -> LinkOutcome:
        self.count += 1
        referral = Referral(source="nca", external_id=f"R{self.count}", **values)  # type: ignore[arg-type]
        return self.linker.add(link_item(self.count, extract(referral).identifiers, self.config))

    def same(self, a: int, b: int) -> bool:
        return self.linker.state.cluster(a) == self.linker.state.cluster(b)


def ip(address: str, hours: float = 0) -> IpCapture:
    return IpCapture(address, T0 + timedelta(hours=hours))


def rules(outcome: LinkOutcome) -> set[Rule]:
    return {e.rule for link in outcome.links for e in link.evidence}


def test_strong_rules_merge_alone_and_say_why() -> None:
    h = Harness()
    h.add(emails=("Sam.Ple+x@gmail.com",), accounts=(Account("chat", account_id="1"),))
    out = h.add(emails=("sample@googlemail.com",))
    assert h.same(1, 2) and rules(out) == {Rule.same_email}
    assert out.links[0].evidence[0].explanation == "same email address sample@gmail.com"
    out = h.add(phones=("07700 900123",), accounts=(Account("chat", account_id="1"),))
    assert h.same(1, 3) and "same account id 1 on chat" in out.links[0].evidence[0].explanation
    out = h.add(phones=("+44 7700 900123",))
    assert h.same(1, 4) and out.links[0].evidence[0].explanation == "same phone number +447700900123"
    out = h.add(accounts=(Account("Chat.com", screen_name="@Sam_P"),))
    h.add(accounts=(Account("chat", screen_name="sam_p"),))
    assert h.same(5, 6) and not h.same(1, 5)
    assert (
        "same screen name sam_p on chat"
        in h.linker.state.links[h.linker.state.cluster(6)][0].evidence[0].explanation
    )
    # the same account id on another platform is someone else
    h.add(accounts=(Account("photos", account_id="1"),))
    assert not h.same(1, 7)


def test_one_medium_is_not_enough_two_are() -> None:
    h = Harness()
    h.add(ips=(ip("198.51.100.7"),), emails=("a@example.org",))
    out = h.add(ips=(ip("198.51.100.7", 5),), emails=("b@example.org",))
    assert not h.same(1, 2) and out.merged == []
    pending = h.linker.state.pair_evidence(h.linker.state.cluster(1), h.linker.state.cluster(2))
    (evidence,) = pending.values()
    assert evidence.rule is Rule.same_ip and evidence.weight == 0.6
    assert evidence.explanation == "same IP address 198.51.100.7 used 5.0 h apart"
    # a device in common as well: 0.6 + 0.6 >= 1.0
    h.add(ips=(ip("198.51.100.8"),), devices=(Device("imei", "111"),))
    out = h.add(ips=(ip("198.51.100.8", 1),), devices=(Device("IMEI", "1-1-1"),))
    assert h.same(3, 4) and rules(out) == {Rule.same_ip, Rule.same_device}


def test_ip_window_and_addresses_that_never_link() -> None:
    h = Harness()
    h.add(ips=(ip("198.51.100.7"),), accounts=(Account("a", screen_name="zebraking"),))
    h.add(ips=(ip("198.51.100.7", 24 * 10),), accounts=(Account("b", screen_name="zebra_king"),))
    assert not h.same(1, 2)  # ten days apart: outside the 72 h window, and weak evidence alone
    h.add(ips=(ip("100.64.3.3"),), accounts=(Account("a", screen_name="lionqueen"),))
    h.add(ips=(ip("100.64.3.3", 1),), accounts=(Account("b", screen_name="lion.queen"),))
    assert not h.same(3, 4)  # carrier-grade NAT never links
    shared = Harness(LinkConfig(shared_networks=("198.18.0.0/15",)))
    shared.add(ips=(ip("198.18.1.1"),), accounts=(Account("a", screen_name="tigerlord"),))
    shared.add(ips=(ip("198.18.1.1", 1),), accounts=(Account("b", screen_name="tiger_lord"),))
    assert not shared.same(1, 2)  # configured shared network (a proxy, a VPN exit)


def test_medium_plus_weak_merges_weak_alone_never() -> None:
    h = Harness()
    h.add(ips=(ip("198.51.100.9"),), accounts=(Account("a", screen_name="J0hn_Smith99"),))
    out = h.add(ips=(ip("198.51.100.9", 2),), accounts=(Account("b", screen_name="johnsmith"),))
    assert h.same(1, 2) and rules(out) == {Rule.same_ip, Rule.similar_username}
    weak = next(e for e in out.links[0].evidence if e.rule is Rule.similar_username)
    assert weak.explanation == "similar usernames (variant key 'johnsmith')"
    h.add(accounts=(Account("c", screen_name="max_power"), Account("d", screen_name="maxpower1")))
    h.add(accounts=(Account("e", screen_name="m4xpower"), Account("f", screen_name="Max.Power")))
    assert not h.same(3, 4)  # however much weak evidence, it stays below the threshold


def test_address_seen_for_many_strangers_stops_counting() -> None:
    h = Harness()
    for n in range(5):  # five strangers behind one public address (a café, a carrier NAT pool)
        h.add(
            ips=(ip("192.0.2.50", n),),
            emails=(f"stranger{n}@example.org",),
            devices=(Device("imei", f"9{n}"),),
        )
    assert "ip:192.0.2.50" in h.linker.state.shared
    # a later pair sharing the address and a second medium link does not merge on the shared address
    h.add(ips=(ip("192.0.2.50", 6),), files=(ReportedFile(md5="a" * 32),), emails=("x@example.org",))
    h.add(ips=(ip("192.0.2.50", 7),), files=(ReportedFile(md5="a" * 32),), emails=("y@example.org",))
    assert not h.same(6, 7)
    pending = h.linker.state.pair_evidence(h.linker.state.cluster(6), h.linker.state.cluster(7))
    assert {e.rule for e in pending.values()} == {Rule.same_media}  # the address was not counted


def test_household_ip_shared_by_two_suspects_does_not_merge_them() -> None:
    h = Harness()
    for n, person in enumerate(("alice", "bob", "alice", "bob")):
        h.add(ips=(ip("203.0.113.80", n),), emails=(f"{person}@example.org",))
    assert h.same(1, 3) and h.same(2, 4) and not h.same(1, 2)


def test_viral_media_does_not_link_the_people_who_shared_it() -> None:
    h = Harness()
    for n in range(6):  # six unrelated people re-report the same image (re-encoded copies)
        h.add(files=(ReportedFile(pdq=pdq(1, flips=n)),), emails=(f"p{n}@example.org",))
    clusters = {h.linker.state.cluster(n) for n in range(1, 7)}
    assert len(clusters) == 6
    assert f"media:pdq:{pdq(1, flips=0)}" in h.linker.state.shared
    # even with a second shared image and an IP window in common, viral media adds nothing
    h.add(files=(ReportedFile(pdq=pdq(1, flips=3)),), ips=(ip("198.51.100.60"),), emails=("q1@example.org",))
    h.add(
        files=(ReportedFile(pdq=pdq(1, flips=5)),), ips=(ip("198.51.100.60", 1),), emails=("q2@example.org",)
    )
    assert not h.same(7, 8)


def test_media_in_common_is_capped_but_adds_to_other_evidence() -> None:
    h = Harness()
    private = [pdq(50 + n) for n in range(3)]
    h.add(files=tuple(ReportedFile(pdq=p) for p in private), emails=("one@example.org",))
    out = h.add(files=tuple(ReportedFile(pdq=p) for p in private), emails=("two@example.org",))
    assert not h.same(1, 2)  # three images in common: connected (traded?), not proven one person
    pending = h.linker.state.pair_evidence(h.linker.state.cluster(1), h.linker.state.cluster(2))
    assert {e.rule for e in pending.values()} == {Rule.same_media} and len(pending) == 3
    assert "PDQ-matched media (0 of 256 bits differ)" in {e.explanation for e in pending.values()}
    out = h.add(files=(ReportedFile(pdq=pdq(60)),), ips=(ip("198.51.100.99"),), emails=("three@example.org",))
    out = h.add(
        files=(ReportedFile(pdq=pdq(60, flips=4)),), ips=(ip("198.51.100.99", 3),), emails=("4@x.org",)
    )
    assert h.same(3, 4) and rules(out) == {Rule.same_media, Rule.same_ip}


def test_evidence_accumulates_across_referrals_and_merges() -> None:
    h = Harness()
    h.add(emails=("a@example.org",), ips=(ip("198.51.100.1"),))
    h.add(emails=("b@example.org",), ips=(ip("198.51.100.1", 1),))  # 0.6 between them: pending
    assert not h.same(1, 2)
    out = h.add(emails=("b@example.org",), devices=(Device("imei", "777"),))  # joins 2 (email)
    assert h.same(2, 3) and not h.same(1, 3)
    out = h.add(emails=("a@example.org",), devices=(Device("imei", "777"),))  # joins 1; device meets 3's
    assert h.same(1, 4) and h.same(1, 2)  # ip (1-2) + device (4-3) carried over: 1.2 >= 1.0
    assert {Rule.same_email, Rule.same_device, Rule.same_ip} <= rules(out)


def test_analyst_split_is_respected_by_later_linking() -> None:
    h = Harness()
    h.add(emails=("shared@example.org",), phones=("07700 900001",))
    h.add(emails=("shared@example.org",), phones=("07700 900002",))
    assert h.same(1, 2)
    new = h.linker.split(h.linker.state.cluster(1), [2], actor="analyst1", reason="sibling's account")
    assert h.linker.state.cluster(2) == new and not h.same(1, 2)
    out = h.add(phones=("07700 900001", "07700 900002"))  # strong evidence to both sides
    assert h.same(1, 3) != h.same(2, 3)
    assert any("split these suspects apart" in held.reason for held in out.held)
    kept, _gone = h.linker.merge(
        h.linker.state.cluster(1), h.linker.state.cluster(2), actor="analyst2", reason="same DOB"
    )
    assert h.same(1, 2) and h.same(2, 3)
    record = h.linker.state.links[kept][-1]
    assert record.actor == "analyst2" and record.evidence[0].explanation == "merged by analyst2: same DOB"


def test_deconfliction_alerts_owners() -> None:
    h = Harness()
    h.add(emails=("owned@example.org",))
    h.linker.state.set_owner(h.linker.state.cluster(1), "DC Smith")
    out = h.add(emails=("owned@example.org",))
    assert h.same(1, 2)
    (alert,) = out.alerts
    assert alert.owner == "DC Smith" and alert.kind == "referral_attached" and alert.referral_id == 2
    assert "same email address owned@example.org" in alert.message()
    h.add(phones=("07700 900555",))
    h.linker.state.set_owner(h.linker.state.cluster(3), "DC Jones")
    out = h.add(emails=("owned@example.org",), phones=("07700 900555",))
    assert not h.same(1, 3)  # two owners: never merged automatically
    kinds = {(a.owner, a.kind) for a in out.alerts}
    assert ("DC Smith", "possible_link") in kinds and ("DC Jones", "possible_link") in kinds
    assert any("deconflict" in held.reason for held in out.held)


def test_synthetic_hard_setting_quality() -> None:
    data = generate(400, seed=11, hard=True)
    linker = Linker()
    for n, referral in enumerate(data.referrals):
        linker.add(link_item(n, extract(referral).identifiers, linker.config))
    predicted = [linker.state.cluster(n) for n in range(len(data.referrals))]
    precision, recall, f1 = pairwise_scores(predicted, data.truth)
    assert precision >= 0.97 and f1 >= 0.93, (precision, recall, f1)


def test_pairwise_scores_arithmetic() -> None:
    assert pairwise_scores([1, 1, 2, 2], [1, 1, 2, 2]) == (1.0, 1.0, 1.0)
    precision, recall, _ = pairwise_scores([1, 1, 1, 1], [1, 1, 2, 2])
    assert (precision, recall) == (2 / 6, 1.0)


def test_synthetic_identifiers_are_all_from_reserved_ranges() -> None:
    import ipaddress

    from safeguard.intake.synthetic import DRAMA_PHONES

    documentation = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    documentation += [ipaddress.ip_network("2001:db8::/32"), ipaddress.ip_network("100.64.0.0/10")]
    drama = set(DRAMA_PHONES)
    # Both settings, a World larger than the IPv4 documentation space, and a chunk far along the index.
    sets = [generate(3_000, seed=3, hard=True), generate(300, seed=4, hard=False)]
    sets.append(generate(50, seed=5, start_index=10**8))
    phones = emails = 0
    for data in sets:
        for r in data.referrals:
            for email in r.emails:
                domain = email.rsplit("@", 1)[1].lower()
                assert domain.endswith((".example", ".test")) or domain == "example.org", email
                emails += 1
            for phone in r.phones:
                digits = "".join(c for c in phone if c.isdigit())
                national = digits.removeprefix("0044").removeprefix("44").removeprefix("0")
                assert national in drama, phone
                phones += 1
            for ip in r.ips:
                address = ipaddress.ip_address(ip.address)
                assert any(address in net for net in documentation), ip.address
            for device in r.devices:
                assert device.value.startswith("00") and len(device.value) == 15, device
    assert phones > 100 and emails > 100  # the check saw identifiers of every kind
