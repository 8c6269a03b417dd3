"""CSV referrals: one referral per row, for hotline and public-report exports (docs/intake.md, "CSV").

A header row names the columns (any order; ``source`` and ``id`` required; unknown columns refused). Cells
with several values separate them with ``;``. Structured items: ``ips`` as ``address@time``, ``accounts`` and
``usernames`` as ``platform:value``, ``devices`` as ``type:value``, ``files`` and ``victims`` as ``key=value``
parts joined by ``|`` (``md5=...|category=A|viewed=yes``).
"""

from __future__ import annotations

import csv
import io

from safeguard.intake.errors import ImportRejected
from safeguard.intake.identifiers import IdKind
from safeguard.intake.importers.common import (
    ParsedFile,
    check_category,
    check_classification,
    check_external_id,
    check_hash,
    check_indicator,
    check_source,
    check_text,
    dedupe,
    parse_bool,
    parse_int,
    parse_time,
)
from safeguard.intake.records import (
    Account,
    Device,
    IpCapture,
    Location,
    Referral,
    ReportedFile,
    Victim,
    derive_indicators,
)

FORMAT = "csv"
COLUMNS = (
    "source",
    "id",
    "received_at",
    "incident_type",
    "incident_at",
    "platform",
    "reporter",
    "name",
    "emails",
    "phones",
    "accounts",
    "usernames",
    "ips",
    "devices",
    "files",
    "postcode",
    "city",
    "region",
    "council",
    "country",
    "victims",
    "indicators",
    "escalation",
    "summary",
)
FILE_KEYS = {
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "classification",
    "category",
    "viewed",
    "public",
    "label",
    "name",
}
MAX_FIELD = 1_000_000


def parse(data: bytes) -> ParsedFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected("not UTF-8 text", where=f"byte {exc.start}") from None
    csv.field_size_limit(MAX_FIELD)
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="__extra__")
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise ImportRejected(f"not valid CSV: {exc}", where="line 1") from None
    if not header:
        raise ImportRejected("empty file: a header row is required", where="line 1")
    names = [h.strip().lower() for h in header]
    unknown = [h for h in names if h not in COLUMNS]
    if unknown:
        raise ImportRejected(f"unknown column {unknown[0]!r} (known: {', '.join(COLUMNS)})", where="line 1")
    missing = [c for c in ("source", "id") if c not in names]
    if missing:
        raise ImportRejected(f"the {missing[0]!r} column is required", where="line 1")
    reader.fieldnames = names
    referrals: list[Referral] = []
    places: list[str] = []
    try:
        for row in reader:
            line = reader.line_num
            if "__extra__" in row:
                raise ImportRejected("more cells than header columns", where=f"line {line}")
            if not any((v or "").strip() for v in row.values()):
                continue
            referrals.append(_row({k: (v or "") for k, v in row.items()}, line))
            places.append(f"line {line}")
    except csv.Error as exc:
        raise ImportRejected(f"not valid CSV: {exc}", where=f"line {reader.line_num}") from None
    if not referrals:
        raise ImportRejected("no referral rows", where="line 2")
    return ParsedFile(FORMAT, dedupe(referrals, places))


def _items(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(";") if item.strip()]


def _pair(item: str, where: str, what: str) -> tuple[str, str]:
    left, sep, right = item.partition(":")
    if not sep or not left.strip() or not right.strip():
        raise ImportRejected(f"expected {what}, got {item!r}", where=where)
    return left.strip(), right.strip()


def _row(row: dict[str, str], line: int) -> Referral:
    def at(column: str) -> str:
        return f"line {line}, column {column}"

    def opt(column: str) -> str | None:
        return check_text(row.get(column), at(column), limit=20_000)

    received = opt("received_at")
    incident = opt("incident_at")
    accounts = [
        Account(p, account_id=v)
        for p, v in (_pair(i, at("accounts"), "platform:id") for i in _items(row.get("accounts", "")))
    ]
    accounts += [
        Account(p, screen_name=v)
        for p, v in (_pair(i, at("usernames"), "platform:name") for i in _items(row.get("usernames", "")))
    ]
    ips = []
    for item in _items(row.get("ips", "")):
        address, sep, when = item.partition("@")
        ips.append(IpCapture(address.strip(), parse_time(when, at("ips")) if sep else None))
    devices = [
        Device(k, v)
        for k, v in (_pair(i, at("devices"), "type:value") for i in _items(row.get("devices", "")))
    ]
    location = Location(opt("postcode"), opt("city"), opt("region"), opt("council"), opt("country"))
    files = tuple(_file(item, at("files")) for item in _items(row.get("files", "")))
    victims = tuple(_victim(item, at("victims")) for item in _items(row.get("victims", "")))
    return Referral(
        source=check_source(row.get("source", ""), at("source")),
        external_id=check_external_id(row.get("id", ""), at("id")),
        received_at=parse_time(received, at("received_at")) if received else None,
        incident_type=opt("incident_type"),
        incident_at=parse_time(incident, at("incident_at")) if incident else None,
        platform=opt("platform"),
        reporter=opt("reporter"),
        person_name=opt("name"),
        emails=tuple(_items(row.get("emails", ""))),
        phones=tuple(_items(row.get("phones", ""))),
        accounts=tuple(accounts),
        ips=tuple(ips),
        devices=tuple(devices),
        files=files,
        locations=(location,)
        if any((location.postcode, location.city, location.council, location.region))
        else (),
        victims=victims,
        indicators=derive_indicators(
            (check_indicator(i, at("indicators")) for i in _items(row.get("indicators", ""))),
            incident_type=opt("incident_type"),
            victims=victims,
            files=files,
        ),
        escalation=opt("escalation"),
        summary=opt("summary"),
    )


def _parts(item: str, where: str, allowed: set[str]) -> list[tuple[str, str]]:
    parts = []
    for part in item.split("|"):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in allowed or not value.strip():
            raise ImportRejected(
                f"expected key=value with a key in {sorted(allowed)}, got {part.strip()!r}", where=where
            )
        parts.append((key, value.strip()))
    return parts


def _file(item: str, where: str) -> ReportedFile:
    values: dict[str, str] = {}
    labels: list[str] = []
    for key, value in _parts(item, where, FILE_KEYS):
        if key == "label":
            labels.append(value)
        else:
            values[key] = value
    hashes = {
        k: check_hash(IdKind(k), values[k], where) for k in ("md5", "sha1", "sha256", "pdq") if k in values
    }
    return ReportedFile(
        name=values.get("name"),
        md5=hashes.get("md5"),
        sha1=hashes.get("sha1"),
        sha256=hashes.get("sha256"),
        pdq=hashes.get("pdq"),
        classification=check_classification(values["classification"], where)
        if "classification" in values
        else None,
        category=check_category(values["category"], where) if "category" in values else None,
        viewed_by_platform=parse_bool(values["viewed"], where) if "viewed" in values else None,
        publicly_available=parse_bool(values["public"], where) if "public" in values else None,
        labels=tuple(labels),
    )


def _victim(item: str, where: str) -> Victim:
    values = dict(_parts(item, where, {"age", "identified"}))
    return Victim(
        age=parse_int(values["age"], where, high=120) if "age" in values else None,
        identified=parse_bool(values["identified"], where) if "identified" in values else False,
    )
