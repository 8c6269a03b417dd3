"""Import formats: what each reads, and bad files rejected whole with the place and the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from safeguard.intake.errors import ImportRejected, UnknownFormat
from safeguard.intake.importers import detect_format, parse_referrals
from safeguard.intake.importers.jsonfmt import dump
from safeguard.store.db import Database

SAMPLES = Path(__file__).parent / "samples"


def test_cybertip_xml_reads_the_documented_subset() -> None:
    parsed = parse_referrals((SAMPLES / "cybertip.xml").read_bytes())
    assert parsed.format == "cybertip-xml"
    first, second = parsed.referrals
    assert (first.source, first.external_id) == ("ncmec", "CT-1001")
    assert first.incident_type == "Online Enticement of Children for Sexual Acts"
    assert first.incident_at == datetime(2024, 3, 2, 21, 15, tzinfo=UTC)
    assert first.platform == "ExampleChat" and first.reporter == "ExampleChat Ltd"
    assert first.emails == ("Sam.Ple+chat@GoogleMail.com",)
    assert first.phones == ("+447700900123",)  # countryCallingCode attribute applied
    assert first.accounts[0].account_id == "100200300" and first.accounts[0].screen_name == "Sam_Ple99"
    assert [ip.address for ip in first.ips] == ["203.0.113.7", "100.64.12.9"]
    assert first.ips[1].at == datetime(2024, 3, 2, 19, 30, tzinfo=UTC)  # +01:00 converted to UTC
    assert first.ips[0].port == 443 and first.ips[0].event == "Login"
    assert first.devices[0].kind == "IMEI"
    assert {loc.city for loc in first.locations} == {"Glasgow", "Paisley"}
    file = first.files[0]
    assert file.md5 == "9e107d9d372bb6826bd81d3542a419d6" and file.pdq and file.pdq.startswith("f8f8")
    assert (
        file.classification == "B2" and file.viewed_by_platform is True and file.publicly_available is False
    )
    assert file.annotations == ("possibleSelfProduction",)
    assert first.victims[0].age == 13 and first.victims[0].identified
    assert set(first.indicators) == {
        "grooming",
        "grooming_identified_child",
        "sextortion",
        "platform_escalated",
        "self_generated_identifiable_child",
    }
    assert first.escalation == "child appears to be in danger"
    assert second.files[0].category == "A" and second.files[0].viewed_by_platform is False


def test_json_format_round_trips() -> None:
    parsed = parse_referrals((SAMPLES / "referrals.json").read_bytes())
    assert parsed.format == "safeguard-json"
    first = parsed.referrals[0]
    # The incident type (enticement) and the identified victim add to the explicit indicator.
    assert first.indicators == ("arranging_to_meet", "grooming", "grooming_identified_child")
    assert first.accounts[0].platform == "friendsnet" and first.accounts[0].screen_name == "T_Person"
    assert first.files[0].category == "B" and first.files[0].labels == ("csam",)
    assert parsed.referrals[1].incident_at == datetime(2024, 4, 5, 9, 0, tzinfo=UTC)
    again = parse_referrals(__import__("json").dumps(dump(parsed.referrals)).encode())
    assert [r.digest() for r in again.referrals] == [r.digest() for r in parsed.referrals]


def test_csv_reads_structured_cells() -> None:
    parsed = parse_referrals((SAMPLES / "referrals.csv").read_bytes())
    assert parsed.format == "csv"
    first = parsed.referrals[0]
    assert first.ips[0].address == "198.51.100.20" and first.ips[0].at == datetime(
        2024, 4, 30, 21, tzinfo=UTC
    )
    assert [f.category for f in first.files] == ["A", None]
    assert first.files[0].viewed_by_platform is True and first.files[1].pdq is not None
    assert first.accounts[0].account_id == "cv-1" and first.accounts[1].screen_name == "abc_maker"
    assert first.indicators == ("sextortion", "access_to_children")
    assert first.victims[0].age == 9 and not first.victims[0].identified
    assert first.summary == "Synthetic, with a comma"
    assert parsed.referrals[1].locations[0].postcode == "EH1 1YZ"


def test_format_detection() -> None:
    assert detect_format(b"\xef\xbb\xbf  <report/>") == "cybertip-xml"
    assert detect_format(b'\n{"format": 1}') == "safeguard-json"
    assert detect_format(b"source,id\n") == "csv"
    with pytest.raises(UnknownFormat):
        parse_referrals(b"x", "pdf")


def _rejected(data: bytes, fmt: str | None = None) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        parse_referrals(data, fmt)
    return caught.value


XML_HEAD = b'<?xml version="1.0"?>\n<reports>\n'


def test_bad_xml_names_line_and_element() -> None:
    broken = _rejected(XML_HEAD + b"<report><reportId>1</reportId>\n<incidentSummary>\n</report>")
    assert "not well-formed" in broken.reason and broken.where.startswith("line 5")
    missing = _rejected(XML_HEAD + b"<report><reportId>R1</reportId><incidentSummary/></report></reports>")
    assert missing.reason == "<incidentType> is required"
    assert missing.where == "line 3, element /reports/report[1]/incidentSummary[1]"
    naive = _rejected(
        XML_HEAD + b"<report><reportId>R1</reportId><incidentSummary><incidentType>x</incidentType>\n"
        b"<incidentDateTime>2024-01-01T10:00:00</incidentDateTime></incidentSummary></report></reports>"
    )
    assert "no time zone" in naive.reason and naive.where.endswith("incidentDateTime[1]")
    assert naive.where.startswith("line 4")
    bad_hash = _rejected(
        XML_HEAD + b"<report><reportId>R1</reportId><incidentSummary><incidentType>x</incidentType>"
        b'</incidentSummary><fileDetails><originalFileHash hashType="MD5">abc</originalFileHash>'
        b"</fileDetails></report></reports>"
    )
    assert "MD5" in bad_hash.reason and bad_hash.where.endswith("originalFileHash[1]")
    no_id = _rejected(
        XML_HEAD
        + b"<report><incidentSummary><incidentType>x</incidentType></incidentSummary></report></reports>"
    )
    assert "needs an id" in no_id.reason
    assert "root element" in _rejected(b"<html/>").reason


def test_xml_entities_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><report>&b;</report>'
    assert "DOCTYPE" in _rejected(bomb).reason


def test_bad_json_names_the_path() -> None:
    assert _rejected(b'{"format": "safeguard.referrals/v1", "referrals": [').where.startswith("line 1")
    wrong = _rejected(b'{"format": "other", "referrals": []}')
    assert wrong.where == "format"
    naive = _rejected(
        b'{"format": "safeguard.referrals/v1", "referrals": [{"source": "nca", "id": "A1", '
        b'"person": {"ips": [{"address": "1.2.3.4", "at": "2024-01-01T10:00:00"}]}}]}'
    )
    assert naive.where == "referrals[0].person.ips[0].at" and "timezone" in naive.reason
    typo = _rejected(
        b'{"format": "safeguard.referrals/v1", "referrals": [{"source": "nca", "id": "A1", "phone": []}]}'
    )
    assert typo.where == "referrals[0].phone"
    bad_hash = _rejected(
        b'{"format": "safeguard.referrals/v1", "referrals": '
        b'[{"source": "nca", "id": "A1", "files": [{"pdq": "zz"}]}]}'
    )
    assert bad_hash.where == "referrals[0].files[0].pdq"
    bad_source = _rejected(
        b'{"format": "safeguard.referrals/v1", "referrals": [{"source": "x", "id": "A1"}]}'
    )
    assert bad_source.where == "referrals[0].source"


def test_bad_csv_names_line_and_column() -> None:
    assert "unknown column" in _rejected(b"source,id,phone\nnca,1,0\n", "csv").reason
    assert "'id' column is required" in _rejected(b"source,emails\nnca,a@b.c\n", "csv").reason
    bad_time = _rejected(b"source,id,ips\nnca,A,ok\nnca,B,1.2.3.4@yesterday\n", "csv")
    assert bad_time.where == "line 3, column ips" and "ISO 8601" in bad_time.reason
    extra = _rejected(b"source,id\nnca,A,surplus\n", "csv")
    assert extra.where == "line 2"
    bad_file = _rejected(b"source,id,files\nnca,A,md5=1234|category=Z\n", "csv")
    assert bad_file.where == "line 2, column files"
    indicator = _rejected(b"source,id,indicators\nnca,A,wicked\n", "csv")
    assert "unknown risk indicator" in indicator.reason


def test_same_id_twice_in_a_file() -> None:
    same = b"source,id,emails\nnca,A,a@example.org\nnca,A,a@example.org\n"
    assert len(parse_referrals(same, "csv").referrals) == 1
    different = _rejected(b"source,id,emails\nnca,A,a@example.org\nnca,A,b@example.org\n", "csv")
    assert different.where == "line 3" and "first at line 2" in different.reason


ENTICEMENT_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<report><reportId>X-1</reportId>
  <incidentSummary><incidentType>Online Enticement of Children</incidentType></incidentSummary>
  <victim><victimPerson><firstName>Child</firstName><age>11</age></victimPerson></victim>
</report>"""
ENTICEMENT_JSON = b"""{"format": "safeguard.referrals/v1", "referrals": [{"source": "ncmec", "id": "X-1",
  "incident": {"type": "online enticement of children"}, "victims": [{"age": 11, "identified": true}]}]}"""
ENTICEMENT_CSV = (
    b"source,id,incident_type,victims\nncmec,X-1,Online Enticement Of Children,age=11|identified=yes\n"
)


def test_every_format_maps_incident_types_to_indicators() -> None:
    from safeguard.intake.config import PriorityConfig
    from safeguard.intake.priority import Features, prioritise

    found = {}
    for data in (ENTICEMENT_XML, ENTICEMENT_JSON, ENTICEMENT_CSV):
        (referral,) = parse_referrals(data).referrals
        found[parse_referrals(data).format] = referral
    assert set(found) == {"cybertip-xml", "safeguard-json", "csv"}
    when = datetime(2026, 11, 1, tzinfo=UTC)
    for referral in found.values():
        # An enticement report about an identified 11-year-old: grooming of an identified child, any format.
        assert referral.indicators == ("grooming", "grooming_identified_child"), referral
        priority = prioritise(Features.of(referral, when), PriorityConfig(), when)
        assert "grooming_identified_child" in [r.factor for r in priority.reasons]
    scores = {prioritise(Features.of(r, when), PriorityConfig(), when).score for r in found.values()}
    assert len(scores) == 1, scores
    # Explicit indicators are kept, and an unknown incident type implies nothing.
    plain = b"source,id,incident_type,indicators\nncmec,X-2,Public report,sextortion\n"
    assert parse_referrals(plain).referrals[0].indicators == ("sextortion",)


def test_intake_list_reads_at_80_columns(db: Database, tmp_path: Path) -> None:
    from tests.cli.helpers import run_cli

    referrals = tmp_path / "synthetic.json"
    made = run_cli(
        "intake", "synthetic", str(referrals), "--suspects", "12", home=tmp_path, database_url=db.url
    )
    assert made.returncode == 0, made.stderr
    imported = run_cli("intake", "import", str(referrals), home=tmp_path, database_url=db.url)
    assert imported.returncode == 0, imported.stderr
    narrow = run_cli("intake", "list", "--limit", "5", home=tmp_path, database_url=db.url, columns=80)
    lines = narrow.stdout.splitlines()
    assert narrow.returncode == 0 and lines[0].endswith("packages, most urgent first")
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    facts = [line for line in lines if line.startswith("#")]
    assert len(facts) == 5 and all(
        ("immediate" in f or "high" in f or "medium" in f or "low" in f) for f in facts
    )
    assert "…" not in narrow.stdout and "referral(s)" not in narrow.stdout  # nothing cut short, real plurals
    wide = run_cli("intake", "list", "--limit", "5", home=tmp_path, database_url=db.url, columns=200)
    assert "┃ suspect" in wide.stdout and "why" in wide.stdout


def _many_reports(count: int, padding: int) -> bytes:
    """``count`` valid reports, each with ``padding`` elements the importer ignores."""
    ignored = b"<reporter><notes>" + b"<note>x</note>" * padding + b"</notes></reporter>"
    report = (
        b"<report><reportId>R%d</reportId><incidentSummary><incidentType>Child Pornography"
        b"</incidentType></incidentSummary>%s</report>\n"
    )
    return XML_HEAD + b"".join(report % (i, ignored) for i in range(count)) + b"</reports>"


def test_xml_is_parsed_streaming_one_report_at_a_time() -> None:
    import tracemalloc

    data = _many_reports(400, 300)  # 1.8 MB, 120,000 ignored elements
    tracemalloc.start()
    try:
        parsed = parse_referrals(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(parsed.referrals) == 400
    # The whole tree took 30x the file (52 MB for this 1.7 MB); one report's tree at a time, about 1.5x.
    assert peak < 3 * len(data), (peak, len(data))


def test_xml_bounds_are_a_clear_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguard.intake.importers import xmltree

    monkeypatch.setattr(xmltree, "MAX_RECORD_ELEMENTS", 100)
    too_big = _rejected(_many_reports(2, 200))
    assert too_big.reason == "more than 100 elements in one <report>" and too_big.where.startswith("line 3")
    monkeypatch.setattr(xmltree, "MAX_RECORD_ELEMENTS", 100_000)
    monkeypatch.setattr(xmltree, "MAX_ELEMENTS", 1000)
    assert _rejected(_many_reports(10, 200)).reason == "more than 1,000 elements in the file"
    monkeypatch.setattr(xmltree, "MAX_ELEMENT_TEXT", 50)
    long_text = _rejected(XML_HEAD + b"<report><reportId>" + b"1" * 51 + b"</reportId></report></reports>")
    assert "more than 50 characters" in long_text.reason and long_text.where.endswith("/reportId[1]")
    deep = _rejected(XML_HEAD + b"<report>" + b"<a>" * 70 + b"</a>" * 70 + b"</report></reports>")
    assert deep.reason == "elements nested deeper than 64"
    assert _rejected(XML_HEAD + b"</reports>").reason == "no <report> elements"
