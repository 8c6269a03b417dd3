"""Safeguard's own referral format: JSON, ``"format": "safeguard.referrals/v1"`` (docs/intake.md).

The reports capability emits the same document, so a platform running Safeguard can hand its referrals to
a force or hotline running Safeguard without conversion. Unknown fields are refused (a typo in a police
data file should fail loudly, not drop a phone number); the format string carries the version.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from safeguard.intake.errors import ImportRejected, InvalidIdentifier
from safeguard.intake.identifiers import IdKind, normalize_hash
from safeguard.intake.importers.common import ParsedFile, check_external_id, dedupe
from safeguard.intake.records import (
    Account,
    Category,
    Device,
    Indicator,
    IpCapture,
    Location,
    Referral,
    ReportedFile,
    Source,
    Victim,
    derive_indicators,
)

FORMAT = "safeguard-json"
FORMAT_TAG = "safeguard.referrals/v1"

Text = Annotated[str, Field(min_length=1, max_length=2000)]
LongText = Annotated[str, Field(max_length=20_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JsonIp(_Strict):
    address: Text
    at: AwareDatetime | None = None
    event: Text | None = None
    port: int | None = Field(default=None, ge=0, le=65535)
    possible_proxy: bool = False


class JsonAccount(_Strict):
    platform: Text | None = None
    id: Text | None = None
    username: Text | None = None
    display_name: Text | None = None
    profile_url: Text | None = None


class JsonDevice(_Strict):
    type: Text = "other"
    id: Text
    at: AwareDatetime | None = None


class JsonLocation(_Strict):
    postcode: Text | None = None
    city: Text | None = None
    region: Text | None = None
    council: Text | None = None
    country: Text | None = None


class JsonPerson(_Strict):
    name: Text | None = None
    emails: list[Text] = Field(default_factory=list)
    phones: list[Text] = Field(default_factory=list)
    accounts: list[JsonAccount] = Field(default_factory=list)
    ips: list[JsonIp] = Field(default_factory=list)
    devices: list[JsonDevice] = Field(default_factory=list)
    locations: list[JsonLocation] = Field(default_factory=list)


class JsonFile(_Strict):
    name: Text | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    classification: Literal["A1", "A2", "B1", "B2"] | None = None
    category: Category | None = None
    viewed_by_platform: bool | None = None
    publicly_available: bool | None = None
    annotations: list[Text] = Field(default_factory=list)
    labels: list[Text] = Field(default_factory=list)
    uploaded_at: AwareDatetime | None = None

    @field_validator("md5", "sha1", "sha256", "pdq")
    @classmethod
    def _hash(cls, value: str | None, info: Any) -> str | None:
        if value is None:
            return None
        try:
            return normalize_hash(IdKind(info.field_name), value)
        except InvalidIdentifier as exc:
            raise ValueError(exc.detail) from None


class JsonVictim(_Strict):
    age: int | None = Field(default=None, ge=0, le=120)
    identified: bool = False


class JsonIncident(_Strict):
    type: Text | None = None
    at: AwareDatetime | None = None
    platform: Text | None = None


class JsonReferral(_Strict):
    source: Source
    id: str
    received_at: AwareDatetime | None = None
    incident: JsonIncident = JsonIncident()
    reporter: Text | None = None
    person: JsonPerson = JsonPerson()
    files: list[JsonFile] = Field(default_factory=list)
    victims: list[JsonVictim] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    escalation: Text | None = None
    summary: LongText | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        try:
            return check_external_id(value, "id")
        except ImportRejected as exc:
            raise ValueError(exc.reason) from None


class JsonDocument(_Strict):
    format: Literal["safeguard.referrals/v1"]
    referrals: list[JsonReferral] = Field(min_length=1)


def parse(data: bytes) -> ParsedFile:
    try:
        # pydantic's own JSON parser: several times faster than json.loads and then validating dicts.
        document = JsonDocument.model_validate_json(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] in ("json_invalid", "json_type"):
            _locate_json_error(data)
        raise ImportRejected(error["msg"], where=_path(error["loc"])) from None
    referrals = [_referral(item) for item in document.referrals]
    return ParsedFile(FORMAT, dedupe(referrals, [f"referrals[{i}]" for i in range(len(referrals))]))


def _locate_json_error(data: bytes) -> None:
    """Raise with the line and column of the syntax error (the standard parser says where)."""
    try:
        json.loads(data)
    except UnicodeDecodeError:
        raise ImportRejected("not UTF-8 text", where="byte 0") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ImportRejected(f"not valid JSON: {exc.msg}", where=where) from None
    except RecursionError:
        raise ImportRejected("JSON nested too deeply", where="document") from None


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "document"


def _referral(item: JsonReferral) -> Referral:
    person = item.person
    platform = item.incident.platform
    files = tuple(
        ReportedFile(
            name=f.name,
            md5=f.md5,
            sha1=f.sha1,
            sha256=f.sha256,
            pdq=f.pdq,
            classification=f.classification,
            category=f.category.value if f.category else None,
            viewed_by_platform=f.viewed_by_platform,
            publicly_available=f.publicly_available,
            annotations=tuple(f.annotations),
            labels=tuple(f.labels),
            uploaded_at=_utc(f.uploaded_at),
        )
        for f in item.files
    )
    victims = tuple(Victim(v.age, v.identified) for v in item.victims)
    return Referral(
        source=item.source.value,
        external_id=item.id,
        received_at=_utc(item.received_at),
        incident_type=item.incident.type,
        incident_at=_utc(item.incident.at),
        platform=platform,
        reporter=item.reporter,
        person_name=person.name,
        emails=tuple(person.emails),
        phones=tuple(person.phones),
        accounts=tuple(
            Account(a.platform or platform or "unknown", a.id, a.username, a.display_name, a.profile_url)
            for a in person.accounts
        ),
        ips=tuple(IpCapture(i.address, _utc(i.at), i.event, i.port, i.possible_proxy) for i in person.ips),
        devices=tuple(Device(d.type, d.id, _utc(d.at)) for d in person.devices),
        files=files,
        locations=tuple(
            Location(x.postcode, x.city, x.region, x.council, x.country) for x in person.locations
        ),
        victims=victims,
        indicators=derive_indicators(
            (i.value for i in item.indicators), incident_type=item.incident.type, victims=victims, files=files
        ),
        escalation=item.escalation,
        summary=item.summary,
    )


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def dump(referrals: list[Referral]) -> dict[str, Any]:
    """The JSON document for referrals (the inverse of ``parse``)."""
    items = []
    for r in referrals:
        item: dict[str, Any] = {"source": r.source, "id": r.external_id}
        if r.received_at:
            item["received_at"] = r.received_at.isoformat()
        incident = {
            k: v
            for k, v in {
                "type": r.incident_type,
                "at": r.incident_at.isoformat() if r.incident_at else None,
                "platform": r.platform,
            }.items()
            if v is not None
        }
        if incident:
            item["incident"] = incident
        if r.reporter:
            item["reporter"] = r.reporter
        person: dict[str, Any] = {}
        if r.person_name:
            person["name"] = r.person_name
        if r.emails:
            person["emails"] = list(r.emails)
        if r.phones:
            person["phones"] = list(r.phones)
        if r.accounts:
            person["accounts"] = [
                _compact(
                    {
                        "platform": a.platform,
                        "id": a.account_id,
                        "username": a.screen_name,
                        "display_name": a.display_name,
                        "profile_url": a.profile_url,
                    }
                )
                for a in r.accounts
            ]
        if r.ips:
            person["ips"] = [
                _compact(
                    {
                        "address": i.address,
                        "at": i.at.isoformat() if i.at else None,
                        "event": i.event,
                        "port": i.port,
                        "possible_proxy": i.possible_proxy or None,
                    }
                )
                for i in r.ips
            ]
        if r.devices:
            person["devices"] = [
                _compact({"type": d.kind, "id": d.value, "at": d.at.isoformat() if d.at else None})
                for d in r.devices
            ]
        if r.locations:
            person["locations"] = [
                _compact(
                    {
                        "postcode": x.postcode,
                        "city": x.city,
                        "region": x.region,
                        "council": x.council,
                        "country": x.country,
                    }
                )
                for x in r.locations
            ]
        if person:
            item["person"] = person
        if r.files:
            item["files"] = [
                _compact(
                    {
                        "name": f.name,
                        "md5": f.md5,
                        "sha1": f.sha1,
                        "sha256": f.sha256,
                        "pdq": f.pdq,
                        "classification": f.classification,
                        "category": f.category,
                        "viewed_by_platform": f.viewed_by_platform,
                        "publicly_available": f.publicly_available,
                        "annotations": list(f.annotations) or None,
                        "labels": list(f.labels) or None,
                        "uploaded_at": f.uploaded_at.isoformat() if f.uploaded_at else None,
                    }
                )
                for f in r.files
            ]
        if r.victims:
            item["victims"] = [_compact({"age": v.age, "identified": v.identified}) for v in r.victims]
        if r.indicators:
            item["indicators"] = list(r.indicators)
        if r.escalation:
            item["escalation"] = r.escalation
        if r.summary:
            item["summary"] = r.summary
        items.append(item)
    return {"format": FORMAT_TAG, "referrals": items}


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
