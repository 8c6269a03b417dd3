"""CyberTipline-style XML: NCMEC's ``<report>`` (Reporting API, Appendix B) with its ``<fileDetails>``.

The element names are those of NCMEC's CyberTipline Reporting API (the ESP submission schema). A platform
submits a ``<report>`` and then one ``<fileDetails>`` per uploaded file; for import we read them together: the
``<fileDetails>`` elements nested inside their ``<report>``. A file holds one ``<report>`` or a ``<reports>``
wrapper with many. The subset we read, and the three small additions (``reportId``, ``source``,
``receivedDateTime`` / ``riskIndicators`` / file ``category`` and ``labels``), are listed in docs/intake.md;
every other element is ignored, so complete NCMEC documents import unchanged.
"""

from __future__ import annotations

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
from safeguard.intake.importers.xmltree import Node, iter_records
from safeguard.intake.records import (
    Account,
    Device,
    Indicator,
    IpCapture,
    Location,
    Referral,
    ReportedFile,
    Victim,
    derive_indicators,
)

FORMAT = "cybertip-xml"

# <reportAnnotations> children we map (others are ignored).
ANNOTATION_INDICATORS: dict[str, Indicator] = {
    "sextortion": Indicator.sextortion,
    "minortominorinteraction": Indicator.minor_to_minor,
}
HASH_TYPES = {"md5": IdKind.md5, "sha1": IdKind.sha1, "sha-1": IdKind.sha1, "sha256": IdKind.sha256}
HASH_TYPES |= {"sha-256": IdKind.sha256, "pdq": IdKind.pdq}


def parse(data: bytes) -> ParsedFile:
    referrals: list[Referral] = []
    wheres: list[str] = []
    for node in iter_records(data, wrapper="reports", record="report"):
        referrals.append(_report(node))
        wheres.append(node.where)
    return ParsedFile(FORMAT, dedupe(referrals, wheres))


def _need(node: Node, tag: str) -> Node:
    child = node.first(tag)
    if child is None or not child.text:
        raise ImportRejected(f"<{tag}> is required", where=node.where)
    return child


def _report(node: Node) -> Referral:
    id_node = node.first("reportId")
    raw_id = id_node.text if id_node is not None else node.attrs.get("id", "")
    external_id = check_external_id(raw_id, (id_node or node).where)
    source_node = node.first("source")
    source = check_source(source_node.text, source_node.where) if source_node is not None else "ncmec"
    received = node.first("receivedDateTime")

    summary = node.first("incidentSummary")
    if summary is None:
        raise ImportRejected("<incidentSummary> is required", where=node.where)
    incident_type = _need(summary, "incidentType").text
    when = summary.first("incidentDateTime")
    indicators: list[str] = []
    annotations = summary.first("reportAnnotations")
    for annotation in annotations.children if annotations is not None else []:
        mapped = ANNOTATION_INDICATORS.get(annotation.tag.lower())
        if mapped is not None:
            indicators.append(mapped.value)
    escalation = summary.text_of("escalateToHighPriority")
    if escalation:
        indicators.append(Indicator.platform_escalated.value)
    extra_indicators = node.first("riskIndicators")
    for item in extra_indicators.all("indicator") if extra_indicators is not None else []:
        indicators.append(check_indicator(item.text, item.where))

    reporter = node.first("reporter")
    reporter_name = None
    if reporter is not None:
        reporter_name = reporter.text_of("espName") or reporter.text_of("companyTemplate")
    platform = summary.text_of("platform")

    person = _Person()
    reported = node.first("personOrUserReported")
    if reported is not None:
        platform = reported.text_of("espService") or platform
        person.read_reported(reported, platform or reporter_name)
    victims = _victims(node)
    files = [_file(f, person) for f in node.all("fileDetails")]

    return Referral(
        source=source,
        external_id=external_id,
        received_at=parse_time(received.text, received.where) if received is not None else None,
        incident_type=check_text(incident_type, summary.where, limit=200),
        incident_at=parse_time(when.text, when.where) if when is not None and when.text else None,
        platform=platform,
        reporter=reporter_name,
        person_name=person.name,
        emails=tuple(person.emails),
        phones=tuple(person.phones),
        accounts=tuple(person.accounts),
        ips=tuple(person.ips),
        devices=tuple(person.devices),
        files=tuple(files),
        locations=tuple(person.locations),
        victims=tuple(victims),
        indicators=derive_indicators(indicators, incident_type=incident_type, victims=victims, files=files),
        escalation=check_text(escalation, summary.where, limit=2000),
        summary=check_text(node.text_of("additionalInfo"), node.where),
    )


class _Person:
    def __init__(self) -> None:
        self.name: str | None = None
        self.emails: list[str] = []
        self.phones: list[str] = []
        self.accounts: list[Account] = []
        self.ips: list[IpCapture] = []
        self.devices: list[Device] = []
        self.locations: list[Location] = []

    def read_reported(self, node: Node, platform: str | None) -> None:
        details = node.first("personOrUserReportedPerson")
        if details is not None:
            names = [details.text_of("firstName"), details.text_of("lastName")]
            self.name = " ".join(n for n in names if n) or None
            self.emails += [e.text for e in details.all("email") if e.text]
            self.phones += [_phone(p) for p in details.all("phone") if p.text]
            for address in details.all("address"):
                self.locations.append(_address(address))
        self._account(node, platform)
        for other in node.all("associatedAccount"):
            self._account(other, other.text_of("espService") or platform)
        for capture in node.all("ipCaptureEvent"):
            self.ips.append(_ip(capture))
        for device in node.all("deviceId"):
            self.devices.append(_device(device))
        location = node.first("estimatedLocation")
        if location is not None:
            self.locations.append(
                Location(
                    city=location.text_of("city"),
                    region=location.text_of("region"),
                    country=location.text_of("countryCode"),
                )
            )

    def _account(self, node: Node, platform: str | None) -> None:
        account_id = node.text_of("espIdentifier")
        screen_name = node.text_of("screenName")
        if account_id or screen_name:
            self.accounts.append(
                Account(
                    platform=platform or "unknown",
                    account_id=account_id,
                    screen_name=screen_name,
                    display_name=node.text_of("displayName"),
                    profile_url=node.text_of("profileUrl"),
                )
            )


def _phone(node: Node) -> str:
    # <phone countryCallingCode="44">7700900123</phone>: the code is an attribute in the schema.
    code = node.attrs.get("countryCallingCode", "").strip().lstrip("+")
    return f"+{code}{node.text}" if code and not node.text.startswith("+") else node.text


def _address(node: Node) -> Location:
    return Location(
        postcode=node.text_of("zipCode"),
        city=node.text_of("city"),
        region=node.text_of("state") or node.text_of("nonUsaState"),
        country=node.text_of("country"),
    )


def _ip(node: Node) -> IpCapture:
    address = _need(node, "ipAddress")
    when = node.first("dateTime")
    port = node.first("port")
    proxy = node.first("possibleProxy")
    return IpCapture(
        address=address.text,
        at=parse_time(when.text, when.where) if when is not None and when.text else None,
        event=node.text_of("eventName"),
        port=parse_int(port.text, port.where, high=65535) if port is not None and port.text else None,
        possible_proxy=parse_bool(proxy.text, proxy.where) if proxy is not None and proxy.text else False,
    )


def _device(node: Node) -> Device:
    value = _need(node, "idValue")
    when = node.first("dateTime")
    return Device(
        kind=node.text_of("idType") or "other",
        value=value.text,
        at=parse_time(when.text, when.where) if when is not None and when.text else None,
    )


def _victims(report: Node) -> list[Victim]:
    victims = []
    for tag, person_tag in (("victim", "victimPerson"), ("intendedRecipient", "intendedRecipientPerson")):
        for node in report.all(tag):
            details = node.first(person_tag) or node
            age_node = details.first("age")
            age = (
                parse_int(age_node.text, age_node.where, high=120)
                if age_node is not None and age_node.text
                else None
            )
            identifying = ("firstName", "lastName", "dateOfBirth", "email", "phone", "screenName")
            identified = any(details.text_of(t) or node.text_of(t) for t in identifying)
            victims.append(Victim(age=age, identified=identified))
    return victims


def _file(node: Node, person: _Person) -> ReportedFile:
    hashes: dict[IdKind, str] = {}
    for digest in node.all("originalFileHash"):
        kind = HASH_TYPES.get(digest.attrs.get("hashType", "").strip().lower())
        if kind is None:
            continue  # PhotoDNA and other proprietary hashes are not comparable here
        hashes[kind] = check_hash(kind, digest.text, digest.where)
    for capture in node.all("ipCaptureEvent"):
        person.ips.append(_ip(capture))
    for device in node.all("deviceId"):
        person.devices.append(_device(device))
    viewed = node.first("fileViewedByEsp")
    public = node.first("publiclyAvailable")
    classification = node.first("industryClassification")
    category = node.first("category")
    uploaded = node.first("uploadedToEspTimestamp")
    annotations = node.first("fileAnnotations")
    labels = node.first("labels")
    return ReportedFile(
        name=check_text(node.text_of("originalFileName") or node.text_of("fileName"), node.where, limit=2056),
        md5=hashes.get(IdKind.md5),
        sha1=hashes.get(IdKind.sha1),
        sha256=hashes.get(IdKind.sha256),
        pdq=hashes.get(IdKind.pdq),
        classification=check_classification(classification.text, classification.where)
        if classification is not None and classification.text
        else None,
        category=check_category(category.text, category.where)
        if category is not None and category.text
        else None,
        viewed_by_platform=parse_bool(viewed.text, viewed.where)
        if viewed is not None and viewed.text
        else None,
        publicly_available=parse_bool(public.text, public.where)
        if public is not None and public.text
        else None,
        annotations=tuple(a.tag for a in annotations.children) if annotations is not None else (),
        labels=tuple(label.text for label in labels.all("label") if label.text) if labels is not None else (),
        uploaded_at=parse_time(uploaded.text, uploaded.where)
        if uploaded is not None and uploaded.text
        else None,
    )
